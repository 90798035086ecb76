"""Dingxiang zones built from named places: the ring road closed into a polygon, villages,
corridors, townships (geometry construction, every distance geodesic).

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
"""

from __future__ import annotations

import re
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

from spatial import schema
from spatial.errors import LayerError
from spatial.geodesic import (
    GEOD,
    WGS84,
    geodesic_area_km2,
    geodesic_buffer,
    geodesic_length_m,
)
from spatial.geodesic import AzimuthalPlane as _Plane
from spatial.zone_table import (
    SOURCE_LAYERS,
    ZONE_COLUMNS,
    Phase,
    ZoneArea,
    ZoneOptions,
    ZoneTable,
    _norm,
    _table,
    zone_row,
)

_NAME_ALIASES = ("name", "名称", "name_zh", "地名")
_OVERSHOOT_M = 1.0  # a bridge to a line's interior crosses it by this much, so noding joins them


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
        area_km2 = round(geodesic_area_km2(geom), 4)
        rows.append(zone_row(phase, area, built_from, width, area_km2, geom))
    if problems:
        raise LayerError("Dingxiang zones cannot be built: " + " | ".join(problems))
    return _zone_frame(rows)

"""Deterministic generator of the illustrative demo region (Jinzhong and Xinzhou, Shanxi).

Every geometry, enterprise and heat source written here is **illustrative, not surveyed**: the
towns sit at approximate real coordinates, but built-up outlines, roads, zones, plants, names
and attributes are synthetic. They are built so that every rule of
``/work/shared/spec/policy-rules.md`` has rows on both sides of its thresholds.

A development tool, not part of the installed package: from the project folder, run
``python -m tools.demo [DIR]`` to (re)write the demo data (default ``spatial/data/demo``, which
ships in the package and is read through :mod:`spatial.datasets`).
The output depends only on :data:`SEED` and the code: every random draw comes from a
:class:`numpy.random.Generator` seeded per output, CSV/XML carry no timestamps, and the
GeoPackages and the XLSX get a fixed timestamp.
"""

from __future__ import annotations

import itertools
import re
import sys
import textwrap
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
import yaml
from pyproj import Geod, Transformer
from rasterio.features import rasterize
from rasterio.transform import Affine, rowcol
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon

from spatial.coords import wgs84_to_gcj02
from spatial.counties import locate

SEED = 20191101
GEO_CRS = "EPSG:4490"  # CGCS2000; agrees with WGS84 to a few centimetres
UTM_CRS = "EPSG:32649"  # WGS 84 / UTM zone 49N, the working metric CRS
GPKG_OPTIONS = {"VERSION": "1.2"}  # QGIS 3.22 reads GeoPackage 1.2 without warnings
FIXED_TIMESTAMP = "2024-01-01T00:00:00.000Z"
NEAR_CITY_M = 10_000.0
HEAT_RADIUS_M = 30_000.0
PIXEL_M = 100.0
BUILTUP_CLASS, OTHER_CLASS, NODATA = 50, 10, 0
GEOD = Geod(ellps="WGS84")
_TO_UTM = Transformer.from_crs("EPSG:4326", UTM_CRS, always_xy=True)
_TO_GEO = Transformer.from_crs(UTM_CRS, "EPSG:4326", always_xy=True)

LonLat = tuple[float, float]
Row = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Places


@dataclass(frozen=True)
class Town:
    """A city or county seat: approximate real centre, synthetic built-up radius."""

    name: str
    prefecture: str
    lon: float
    lat: float
    radius_m: float
    satellite: bool
    region_code: str  # administrative division code (used in credit codes)


TOWNS: tuple[Town, ...] = (
    Town("榆次区", "晋中市", 112.75, 37.69, 3400, True, "140702"),
    Town("太谷区", "晋中市", 112.55, 37.42, 2000, False, "140703"),
    Town("祁县", "晋中市", 112.33, 37.36, 1600, False, "140727"),
    Town("平遥县", "晋中市", 112.17, 37.19, 2100, True, "140728"),
    Town("介休市", "晋中市", 111.92, 37.03, 2400, True, "140781"),
    Town("寿阳县", "晋中市", 113.18, 37.89, 1500, False, "140725"),
    Town("灵石县", "晋中市", 111.78, 36.85, 1300, False, "140729"),
    Town("忻府区", "忻州市", 112.73, 38.42, 3200, True, "140902"),
    Town("定襄县", "忻州市", 112.96, 38.47, 1400, False, "140921"),
    Town("原平市", "忻州市", 112.71, 38.73, 2300, True, "140981"),
    Town("繁峙县", "忻州市", 113.26, 39.19, 1400, False, "140924"),
    Town("代县", "忻州市", 112.96, 39.07, 1500, False, "140923"),
    Town("五台县", "忻州市", 113.25, 38.73, 1200, False, "140922"),
)
TOWN = {t.name: t for t in TOWNS}
JZ_TOWNS = tuple(t for t in TOWNS if t.prefecture == "晋中市")
XZ_TOWNS = tuple(t for t in TOWNS if t.prefecture == "忻州市")
CITY_SEATS = frozenset({"榆次区", "忻府区"})

# Dingxiang zone sources, in km east/north of the Dingxiang centre.
DX_TOWNSHIP_SEEDS: dict[str, tuple[float, float]] = {
    "晋昌镇": (0.0, 0.0),
    "宏道镇": (2.0, 11.0),
    "神山乡": (-11.0, 5.0),
    "蒋村镇": (-5.0, -10.0),
    "河边镇": (11.0, -3.0),
    "南王乡": (8.0, 9.0),
}
DX_TOWNSHIP_CLIP_M = 15_000.0
DX_VILLAGES: dict[str, tuple[float, float]] = {
    "西河头村": (-3.5, 0.5),
    "张村": (1.5, 6.5),
    "杨芳村": (-7.0, -3.5),
    "南西力村": (7.5, -1.5),
    "北西力村": (7.8, 0.8),
}
DX_VILLAGE_AREAS = ("西河头村", "张村", "南西力村")
DX_CLUSTER = ("庄力产业集聚区", (3.5, -2.5))
RING_NAME, AVENUE_NAME = "三环路", "机场大道"
RING_RADIUS_M = 1800.0
RING_GAP_AFTER_DEG = 116.0  # compass bearing from the centre where the gap opens
RING_GAP_M = 30.0
AVENUE_START_DEG = 224.0

# id, name, kind, capacity_mw, lon, lat
HEAT_SOURCES: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("HS-01", "忻州广宇煤电有限公司", "chp", 700.0, 112.79, 38.39),
    ("HS-02", "原平市晋北热电有限公司", "chp", 600.0, 112.76, 38.70),
    ("HS-03", "晋中市榆次汇能热电有限公司", "chp", 700.0, 112.80, 37.72),
    ("HS-04", "介休市绵山热电有限公司", "chp", 600.0, 111.95, 37.06),
    ("HS-05", "定襄县宏晟工业供热有限公司", "industrial", 200.0, 112.90, 38.45),
    ("HS-06", "五台县台城热电有限公司", "chp", 50.0, 113.22, 38.74),
    ("HS-07", "繁峙县滹源煤电有限公司", "chp", 300.0, 113.31, 39.21),
    ("HS-08", "代县雁门热电有限公司", "chp", 135.0, 112.99, 39.05),
)

# G108 waypoints (lon, lat), approximate.
G108_JINZHONG = ((112.62, 37.62), (112.55, 37.43), (112.33, 37.37), (112.18, 37.20))
G108_JINZHONG_2 = ((112.18, 37.20), (111.93, 37.04), (111.79, 36.86), (111.74, 36.78))
G108_XINZHOU = ((112.70, 38.28), (112.72, 38.36), (112.735, 38.42), (112.72, 38.55))
G108_XINZHOU_2 = ((112.72, 38.55), (112.71, 38.73), (112.85, 38.95), (112.96, 39.07))


# --------------------------------------------------------------------------------------------
# Small helpers


def _rng(stream: str) -> np.random.Generator:
    """Return the generator of one output stream, seeded from :data:`SEED` and its name."""
    return np.random.default_rng([SEED, zlib.crc32(stream.encode("utf-8"))])


def _pick(rng: np.random.Generator, items: Sequence[Any], p: Sequence[float] | None = None) -> Any:
    """Pick one item (plain Python value, not a numpy scalar)."""
    index = rng.choice(len(items), p=p) if p is not None else rng.integers(len(items))
    return items[int(index)]


def _fmt(value: Any, ndigits: int = 1) -> str:
    """Format a number without trailing zeros (``ndigits`` decimals at most); keep strings."""
    if isinstance(value, str):
        return value
    return np.format_float_positional(round(float(value), ndigits), trim="-")


def _project(
    geom: shapely.Geometry, transformer: Transformer, ndigits: int | None = None
) -> shapely.Geometry:
    """Transform a shapely geometry vertex by vertex, optionally rounding the result."""

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        out = np.column_stack([x, y])
        return np.round(out, ndigits) if ndigits is not None else out

    return shapely.transform(geom, apply)


def _to_geo(geom: shapely.Geometry) -> shapely.Geometry:
    """UTM 49N geometry to lon/lat degrees, rounded to 7 decimals (about 1 cm)."""
    return _project(geom, _TO_GEO, 7)


def _to_utm(geom: shapely.Geometry) -> shapely.Geometry:
    """Lon/lat geometry to UTM 49N metres."""
    return _project(geom, _TO_UTM)


def _town_xy(town: Town) -> tuple[float, float]:
    """UTM 49N coordinates of a town centre."""
    x, y = _TO_UTM.transform(town.lon, town.lat)
    return float(x), float(y)


def _lonlat(x: float, y: float) -> LonLat:
    """UTM 49N metres to lon/lat degrees."""
    lon, lat = _TO_GEO.transform(x, y)
    return float(lon), float(lat)


def _dx_xy(east_km: float, north_km: float) -> tuple[float, float]:
    """UTM coordinates of a point given in km east/north of the Dingxiang centre."""
    cx, cy = _town_xy(TOWN["定襄县"])
    return cx + 1000.0 * east_km, cy + 1000.0 * north_km


def _star(
    rng: np.random.Generator,
    centre: tuple[float, float],
    radius: float,
    n: int = 96,
    roughness: float = 1.0,
    aspect: tuple[float, float] = (1.0, 1.0),
) -> Polygon:
    """Noisy star-shaped polygon (valid by construction: one vertex per bearing).

    Parameters
    ----------
    rng
        Random generator.
    centre
        Centre in metres.
    radius
        Mean radius in metres; harmonics keep the extreme radius within about 1.3 times it.
    n
        Number of vertices.
    roughness
        Scale of the harmonic and per-vertex noise.
    aspect
        Stretch factors along x and y.

    Returns
    -------
    Polygon
        The outline, in the centre's CRS.
    """
    phi = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 7):
        amplitude = roughness * rng.uniform(0.02, 0.08) * 2.0 / k
        r += amplitude * np.cos(k * phi + rng.uniform(0.0, 2.0 * np.pi))
    r *= 1.0 + roughness * rng.normal(0.0, 0.02, n)
    r = radius * np.clip(r, 0.5, None)
    x = centre[0] + aspect[0] * r * np.sin(phi)
    y = centre[1] + aspect[1] * r * np.cos(phi)
    return Polygon(np.column_stack([x, y]))


def _sample_in(
    rng: np.random.Generator, geom: shapely.Geometry, exclude: shapely.Geometry | None = None
) -> tuple[float, float]:
    """Uniform random point (UTM) inside ``geom`` and outside ``exclude``."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(500):
        x = rng.uniform(minx, maxx, 128)
        y = rng.uniform(miny, maxy, 128)
        ok = shapely.contains_xy(geom, x, y)
        if exclude is not None:
            ok &= ~shapely.contains_xy(exclude, x, y)
        if ok.any():
            i = int(np.argmax(ok))
            return float(x[i]), float(y[i])
    raise RuntimeError("no point found in the sampling area")


# --------------------------------------------------------------------------------------------
# The region: built-up areas, Dingxiang zone sources, heat sources


@dataclass
class Region:
    """All context geometry of the demo region, in EPSG:4490 (lon/lat)."""

    builtup: gpd.GeoDataFrame
    dingxiang: dict[str, gpd.GeoDataFrame]
    heat: pd.DataFrame

    def dx_utm(self, layer: str) -> dict[str, shapely.Geometry]:
        """Geometries of one Dingxiang layer in UTM 49N, by name (first of a name wins)."""
        frame = self.dingxiang[layer]
        out: dict[str, shapely.Geometry] = {}
        for name, geom in zip(frame["name"], frame.geometry, strict=True):
            out.setdefault(name, _to_utm(geom))
        return out


def _town_shape(town: Town, rng: np.random.Generator) -> Polygon | MultiPolygon:
    """Built-up outline of a town in UTM: a noisy star, plus a satellite for some towns."""
    centre = _town_xy(town)
    main = _star(rng, centre, town.radius_m)
    if not town.satellite:
        return main
    bearing = rng.uniform(0.0, 2.0 * np.pi)
    sat_r = town.radius_m * rng.uniform(0.2, 0.3)
    dist = 1.35 * town.radius_m + 1.3 * sat_r + rng.uniform(400.0, 900.0)
    sat_centre = (centre[0] + dist * np.sin(bearing), centre[1] + dist * np.cos(bearing))
    satellite = _star(rng, sat_centre, sat_r, n=40)
    if not main.disjoint(satellite):
        raise RuntimeError(f"satellite of {town.name} touches the main outline")
    return MultiPolygon([main, satellite])


def build_builtup() -> gpd.GeoDataFrame:
    """Built-up polygons (建成区) of the 13 city and county seats.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``level`` (``city`` for the prefecture seats, else ``county``) and
        geometry, in EPSG:4490.
    """
    rng = _rng("builtup")
    rows = [
        {
            "name": town.name,
            "level": "city" if town.name in CITY_SEATS else "county",
            "geometry": _to_geo(_town_shape(town, rng)),
        }
        for town in TOWNS
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=GEO_CRS)


def _ring_radius(rng: np.random.Generator) -> Callable[[float], float]:
    """Radius (m) of the Third Ring Road as a function of the compass bearing (degrees)."""
    p2, p3 = rng.uniform(0.0, 2.0 * np.pi, 2)

    def radius(bearing_deg: float) -> float:
        b = np.radians(bearing_deg)
        return float(RING_RADIUS_M * (1 + 0.06 * np.cos(2 * b + p2) + 0.03 * np.cos(3 * b + p3)))

    return radius


def _ring_parts(rng: np.random.Generator) -> list[LineString]:
    """Three ways of the Third Ring Road (UTM) with one ~30 m gap between ways 1 and 2."""
    cx, cy = _dx_xy(0.0, 0.0)
    radius = _ring_radius(rng)

    def at(bearing_deg: float) -> tuple[float, float]:
        b, r = np.radians(bearing_deg), radius(bearing_deg)
        return cx + r * float(np.sin(b)), cy + r * float(np.cos(b))

    gap_deg = float(np.degrees(RING_GAP_M / radius(RING_GAP_AFTER_DEG)))
    first = [at(b) for b in np.arange(0.0, RING_GAP_AFTER_DEG + 0.1, 4.0)]
    second = [at(RING_GAP_AFTER_DEG + gap_deg)] + [at(b) for b in np.arange(120.0, 236.1, 4.0)]
    third = [at(b) for b in np.arange(236.0, 360.1, 4.0)]
    return [LineString(first), LineString(second), LineString(third)]


def _avenue(start: tuple[float, float]) -> LineString:
    """机场大道: 6 km from the ring road towards the southwest, gently curving (UTM)."""
    points = [start]
    for i in range(24):
        b = np.radians(AVENUE_START_DEG - 8.0 * i / 23.0)
        x, y = points[-1]
        points.append((x + 250.0 * float(np.sin(b)), y + 250.0 * float(np.cos(b))))
    return LineString(points)


def _townships() -> dict[str, Polygon]:
    """Township polygons (UTM): Voronoi cells of the seeds, clipped to a 17 km disc."""
    seeds = {name: Point(_dx_xy(*km)) for name, km in DX_TOWNSHIP_SEEDS.items()}
    clip = Point(_dx_xy(0.0, 0.0)).buffer(DX_TOWNSHIP_CLIP_M, quad_segs=32)
    cells = shapely.voronoi_polygons(MultiPoint(list(seeds.values())), extend_to=clip.buffer(5e3))
    out = {}
    for name, seed in seeds.items():
        cell = next(c for c in cells.geoms if c.contains(seed))
        out[name] = shapely.set_precision(cell.intersection(clip), 0.01)
    return out


def _frame(names: Sequence[str], geoms: Sequence[shapely.Geometry]) -> gpd.GeoDataFrame:
    """GeoDataFrame with a ``name`` column from UTM geometries, converted to EPSG:4490."""
    return gpd.GeoDataFrame(
        {"name": list(names)}, geometry=[_to_geo(g) for g in geoms], crs=GEO_CRS
    )


def build_dingxiang() -> dict[str, gpd.GeoDataFrame]:
    """Source geometries of the Dingxiang flange-cluster zones, one frame per layer.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        Layers ``cluster``, ``villages``, ``village_areas``, ``townships``, ``ring_road`` and
        ``airport_avenue``, each with a ``name`` column, in EPSG:4490.
    """
    rng = _rng("dingxiang")
    ring = _ring_parts(rng)
    avenue_start = next(p for p in ring[1].coords if _bearing_from_dx(p) == AVENUE_START_DEG)
    cluster_name, cluster_km = DX_CLUSTER
    cluster = _star(rng, _dx_xy(*cluster_km), 650.0, n=28, roughness=0.6, aspect=(1.3, 0.8))
    areas = [
        _star(rng, _dx_xy(*DX_VILLAGES[name]), rng.uniform(330.0, 450.0), n=24, roughness=0.7)
        for name in DX_VILLAGE_AREAS
    ]
    townships = _townships()
    return {
        "cluster": _frame([cluster_name], [cluster]),
        "villages": _frame(list(DX_VILLAGES), [Point(_dx_xy(*km)) for km in DX_VILLAGES.values()]),
        "village_areas": _frame(DX_VILLAGE_AREAS, areas),
        "townships": _frame(list(townships), list(townships.values())),
        "ring_road": _frame([RING_NAME] * len(ring), ring),
        "airport_avenue": _frame([AVENUE_NAME], [_avenue(avenue_start)]),
    }


def _bearing_from_dx(point: tuple[float, float]) -> float:
    """Compass bearing (degrees, rounded to 0.001) of a UTM point from the Dingxiang centre."""
    cx, cy = _dx_xy(0.0, 0.0)
    return round(float(np.degrees(np.arctan2(point[0] - cx, point[1] - cy))) % 360.0, 3)


def build_heat_sources() -> pd.DataFrame:
    """Heat sources: coal CHP plants and one industrial supplier (illustrative names).

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``name``, ``kind``, ``capacity_mw``, ``lon``, ``lat`` sorted by id.
    """
    frame = pd.DataFrame(HEAT_SOURCES, columns=["id", "name", "kind", "capacity_mw", "lon", "lat"])
    return frame.sort_values("id").reset_index(drop=True)


def heat_source_qualifies(kind: str, capacity_mw: float) -> bool:
    """Whether a heat source defines a 30 km radius (001 §三(二)8): CHP >= 300 MW or industrial."""
    return kind == "industrial" or (kind == "chp" and capacity_mw >= 300.0)


def build_region() -> Region:
    """Build the whole demo region (built-up areas, Dingxiang sources, heat sources)."""
    return Region(build_builtup(), build_dingxiang(), build_heat_sources())


# --------------------------------------------------------------------------------------------
# Distances


class GeodesicToBuiltup:
    """Geodesic metres from a point to the nearest built-up polygon (0 inside).

    Polygon edges are densified to <= 0.0004 degrees (about 40 m), so the distance to the
    densified vertices exceeds the distance to the edge by at most ``step**2 / (8 d)``: under
    3 cm at 10 km.
    """

    def __init__(self, builtup: gpd.GeoDataFrame, step_deg: float = 0.0004) -> None:
        self.names = list(builtup["name"])
        self.geoms = list(builtup.geometry)
        for geom in self.geoms:
            shapely.prepare(geom)
        self.vertices = [
            shapely.get_coordinates(shapely.segmentize(g.boundary, step_deg)) for g in self.geoms
        ]

    def nearest(self, lon: float, lat: float) -> tuple[str, float]:
        """Name of the nearest built-up area and the geodesic distance to it in metres."""
        for name, geom in zip(self.names, self.geoms, strict=True):
            if shapely.contains_xy(geom, lon, lat):
                return name, 0.0
        coslat = np.cos(np.radians(lat))
        approx = [
            float(np.min(np.hypot((v[:, 0] - lon) * coslat, v[:, 1] - lat))) * 111_320.0
            for v in self.vertices
        ]
        best_name, best = "", np.inf
        for name, verts, rough in zip(self.names, self.vertices, approx, strict=True):
            if rough > min(approx) * 1.02 + 500.0:
                continue
            n = len(verts)
            _, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), verts[:, 0], verts[:, 1])
            if float(dist.min()) < best:
                best_name, best = name, float(dist.min())
        return best_name, best

    def __call__(self, lon: float, lat: float) -> float:
        """Geodesic distance in metres (0 inside a polygon)."""
        return self.nearest(lon, lat)[1]


def point_at_builtup_distance(
    dist: GeodesicToBuiltup, origin: LonLat, bearing: float, target: float
) -> LonLat:
    """Walk from ``origin`` along a geodesic bearing to where the built-up distance is ``target``.

    Bisection on the walked distance until the bracket is under 1 mm.
    """
    lo, hi = 0.0, target + 8_000.0  # built-up edges are within 5 km of a seat

    def gap(s: float) -> float:
        lon, lat, _ = GEOD.fwd(origin[0], origin[1], bearing, s)
        return dist(lon, lat) - target

    if gap(hi) < 0:
        raise RuntimeError("bearing never reaches the target distance")
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], bearing, hi)
    return float(lon), float(lat)


def _heat_distances(
    lon: np.ndarray, lat: np.ndarray, heat: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic metres to the nearest qualifying and the nearest non-qualifying heat source."""
    lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
    qual = np.full(lon.shape, np.inf)
    other = np.full(lon.shape, np.inf)
    for src in heat.itertuples():
        _, _, d = GEOD.inv(lon, lat, np.full(lon.shape, src.lon), np.full(lon.shape, src.lat))
        if heat_source_qualifies(src.kind, src.capacity_mw):
            qual = np.minimum(qual, d)
        else:
            other = np.minimum(other, d)
    return qual, other


class _Placer:
    """Random plant locations relative to the built-up areas (UTM sampling, lon/lat out)."""

    def __init__(self, builtup: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
        self.rng = rng
        shapes = {n: _to_utm(g) for n, g in zip(builtup["name"], builtup.geometry, strict=True)}
        self.cores = {n: g.buffer(-20.0) for n, g in shapes.items()}
        self.union = shapely.union_all(list(shapes.values()))
        shapely.prepare(self.union)

    def _disc(self, centre: tuple[float, float], rmax: float) -> tuple[np.ndarray, np.ndarray]:
        r = rmax * np.sqrt(self.rng.uniform(0.0, 1.0, 256))
        a = self.rng.uniform(0.0, 2.0 * np.pi, 256)
        return centre[0] + r * np.sin(a), centre[1] + r * np.cos(a)

    def inside(self, town: Town) -> LonLat:
        """A point at least 20 m inside the town's built-up area."""
        return _lonlat(*_sample_in(self.rng, self.cores[town.name]))

    def band(self, town: Town, lo: float, hi: float) -> LonLat:
        """A point around ``town`` whose distance to the nearest built-up area is in [lo, hi]."""
        for _ in range(500):
            x, y = self._disc(_town_xy(town), hi + 1.4 * town.radius_m)
            d = shapely.distance(self.union, shapely.points(x, y))
            ok = (d >= lo) & (d <= hi)
            if ok.any():
                i = int(np.argmax(ok))
                return _lonlat(float(x[i]), float(y[i]))
        raise RuntimeError(f"no point {lo}-{hi} m from built-up near {town.name}")

    def where(
        self,
        town: Town,
        rmax: float,
        predicate: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ) -> LonLat:
        """A point within ``rmax`` of the town centre, outside built-up, where predicate holds."""
        for _ in range(500):
            x, y = self._disc(_town_xy(town), rmax)
            lon, lat = _TO_GEO.transform(x, y)
            ok = predicate(np.asarray(lon), np.asarray(lat))
            ok &= ~shapely.contains_xy(self.union, x, y)
            if ok.any():
                i = int(np.argmax(ok))
                return float(lon[i]), float(lat[i])
        raise RuntimeError(f"no point found around {town.name}")


# --------------------------------------------------------------------------------------------
# Enterprise rows

COLUMNS = (
    "id", "name", "industry", "county", "township", "village", "policy_class", "compliant",
    "ultra_low", "clean_transport", "green_factory", "online_monitoring", "special_limits",
    "supplies_heat", "sintering", "suction_crane", "clean_energy", "subtype", "furnace_t", "fuel",
    "boiler_tph", "boiler_mw", "pm_mg", "so2_mg", "nox_mg", "o2_pct", "lon", "lat", "coord_sys",
)  # fmt: skip
YESNO_COLUMNS = COLUMNS[7:17]
NUMBER_COLUMNS = ("furnace_t", "boiler_tph", "boiler_mw", "pm_mg", "so2_mg", "nox_mg", "o2_pct")
CLASSES = ("encouraged", "permitted", "restricted")
CLASS_WEIGHTS = (0.2, 0.55, 0.25)
BANDS: dict[str, tuple[float, float] | None] = {
    "inside": None,
    "near": (2_000.0, 9_700.0),
    "far": (10_300.0, 40_000.0),
}
GCJ_SHARE = 0.10
FLANGE_LIMITS = {"pm_mg": 10.0, "so2_mg": 50.0, "nox_mg": 200.0}
FLANGE_O2_REF = 8.0

TRADES = (
    "宏达", "鑫源", "华通", "恒泰", "晋丰", "永盛", "金石", "昌盛", "瑞丰", "泰和", "兴旺", "隆鑫",
    "天润", "汇丰", "盛达", "通达", "正阳", "远航", "福源", "康宁", "聚鑫", "广源", "德润", "佳华",
    "明泰", "晋阳", "晋源", "鼎盛", "嘉禾", "祥和", "利民", "丰泽", "东方", "新华", "荣达", "伟业",
    "顺达", "鸿运", "金鼎", "华鑫", "宏图", "益民", "永安", "安泰", "富民", "宝丰", "龙腾", "凯达",
    "亨通", "旭日", "新源", "融汇", "同德", "中恒", "润泽", "开元", "天元", "三晋", "汾河", "太行",
)  # fmt: skip
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "steel": ("钢铁", "特钢", "钢铁集团"),
    "ferroalloy": ("铁合金", "硅铁", "冶金"),
    "coking": ("焦化", "煤焦化", "焦化煤气"),
    "foundry": ("铸造", "玛钢铸造", "机械铸造", "铸业"),
    "brick_kiln": ("新型墙材", "砖瓦", "页岩砖", "建材砖业"),
    "nonferrous": ("有色金属", "铝业", "镁业", "锌业"),
    "cement": ("水泥", "建材水泥", "水泥制品"),
    "chemical": ("化工", "精细化工", "煤化工"),
    "coating_ink": ("涂料", "油墨", "化工涂料"),
    "rubber": ("橡胶制品", "橡胶", "胶带"),
    "carbon": ("炭素", "碳素", "石墨炭素"),
    "refractory": ("耐火材料", "耐材", "高铝耐火"),
    "glassware": ("玻璃器皿", "玻璃制品", "日用玻璃"),
    "building_materials": ("石材", "岩棉", "铝矾土", "建材"),
    "flange": ("法兰", "锻造法兰", "法兰锻造", "锻压"),
    "pellet": ("球团", "冶金球团", "矿业球团"),
    "boiler": ("热力", "供热", "食品", "纺织", "造纸", "酿造"),
    "power": ("热电", "电力", "煤电"),
    "other": ("实业", "机械", "工贸", "科技"),
}
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")
SUFFIX_WEIGHTS = (0.7, 0.2, 0.1)
DX_OTHER_VILLAGES = (
    "王家庄村", "李家营村", "郭家堡村", "赵庄村", "刘家社村", "高村", "范家庄村", "东关村",
    "西关村", "南庄村", "北营村", "前进村", "后沟村", "下社村", "上庄村", "新村",
)  # fmt: skip

_FOUNDRY_OK = {"pm_mg": (5.0, 18.0), "so2_mg": (10.0, 55.0), "nox_mg": (20.0, 75.0)}
_BRICK_OK = {"online_monitoring": "yes", "pm_mg": (3.0, 9.5), "so2_mg": (10.0, 34.0)}
_REFRACTORY_OK = {"nox_mg": (100.0, 290.0), "so2_mg": (20.0, 190.0), "pm_mg": (5.0, 29.0)}
_GLASS_OK = {"so2_mg": (10.0, 190.0), "nox_mg": (50.0, 390.0), "pm_mg": (5.0, 29.0)}
_ONLINE_SPECIAL = {"online_monitoring": "yes", "special_limits": "yes"}
_DEFAULT_SUBTYPES = {
    "cement": ("clinker", "grinding"),
    "foundry": ("electric", "gas", "cupola"),
    "glassware": ("electric", "gas"),
}


@dataclass(frozen=True)
class Profile:
    """A kind of Jinzhong plant: industry, fixed attributes and the rule it exercises.

    Attribute values: a string is used as is, a list is a choice, a (lo, hi) tuple is a uniform
    draw rounded to one decimal. ``policy_class`` is drawn when not given.
    """

    key: str
    industry: str | tuple[str, ...]
    attrs: dict[str, Any]
    tests: str


JZ_PROFILES: tuple[Profile, ...] = (
    Profile("noncompliant", ("foundry", "coking", "steel", "brick_kiln", "chemical"),
            {"compliant": "no"}, "§二1 not compliant → shutdown"),
    Profile("compliant_blank", ("foundry", "building_materials", "nonferrous"),
            {"compliant": ""}, "compliant blank (unknown)"),
    Profile("exempt_green_factory", ("steel", "coking", "cement", "chemical", "foundry"),
            {"green_factory": "yes", **_ONLINE_SPECIAL}, "§二2(a) green factory → exempt"),
    Profile("exempt_ultra_low_transport", ("steel", "coking", "ferroalloy"),
            {"ultra_low": "yes", "clean_transport": "yes", **_ONLINE_SPECIAL},
            "§二2(b) ultra-low + clean transport → exempt"),
    Profile("ultra_low_no_transport", ("steel", "coking"),
            {"ultra_low": "yes", "clean_transport": "no", **_ONLINE_SPECIAL},
            "ultra-low without clean transport: not exempt"),
    Profile("ultra_low_transport_blank", ("steel", "coking"),
            {"ultra_low": "yes", "clean_transport": "", **_ONLINE_SPECIAL},
            "clean transport blank: blank is not yes for an exemption"),
    Profile("green_factory_blank", ("chemical", "nonferrous"),
            {"green_factory": "", **_ONLINE_SPECIAL}, "green factory blank: not exempt"),
    Profile("steel_row", "steel", {"online_monitoring": "yes", "ultra_low": "yes"},
            "§三(一)1 steel 40/40"),
    Profile("steel_no_online", "steel", {"online_monitoring": "no"},
            "steel row excluded → generic §二4 by class"),
    Profile("steel_online_blank", "steel", {"online_monitoring": "", "ultra_low": "yes"},
            "blank condition → row applies, unverified"),
    Profile("steel_supplies_heat", "steel",
            {"online_monitoring": "yes", "ultra_low": "yes", "supplies_heat": "yes"},
            "§二6 heat supply → heat_determined"),
    Profile("ferroalloy_sintering", "ferroalloy", {"online_monitoring": "yes", "sintering": "yes"},
            "§三(一)2 40/50"),
    Profile("ferroalloy_no_sintering", "ferroalloy",
            {"online_monitoring": "yes", "sintering": "no"}, "§三(一)2 38/48"),
    Profile("ferroalloy_sintering_blank", "ferroalloy",
            {"online_monitoring": "yes", "sintering": ""}, "sintering blank selects no row"),
    Profile("ferroalloy_no_online", "ferroalloy", {"online_monitoring": "no", "sintering": "yes"},
            "ferroalloy row excluded, not a §二4 industry → review"),
    Profile("coking_special_encouraged", "coking",
            {**_ONLINE_SPECIAL, "policy_class": "encouraged"}, "§三(一)3 20/30"),
    Profile("coking_special_permitted", "coking",
            {**_ONLINE_SPECIAL, "policy_class": "permitted"}, "§三(一)3 30/40"),
    Profile("coking_special_restricted", "coking",
            {**_ONLINE_SPECIAL, "policy_class": "restricted"}, "§三(一)3 40/50"),
    Profile("coking_not_special", "coking", {"special_limits": "no"},
            "§三(一)3 without special limits → shutdown"),
    Profile("coking_special_blank", "coking", {"special_limits": ""},
            "special limits blank → review"),
    Profile("coking_supplies_heat", "coking", {**_ONLINE_SPECIAL, "supplies_heat": "yes"},
            "§三(一)3 heat supply → heat_determined"),
    Profile("coking_class_blank", "coking", {**_ONLINE_SPECIAL, "policy_class": ""},
            "policy class blank → review"),
    Profile("foundry_electric", "foundry", {"subtype": "electric", **_FOUNDRY_OK},
            "§三(一)4 electric furnace within limits 30/40"),
    Profile("foundry_gas", "foundry", {"subtype": "gas", **_FOUNDRY_OK},
            "§三(一)4 gas furnace within limits 30/40"),
    Profile("foundry_electric_nox_over", "foundry",
            {"subtype": "electric", **_FOUNDRY_OK, "nox_mg": (90.0, 150.0)},
            "NOx over 80 → row excluded → generic by class"),
    Profile("foundry_electric_no_values", "foundry", {"subtype": "electric"},
            "measured values blank → unverified"),
    Profile("cupola_large", "foundry",
            {"subtype": "cupola", "online_monitoring": "yes", "furnace_t": [12, 15, 20, 30],
             **_FOUNDRY_OK}, "§三(一)4 cupola >= 10 t 30/40"),
    Profile("cupola_10t", "foundry",
            {"subtype": "cupola", "online_monitoring": "yes", "furnace_t": "10", **_FOUNDRY_OK},
            "cupola exactly 10 t (boundary of two rows)"),
    Profile("cupola_mid", "foundry",
            {"subtype": "cupola", "online_monitoring": "yes", "furnace_t": [5.5, 6, 8, 9.5]},
            "§三(一)4 cupola 5-10 t 40/50"),
    Profile("cupola_small", "foundry", {"subtype": "cupola", "furnace_t": [2, 3, 5]},
            "§三(一)4 cupola <= 5 t (incl. exactly 5) → stop_season"),
    Profile("cupola_large_no_online", "foundry",
            {"subtype": "cupola", "online_monitoring": "no", "furnace_t": [12, 20]},
            "cupola >= 10 t without online monitoring → row excluded"),
    Profile("cupola_size_blank", "foundry",
            {"subtype": "cupola", "online_monitoring": "yes", "furnace_t": ""},
            "cupola size blank → review"),
    Profile("foundry_subtype_blank", "foundry", {"subtype": "", **_FOUNDRY_OK},
            "furnace type blank"),
    Profile("brick_encouraged", "brick_kiln", {**_BRICK_OK, "policy_class": "encouraged"},
            "§三(一)5 20/30"),
    Profile("brick_permitted", "brick_kiln", {**_BRICK_OK, "policy_class": "permitted"},
            "§三(一)5 30/40"),
    Profile("brick_restricted", "brick_kiln", {**_BRICK_OK, "policy_class": "restricted"},
            "restricted brick kiln: not covered → review"),
    Profile("brick_pm_over", "brick_kiln",
            {**_BRICK_OK, "pm_mg": (12.0, 25.0), "policy_class": "permitted"},
            "PM over 10 → row excluded"),
    Profile("nonferrous_row", "nonferrous", dict(_ONLINE_SPECIAL), "§三(一)6 30/40"),
    Profile("nonferrous_not_special", "nonferrous",
            {"online_monitoring": "yes", "special_limits": "no"}, "row excluded → generic"),
    Profile("nonferrous_special_blank", "nonferrous",
            {"online_monitoring": "yes", "special_limits": ""}, "unverified:special_limits"),
    Profile("cement_clinker", "cement", {"subtype": "clinker", **_ONLINE_SPECIAL},
            "§三(一)7 clinker 30/40; 003 §一(三) clinker stop"),
    Profile("cement_grinding", "cement", {"subtype": "grinding", **_ONLINE_SPECIAL},
            "§三(一)7 grinding station 30/40"),
    Profile("cement_products_clean", "cement",
            {"subtype": "products", "clean_energy": "yes", **_ONLINE_SPECIAL},
            "§三(一)7 cement products with clean energy 30/40"),
    Profile("cement_products_not_clean", "cement",
            {"subtype": "products", "clean_energy": "no", **_ONLINE_SPECIAL},
            "cement products without clean energy: row excluded"),
    Profile("chemical_row", "chemical", dict(_ONLINE_SPECIAL), "§三(一)8 30/40"),
    Profile("chemical_no_online", "chemical",
            {"online_monitoring": "no", "special_limits": "yes"}, "row excluded → generic"),
    Profile("chemical_supplies_gas", "chemical", {**_ONLINE_SPECIAL, "supplies_heat": "yes"},
            "gas supply → heat_determined"),
    Profile("coating_ink", "coating_ink", {}, "§三(一)9 30/40"),
    Profile("rubber", "rubber", {}, "§三(一)10 rotate"),
    Profile("carbon_crane", "carbon",
            {"suction_crane": "yes", "policy_class": ["encouraged", "permitted"]},
            "§三(一)11 with suction crane 30/40"),
    Profile("carbon_no_crane", "carbon",
            {"suction_crane": "no", "policy_class": ["encouraged", "permitted"]},
            "§三(一)11 without suction crane 40/50"),
    Profile("carbon_crane_restricted", "carbon",
            {"suction_crane": "yes", "policy_class": "restricted"}, "restricted +10: 40/50"),
    Profile("carbon_no_crane_restricted", "carbon",
            {"suction_crane": "no", "policy_class": "restricted"}, "restricted +10: 50/60"),
    Profile("carbon_crane_blank", "carbon", {"suction_crane": ""}, "suction crane blank"),
    Profile("refractory_row", "refractory", {"clean_energy": "yes", **_REFRACTORY_OK},
            "§三(一)12 30/40"),
    Profile("refractory_no_clean_energy", "refractory", {"clean_energy": "no", **_REFRACTORY_OK},
            "no clean energy → row excluded"),
    Profile("refractory_nox_over", "refractory",
            {"clean_energy": "yes", **_REFRACTORY_OK, "nox_mg": (310.0, 420.0)},
            "NOx over 300 → row excluded"),
    Profile("glass_electric", "glassware", {"subtype": "electric", **_GLASS_OK},
            "§三(一)13 electric 30/40"),
    Profile("glass_gas", "glassware", {"subtype": "gas", **_GLASS_OK}, "§三(一)13 gas 30/40"),
    Profile("glass_gas_producer", "glassware",
            {"subtype": "gas_producer", "online_monitoring": "yes", **_GLASS_OK},
            "§三(一)13 gas producer with online monitoring 40/50"),
    Profile("glass_gas_producer_no_online", "glassware",
            {"subtype": "gas_producer", "online_monitoring": "no", **_GLASS_OK},
            "gas producer without online monitoring → row excluded"),
    Profile("glass_electric_so2_over", "glassware",
            {"subtype": "electric", **_GLASS_OK, "so2_mg": (210.0, 300.0)},
            "SO2 over 200 → row excluded"),
    Profile("building_materials_encouraged", "building_materials",
            {"policy_class": "encouraged"}, "§三(一)14 20/30"),
    Profile("building_materials_permitted", "building_materials",
            {"policy_class": "permitted"}, "§三(一)14 30/40"),
    Profile("building_materials_restricted", "building_materials",
            {"policy_class": "restricted"}, "§三(一)14 40/50"),
    Profile("other_industry", "other", {}, "industry not in the table → review"),
    Profile("power_supplies_heat", "power",
            {"supplies_heat": "yes", "fuel": "coal", "boiler_mw": [50, 135, 300]},
            "power plant in Jinzhong: no matrix row"),
    Profile("boiler_jinzhong", "boiler", {"fuel": "coal", "boiler_tph": [10, 20, 35]},
            "Xinzhou boiler rules do not apply in Jinzhong"),
)  # fmt: skip
JZ_ROWS_PER_BAND = 8

# where, industry, count, anchor towns (Xinzhou boilers and power units)
XZ_HEAT_PLAN: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("in_radius", "coal", 60, ("忻府区", "原平市", "定襄县", "繁峙县")),
    ("builtup", "coal", 20, ("忻府区", "原平市", "定襄县", "代县", "五台县")),
    ("outside", "coal", 30, ("代县", "五台县")),
    ("none", "coal", 10, ("五台县",)),
    ("in_radius", "power", 8, ("忻府区", "原平市", "定襄县")),
    ("outside", "power", 4, ("代县", "五台县")),
    ("any", "gas", 40, tuple(t.name for t in XZ_TOWNS)),
    ("builtup", "gas", 12, ("忻府区", "原平市", "定襄县")),
    ("any", "biomass", 4, ("忻府区", "原平市", "五台县")),
    ("any", "electric", 4, ("忻府区", "定襄县")),
)
# heat source, bearing, offset from 30 km (m), boiler t/h
XZ_HEAT_STRADDLE = (("HS-01", 250.0, -40.0, 10), ("HS-01", 250.0, 40.0, 10),
                    ("HS-02", 300.0, -40.0, 20), ("HS-02", 300.0, 40.0, 20))  # fmt: skip
# town, bearing, offset from 10 km (m), profile key
JZ_STRADDLE = (
    ("介休市", 250.0, "foundry_electric"), ("灵石县", 200.0, "coking_special_permitted"),
    ("寿阳县", 80.0, "carbon_crane"), ("平遥县", 120.0, "building_materials_permitted"),
    ("榆次区", 20.0, "brick_encouraged"), ("祁县", 280.0, "glass_electric"),
)  # fmt: skip
JZ_STRADDLE_OFFSETS = (-30.0, 30.0)
# town, target true distance (m): the raw GCJ-02 numbers fall on the other side of 10 km
GCJ_FLIPS = (("寿阳县", 10_150.0), ("灵石县", 9_850.0))

BAD_ROWS: tuple[tuple[str, str, str], ...] = (
    ("BAD-01", "lon empty", "missing coordinates (lon)"),
    ("BAD-02", "lat is 'abc'", "lat not a number"),
    ("BAD-03", "lon and lat swapped", "lon/lat swapped"),
    ("BAD-04", "point in Ulaanbaatar, Mongolia", "outside China"),
    ("BAD-05", "lon 0, lat 0", "0/0 placeholder coordinates"),
    ("JZ-0007", "second occurrence of id JZ-0007 (another plant)", "duplicate id"),
    ("", "id empty", "empty id"),
    ("BAD-08", "industry 'spaceship'", "unknown industry code"),
    ("BAD-09", "policy_class 'preferred'", "unknown policy_class code"),
    ("BAD-10", "compliant 'maybe'", "unknown yes/no value"),
    ("BAD-11", "lat 95.3 (out of range)", "outside China / invalid latitude"),
    ("BAD-12", "subtype 'rocket'", "unknown subtype code"),
    ("BAD-13", "furnace_t '-5'", "negative number"),
)


@dataclass
class Notes:
    """What the README reports about the generated enterprises and raster."""

    profiles: list[tuple[Profile, int]] = field(default_factory=list)
    straddle: list[tuple[Row, str, float]] = field(default_factory=list)
    flips: list[tuple[Row, float, float]] = field(default_factory=list)
    heat_straddle: list[tuple[Row, str, float]] = field(default_factory=list)
    disagree: list[tuple[Row, str]] = field(default_factory=list)
    county_kept: list[tuple[Row, str]] = field(default_factory=list)
    county_short: list[tuple[Row, str]] = field(default_factory=list)
    dx_areas: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    raster: dict[str, Any] = field(default_factory=dict)
    ring_gap_m: float = 0.0


class _Names:
    """Plausible, unique Chinese company names built from parts."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, rng: np.random.Generator, town: Town, industry: str) -> str:
        """Return an unused name like 平遥县宏达铸造有限公司."""
        short = town.name[:-1] if len(town.name) > 2 else town.name
        places = (town.prefecture, town.name, short, "山西")
        for _ in range(1000):
            place = _pick(rng, places, (0.25, 0.35, 0.3, 0.1))
            word = _pick(rng, INDUSTRY_WORDS[industry])
            name = f"{place}{_pick(rng, TRADES)}{word}{_pick(rng, SUFFIXES, SUFFIX_WEIGHTS)}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of company names")


@dataclass
class _Ctx:
    """Shared state of one enterprise table generation."""

    region: Region
    rng: np.random.Generator
    placer: _Placer
    geodesic: GeodesicToBuiltup
    names: _Names = field(default_factory=_Names)
    notes: Notes = field(default_factory=Notes)

    @classmethod
    def create(cls, region: Region, stream: str) -> _Ctx:
        """Context with its own random stream."""
        rng = _rng(stream)
        return cls(region, rng, _Placer(region.builtup, rng), GeodesicToBuiltup(region.builtup))


def _new_row(ctx: _Ctx, industry: str, town: Town, prefix: str, where: LonLat) -> Row:
    """A row with the common defaults; private keys start with ``_``."""
    row: Row = dict.fromkeys(COLUMNS, "")
    row.update(
        industry=industry,
        county=town.name,
        name=ctx.names.make(ctx.rng, town, industry),
        policy_class=_pick(ctx.rng, CLASSES, CLASS_WEIGHTS),
        compliant="yes",
        green_factory="no",
        ultra_low="no",
        clean_transport="no",
        supplies_heat="no",
        _prefix=prefix,
        _town=town,
        _lon=where[0],
        _lat=where[1],
        _sys="",
    )
    return row


def _apply(row: Row, attrs: dict[str, Any], rng: np.random.Generator) -> None:
    """Set profile attributes: lists are choices, (lo, hi) tuples uniform draws."""
    subtypes = _DEFAULT_SUBTYPES.get(row["industry"])
    if subtypes and "subtype" not in attrs:
        row["subtype"] = _pick(rng, subtypes)
    for key, value in attrs.items():
        if isinstance(value, list):
            row[key] = _fmt(_pick(rng, value), ndigits=3)
        elif isinstance(value, tuple):
            row[key] = _fmt(rng.uniform(*value))
        else:
            row[key] = _fmt(value)


def _place(ctx: _Ctx, town: Town, band: str) -> LonLat:
    """A location of the band's kind around a town."""
    limits = BANDS[band]
    if limits is None:
        return ctx.placer.inside(town)
    return ctx.placer.band(town, *limits)


def _profile_row(ctx: _Ctx, profile: Profile, town: Town, where: LonLat) -> Row:
    """A Jinzhong row of one profile at a given location."""
    industry = profile.industry
    if isinstance(industry, tuple):
        industry = _pick(ctx.rng, industry)
    row = _new_row(ctx, industry, town, "JZ", where)
    _apply(row, profile.attrs, ctx.rng)
    return row


def _jinzhong_rows(ctx: _Ctx) -> list[Row]:
    """Every Jinzhong profile inside, near (2-9.7 km) and far (10.3-40 km) from built-up."""
    rows = []
    for profile in JZ_PROFILES:
        for band in BANDS:
            for _ in range(JZ_ROWS_PER_BAND):
                town = _pick(ctx.rng, JZ_TOWNS)
                rows.append(_profile_row(ctx, profile, town, _place(ctx, town, band)))
        ctx.notes.profiles.append((profile, JZ_ROWS_PER_BAND * len(BANDS)))
    return rows


def _straddle_rows(ctx: _Ctx) -> list[Row]:
    """Pairs of plants a few tens of metres either side of 10 km from a built-up edge."""
    profiles = {p.key: p for p in JZ_PROFILES}
    rows = []
    for town_name, bearing, key in JZ_STRADDLE:
        town = TOWN[town_name]
        for offset in JZ_STRADDLE_OFFSETS:
            where = point_at_builtup_distance(
                ctx.geodesic, (town.lon, town.lat), bearing, NEAR_CITY_M + offset
            )
            where = (round(where[0], 6), round(where[1], 6))
            row = _profile_row(ctx, profiles[key], town, where)
            row["_sys"] = "wgs84"
            nearest, dist = ctx.geodesic.nearest(*where)
            ctx.notes.straddle.append((row, nearest, dist))
            rows.append(row)
    return rows


def _flip_rows(ctx: _Ctx) -> list[Row]:
    """GCJ-02 rows whose raw (unconverted) numbers land on the other side of 10 km."""
    rows = []
    for town_name, target in GCJ_FLIPS:
        town = TOWN[town_name]
        best: tuple[float, LonLat] | None = None
        origin = (town.lon, town.lat)
        for bearing in np.arange(0.0, 360.0, 15.0):
            try:
                where = point_at_builtup_distance(ctx.geodesic, origin, bearing, target)
            except RuntimeError:  # the bearing runs into another town
                continue
            glon, glat = wgs84_to_gcj02(where[0], where[1])
            naive = ctx.geodesic(float(glon), float(glat))
            score = naive if target > NEAR_CITY_M else -naive
            if best is None or score < best[0]:
                best = (score, where)
        assert best is not None
        row = _profile_row(ctx, {p.key: p for p in JZ_PROFILES}["foundry_electric"], town, best[1])
        row["_sys"] = "gcj02"
        ctx.notes.flips.append((row, ctx.geodesic(*best[1]), abs(best[0])))
        rows.append(row)
    return rows


def _heat_predicate(heat: pd.DataFrame, where: str) -> Callable[[np.ndarray, np.ndarray], Any]:
    """Location test for the Xinzhou boiler placement classes."""

    def test(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        qual, other = _heat_distances(lon, lat, heat)
        if where == "in_radius":
            return qual <= HEAT_RADIUS_M - 1_000.0
        if where == "outside":
            return qual >= HEAT_RADIUS_M + 1_000.0
        if where == "none":
            return np.minimum(qual, other) >= HEAT_RADIUS_M + 1_000.0
        return np.ones(lon.shape, dtype=bool)

    return test


def _boiler_attrs(rng: np.random.Generator, fuel: str) -> dict[str, Any]:
    """Attributes of a boiler (or a small power unit when fuel is 'power')."""
    if fuel == "power":
        return {"fuel": "coal", "boiler_mw": [25, 50, 60, 100, 135],
                "supplies_heat": ["yes", "no"]}  # fmt: skip
    if fuel == "coal":
        size: dict[str, Any] = {"boiler_tph": [2, 4, 6, 10, 15, 20, 25, 35, 40, 45, 65, 75]}
        if rng.random() < 0.15:
            size = {"boiler_mw": [7, 14, 29, 46, 58]}
        return {"fuel": "coal", **size, "ultra_low": ["yes", "no", ""],
                "supplies_heat": ["yes", "no", "no"]}  # fmt: skip
    if fuel == "gas":
        size = {"boiler_tph": [0.5, 1, 2, 4, 6, 10, 20]}
        if rng.random() < 0.4:
            size = {"boiler_mw": [0.35, 0.7, 1.4, 2.8, 4.2, 7]}
        nox = [22, 28, 35, 45, 49, 50, 55, 80, 120, 150]
        return {"fuel": "gas", **size, "nox_mg": nox, "o2_pct": "3.5"}
    return {"fuel": fuel, "boiler_tph": [1, 2, 4, 6]}


def _xinzhou_heat_rows(ctx: _Ctx) -> list[Row]:
    """Coal, gas, biomass and electric boilers and small coal power units in Xinzhou."""
    rows = []
    for where, fuel, count, anchors in XZ_HEAT_PLAN:
        test = _heat_predicate(ctx.region.heat, where)
        for _ in range(count):
            town = TOWN[_pick(ctx.rng, anchors)]
            if where == "builtup":
                at = ctx.placer.inside(town)
            else:
                at = ctx.placer.where(town, 40_000.0 if where == "none" else 15_000.0, test)
            industry = "power" if fuel == "power" else "boiler"
            row = _new_row(ctx, industry, town, "XZ", at)
            row["policy_class"] = "permitted"
            _apply(row, _boiler_attrs(ctx.rng, fuel), ctx.rng)
            rows.append(row)
    return rows + _heat_straddle_rows(ctx)


def _heat_straddle_rows(ctx: _Ctx) -> list[Row]:
    """Coal boilers a few tens of metres either side of 30 km from a qualifying CHP plant."""
    heat = ctx.region.heat.set_index("id")
    rows = []
    for source, bearing, offset, tph in XZ_HEAT_STRADDLE:
        src = heat.loc[source]
        lon, lat, _ = GEOD.fwd(src.lon, src.lat, bearing, HEAT_RADIUS_M + offset)
        lon, lat = round(float(lon), 6), round(float(lat), 6)
        qual, _ = _heat_distances(np.array([lon]), np.array([lat]), ctx.region.heat)
        _, _, d = GEOD.inv(lon, lat, src.lon, src.lat)
        if abs(float(qual[0]) - d) > 1e-6:
            raise RuntimeError(f"another qualifying source is nearer than {source}")
        town = TOWN["忻府区" if source == "HS-01" else "原平市"]
        row = _new_row(ctx, "boiler", town, "XZ", (lon, lat))
        row.update(policy_class="permitted", fuel="coal", boiler_tph=_fmt(tph), _sys="wgs84")
        ctx.notes.heat_straddle.append((row, source, float(d)))
        rows.append(row)
    return rows


def _xinzhou_other_rows(ctx: _Ctx) -> list[Row]:
    """Pellet plants (Fanshi, Dai), clinker plants and assorted Xinzhou industry."""
    rows = []
    for town_name in ("繁峙县", "代县"):
        town = TOWN[town_name]
        for _ in range(25):
            row = _new_row(ctx, "pellet", town, "XZ", ctx.placer.band(town, 500.0, 15_000.0))
            subtype = _pick(ctx.rng, ("shaft_furnace", "grate_kiln"), (0.7, 0.3))
            attrs = {"subtype": subtype, "sintering": ["yes", "no", "no", ""],
                     "ultra_low": ["yes", "no", ""], "online_monitoring": "yes",
                     "policy_class": ["permitted", "restricted"]}  # fmt: skip
            _apply(row, attrs, ctx.rng)
            rows.append(row)
    for _ in range(2):
        row = _new_row(ctx, "steel", TOWN["代县"], "XZ", ctx.placer.band(TOWN["代县"], 500, 9e3))
        _apply(row, {"sintering": "yes", "ultra_low": "yes", "online_monitoring": "yes"}, ctx.rng)
        rows.append(row)
    mix = (("cement", 13), ("foundry", 8), ("coking", 5), ("chemical", 4),
           ("building_materials", 4), ("brick_kiln", 3), ("carbon", 3), ("other", 3),
           ("flange", 3))  # fmt: skip
    for industry, count in mix:
        for _ in range(count):
            anchors = ("忻府区", "原平市") if industry == "flange" else [t.name for t in XZ_TOWNS]
            town = TOWN[_pick(ctx.rng, anchors)]
            row = _new_row(ctx, industry, town, "XZ", ctx.placer.band(town, 300.0, 15_000.0))
            attrs: dict[str, Any] = {"online_monitoring": ["yes", "no"]}
            attrs["special_limits"] = ["yes", "no"]
            if industry == "cement":
                attrs["subtype"] = ["clinker", "clinker", "clinker", "grinding"]
            _apply(row, attrs, ctx.rng)
            rows.append(row)
    return rows


@dataclass(frozen=True)
class _DxAreas:
    """Dingxiang zone geometries in UTM, for sampling flange plants."""

    ring: Polygon
    cluster: shapely.Geometry
    village_areas: dict[str, shapely.Geometry]
    village_points: dict[str, shapely.Geometry]
    avenue: LineString
    townships: dict[str, shapely.Geometry]
    exclude: shapely.Geometry

    @classmethod
    def from_region(cls, region: Region) -> _DxAreas:
        """Collect the layers; ``exclude`` covers every named area with a margin."""
        ring_lines = list(_to_utm(g) for g in region.dingxiang["ring_road"].geometry)
        ring = Polygon([c for line in ring_lines for c in line.coords])
        cluster = next(iter(region.dx_utm("cluster").values()))
        areas = region.dx_utm("village_areas")
        points = {n: p for n, p in region.dx_utm("villages").items() if n not in areas}
        avenue = next(iter(region.dx_utm("airport_avenue").values()))
        exclude = shapely.union_all(
            [ring.buffer(300), cluster.buffer(300), avenue.buffer(500)]
            + [a.buffer(300) for a in areas.values()]
            + [p.buffer(1500) for p in points.values()]
        )
        return cls(ring, cluster, areas, points, avenue, region.dx_utm("townships"), exclude)

    def township_of(self, x: float, y: float) -> str:
        """Name of the township containing a UTM point ('' outside all)."""
        for name, geom in self.townships.items():
            if geom.contains(Point(x, y)):
                return name
        return ""


def _avenue_point(rng: np.random.Generator, avenue: LineString) -> tuple[float, float]:
    """A point 20-150 m to either side of 机场大道."""
    s = rng.uniform(300.0, avenue.length - 300.0)
    a, b = avenue.interpolate(s - 1.0), avenue.interpolate(s + 1.0)
    dx, dy = b.x - a.x, b.y - a.y
    norm = float(np.hypot(dx, dy))
    side = _pick(rng, (-1.0, 1.0)) * rng.uniform(20.0, 150.0)
    mid = avenue.interpolate(s)
    return mid.x - dy / norm * side, mid.y + dx / norm * side


def _dx_locations(rng: np.random.Generator, areas: _DxAreas) -> Iterator[tuple[str, str, Any]]:
    """(area kind, area name, UTM point) for every Dingxiang flange plant."""
    for _ in range(25):
        yield "ring", RING_NAME, _sample_in(rng, areas.ring)
    for _ in range(20):
        yield "cluster", DX_CLUSTER[0], _sample_in(rng, areas.cluster)
    for name, geom in areas.village_areas.items():
        for _ in range(8):
            yield "village_area", name, _sample_in(rng, geom)
    for name, point in areas.village_points.items():
        for _ in range(6):
            yield "village_point", name, _sample_in(rng, point.buffer(250.0))
    for _ in range(16):
        yield "avenue", AVENUE_NAME, _avenue_point(rng, areas.avenue)
    for name, geom in areas.townships.items():
        n = 8 if name == "晋昌镇" else 10
        kind = "unassigned" if name == "晋昌镇" else "township"
        for _ in range(n):
            yield kind, name, _sample_in(rng, geom, areas.exclude)
    beyond = Point(_dx_xy(0, 0)).buffer(20_000).difference(Point(_dx_xy(0, 0)).buffer(16_500))
    east = Polygon([_dx_xy(0, 0), _dx_xy(30, 0), _dx_xy(30, -25), _dx_xy(0, -25)])
    for _ in range(3):
        yield "unassigned", "(no township)", _sample_in(rng, beyond.intersection(east))


def _flange_emissions(rng: np.random.Generator) -> dict[str, str]:
    """Measured PM/SO2/NOx and O2; some over the O2-corrected limits, some only after it."""
    kind = _pick(rng, ("ok", "over_after_correction", "over", "blank"), (0.6, 0.2, 0.15, 0.05))
    if kind == "blank":
        return {}
    o2 = FLANGE_O2_REF if rng.random() < 0.1 else round(rng.uniform(9.0, 17.0), 1)
    if kind == "over_after_correction":
        o2 = round(rng.uniform(14.0, 17.0), 1)
    factor = (21.0 - FLANGE_O2_REF) / (21.0 - o2)
    worst = _pick(rng, list(FLANGE_LIMITS))
    out = {"o2_pct": _fmt(o2)}
    for col, limit in FLANGE_LIMITS.items():
        ratio = rng.uniform(0.3, 0.85)  # corrected value / limit
        if col == worst and kind == "over":
            ratio = rng.uniform(1.2, 2.5)
        elif col == worst and kind == "over_after_correction":
            ratio = rng.uniform(1.1, 1.6)  # measured value itself stays under the limit
        out[col] = _fmt(ratio * limit / factor)
    return out


def _dingxiang_rows(ctx: _Ctx) -> list[Row]:
    """About 150 flange plants over every Dingxiang zone area, and a few in none."""
    areas = _DxAreas.from_region(ctx.region)
    town = TOWN["定襄县"]
    rows = []
    for kind, area, (x, y) in _dx_locations(ctx.rng, areas):
        row = _new_row(ctx, "flange", town, "DX", _lonlat(x, y))
        fuel = "coal" if ctx.rng.random() < 0.03 else "gas"
        attrs = {"policy_class": ["permitted"] * 8 + ["restricted", "encouraged"],
                 "compliant": ["yes"] * 19 + ["no"], "online_monitoring": ["yes", "no", ""],
                 "fuel": fuel}  # fmt: skip
        _apply(row, attrs, ctx.rng)
        row.update(_flange_emissions(ctx.rng))
        in_village = kind.startswith("village")
        row["township"] = areas.township_of(x, y)
        row["village"] = area if in_village else _other_village(ctx.rng)
        ctx.notes.dx_areas[kind] = ctx.notes.dx_areas.get(kind, 0) + 1
        rows.append(row)
    _disagree(ctx, rows)
    return rows


def _other_village(rng: np.random.Generator) -> str:
    """A plausible village name that is not one of the zone villages."""
    return _pick(rng, DX_OTHER_VILLAGES)


def _disagree(ctx: _Ctx, rows: list[Row]) -> None:
    """Make the township/village columns of five rows disagree with their location."""
    townships = list(DX_TOWNSHIP_SEEDS)
    candidates = [r for r in rows if r["township"] in townships[1:] and r["village"]]
    for i, row in enumerate(candidates[:: max(1, len(candidates) // 5)][:5]):
        if i < 3:
            wrong = next(t for t in townships[1:] if t != row["township"])
            what = f"township column says {wrong}, the point lies in {row['township']}"
            row["township"] = wrong
        else:
            wrong = DX_VILLAGE_AREAS[i - 3]
            what = f"village column says {wrong}, the point lies in {row['township']}, far from it"
            row["village"] = wrong
        ctx.notes.disagree.append((row, what))


def _assign_ids(rng: np.random.Generator, rows: list[Row]) -> list[Row]:
    """Shuffle within each prefix, number JZ-0001..., and sort by id."""
    out = []
    for prefix in ("DX", "JZ", "XZ"):
        group = [r for r in rows if r["_prefix"] == prefix]
        for number, index in enumerate(rng.permutation(len(group)), start=1):
            group[int(index)]["id"] = f"{prefix}-{number:04d}"
        out.extend(group)
    return sorted(out, key=lambda r: r["id"])


COUNTY_KEPT_WRONG = 4
"""Rows placed across a county border that keep their town's county: the flag to confirm."""
COUNTY_SHORT_FORMS = {
    "忻府区": "忻府",
    "定襄县": "定襄",
    "原平市": "忻州市原平市",
    "祁县": "晋中市 祁县",
}
"""One row of each county written as planners often write it (normalised by the loader)."""


def _county_from_location(
    rows: list[Row], notes: Notes | None = None, planted: bool = True
) -> None:
    """The county column as a planner's sheet holds it: the county the plant lies in.

    Plants are placed around their town and some land across a county border; they take the
    county they lie in (real boundaries, :func:`spatial.counties.locate`), except the first
    :data:`COUNTY_KEPT_WRONG` such rows (by id), which keep the town's county so the lists show
    the flag a county confirms. One row of each county of :data:`COUNTY_SHORT_FORMS` is written
    in a short or prefixed form.
    """
    located = locate([r["_lon"] for r in rows], [r["_lat"] for r in rows])["name"].tolist()
    moved = sorted(
        (
            i
            for i, (r, name) in enumerate(zip(rows, located, strict=True))
            if name and name != r["county"]
        ),
        key=lambda i: rows[i]["id"],
    )
    kept = set(moved[:COUNTY_KEPT_WRONG] if planted else ())
    for i in moved:
        if i in kept:
            if notes is not None:
                notes.county_kept.append((rows[i], located[i]))
        else:
            rows[i]["county"] = located[i]
    if notes is not None:
        notes.counts["county_moved"] = len(moved) - len(kept)
    if not planted:
        return
    shortened: set[str] = set()
    for i in sorted(range(len(rows)), key=lambda i: rows[i]["id"]):
        county = rows[i]["county"]
        if county in COUNTY_SHORT_FORMS and county not in shortened and i not in kept:
            rows[i]["county"] = COUNTY_SHORT_FORMS[county]
            shortened.add(county)
            if notes is not None:
                notes.county_short.append((rows[i], county))


def _finish_coordinates(rng: np.random.Generator, rows: list[Row]) -> None:
    """Give ~10 % of undecided rows GCJ-02 coordinates and format lon/lat/coord_sys."""
    open_rows = [i for i, r in enumerate(rows) if not r["_sys"]]
    chosen = set(rng.choice(open_rows, size=round(GCJ_SHARE * len(rows)), replace=False).tolist())
    for i, row in enumerate(rows):
        if not row["_sys"]:
            row["_sys"] = "gcj02" if i in chosen else "wgs84"
        lon, lat = row["_lon"], row["_lat"]
        if row["_sys"] == "gcj02":
            glon, glat = wgs84_to_gcj02(lon, lat)
            lon, lat = float(glon), float(glat)
        row.update(lon=f"{lon:.6f}", lat=f"{lat:.6f}", coord_sys=row["_sys"])


def _bad_rows(ctx: _Ctx) -> list[Row]:
    """Deliberately bad rows, one per rejection reason, in :data:`BAD_ROWS` order."""
    town = TOWN["榆次区"]
    rows = []
    for bad_id, _, _ in BAD_ROWS:
        lon, lat = ctx.placer.inside(town)
        profile = next(p for p in JZ_PROFILES if p.key == "foundry_electric")
        row = _profile_row(ctx, profile, town, (lon, lat))
        row.update(id=bad_id, lon=f"{lon:.6f}", lat=f"{lat:.6f}", coord_sys="wgs84")
        rows.append(row)
    edits: tuple[dict[str, str], ...] = (
        {"lon": ""}, {"lat": "abc"}, {"lon": rows[2]["lat"], "lat": rows[2]["lon"]},
        {"lon": "106.917200", "lat": "47.918600"}, {"lon": "0", "lat": "0"}, {}, {},
        {"industry": "spaceship"}, {"policy_class": "preferred"}, {"compliant": "maybe"},
        {"lat": "95.300000"}, {"subtype": "rocket"}, {"subtype": "cupola", "furnace_t": "-5"},
    )  # fmt: skip
    for row, edit in zip(rows, edits, strict=True):
        row.update(edit)
    return rows


def build_enterprises(region: Region) -> tuple[pd.DataFrame, Notes]:
    """The enterprise inventory (about 2,000 rows) and notes for the README.

    Parameters
    ----------
    region
        The demo region from :func:`build_region`.

    Returns
    -------
    frame : pandas.DataFrame
        All :data:`COLUMNS` as text (blank = unknown), good rows sorted by id, then the bad
        rows of :data:`BAD_ROWS`.
    notes : Notes
        Straddle, flip, disagreement and count details.
    """
    ctx = _Ctx.create(region, "enterprises")
    rows = _jinzhong_rows(ctx) + _straddle_rows(ctx) + _flip_rows(ctx)
    rows += _xinzhou_heat_rows(ctx) + _xinzhou_other_rows(ctx) + _dingxiang_rows(ctx)
    rows = _assign_ids(ctx.rng, rows)
    _county_from_location(rows, ctx.notes)
    _finish_coordinates(ctx.rng, rows)
    bad = _bad_rows(ctx)
    frame = pd.DataFrame([[r[c] for c in COLUMNS] for r in rows + bad], columns=list(COLUMNS))
    ctx.notes.counts.update(good=len(rows), bad=len(bad))
    for prefix in ("JZ", "XZ", "DX"):
        ctx.notes.counts[prefix] = sum(r["_prefix"] == prefix for r in rows)
    ctx.notes.counts["gcj02"] = sum(r["coord_sys"] == "gcj02" for r in rows)
    return frame.astype(str), ctx.notes


# --------------------------------------------------------------------------------------------
# Planners' files (Chinese headers and values)

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PLANNER_ORDER = (
    "id", "name", "county", "township", "village", "industry", "subtype", "policy_class",
    *YESNO_COLUMNS, "fuel", *NUMBER_COLUMNS, "lon", "lat",
)  # fmt: skip
XLSX_HEADERS = {
    "lon": "经度（°）", "lat": "纬度（°）", "county": "县（区、市）", "township": "乡镇（街道）",
    "village": "村（社区）", "pm_mg": "颗粒物(mg/m3)", "so2_mg": "二氧化硫(mg/m3)",
    "nox_mg": "氮氧化物(mg/m3)", "boiler_tph": "锅炉容量(蒸吨/小时)", "boiler_mw": "锅炉功率(MW)",
    "furnace_t": "冲天炉(吨)", "o2_pct": "实测含氧量",
}  # fmt: skip


def credit_code(rng: np.random.Generator, region_code: str) -> str:
    """A well-formed (fictitious) 18-character unified social credit code (GB 32100-2015).

    Registration authority 9 (industry and commerce), type 1 (enterprise), the county's
    division code, a 9-character organisation part and the check character.
    """
    org = "MA0" + "".join(_pick(rng, CREDIT_CHARS) for _ in range(6))
    body = "91" + region_code + org
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def _alias_table() -> dict[str, Any]:
    """The project's alias table ``spatial/data/columns.yaml``."""
    text = (files("spatial") / "data" / "columns.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _chinese_values(table: dict[str, Any], symbols: bool) -> dict[str, dict[str, str]]:
    """Code → Chinese value per coded column (first Chinese alias; 燃煤/天然气 for fuel)."""
    codes = table["codes"]
    out = {col: {code: str(aliases[0]) for code, aliases in codes[col].items()}
           for col in ("industry", "policy_class", "subtype", "fuel")}  # fmt: skip
    out["fuel"].update(coal="燃煤", gas="天然气")
    yesno = {"yes": "是", "no": "否"}
    for col in YESNO_COLUMNS:
        out[col] = (
            {"yes": "有", "no": "无"}
            if symbols and col in {"sintering", "suction_crane"}
            else yesno
        )
    return out


def _planner_rows(region: Region, stream: str, n: int) -> list[Row]:
    """``n`` Jinzhong rows of random profiles and bands, with credit-code ids."""
    ctx = _Ctx.create(region, stream)
    rows = []
    for _ in range(n):
        profile, band = _pick(ctx.rng, JZ_PROFILES), _pick(ctx.rng, list(BANDS))
        town = _pick(ctx.rng, JZ_TOWNS)
        row = _profile_row(ctx, profile, town, _place(ctx, town, band))
        row["id"] = credit_code(ctx.rng, town.region_code)
        rows.append(row)
    _county_from_location(rows, planted=False)
    order = {t.name: i for i, t in enumerate(TOWNS)}
    return sorted(rows, key=lambda r: (order.get(r["county"], len(order)), r["county"], r["name"]))


def _planner_frame(rows: list[Row], headers: dict[str, str], symbols: bool) -> pd.DataFrame:
    """Rows translated to Chinese values under Chinese headers (text cells)."""
    values = _chinese_values(_alias_table(), symbols)
    data = {}
    for col in PLANNER_ORDER:
        cells = [str(r[col]) for r in rows]
        if col in values:
            cells = [values[col].get(c, c) for c in cells]
        data[headers[col]] = cells
    return pd.DataFrame(data)


def _planner_headers(table: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """Chinese header per column: the first alias, the credit code for ids, then overrides."""
    headers = {col: str(spec["aliases"][0]) for col, spec in table["columns"].items()}
    headers["id"] = "统一社会信用代码"
    headers.update(overrides)
    return headers


def build_planner_gbk(region: Region) -> pd.DataFrame:
    """About 200 Jinzhong rows as a planner's sheet: Chinese headers/values, GCJ-02 numbers."""
    rows = _planner_rows(region, "planners_gbk", 200)
    for row in rows:
        lon, lat = wgs84_to_gcj02(row["_lon"], row["_lat"])
        row.update(lon=f"{float(lon):.6f}", lat=f"{float(lat):.6f}")
    return _planner_frame(rows, _planner_headers(_alias_table(), {}), symbols=False)


def build_planner_xlsx(region: Region) -> pd.DataFrame:
    """About 100 Jinzhong rows with decorated Chinese headers, numbers as numbers, WGS84."""
    rows = _planner_rows(region, "planners_xlsx", 100)
    for row in rows:
        row.update(lon=round(row["_lon"], 6), lat=round(row["_lat"], 6))
    headers = _planner_headers(_alias_table(), XLSX_HEADERS)
    frame = _planner_frame(rows, headers, symbols=True)
    for col in (*NUMBER_COLUMNS, "lon", "lat"):
        frame[headers[col]] = pd.to_numeric(frame[headers[col]].replace("", np.nan))
    frame.insert(0, "序号", np.arange(1, len(frame) + 1))
    return frame


# --------------------------------------------------------------------------------------------
# Writers


@contextmanager
def _fixed_gpkg_timestamp() -> Iterator[None]:
    """Make GDAL stamp GeoPackages with :data:`FIXED_TIMESTAMP` (reproducible bytes)."""
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write layers to a fresh GeoPackage 1.2 with pyogrio."""
    path.unlink(missing_ok=True)
    with _fixed_gpkg_timestamp():
        for name, frame in layers.items():
            frame.to_file(
                path, layer=name, driver="GPKG", engine="pyogrio", dataset_options=GPKG_OPTIONS
            )
    return path


def _raster_grid(shapes: list[shapely.Geometry]) -> tuple[Any, int, int]:
    """Transform, width and height of a 100 m grid covering the shapes with a 12 km margin."""
    minx, miny, maxx, maxy = shapely.union_all(shapes).bounds
    left, bottom = np.floor((minx - 12e3) / 1e3) * 1e3, np.floor((miny - 12e3) / 1e3) * 1e3
    right, top = np.ceil((maxx + 12e3) / 1e3) * 1e3, np.ceil((maxy + 12e3) / 1e3) * 1e3
    width, height = int((right - left) / PIXEL_M), int((top - bottom) / PIXEL_M)
    return Affine(PIXEL_M, 0.0, left, 0.0, -PIXEL_M, top), width, height


def _add_specks(grid: np.ndarray, rng: np.random.Generator, border: int) -> list[tuple[int, int]]:
    """Six isolated 1-2 pixel built-up specks far from any built-up area."""
    specks: list[tuple[int, int]] = []
    h, w = grid.shape
    while len(specks) < 6:
        r, c = (
            int(rng.integers(border + 10, h - border - 10)),
            int(rng.integers(border + 10, w - 12)),
        )
        if (grid[r - 20 : r + 21, c - 20 : c + 22] == OTHER_CLASS).all():
            grid[r, c : c + 1 + len(specks) % 2] = BUILTUP_CLASS
            specks.append((r, c))
    return specks


def _add_gap(grid: np.ndarray, transform: Any, town: Town) -> tuple[int, int]:
    """A 1 x 2 pixel hole of non-built-up at the centre of a town."""
    r, c = rowcol(transform, *_town_xy(town))
    r, c = int(r), int(c)
    if not (grid[r - 3 : r + 4, c - 3 : c + 5] == BUILTUP_CLASS).all():
        raise RuntimeError(f"centre of {town.name} is not solidly built-up")
    grid[r, c : c + 2] = OTHER_CLASS
    return r, c


def write_builtup_tif(builtup: gpd.GeoDataFrame, path: Path, notes: Notes) -> Path:
    """Rasterise the built-up polygons to a 100 m uint8 class map in UTM 49N.

    Classes: 50 built-up (ESA WorldCover code), 10 tree/other, 0 nodata (an 8-pixel border).
    Six specks and a 1 x 2 pixel gap in 榆次区 give sieving and closing something to do.
    """
    rng = _rng("raster")
    shapes = [_to_utm(g) for g in builtup.geometry]
    transform, width, height = _raster_grid(shapes)
    grid = rasterize(
        [(g, BUILTUP_CLASS) for g in shapes],
        out_shape=(height, width),
        transform=transform,
        fill=OTHER_CLASS,
        dtype="uint8",
    )
    border = 8
    notes.raster = {
        "shape": (height, width),
        "gap": _add_gap(grid, transform, TOWN["榆次区"]),
        "specks": _add_specks(grid, rng, border),
    }
    grid[:border, :] = grid[-border:, :] = grid[:, :border] = grid[:, -border:] = NODATA
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8",
        "crs": UTM_CRS, "transform": transform, "nodata": NODATA, "compress": "deflate",
        "tiled": True, "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid, 1)
        dst.write_colormap(1, {NODATA: (0, 0, 0, 0), OTHER_CLASS: (0, 100, 0, 255),
                               BUILTUP_CLASS: (250, 0, 0, 255)})  # fmt: skip
        dst.update_tags(classes="0 nodata; 10 tree/other; 50 built-up", note="illustrative")
    return path


class OsmBuilder:
    """Collects OSM nodes (deduplicated by 7-decimal coordinates), ways and relations."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[str, str], int] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []
        self.relations: list[tuple[list[tuple[int, str]], dict[str, str]]] = []

    def _node(self, lon: float, lat: float) -> int:
        key = (f"{lat:.7f}", f"{lon:.7f}")
        return self.nodes.setdefault(key, len(self.nodes) + 1)

    def way(self, coords: Sequence[tuple[float, float]], tags: dict[str, str]) -> int:
        """Add a way through lon/lat coordinates; returns its id."""
        refs: list[int] = []
        for lon, lat in coords:
            ref = self._node(lon, lat)
            if not refs or refs[-1] != ref:
                refs.append(ref)
        self.ways.append((refs, tags))
        return len(self.ways)

    def relation(self, members: list[tuple[int, str]], tags: dict[str, str]) -> int:
        """Add a relation of (way id, role) members; returns its id."""
        self.relations.append((members, tags))
        return len(self.relations)

    def to_bytes(self) -> bytes:
        """The OSM XML 0.6 document."""
        root = ET.Element("osm", {"version": "0.6", "generator": "spatial.demo"})
        root.append(ET.Comment(" Illustrative demo data (spatial.demo), not surveyed. "))
        for (lat, lon), node_id in self.nodes.items():
            ET.SubElement(
                root, "node", {"id": str(node_id), "version": "1", "lat": lat, "lon": lon}
            )
        for way_id, (refs, tags) in enumerate(self.ways, start=1):
            way = ET.SubElement(root, "way", {"id": str(way_id), "version": "1"})
            for ref in refs:
                ET.SubElement(way, "nd", {"ref": str(ref)})
            _osm_tags(way, tags)
        for rel_id, (members, tags) in enumerate(self.relations, start=1):
            rel = ET.SubElement(root, "relation", {"id": str(rel_id), "version": "1"})
            for ref, role in members:
                ET.SubElement(rel, "member", {"type": "way", "ref": str(ref), "role": role})
            _osm_tags(rel, tags)
        ET.indent(root, space=" ")
        return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _osm_tags(element: ET.Element, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        ET.SubElement(element, "tag", {"k": key, "v": value})


def _geo_coords(geom: shapely.Geometry) -> list[tuple[float, float]]:
    """Lon/lat coordinates of a UTM line or polygon exterior."""
    line = geom.exterior if isinstance(geom, Polygon) else geom
    return list(_to_geo(line).coords)


def _largest(geom: shapely.Geometry) -> Polygon | None:
    """The largest polygon of a (multi)polygon result, or None when empty."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    return max(parts, key=lambda g: g.area) if parts else None


def _split(poly: Polygon, k: int, rng: np.random.Generator) -> list[Polygon]:
    """Split a polygon into ``k`` wedge pieces around its centroid, shrunk to leave gaps."""
    c = poly.centroid
    start = rng.uniform(0.0, 2.0 * np.pi)
    angles = start + 2.0 * np.pi * (np.arange(k) + rng.uniform(-0.15, 0.15, k)) / k
    angles = np.append(angles, angles[0] + 2.0 * np.pi)
    pieces = []
    for a0, a1 in itertools.pairwise(angles):
        arc = [(c.x + 2e4 * np.sin(a), c.y + 2e4 * np.cos(a)) for a in np.linspace(a0, a1, 16)]
        piece = poly.intersection(Polygon([(c.x, c.y), *arc]))
        piece = _largest(piece.buffer(-rng.uniform(8.0, 20.0), join_style="mitre"))
        if piece is not None:
            pieces.append(piece.simplify(3.0))
    return pieces


def _osm_landuse(osm: OsmBuilder, builtup: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """Land-use ways over each built-up area (split with gaps), one multipolygon, buildings."""
    kinds = ("commercial", "industrial", "retail", "residential")
    for name, geom in zip(builtup["name"], builtup.geometry, strict=True):
        parts = list(getattr(_to_utm(geom), "geoms", [_to_utm(geom)]))
        pieces = _split(parts[0], int(rng.integers(2, 5)), rng)
        for i, piece in enumerate(pieces):
            tags = {"landuse": "residential" if i == 0 else _pick(rng, kinds)}
            if name == "榆次区" and i == 1:
                _osm_multipolygon(osm, piece)
            else:
                osm.way(_geo_coords(piece), tags)
            for _ in range(2):
                osm.way(_geo_coords(_building(rng, piece)), {"building": "yes"})
        for satellite in parts[1:]:
            osm.way(_geo_coords(satellite.buffer(-10.0)), {"landuse": "residential"})


def _osm_multipolygon(osm: OsmBuilder, piece: Polygon) -> None:
    """An industrial multipolygon relation: the piece as outer ring, a 250 m hole inside."""
    core = piece.buffer(-400.0)
    hole = core.representative_point().buffer(250.0, quad_segs=6)
    outer = osm.way(_geo_coords(piece), {})
    inner = osm.way(_geo_coords(hole), {})
    tags = {"type": "multipolygon", "landuse": "industrial", "name": "榆次工业园"}
    osm.relation([(outer, "outer"), (inner, "inner")], tags)


def _building(rng: np.random.Generator, area: Polygon) -> Polygon:
    """A small rotated rectangle (15-50 m by 10-30 m) inside an area."""
    x, y = _sample_in(rng, area.buffer(-60.0) if area.buffer(-60.0).area > 0 else area)
    w, h, a = rng.uniform(15.0, 50.0), rng.uniform(10.0, 30.0), rng.uniform(0.0, np.pi)
    corners = np.array([(-w, -h), (w, -h), (w, h), (-w, h)]) / 2.0
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return Polygon(corners @ rot.T + (x, y))


def _densify(points: Sequence[tuple[float, float]], n: int = 8) -> list[tuple[float, float]]:
    """Linear interpolation of ``n`` steps between successive lon/lat points."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        out += [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.arange(1, n + 1) / n]
    return out


def _osm_roads(osm: OsmBuilder, region: Region) -> None:
    """The Third Ring Road (3 ways, one gap), 机场大道, G108 and a few town streets."""
    for line in region.dingxiang["ring_road"].geometry:
        osm.way(list(line.coords), {"highway": "primary", "name": RING_NAME})
    for line in region.dingxiang["airport_avenue"].geometry:
        osm.way(list(line.coords), {"highway": "primary", "name": AVENUE_NAME})
    g108 = {"highway": "trunk", "ref": "G108", "name": "108国道"}
    for points in (G108_JINZHONG, G108_JINZHONG_2, G108_XINZHOU, G108_XINZHOU_2):
        osm.way(_densify(points), g108)
    streets = (("榆次区", "顺城街", 90.0), ("忻府区", "和平街", 0.0), ("定襄县", "人民大街", 0.0))
    for town_name, street, bearing in streets:
        town = TOWN[town_name]
        b = np.radians(bearing)
        cx, cy = _town_xy(town)
        half = 0.8 * town.radius_m
        ends = [
            (cx - half * np.sin(b), cy - half * np.cos(b)),
            (cx + half * np.sin(b), cy + half * np.cos(b)),
        ]
        osm.way(_geo_coords(LineString(ends)), {"highway": "secondary", "name": street})


def write_region_osm(region: Region, path: Path) -> Path:
    """OpenStreetMap XML of land use, buildings and roads (readable by osmnx)."""
    osm = OsmBuilder()
    _osm_landuse(osm, region.builtup, _rng("osm"))
    _osm_roads(osm, region)
    path.write_bytes(osm.to_bytes())
    return path


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8", eol: str = "\n") -> Path:
    """Write a text table with fixed encoding and line endings."""
    frame.to_csv(path, index=False, encoding=encoding, lineterminator=eol)
    return path


def write_heat_sources(heat: pd.DataFrame, path: Path) -> Path:
    """Heat sources CSV (UTF-8), coordinates with 6 decimals."""
    out = heat.copy()
    out["capacity_mw"] = out["capacity_mw"].map(_fmt)
    out["lon"] = out["lon"].map("{:.6f}".format)
    out["lat"] = out["lat"].map("{:.6f}".format)
    return write_csv(out, path)


def write_seats(path: Path) -> Path:
    """The city and county seats (name, level, lon, lat), for naming raster and OSM areas."""
    seats = pd.DataFrame(
        {
            "name": [t.name for t in TOWNS],
            "level": ["city" if t.name in {"榆次区", "忻府区"} else "county" for t in TOWNS],
            "lon": [f"{t.lon:.6f}" for t in TOWNS],
            "lat": [f"{t.lat:.6f}" for t in TOWNS],
        }
    )
    return write_csv(seats, path)


def write_xlsx(frame: pd.DataFrame, path: Path) -> Path:
    """Write one sheet with openpyxl, then strip the timestamps (reproducible bytes)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="企业清单", index=False)
    _normalise_zip(path)
    return path


def _normalise_zip(path: Path) -> None:
    """Rewrite an OOXML zip with fixed member dates and fixed document dates."""
    with zipfile.ZipFile(path) as src:
        members = [(info.filename, src.read(info)) for info in src.infolist()]
    stamp = FIXED_TIMESTAMP[:19] + "Z"
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in members:
            if name == "docProps/core.xml":
                pattern = rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)"
                data = re.sub(pattern, rb"\g<1>" + stamp.encode() + rb"\g<3>", data)
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)


# --------------------------------------------------------------------------------------------
# README


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


README_HEAD = """# Demo region (illustrative)

**Every geometry, enterprise, heat source and value in this folder is illustrative, not
surveyed.** Towns sit at approximate real coordinates of the Jinzhong (晋中) and Xinzhou (忻州)
city and county seats in Shanxi; built-up outlines, roads, zones, plants, company names, credit
codes and measurements are synthetic, generated to exercise every rule of
`shared/spec/policy-rules.md` on both sides of its thresholds. Company names are built from
common word parts; any likeness to a real company is coincidental.

Generated by `tools/demo.py` (seed {seed}); regenerate from the project folder with

    python -m tools.demo spatial/data/demo

The output is deterministic: CSV, OSM, XLSX and this README are byte-identical on every run;
GeoPackages carry the fixed timestamp {stamp}. CGCS2000 (EPSG:4490) and WGS84 are treated as
identical (they differ by a few centimetres).
"""


def _readme_files(notes: Notes, region: Region) -> str:
    """The file table."""
    n_good, n_bad = notes.counts["good"], notes.counts["bad"]
    dx = region.dingxiang
    rows = [
        ("builtup.gpkg", f"layer `builtup`: `name`, `level` (city/county), {len(region.builtup)} "
         "(multi)polygons", "EPSG:4490", "noisy star polygons around each seat, some with a "
         "satellite part"),
        ("builtup.tif", "uint8 class map: 50 built-up, 10 tree/other, 0 nodata (8-pixel border); "
         f"{notes.raster['shape'][0]} x {notes.raster['shape'][1]} pixels of 100 m, deflate, "
         "256 tiles, colour table", "EPSG:32649", "`rasterio.features.rasterize` of the same "
         "polygons, plus specks and one gap"),
        ("region.osm", "OSM XML 0.6: land use, buildings, roads, one multipolygon relation",
         "WGS84", "xml.etree; readable by `osmnx.features_from_xml`"),
        ("heat_sources.csv", f"`id,name,kind,capacity_mw,lon,lat`, {len(region.heat)} rows, "
         "UTF-8", "WGS84", "fixed table"),
        ("seats.csv", f"`name,level,lon,lat`, {len(TOWNS)} city and county seats (for naming "
         "raster/OSM built-up areas: `--seats`)", "WGS84", "the town table"),
        ("dingxiang_sources.gpkg", "layers " + ", ".join(f"`{k}` ({len(v)})" for k, v in
         dx.items()) + "; `name` on every layer", "EPSG:4490", "see below"),
        ("enterprises.csv", f"{n_good} plants + {n_bad} bad rows, contract columns, UTF-8, LF",
         "per row `coord_sys` (wgs84/gcj02)", "profiles below"),
        ("enterprises_gbk.csv", "200 Jinzhong plants, Chinese headers and values, GBK (cp936), "
         "CRLF, no `coord_sys` column", "GCJ-02 (whole file)", "planners' flavour"),
        ("enterprises.xlsx", "100 Jinzhong plants, sheet `企业清单`, decorated Chinese headers, "
         "extra `序号` column, numbers as numbers", "WGS84 (whole file)", "pandas + openpyxl"),
    ]  # fmt: skip
    rows = [(f"`{f}`", *rest) for f, *rest in rows]
    return "## Files\n\n" + _md_table(("file", "content", "CRS", "made by"), rows)


def _readme_context(notes: Notes, region: Region) -> str:
    """Built-up, raster, OSM, heat-source and Dingxiang sections."""
    heat = [(h.id, h.name, h.kind, _fmt(h.capacity_mw), f"{h.lon:.2f}, {h.lat:.2f}",
             "yes" if heat_source_qualifies(h.kind, h.capacity_mw) else "no")
            for h in region.heat.itertuples()]  # fmt: skip
    gap_r, gap_c = notes.raster["gap"]
    specks = ", ".join(f"({r}, {c})" for r, c in notes.raster["specks"])
    levels = ", ".join(
        f"{n} ({lv})" for n, lv in zip(region.builtup["name"], region.builtup["level"], strict=True)
    )
    return f"""## Built-up areas

`builtup.gpkg` and `builtup.tif` hold the same areas: {levels}. 榆次区, 平遥县, 介休市,
忻府区 and 原平市 are MultiPolygons with a satellite part. The raster has a 1 x 2 pixel gap of
class 10 at row {gap_r}, columns {gap_c}-{gap_c + 1} (centre of 榆次区), and isolated built-up
specks (1 or 2 pixels) at (row, column) {specks}.

## region.osm

- `landuse` = residential / commercial / industrial / retail closed ways cover each built-up
  polygon in 2-4 wedge pieces with 16-40 m gaps between them (a merge/close step is needed);
  satellite parts are one residential way each. One piece of 榆次区 is a `type=multipolygon`
  relation (`landuse=industrial`, `name=榆次工业园`) with a 250 m inner ring.
- `building=yes`: two small rectangles per land-use piece.
- `三环路` (`highway=primary`): three ways around the Dingxiang centre (about 3.6 km across).
  Ways 1 and 3 and ways 2 and 3 share their end nodes; **between way 1 (ends at bearing
  {RING_GAP_AFTER_DEG:.0f}° from the centre) and way 2 there is a deliberate
  {notes.ring_gap_m:.1f} m digitising gap** (geodesic), so the ring closes only after snapping.
- `机场大道` (`highway=primary`): 6 km from the ring (shared node at bearing
  {AVENUE_START_DEG:.0f}°) towards the southwest.
- `108国道` (`highway=trunk`, `ref=G108`) through Jinzhong (榆次-太谷-祁县-平遥-介休-灵石) and
  Xinzhou (忻府-原平-代县); streets 顺城街 (榆次区), 和平街 (忻府区), 人民大街 (定襄县),
  `highway=secondary`.

## Heat sources

Qualifying = coal CHP >= 300 MW or an industrial supplier (001 §三(二)8).

{_md_table(("id", "name", "kind", "MW", "lon, lat", "qualifies"), heat)}

## dingxiang_sources.gpkg

All layers EPSG:4490 with a `name` column; the project builds the phased zones from them.

- `cluster`: {DX_CLUSTER[0]}, about 1.7 x 1.0 km, 4.3 km southeast of the centre.
- `villages`: points {", ".join(DX_VILLAGES)}.
- `village_areas`: polygons for {", ".join(DX_VILLAGE_AREAS)} only; 杨芳村 and 北西力村 have
  points only (point + radius fallback).
- `townships`: {", ".join(DX_TOWNSHIP_SEEDS)}: Voronoi cells clipped to a 15 km disc, sharing
  edges, not overlapping. Overlaps with phases: 杨芳村 (phase 1) lies in 蒋村镇 (phase 3);
  张村 (phase 1) in 宏道镇 (phase 2); 南西力村 and 北西力村 (phase 2) in 河边镇 (phase 3).
  The ring road, cluster, 西河头村 and the start of 机场大道 lie in 晋昌镇 (the county town,
  no phase).
- `ring_road`: the three 三环路 lines of `region.osm`, with the same gap.
- `airport_avenue`: the 机场大道 line of `region.osm`.
"""


def _readme_enterprises(notes: Notes) -> str:
    """Enterprise profiles and special rows."""
    counts = notes.counts
    profiles = [(f"`{p.key}`", p.industry if isinstance(p.industry, str) else "/".join(p.industry),
                 p.tests, n) for p, n in notes.profiles]  # fmt: skip
    straddle = [(r["id"], r["county"], r["industry"], nearest, f"{d:.2f}")
                for r, nearest, d in notes.straddle]  # fmt: skip
    flips = [(r["id"], r["county"], f"{d:.1f}", f"{naive:.1f}") for r, d, naive in notes.flips]
    heat = [(r["id"], src, f"{d:.2f}") for r, src, d in notes.heat_straddle]
    disagree = [(r["id"], what) for r, what in notes.disagree]
    kept = [(r["id"], r["county"], located) for r, located in notes.county_kept]
    short = [(r["id"], r["county"], full) for r, full in notes.county_short]
    areas = ", ".join(f"{k} {v}" for k, v in notes.dx_areas.items())
    bad = [(f"`{i}`" if i else "(empty)", what, why) for i, what, why in BAD_ROWS]
    return f"""## enterprises.csv

{counts["good"]} good rows sorted by id (JZ {counts["JZ"]}, XZ {counts["XZ"]}, DX {counts["DX"]}),
then {counts["bad"]} bad rows. Codes as in `spatial/data/columns.yaml`; yes/no columns are
`yes`, `no` or blank (unknown). {counts["gcj02"]} rows ({GCJ_SHARE:.0%}) have `coord_sys=gcj02`:
their lon/lat are the true WGS84 location converted with `spatial.coords.wgs84_to_gcj02`.

### Jinzhong (JZ): every matrix row on both sides of 10 km

Each profile has {JZ_ROWS_PER_BAND} plants in each band: `inside` a built-up polygon (>= 20 m
from its edge), `near` (2-9.7 km from the nearest built-up polygon) and `far` (10.3-40 km),
around a random Jinzhong seat; the county column is that seat. Distances for the bands are
planar UTM 49N distances with a 300 m margin from 10 km (UTM scale error here < 5 m).
Conditions not named in a profile are `compliant=yes`, `green_factory=no`, `ultra_low=no`,
`clean_transport=no`, `supplies_heat=no`, others blank; `policy_class` is drawn
(20/55/25 % encouraged/permitted/restricted) unless given.

{_md_table(("profile", "industry", "exercises", "rows"), profiles)}

Plants straddling 10 km (`coord_sys=wgs84`), placed by bisection along a geodesic bearing from
the seat; distance = geodesic metres from the written lon/lat to the nearest built-up polygon
edge (edges densified to about 40 m: error < 3 cm):

{_md_table(("id", "county", "industry", "nearest built-up", "distance m"), straddle)}

GCJ-02 flip rows (`foundry`, electric): true distance on one side of 10 km, raw GCJ-02 numbers
(if wrongly read as WGS84) on the other:

{_md_table(("id", "county", "true distance m", "raw GCJ-02 distance m"), flips)}

### Xinzhou (XZ)

Coal boilers (`industry=boiler`, `fuel=coal`, 2-75 t/h, some given in MW only) within 29 km of
a qualifying heat source, more than 31 km from every qualifying source (代县, 五台县; many
within 30 km of the non-qualifying 50 MW and 135 MW plants), more than 31 km from every source,
and inside built-up areas; small coal power units (`industry=power`, 25-135 MW); gas boilers
(0.5-20 t/h or 0.35-7 MW, NOx 22-150 mg/m³ at 3.5 % O2, incl. exactly 1 t/h, 0.7 MW and NOx
50) for the Shapotou rule; biomass and electric boilers; pellet plants in 繁峙县 and 代县
(`shaft_furnace`/`grate_kiln`, sintering yes/no/blank, ultra-low yes/no/blank) and two
long-process steel plants with sintering in 代县; cement clinker and grinding plants; assorted
other industry and three flange plants outside Dingxiang. Coal boilers straddling 30 km:

{_md_table(("id", "heat source", "geodesic distance m"), heat)}

### Dingxiang flange cluster (DX)

Flange plants (`fuel=gas`, a few `coal`) by location: {areas}. `unassigned` means inside 晋昌镇
away from every named area (by at least 300 m; 1.5 km from 杨芳村/北西力村) or outside every
township. Village-point plants are within 250 m of the village point; avenue plants 20-150 m
either side of 机场大道. `township` is the township containing the point, `village` the zone
village or another plausible village name. Measured `pm_mg`, `so2_mg`, `nox_mg` and `o2_pct`
(8-17 %): about 60 % within the limits at 8 % O2 (PM 10, SO2 50, NOx 200), 20 % under the limit
as measured but over it once corrected to 8 % O2, 15 % over, 5 % blank. Rows whose columns
disagree with the location:

{_md_table(("id", "disagreement"), disagree)}

### County column

Plants are placed around their town; the county column is the county each plant lies in (real
boundaries, `spatial.counties.locate`): {counts["county_moved"]} plants that landed across a
county border carry the neighbouring county. Four keep their town's county, so the lists show
the flag a county must confirm (policy scope follows the location):

{_md_table(("id", "county written", "county located"), kept)}

Written as planners often write them (the loader normalises them; decisions are those of the
full name):

{_md_table(("id", "county written", "full name"), short)}

### Bad rows (the last {counts["bad"]} rows)

Each is otherwise a valid Jinzhong foundry row inside 榆次区.

{_md_table(("id", "what is wrong", "expected rejection"), bad)}

## enterprises_gbk.csv and enterprises.xlsx

Jinzhong plants of random profiles and bands (separate from `enterprises.csv`), ids are
well-formed but fictitious 18-character unified social credit codes, sorted by county and name.
Headers are the first Chinese alias of each column in `columns.yaml` (`统一社会信用代码` for
the id); values are Chinese (鼓励类/允许类/限制类, 是/否, 钢铁/铸造/..., 燃煤/天然气).

- `enterprises_gbk.csv`: GBK (cp936) with CRLF line endings, as Excel on Chinese Windows saves
  "CSV (逗号分隔)"; coordinates are GCJ-02 for the whole file (read it with `gcj02`).
- `enterprises.xlsx`: WGS84; headers with units or brackets (`经度（°）`, `颗粒物(mg/m3)`,
  `县（区、市）`, ...), `有`/`无` for 烧结 and 吸料天车, and a leading `序号` column that is not
  in the contract.
"""


def _reflow(text: str, width: int = 96) -> str:
    """Re-wrap Markdown paragraphs and bullets; keep headings, tables and code blocks."""
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        if block.startswith(("|", "    ", "#")):
            blocks.append(block)
            continue
        items = re.split(r"\n(?=- )", block)
        blocks.append(
            "\n".join(
                textwrap.fill(
                    " ".join(item.split()),
                    width,
                    subsequent_indent="  " if item.startswith("- ") else "",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                for item in items
            )
        )
    return "\n\n".join(blocks)


def write_readme(path: Path, notes: Notes, region: Region) -> Path:
    """Write the folder's README (deterministic)."""
    head = README_HEAD.format(seed=SEED, stamp=FIXED_TIMESTAMP)
    parts = [head, _readme_files(notes, region), _readme_context(notes, region)]
    parts.append(_readme_enterprises(notes))
    path.write_text("\n".join(_reflow(p) + "\n" for p in parts), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Entry point


def _ring_gap(region: Region) -> float:
    """Geodesic length of the gap between ring ways 1 and 2."""
    lines = list(region.dingxiang["ring_road"].geometry)
    (lon0, lat0), (lon1, lat1) = lines[0].coords[-1], lines[1].coords[0]
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2])


def write_demo_data(out_dir: str | Path) -> dict[str, Path]:
    """Generate the demo region and write every file into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing); existing demo files are replaced.

    Returns
    -------
    dict of str to pathlib.Path
        The files written, by role: ``builtup``, ``builtup_raster``, ``osm``, ``heat_sources``,
        ``dingxiang_sources``, ``enterprises``, ``enterprises_gbk``, ``enterprises_xlsx``,
        ``readme``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    region = build_region()
    enterprises, notes = build_enterprises(region)
    notes.ring_gap_m = _ring_gap(region)
    written = {
        "builtup": write_gpkg({"builtup": region.builtup}, out / "builtup.gpkg"),
        "builtup_raster": write_builtup_tif(region.builtup, out / "builtup.tif", notes),
        "osm": write_region_osm(region, out / "region.osm"),
        "heat_sources": write_heat_sources(region.heat, out / "heat_sources.csv"),
        "seats": write_seats(out / "seats.csv"),
        "dingxiang_sources": write_gpkg(region.dingxiang, out / "dingxiang_sources.gpkg"),
        "enterprises": write_csv(enterprises, out / "enterprises.csv"),
        "enterprises_gbk": write_csv(
            build_planner_gbk(region), out / "enterprises_gbk.csv", encoding="gbk", eol="\r\n"
        ),
        "enterprises_xlsx": write_xlsx(build_planner_xlsx(region), out / "enterprises.xlsx"),
    }
    written["readme"] = write_readme(out / "README.md", notes, region)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tools.demo [DIR]`` (default ``spatial/data/demo``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    target = Path(args[0]) if args else Path("spatial/data/demo")
    for role, path in write_demo_data(target).items():
        print(f"{role:18s} {path}  {path.stat().st_size / 1024:8.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""City and county seats, and the naming of raster and OSM built-up areas after them.

An area takes the name of the seat it contains or touches, else of the nearest seat's area (or
seat) within ``attach_km``; the rules are in the notes of :mod:`spatial.builtup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import Polygon

from spatial.builtup_counties import _county_of, county_boundaries
from spatial.builtup_options import (
    COORD_SYS_ALIASES,
    LAT_ALIASES,
    LEVEL_ALIASES,
    LON_ALIASES,
    NAME_ALIASES,
    UNKNOWN_LEVEL,
    BuiltupOptions,
    _find_column,
    _finish,
    _level,
)
from spatial.coords import to_wgs84, utm_epsg
from spatial.errors import CoordinateSystemError, LayerError
from spatial.geodesic import WGS84, geodesic_areas_km2

# --------------------------------------------------------------------------------------------
# Seats


def _read_table(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)
        except UnicodeDecodeError:
            continue
        except Exception as exc:  # pandas raises several parser errors
            raise LayerError(f"{path}: cannot read the seats table ({exc})") from None
    raise LayerError(f"{path}: the seats table is neither UTF-8 nor GBK text; save it as UTF-8")


def load_seats(path: str | Path) -> gpd.GeoDataFrame:
    """Read city and county seats: the points that name raster and OSM built-up areas.

    Parameters
    ----------
    path
        A CSV (UTF-8 or GBK) with ``name`` (名称), optional ``level`` (city/county, 级别),
        ``lon``/``lat`` (经度/纬度) in WGS84 or CGCS2000, or per row in ``coord_sys`` (e.g.
        ``gcj02`` for Amap coordinates); or a point layer (GeoPackage, GeoJSON, ...) in any CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``level``, point geometry in EPSG:4326.
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (city and county seats)")
    if path.suffix.lower() in (".csv", ".txt"):
        table = _read_table(path)
        cols = {
            key: _find_column(table, aliases)
            for key, aliases in (
                ("name", NAME_ALIASES),
                ("lon", LON_ALIASES),
                ("lat", LAT_ALIASES),
                ("level", LEVEL_ALIASES),
                ("coord_sys", COORD_SYS_ALIASES),
            )
        }
        missing = [k for k in ("name", "lon", "lat") if cols[k] is None]
        if missing:
            raise LayerError(
                f"{path}: the seats table needs columns name, lon, lat (名称, 经度, 纬度); missing "
                f"{', '.join(missing)}. Columns found: {', '.join(map(str, table.columns))}"
            )
        lon = pd.to_numeric(table[cols["lon"]], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(table[cols["lat"]], errors="coerce").to_numpy(float)
        system = table[cols["coord_sys"]].replace("", "wgs84") if cols["coord_sys"] else "wgs84"
        try:
            lon, lat = to_wgs84(lon, lat, np.asarray(system) if cols["coord_sys"] else system)
        except CoordinateSystemError as exc:
            raise LayerError(f"{path}: {exc}") from None
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        if bad.any():
            rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:10])
            raise LayerError(f"{path}: seats without valid lon/lat on line(s) {rows}; fix them")
        frame = gpd.GeoDataFrame(
            {
                "name": table[cols["name"]].str.strip(),
                "level": _level(table[cols["level"]]) if cols["level"] else "county",
            },
            geometry=gpd.points_from_xy(lon, lat),
            crs=WGS84,
        )
    else:
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # GDAL raises several types for unreadable data
            raise LayerError(f"{path}: cannot read the seats layer ({exc})") from None
        if gdf.crs is None:
            raise LayerError(f"{path}: the seats layer has no CRS; define it (e.g. EPSG:4490)")
        name_col, level_col = _find_column(gdf, NAME_ALIASES), _find_column(gdf, LEVEL_ALIASES)
        if name_col is None or not (gdf.geom_type == "Point").all():
            raise LayerError(
                f"{path}: the seats layer must hold points with a 'name' (名称) column"
            )
        frame = gpd.GeoDataFrame(
            {
                "name": gdf[name_col].astype(str).str.strip(),
                "level": _level(gdf[level_col]) if level_col else "county",
            },
            geometry=gdf.geometry.to_crs(WGS84).values,
            crs=WGS84,
        )
    frame = frame[frame["name"] != ""]
    if frame.empty:
        raise LayerError(f"{path}: the seats file lists no named seat")
    return frame.reset_index(drop=True)


def _seats(options: BuiltupOptions, seats: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if seats is not None:
        return seats.to_crs(WGS84) if seats.crs is not None else seats.set_crs(WGS84)
    return load_seats(options.seats) if options.seats is not None else None


# --------------------------------------------------------------------------------------------
# Naming raster and OSM areas


def _utm_of(geom: shapely.Geometry) -> int:
    point = geom.representative_point()
    return utm_epsg(point.x, point.y)


def _nearest_within(
    targets: list[shapely.Geometry],
    candidates: list[shapely.Geometry],
    max_m: float,
) -> list[tuple[int, float] | None]:
    """For each target, the nearest candidate (index, metres) within ``max_m``, edge to edge.

    Distances are measured in the UTM zone of each target (grouped by zone).
    """
    out: list[tuple[int, float] | None] = [None] * len(targets)
    if not candidates or not targets:
        return out
    zones = [_utm_of(g) for g in targets]
    for zone in sorted(set(zones)):
        idx = [i for i, z in enumerate(zones) if z == zone]
        to_utm = pyproj.Transformer.from_crs(WGS84, f"EPSG:{zone}", always_xy=True).transform
        cand = shapely.transform(np.array(candidates, dtype=object), to_utm, interleaved=False)
        tree = shapely.STRtree(cand)
        for i in idx:
            target = shapely.transform(targets[i], to_utm, interleaved=False)
            hit = tree.query_nearest(target, max_distance=max_m, return_distance=True)
            if len(hit[0]):
                j = int(hit[0][0])
                out[i] = (j, float(hit[1][0]))
    return out


@dataclass
class _Area:
    geometry: Polygon
    area_km2: float
    name: str | None = None
    level: str = UNKNOWN_LEVEL
    how: str = ""


def _seat_label(hits: gpd.GeoDataFrame) -> tuple[str, str]:
    order = hits.assign(rank=(hits["level"] != "city").astype(int)).sort_values(["rank", "name"])
    names = list(dict.fromkeys(order["name"]))
    return "、".join(names), "city" if (order["level"] == "city").any() else "county"


def _name_areas(
    parts: list[Polygon],
    seats: gpd.GeoDataFrame | None,
    options: BuiltupOptions,
    source: str,
    detail: str,
    named_features: gpd.GeoDataFrame | None = None,
    n_repaired: int = 0,
) -> gpd.GeoDataFrame:
    """Name WGS84 polygons after seats (see the module notes); dissolve by name."""
    areas = [_Area(p, a) for p, a in zip(parts, geodesic_areas_km2(parts), strict=True)]
    has_seats = seats is not None and not seats.empty
    if has_seats:
        tree = shapely.STRtree(np.array(seats.geometry.values))
        pairs = tree.query(np.array([a.geometry for a in areas]), predicate="intersects")
        claimed = set(pairs[1].tolist())
        for i in np.unique(pairs[0]):
            area = areas[int(i)]
            area.name, area.level = _seat_label(seats.iloc[pairs[1][pairs[0] == i]])
            area.how = "named after the seat it contains"
        named = [a for a in areas if a.name]
        free = [j for j in range(len(seats)) if j not in claimed]
        candidates = [a.geometry for a in named] + [seats.geometry.iloc[j] for j in free]
        labels = [(a.name, a.level) for a in named] + [
            (str(seats["name"].iloc[j]), str(seats["level"].iloc[j])) for j in free
        ]
        lonely = [a for a in areas if not a.name]
        hits = _nearest_within([a.geometry for a in lonely], candidates, 1e3 * options.attach_km)
        for area, hit in zip(lonely, hits, strict=True):
            if hit is not None:
                (area.name, area.level), dist = labels[hit[0]], hit[1]
                area.how = f"named after {area.name}, {dist / 1e3:.1f} km away"
    if named_features is not None and not named_features.empty:
        tree = shapely.STRtree(np.array(named_features.geometry.values))
        for area in (a for a in areas if not a.name):
            hit = tree.query(area.geometry, predicate="intersects")
            if len(hit):
                overlap = [
                    area.geometry.intersection(named_features.geometry.iloc[j]).area for j in hit
                ]
                area.name = str(named_features["name"].iloc[int(hit[int(np.argmax(overlap))])])
                area.how = "named after its OSM name tag"
    rest = sorted((a for a in areas if not a.name), key=lambda a: -a.area_km2)
    keep_from = options.keep_unnamed_km2 if has_seats else 0.0
    rest = [a for a in rest if a.area_km2 >= keep_from]
    county_names: list[str | None] = [None] * len(rest)
    if options.counties and rest:
        county_names = list(
            _county_of(
                gpd.GeoSeries([a.geometry for a in rest], crs=WGS84),
                county_boundaries(options.counties),
            )
        )
    for n, (area, county) in enumerate(zip(rest, county_names, strict=True), start=1):
        area.name = f"unnamed-{n}" + (f" ({county})" if isinstance(county, str) else "")
        area.how = "no seat in or near it" if has_seats else "no seats given"
    kept = [a for a in areas if a.name]
    if not kept:
        raise LayerError(
            f"{detail.split(':')[0]}: none of the {len(areas)} built-up areas found contains or "
            f"lies within {options.attach_km:g} km of a seat, and none reaches "
            f"{options.keep_unnamed_km2:g} km²; check the seats' coordinates (WGS84 lon/lat) "
            "or lower the size for unnamed areas"
        )
    frame = gpd.GeoDataFrame(
        {
            "name": [a.name for a in kept],
            "level": [a.level for a in kept],
            "how": [a.how for a in kept],
            "size": [a.area_km2 for a in kept],
        },
        geometry=[a.geometry for a in kept],
        crs=WGS84,
    ).sort_values("size", ascending=False, kind="stable")
    dissolved = frame.dissolve(by="name", aggfunc={"level": "first", "how": "first"}).reset_index()
    dissolved["source"] = source
    dissolved["source_detail"] = detail + "; " + dissolved["how"]
    dissolved["n_repaired"] = n_repaired
    return _finish(dissolved)

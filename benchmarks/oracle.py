"""An independent check of single distances: PROJ's azimuthal equidistant projection centred on
the point (exact radial distances), polygon edges densified geodesically every 20 m."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer

from spatial.measure import densify_geodesic

GEOD = Geod(ellps="WGS84")


def oracle_distance(lon: float, lat: float, polygon) -> float:
    dense = densify_geodesic(polygon, 20.0)
    if shapely.intersects(dense, shapely.Point(lon, lat)):
        return 0.0
    aeqd = CRS.from_proj4(f"+proj=aeqd +lon_0={lon} +lat_0={lat} +ellps=WGS84 +units=m")
    to_plane = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    planar = shapely.transform(dense, lambda c: np.stack(to_plane.transform(c[:, 0], c[:, 1]), -1))
    return float(shapely.distance(shapely.Point(0, 0), planar.boundary))


def nearest_by_oracle(lon: float, lat: float, polygons, margin_m: float = 10_000.0) -> float:
    """The oracle's distance to the nearest of ``polygons``: every polygon whose nearest vertex
    lies within ``margin_m`` (more than half the longest edge) of the nearest vertex."""
    coords, owner = shapely.get_coordinates(np.asarray(polygons), return_index=True)
    d = GEOD.inv(np.full(len(coords), lon), np.full(len(coords), lat), coords[:, 0], coords[:, 1])
    nearest_vertex = np.full(len(polygons), np.inf)
    np.minimum.at(nearest_vertex, owner, d[2])
    contenders = np.flatnonzero(nearest_vertex <= nearest_vertex.min() + margin_m)
    return min(oracle_distance(lon, lat, polygons[j]) for j in contenders)

"""The ellipsoid every measurement uses, defined once, and the geodesic helpers built on it.

- :data:`WGS84` (the lon/lat CRS of every layer inside the toolkit) and :data:`GEOD` (its
  ellipsoid, for :meth:`pyproj.Geod.inv` / :meth:`~pyproj.Geod.fwd`); :data:`GEOD_CGCS2000`
  (GRS80, the CGCS2000 ellipsoid of the printed figures' scale bars: it differs from WGS84's by
  0.1 mm in the semi-minor axis).
- :class:`AzimuthalPlane`: the ellipsoidal azimuthal equidistant plane at a point, where
  azimuth and distance from the centre are the geodesic ones.
- :func:`geodesic_length_m`, :func:`geodesic_area_km2`, :func:`geodesic_areas_km2`:
  lengths and areas on the ellipsoid.
- :func:`geodesic_buffer`: every place within a geodesic distance of a geometry.

Nothing here measures in degrees or in Web Mercator. The messages name what the function was
given (a geometry, a distance), never a caller's layer.

Examples
--------
One degree of latitude at 37-38° N, along the meridian, and the same point in the plane
centred one degree south of it (due north: x 0, y the geodesic distance):

>>> round(geodesic_length_m(shapely.LineString([(112.0, 37.0), (112.0, 38.0)])))
110987
>>> x, y = AzimuthalPlane(112.0, 37.0).forward(112.0, 38.0)
>>> round(abs(float(x[0])), 6), round(float(y[0]))
(0.0, 110987)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod

WGS84 = "EPSG:4326"
"""The lon/lat CRS of every layer inside the toolkit."""
GEOD = Geod(ellps="WGS84")
"""The WGS84 ellipsoid: every geodesic distance, azimuth, length and area of the toolkit."""
GEOD_CGCS2000 = Geod(ellps="GRS80")
"""The CGCS2000 ellipsoid (GRS80), for the scale bars of figures drawn in CGCS2000 projections."""
MAX_SEGMENT_M = 1000.0
"""Boundary segments are at most this long (geodesic densification) before measuring; a
buffer's outline is segmentized to half of it."""


@dataclass(frozen=True)
class AzimuthalPlane:
    """The ellipsoidal azimuthal equidistant plane at (``lon``, ``lat``): x east, y north, in
    metres. Azimuth and distance from the centre are the geodesic ones, so distances from the
    centre are exact; elsewhere the scale error is about (ρ/R)²/6 at ρ from the centre."""

    lon: float
    lat: float

    def forward(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Plane coordinates (x, y) of lon/lat degrees."""
        lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
        az, _, d = GEOD.inv(np.full(lon.size, self.lon), np.full(lat.size, self.lat), lon, lat)
        az = np.radians(az)
        return d * np.sin(az), d * np.cos(az)

    def inverse(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat degrees of plane coordinates (x, y)."""
        x, y = np.atleast_1d(x), np.atleast_1d(y)
        az = np.degrees(np.arctan2(x, y))
        lon, lat, _ = GEOD.fwd(
            np.full(x.size, self.lon), np.full(x.size, self.lat), az, np.hypot(x, y)
        )
        return np.asarray(lon), np.asarray(lat)

    def to_plane(self, geom):
        """A lon/lat geometry (or array of them) in the plane."""
        return shapely.transform(geom, lambda xy: np.stack(self.forward(xy[:, 0], xy[:, 1]), -1))

    def to_lonlat(self, geom):
        """A geometry of the plane back in lon/lat."""
        return shapely.transform(geom, lambda xy: np.stack(self.inverse(xy[:, 0], xy[:, 1]), -1))


def geodesic_length_m(geom) -> float:
    """Geodesic length of a (multi)line in metres (0 for none or an empty one)."""
    return float(GEOD.geometry_length(geom)) if geom is not None and not geom.is_empty else 0.0


def geodesic_area_km2(geom) -> float:
    """Geodesic area of a (multi)polygon in km² (0 for none or an empty one)."""
    if geom is None or geom.is_empty:
        return 0.0
    return abs(float(GEOD.geometry_area_perimeter(geom)[0])) / 1e6


def geodesic_areas_km2(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Geodesic areas of (multi)polygons in km², one per geometry."""
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6 for g in geoms])


def geodesic_buffer(geom: shapely.Geometry, distance_m: float, quad_segs: int = 128):
    """A polygon covering every place within ``distance_m`` geodesic metres of ``geom``.

    Built in the :class:`AzimuthalPlane` centred on the geometry (exact distances from the
    centre, scale error ~(ρ/R)²/6 elsewhere) with ``quad_segs`` segments per quarter circle;
    its outline lies within 1 m of the true geodesic offset for the built-up areas and radii
    used here (tested in ``tests/test_measure.py``).
    """
    return _buffers_at_once(np.array([geom], dtype=object), distance_m, quad_segs)[0]


def geodesic_buffers(
    geoms: Iterable[shapely.Geometry], distance_m: float, quad_segs: int = 128, threads: int = 1
) -> list:
    """:func:`geodesic_buffer` for each geometry: the same polygons, computed all at once.

    Each geometry keeps its own azimuthal plane (centred on its centroid), but the geodesic
    problems of all their vertices go to GeographicLib in one call each way and the planar
    buffers to GEOS as one array, split over ``threads`` (both release the GIL): no
    transformer or Python call per geometry (the 20,000 display buffers of a provincial run
    took 18 s one by one, issue 19).

    >>> one = geodesic_buffer(shapely.Point(112.5, 37.8), 10_000)
    >>> (many,) = geodesic_buffers([shapely.Point(112.5, 37.8)], 10_000)
    >>> bool(shapely.equals_exact(one, many, tolerance=0))
    True
    """
    geoms = np.asarray(list(geoms), dtype=object)
    if threads < 2 or len(geoms) < 64:
        return list(_buffers_at_once(geoms, distance_m, quad_segs))
    parts = np.array_split(np.arange(len(geoms)), threads)
    with ThreadPoolExecutor(threads) as pool:
        done = pool.map(lambda part: _buffers_at_once(geoms[part], distance_m, quad_segs), parts)
        return list(np.concatenate(list(done)))


def _buffers_at_once(geoms: np.ndarray, distance_m: float, quad_segs: int) -> np.ndarray:
    """Each geometry buffered in the :class:`AzimuthalPlane` at its centroid (empty → empty
    polygon): the planes' forward and inverse of all vertices in one GeographicLib call each."""
    out = np.array([shapely.Polygon() for _ in range(len(geoms))], dtype=object)
    full = np.flatnonzero(~shapely.is_empty(geoms)) if len(geoms) else np.empty(0, dtype=int)
    if not full.size:
        return out
    source = geoms[full]
    centres = shapely.centroid(source)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    coords, owner = shapely.get_coordinates(source, return_index=True)
    az, _, d = GEOD.inv(cx[owner], cy[owner], coords[:, 0], coords[:, 1])
    az = np.radians(az)
    plane = shapely.set_coordinates(source.copy(), np.stack([d * np.sin(az), d * np.cos(az)], -1))
    buffered = shapely.segmentize(
        shapely.buffer(plane, distance_m, quad_segs=quad_segs), MAX_SEGMENT_M / 2
    )
    xy, owner = shapely.get_coordinates(buffered, return_index=True)
    azimuth = np.degrees(np.arctan2(xy[:, 0], xy[:, 1]))
    lon, lat, _ = GEOD.fwd(cx[owner], cy[owner], azimuth, np.hypot(xy[:, 0], xy[:, 1]))
    out[full] = shapely.set_coordinates(buffered, np.stack([lon, lat], -1))
    return out


__all__ = [
    "GEOD",
    "GEOD_CGCS2000",
    "MAX_SEGMENT_M",
    "WGS84",
    "AzimuthalPlane",
    "geodesic_area_km2",
    "geodesic_areas_km2",
    "geodesic_buffer",
    "geodesic_buffers",
    "geodesic_length_m",
]

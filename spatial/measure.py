"""Geodesic distances on the WGS84 ellipsoid: point to nearest polygon edge, point to nearest
point, and geodesic buffers.

How the distance to the nearest polygon is found, exactly and fast:

1. **Inside** – points inside a polygon get 0 (lon/lat polygons, edges densified so that
   planar and geodesic edges agree to the millimetre).
2. **Candidates** – polygon boundaries are cut into segments no longer than
   :data:`MAX_SEGMENT_M`. Per 6° zone of points, the segments within :data:`WINDOW_DEG` of the
   zone's meridian and the points are projected with a transverse Mercator whose central scale
   is exactly 1, so every projected distance is at least the geodesic one. With ``d*`` the
   smallest projected distance of a point, the true nearest segment lies at most ``d*`` away on
   the ground, and along that geodesic the scale is at most ``k_p``, the scale bound over the
   disc of radius ``d*`` around the point (:func:`disc_scale_bound`, analytic); so it lies
   within ``k_p · d* + δ`` in the projection, and every segment in that band is a candidate:
   the search never misses the nearest feature. The band is found with a k-d tree of segment
   midpoints: the k nearest midpoints (k = 8, 32, then 256) hold every segment within
   ``r_k − h`` (``r_k`` the k-th midpoint's distance, ``h`` the longest half-segment); a point
   whose band reaches beyond that gets a radius search instead. A point whose nearest
   in-window segment lies beyond the window's reach is searched again against every segment.
3. **Exact** – for each candidate segment the endpoints are placed in the point's own
   ellipsoidal azimuthal-equidistant plane (azimuth and distance from GeographicLib via
   :class:`pyproj.Geod`), where distances from the point are exact; the distance from the origin
   to the short segment is then exact to well under a millimetre.

Ties (equal distances to the millimetre) go to the feature that comes first in the layer's
order (the order of ``ids``), so the same inputs always give the same nearest feature.

Speed: everything is vectorised (densification included); points are measured in chunks on
:data:`THREADS` threads (the k-d tree, GEOS and GeographicLib release the GIL). On 2 cores,
1,000,000 points against 20,000 built-up areas take about 5-10 s (``python -m benchmarks``).

Examples
--------
>>> from shapely.geometry import Polygon, Point
>>> square = Polygon([(112.0, 37.0), (112.1, 37.0), (112.1, 37.1), (112.0, 37.1)])
>>> result = nearest_polygon([112.05, 112.2], [37.05, 37.05], [square], ["甲"])
>>> result.distance_m.round(1).tolist(), result.nearest.tolist()
([0.0, 8895.3], ['甲', '甲'])
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from spatial.errors import LayerError
from spatial.geodesic import GEOD, MAX_SEGMENT_M, WGS84, geodesic_buffer, geodesic_buffers

TIE_TOLERANCE_M = 1e-3
_FLATTENING_MARGIN = 1.01  # the ellipsoid's scale factor exceeds the sphere's by O(e²) < 1 %
WINDOW_DEG = 8.0
"""Segments within this many degrees of longitude of a zone's meridian are searched first."""
_BAND_SLACK_M = 1.0  # covers the sub-millimetre difference between projected chords and edges
_MIN_RADIUS_M = 6_335_000.0  # WGS84's smallest radius of curvature (meridian, equator: 6 335 439)
_NEIGHBOURS = (8, 32, 256)  # k nearest segment midpoints tried before a radius search
_CHUNK = 65_536  # points per unit of work
THREADS = max(1, min(4, os.cpu_count() or 1))
"""Worker threads for the measurements (GEOS, the k-d tree and GeographicLib release the GIL)."""


@dataclass
class Nearest:
    """Distance to the nearest feature, per point.

    Attributes
    ----------
    distance_m
        Geodesic metres (0 inside a polygon); NaN where there is no feature.
    index
        Position of the nearest feature in the input order (-1 where none).
    nearest
        The id of the nearest feature (None where none).
    """

    distance_m: np.ndarray
    index: np.ndarray
    nearest: np.ndarray


# --------------------------------------------------------------------------------------------
# Geometry helpers


def _as_points(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if lon.shape != lat.shape:
        raise ValueError(
            f"'lon' and 'lat' should have the same shape, got {lon.shape}, {lat.shape}"
        )
    return lon, lat


def _densify_rings(
    coords: np.ndarray, ring_of: np.ndarray, max_segment_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of closed rings (grouped by ``ring_of``) with geodesic points inserted so that no
    edge is longer than ``max_segment_m``: every ring at once, one inverse and one direct
    geodesic call in all."""
    n = coords.shape[0]
    starts = np.flatnonzero(ring_of[1:] == ring_of[:-1])  # edge i runs from vertex i to i + 1
    if not starts.size:
        return coords, ring_of
    lon1, lat1 = coords[starts, 0], coords[starts, 1]
    az, _, length = GEOD.inv(lon1, lat1, coords[starts + 1, 0], coords[starts + 1, 1])
    pieces = np.maximum(np.ceil(np.nan_to_num(length) / max_segment_m), 1).astype(np.int64)
    count = np.ones(n, dtype=np.int64)
    count[starts] = pieces
    source = np.repeat(np.arange(n), count)  # the vertex each output point follows
    step = np.arange(source.size) - np.repeat(np.cumsum(count) - count, count)
    inserted = step > 0
    if not inserted.any():
        return coords, ring_of
    edge_of_vertex = np.full(n, -1, dtype=np.int64)
    edge_of_vertex[starts] = np.arange(starts.size)
    edge = edge_of_vertex[source[inserted]]
    lon, lat, _ = GEOD.fwd(
        lon1[edge], lat1[edge], az[edge], length[edge] * step[inserted] / pieces[edge]
    )
    out = coords[source]
    out[inserted, 0], out[inserted, 1] = lon, lat
    return out, ring_of[source]


def _densify_many(geoms, max_segment_m: float) -> np.ndarray:
    """:func:`densify_geodesic` for many (multi)polygons, vectorised over all of them."""
    geoms = np.asarray(list(geoms), dtype=object)
    out = np.empty(geoms.size, dtype=object)
    if not geoms.size:
        return out
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    solid = ~shapely.is_empty(parts)
    parts, part_owner = parts[solid], part_owner[solid]
    n_parts = np.bincount(part_owner, minlength=geoms.size)
    out[n_parts == 0] = shapely.MultiPolygon()
    if not parts.size:
        return out
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    dense, dense_ring = _densify_rings(coords, ring_of, max_segment_m)
    new_parts = shapely.polygons(shapely.linearrings(dense, indices=dense_ring), indices=ring_part)
    single = n_parts[part_owner] == 1
    out[part_owner[single]] = new_parts[single]
    if not single.all():
        shapely.multipolygons(new_parts[~single], indices=part_owner[~single], out=out)
    return out


def densify_geodesic(geom: shapely.Geometry, max_segment_m: float = MAX_SEGMENT_M):
    """Insert points along every edge so no edge is longer than ``max_segment_m`` (geodesic).

    Edges are taken as geodesics between consecutive vertices, as PostGIS ``geography`` does.
    """
    return _densify_many([geom], max_segment_m)[0]


@dataclass
class _Segments:
    """Segments as pairs of vertices: segment ``i`` runs from ``vertices[a[i]]`` to
    ``vertices[b[i]]`` (``a == b`` for points) and belongs to feature ``owner[i]``."""

    vertices: np.ndarray
    a: np.ndarray
    b: np.ndarray
    owner: np.ndarray

    def ends(self, s: np.ndarray) -> np.ndarray:
        """Endpoint coordinates (lon1, lat1, lon2, lat2) of the segments ``s``."""
        return np.hstack([self.vertices[self.a[s]], self.vertices[self.b[s]]])


def _boundary(geoms) -> _Segments:
    lines = shapely.boundary(np.asarray(geoms, dtype=object))
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, ring_of = shapely.get_coordinates(parts, return_index=True)
    starts = np.flatnonzero(ring_of[1:] == ring_of[:-1])
    return _Segments(coords, starts, starts + 1, owner[ring_of[starts]])


def boundary_segments(geoms: list) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary edge of every polygon: endpoint coordinates (n, 4) and owner positions."""
    segments = _boundary(geoms)
    return segments.ends(np.arange(segments.a.size)), segments.owner


# --------------------------------------------------------------------------------------------
# Candidate search in a transverse Mercator with central scale 1


def _zone_of(lon: np.ndarray) -> np.ndarray:
    return np.floor((lon + 180.0) / 6.0).astype(int)


@functools.lru_cache(maxsize=64)
def _zone_projection(zone: int) -> tuple[Transformer, float]:
    cm = zone * 6.0 - 180.0 + 3.0
    crs = CRS.from_proj4(f"+proj=tmerc +lon_0={cm} +lat_0=0 +k=1 +x_0=0 +y_0=0 +ellps=WGS84")
    return Transformer.from_crs(WGS84, crs, always_xy=True), cm


def scale_bound(cm: float, lon: np.ndarray, lat: np.ndarray) -> float:
    """An upper bound of the transverse Mercator scale factor (k0 = 1) over some points.

    Spherical ``k = 1 / sqrt(1 - (cos φ sin Δλ)²)``, widened by 1 % of its excess for the
    ellipsoid; checked against PROJ's own factors in the tests.
    """
    if lon.size == 0:
        return 1.0
    dlam = np.radians(np.clip(np.abs(lon - cm), 0, 89.0))
    b = np.cos(np.radians(lat)) * np.sin(dlam)
    k = 1.0 / np.sqrt(1.0 - np.max(b) ** 2)
    return 1.0 + (k - 1.0) * _FLATTENING_MARGIN + 1e-9


def disc_scale_bound(cm: float, lon: np.ndarray, lat: np.ndarray, radius_m) -> np.ndarray:
    """Per point, an upper bound of the transverse Mercator scale factor (k0 = 1) over every
    place within ``radius_m`` geodesic metres of the point.

    On the sphere ``k = 1 / cos ψ`` with ``ψ = asin(cos φ sin Δλ)`` the angle from the central
    meridian's great circle. ``ψ`` is 1-Lipschitz in the angle between places, and that angle
    (same latitude and longitude on the unit sphere) is at most the geodesic distance divided
    by the ellipsoid's smallest radius of curvature, so ``ψ ≤ ψ_point + radius / M_min`` over the
    disc. The ellipsoid's excess is covered as in :func:`scale_bound`.
    """
    dlam = np.radians(np.minimum(np.abs(lon - cm), 89.0))
    psi = np.arcsin(np.clip(np.cos(np.radians(lat)) * np.sin(dlam), 0.0, 1.0))
    psi = np.minimum(psi + np.asarray(radius_m) / _MIN_RADIUS_M, np.radians(89.0))
    return 1.0 + (1.0 / np.cos(psi) - 1.0) * _FLATTENING_MARGIN + 1e-9


def _band(cm: float, lon: np.ndarray, lat: np.ndarray, d_star: np.ndarray) -> np.ndarray:
    """Projected distance within which each point's true nearest segment surely lies.

    The nearest segment is at most ``d*`` (+ the chord slack) away on the ground, since the
    scale is at least 1 everywhere; along that geodesic the scale is at most the disc bound, so
    its projected distance is at most ``k · d*`` (+ slack).
    """
    k = disc_scale_bound(cm, lon, lat, d_star + _BAND_SLACK_M)
    return k * d_star + _BAND_SLACK_M + 1e-6 * d_star


def _planar_distance(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Planar distance from points to segments (``seg[..., :4]`` = x1, y1, x2, y2), broadcast."""
    ax, ay = seg[..., 0] - px, seg[..., 1] - py
    vx, vy = seg[..., 2] - seg[..., 0], seg[..., 3] - seg[..., 1]
    length2 = vx * vx + vy * vy
    t = -(ax * vx + ay * vy) / np.where(length2 > 0, length2, 1.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(ax + t * vx, ay + t * vy)


class _ZoneIndex:
    """Segments projected into one zone's transverse Mercator, with a k-d tree of midpoints.

    A segment lies no nearer to a point than its midpoint's distance minus ``half`` (the
    largest projected half-length), so the midpoints' k nearest neighbours hold every segment
    within ``r_k - half`` of the point, where ``r_k`` is the k-th neighbour's distance.
    """

    def __init__(self, zone: int, segments: _Segments, chosen: np.ndarray):
        self.transformer, self.cm = _zone_projection(zone)
        a, b = segments.a[chosen], segments.b[chosen]
        used = np.zeros(segments.vertices.shape[0], dtype=bool)
        used[a], used[b] = True, True
        used = np.flatnonzero(used)  # each vertex projected once, shared by its two segments
        x = np.full(segments.vertices.shape[0], np.nan)
        y = x.copy()
        x[used], y[used] = self.transformer.transform(
            segments.vertices[used, 0], segments.vertices[used, 1]
        )
        x1, y1, x2, y2 = x[a], y[a], x[b], y[b]
        self.xy = np.column_stack([x1, y1, x2, y2])
        self.half = 0.5 * float(np.max(np.hypot(x2 - x1, y2 - y1))) * (1 + 1e-9) + 1e-6
        self.tree = cKDTree(np.column_stack([(x1 + x2) / 2, (y1 + y2) / 2]))
        self.size = chosen.size
        self.points = bool((a == b).all())  # targets are points: midpoint distance is exact

    def candidates(
        self, lon: np.ndarray, lat: np.ndarray, px: np.ndarray, py: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate pairs (point, segment position here) and each point's smallest projected
        distance ``d*``: every segment within the point's band, so never the nearest missed."""
        n = px.size
        d_star = np.empty(n)
        pairs_p, pairs_s = [], []
        todo = np.arange(n)
        band = np.empty(0)
        for k in _NEIGHBOURS:
            k = min(k, self.size)
            reach, j = self.tree.query(np.column_stack([px[todo], py[todo]]), k=k)
            reach, j = reach.reshape(todo.size, k), j.reshape(todo.size, k)
            d = (
                reach
                if self.points
                else _planar_distance(px[todo, None], py[todo, None], self.xy[j])
            )
            best = d.min(axis=1)
            band = _band(self.cm, lon[todo], lat[todo], best)
            complete = (k == self.size) | (reach[:, -1] > band + self.half)
            rows, cols = np.nonzero((d <= band[:, None]) & complete[:, None])
            pairs_p.append(todo[rows])
            pairs_s.append(j[rows, cols])
            d_star[todo[complete]] = best[complete]
            todo, band = todo[~complete], band[~complete]
            if not todo.size:
                break
        if todo.size:  # crowded places: every segment whose midpoint lies within band + half
            hits = self.tree.query_ball_point(
                np.column_stack([px[todo], py[todo]]), r=band + self.half
            )
            counts = np.fromiter(map(len, hits), dtype=np.int64, count=todo.size)
            rows = np.repeat(np.arange(todo.size), counts)
            segs = np.fromiter(itertools.chain.from_iterable(hits), np.int64, int(counts.sum()))
            d = _planar_distance(px[todo][rows], py[todo][rows], self.xy[segs])
            best = np.full(todo.size, np.inf)
            np.minimum.at(best, rows, d)
            band = _band(self.cm, lon[todo], lat[todo], best)
            keep = d <= band[rows]
            pairs_p.append(todo[rows[keep]])
            pairs_s.append(segs[keep])
            d_star[todo] = best
        return np.concatenate(pairs_p), np.concatenate(pairs_s), d_star


def _exact_segment_distance(plon: np.ndarray, plat: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Geodesic distance from points to short geodesic segments (row-wise pairs).

    The segment's endpoints are placed in the point's azimuthal-equidistant plane, where the
    distance from the point is exact; the short segment is a straight chord there to well under
    a millimetre.
    """
    az_a, _, d_a = GEOD.inv(plon, plat, seg[:, 0], seg[:, 1])
    az_b, _, d_b = GEOD.inv(plon, plat, seg[:, 2], seg[:, 3])
    az_a, az_b = np.radians(az_a), np.radians(az_b)
    ax, ay = d_a * np.sin(az_a), d_a * np.cos(az_a)
    bx, by = d_b * np.sin(az_b), d_b * np.cos(az_b)
    vx, vy = bx - ax, by - ay
    length2 = vx * vx + vy * vy
    t = np.clip(-(ax * vx + ay * vy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    return np.hypot(ax + t * vx, ay + t * vy)


def _pick_nearest(
    point: np.ndarray, owner: np.ndarray, dist: np.ndarray, n_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the smallest distance and its owner; ties (to the mm) go to the lowest owner."""
    best_d = np.full(n_points, np.nan)
    best_o = np.full(n_points, -1, dtype=np.int64)
    if point.size == 0:
        return best_d, best_o
    order = np.lexsort((owner, np.round(dist / TIE_TOLERANCE_M), point))
    first = np.ones(order.size, dtype=bool)
    first[1:] = point[order][1:] != point[order][:-1]
    chosen = order[first]
    best_d[point[chosen]] = dist[chosen]
    best_o[point[chosen]] = owner[chosen]
    return best_d, best_o


def _window_reach_m(lat: np.ndarray) -> np.ndarray:
    """Geodesic distance that surely stays inside the window, from a point of the zone.

    A segment outside the window lies at least ``WINDOW_DEG - 3.5`` degrees of longitude away
    (3° to the zone's edge, 0.5° for half a segment). Along a path of length ``s`` the latitude
    changes by at most ``s / M_min`` and the longitude by at most ``s / (a cos φ_max)`` (the
    parallel's radius is ``N cos φ ≥ a cos φ``). So ``s0 = Δλ a cos|φ|`` and then
    ``s = Δλ a cos(|φ| + s0 / M_min) ≤ s0`` keep ``s / (a cos(|φ| + s / M_min)) ≤ Δλ``.
    """
    dlam = np.radians(WINDOW_DEG - 3.0 - 0.5)
    phi = np.radians(np.abs(lat))
    s0 = dlam * GEOD.a * np.cos(phi)
    return dlam * GEOD.a * np.cos(np.minimum(phi + s0 / _MIN_RADIUS_M, np.radians(89.0)))


Exact = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Exact geodesic distances of (point position, segment position) pairs."""


def _n_chunks(n: int) -> int:
    """Chunks of at most :data:`_CHUNK` points, and at least one per thread when there are a
    few thousand points or more."""
    return max(-(-n // _CHUNK), min(THREADS, n // 4096), 1)


def _solve_zone(
    index: _ZoneIndex,
    seg_ids: np.ndarray,
    members: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    seg_owner: np.ndarray,
    exact: Exact,
    reach: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest owner and exact distance for the ``members`` points against one zone's index, in
    chunks spread over threads (GEOS, the k-d tree and GeographicLib release the GIL).

    With ``reach``, only points whose nearest segment lies within reach are solved (``done``).
    """
    px, py = index.transformer.transform(lon[members], lat[members])
    n_chunks = _n_chunks(members.size)

    def solve(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = members[chunk]
        p, s, d_star = index.candidates(lon[ids], lat[ids], px[chunk], py[chunk])
        done = np.ones(chunk.size, dtype=bool) if reach is None else d_star <= reach[chunk]
        keep = done[p]
        p, s = p[keep], seg_ids[s[keep]]
        best_d, best_o = _pick_nearest(p, seg_owner[s], exact(ids[p], s), chunk.size)
        return best_d, best_o, done

    chunks = np.array_split(np.arange(members.size), n_chunks)
    if n_chunks == 1 or THREADS == 1:
        results = [solve(c) for c in chunks]
    else:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(solve, chunks))
    return tuple(np.concatenate(parts) for parts in zip(*results, strict=True))


def _nearest_segments(
    lon: np.ndarray, lat: np.ndarray, segments: _Segments, exact: Exact
) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the exact distance to the nearest segment and the segment's owner.

    Points are handled per 6° zone, against the segments within :data:`WINDOW_DEG` of the
    zone's central meridian. A point whose nearest in-window segment lies farther than the
    window surely reaches is searched again against every segment.
    """
    best_d = np.full(lon.size, np.nan)
    best_o = np.full(lon.size, -1, dtype=np.int64)
    zones = _zone_of(lon)
    vlon = segments.vertices[:, 0]
    seg_lon = (vlon[segments.a] + vlon[segments.b]) / 2
    for zone in np.unique(zones):
        members = np.flatnonzero(zones == zone)
        cm = zone * 6.0 - 180.0 + 3.0
        window = np.flatnonzero(np.abs(seg_lon - cm) <= WINDOW_DEG)
        if window.size:
            whole = window.size == seg_lon.size
            reach = None if whole else _window_reach_m(lat[members])
            index = _ZoneIndex(int(zone), segments, window)
            d, o, done = _solve_zone(index, window, members, lon, lat, segments.owner, exact, reach)
            best_d[members[done]], best_o[members[done]] = d[done], o[done]
            members = members[~done]
        if members.size:
            d, o = _far_search(members, lon, lat, segments, exact)
            best_d[members], best_o[members] = d, o
    return best_d, best_o


def _ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Earth-centred cartesian coordinates (m) of places on the WGS84 ellipsoid."""
    lam, phi = np.radians(lon), np.radians(lat)
    n = GEOD.a / np.sqrt(1.0 - GEOD.es * np.sin(phi) ** 2)
    return np.column_stack(
        [
            n * np.cos(phi) * np.cos(lam),
            n * np.cos(phi) * np.sin(lam),
            n * (1 - GEOD.es) * np.sin(phi),
        ]
    )


_FAR_PAIRS = 2_000_000  # candidate pairs per batch of the far search (bounded memory)


def _far_search(
    members: np.ndarray, lon: np.ndarray, lat: np.ndarray, segments: _Segments, exact: Exact
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest segment of points whose nearest feature lies beyond their zone's window (far
    outside China, or a layer on the other side of the globe), at any distance.

    A straight line through the Earth is never longer than the geodesic, so a segment within
    geodesic distance ``s`` of a point has its chord midpoint within ``s + h`` in 3-D (``h``
    bounds the distance from a chord midpoint to any place of its short segment). With ``s0``
    the exact distance to the segment whose midpoint is nearest in 3-D, every segment whose
    midpoint lies within ``s0 + h`` is a candidate: nothing is missed, no projection is used
    (a transverse Mercator has no finite coordinates 90° from its meridian).
    """
    ends = segments.ends(np.arange(segments.a.size))
    xa, xb = _ecef(ends[:, 0], ends[:, 1]), _ecef(ends[:, 2], ends[:, 3])
    half = 0.5 * float(np.max(np.linalg.norm(xb - xa, axis=1))) * 1.001 + 1.0
    tree = cKDTree((xa + xb) / 2)
    xp = _ecef(lon[members], lat[members])
    _, j0 = tree.query(xp, k=1)
    s0 = exact(members, j0)
    radius = s0 * (1 + 1e-9) + half + _BAND_SLACK_M
    counts = tree.query_ball_point(xp, r=radius, return_length=True)
    best_d = np.empty(members.size)
    best_o = np.empty(members.size, dtype=np.int64)
    start = 0
    while start < members.size:  # batches of at most _FAR_PAIRS pairs (one point at least)
        stop = start + max(1, int(np.searchsorted(np.cumsum(counts[start:]), _FAR_PAIRS)))
        stop = min(stop, members.size)
        hits = tree.query_ball_point(xp[start:stop], r=radius[start:stop])
        n = counts[start:stop]
        rows = np.repeat(np.arange(stop - start), n)
        segs = np.fromiter(itertools.chain.from_iterable(hits), np.int64, int(n.sum()))
        d, o = _pick_nearest(
            rows, segments.owner[segs], exact(members[start:stop][rows], segs), stop - start
        )
        best_d[start:stop], best_o[start:stop] = d, o
        start = stop
    return best_d, best_o


# --------------------------------------------------------------------------------------------
# Public functions


def prepare_polygons(geoms, max_segment_m: float = MAX_SEGMENT_M) -> np.ndarray:
    """WGS84 polygons densified geodesically, ready for :func:`nearest_polygon`."""
    return _densify_many(geoms, max_segment_m)


def nearest_polygon(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    polygons,
    ids,
    *,
    densified: bool = False,
) -> Nearest:
    """Geodesic distance from points to the nearest polygon edge (0 inside), with its id.

    Parameters
    ----------
    lon, lat
        WGS84 degrees.
    polygons
        WGS84 (multi)polygons, in the order that breaks ties.
    ids
        One id or name per polygon.
    densified
        True when ``polygons`` come from :func:`prepare_polygons` already.
    """
    lon, lat = _as_points(lon, lat)
    polygons = list(polygons)
    ids = np.asarray(list(ids), dtype=object)
    if not polygons:
        raise LayerError("the polygons given are empty (none): nothing to measure the distance to")
    if len(ids) != len(polygons):
        raise ValueError(
            f"'ids' should have one value per polygon, got {len(ids)} for {len(polygons)}"
        )
    geoms = np.asarray(polygons, dtype=object) if densified else prepare_polygons(polygons)
    if not shapely.get_num_coordinates(geoms).any():
        raise LayerError("the polygons given are all empty: no edge to measure the distance to")
    n = lon.size
    distance = np.full(n, np.nan)
    owner = np.full(n, -1, dtype=np.int64)
    valid_idx = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))

    # 1. inside: distance 0, the first containing polygon in layer order
    first = _first_containing(lon[valid_idx], lat[valid_idx], geoms)
    distance[valid_idx[first >= 0]] = 0.0
    owner[valid_idx] = first

    # 2.-3. outside: candidates in projection, exact distance in each point's own AEQD plane
    out_idx = valid_idx[owner[valid_idx] < 0]
    if out_idx.size:
        segments = _boundary(geoms)
        olon, olat = lon[out_idx], lat[out_idx]

        def exact(p: np.ndarray, s: np.ndarray) -> np.ndarray:
            return _exact_segment_distance(olon[p], olat[p], segments.ends(s))

        distance[out_idx], owner[out_idx] = _nearest_segments(olon, olat, segments, exact)
    nearest = np.where(owner >= 0, ids[np.clip(owner, 0, None)], None)
    return Nearest(distance, owner, nearest)


def nearest_line(lon: npt.ArrayLike, lat: npt.ArrayLike, lines, ids) -> Nearest:
    """Geodesic distance from points to the nearest line (roads, rivers), with its id.

    Line edges are geodesics between vertices, densified like polygon edges; the candidate
    search and the exact step are those of :func:`nearest_polygon` (there is no inside).

    The geodesic between two points of 37°N bulges 4.7 m north of the parallel:

    >>> road = shapely.LineString([(111.9, 37), (112.1, 37)])
    >>> r = nearest_line([112.0], [37.01], [road], ["路"])
    >>> r.nearest.tolist(), round(float(r.distance_m[0]), 1)
    (['路'], 1105.1)
    """
    lon, lat = _as_points(lon, lat)
    lines = np.asarray(list(lines), dtype=object)
    ids = np.asarray(list(ids), dtype=object)
    if not lines.size:
        raise LayerError("the lines given are empty (none): nothing to measure the distance to")
    if ids.size != lines.size:
        raise ValueError(f"'ids' should have one value per line, got {ids.size} for {lines.size}")
    parts, part_owner = shapely.get_parts(lines, return_index=True)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    dense, dense_part = _densify_rings(coords, part_of, MAX_SEGMENT_M)
    starts = np.flatnonzero(dense_part[1:] == dense_part[:-1])
    if not starts.size:
        raise LayerError("no line given has two vertices: nothing to measure the distance to")
    segments = _Segments(dense, starts, starts + 1, part_owner[dense_part[starts]])
    distance = np.full(lon.size, np.nan)
    owner = np.full(lon.size, -1, dtype=np.int64)
    valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if valid.size:
        vlon, vlat = lon[valid], lat[valid]

        def exact(p: np.ndarray, s: np.ndarray) -> np.ndarray:
            return _exact_segment_distance(vlon[p], vlat[p], segments.ends(s))

        distance[valid], owner[valid] = _nearest_segments(vlon, vlat, segments, exact)
    nearest = np.where(owner >= 0, ids[np.clip(owner, 0, None)], None)
    return Nearest(distance, owner, nearest)


class _BoxGrid:
    """Polygon bounding boxes binned on a regular lon/lat grid (cell ≈ the median box size):
    the boxes holding a point come from one sorted table lookup, with no point geometries."""

    def __init__(self, geoms: np.ndarray):
        boxes = shapely.bounds(geoms)
        solid = np.flatnonzero(np.isfinite(boxes).all(axis=1))
        self.boxes = boxes
        if not solid.size:
            self.cells = np.empty(0, dtype=np.int64)
            self.owner = np.empty(0, dtype=np.int64)
            self.x0 = self.y0 = 0.0
            self.cell, self.rows = 1.0, 1
            return
        b = boxes[solid]
        self.cell = max(float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))), 1e-4)
        self.x0, self.y0 = float(b[:, 0].min()), float(b[:, 1].min())
        ix0, iy0 = self._index(b[:, 0], b[:, 1])
        ix1, iy1 = self._index(b[:, 2], b[:, 3])
        self.rows = int(iy1.max()) + 1
        nx, ny = ix1 - ix0 + 1, iy1 - iy0 + 1
        n = nx * ny
        box = np.repeat(np.arange(solid.size), n)
        k = np.arange(box.size) - np.repeat(np.cumsum(n) - n, n)
        cells = (ix0[box] + k // ny[box]) * self.rows + iy0[box] + k % ny[box]
        order = np.lexsort((solid[box], cells))
        self.cells, self.owner = cells[order], solid[box][order]

    def _index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.floor((x - self.x0) / self.cell).astype(np.int64),
            np.floor((y - self.y0) / self.cell).astype(np.int64),
        )

    def candidates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, polygon) pairs whose box holds the point, by point then layer order."""
        ix, iy = self._index(x, y)
        inside = (ix >= 0) & (iy >= 0) & (iy < self.rows)
        cell = np.where(inside, ix * self.rows + iy, -1)
        lo = np.searchsorted(self.cells, cell, side="left")
        n = np.searchsorted(self.cells, cell, side="right") - lo
        p = np.repeat(np.arange(x.size), n)
        g = self.owner[np.repeat(lo, n) + np.arange(p.size) - np.repeat(np.cumsum(n) - n, n)]
        b = self.boxes[g]
        keep = (b[:, 0] <= x[p]) & (x[p] <= b[:, 2]) & (b[:, 1] <= y[p]) & (y[p] <= b[:, 3])
        return p[keep], g[keep]


def _first_containing(lon: np.ndarray, lat: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Per point, the first polygon in layer order that contains it or has it on its edge
    (-1 for none).

    The (point, polygon) pairs whose box holds the point are tested with prepared polygons
    (``intersects_xy``: no point geometries), and each point keeps its lowest hit.

    Thread safety: GEOS builds a prepared polygon's point-in-area index lazily, on its first
    test, and that build is not thread-safe (two threads testing one freshly prepared polygon at
    once corrupt the heap: issue 13). So the polygons are prepared as private copies (another
    caller's geometries, prepared or not, are never touched) and the pairs are grouped **by
    polygon**: each work unit holds whole polygons, so every prepared polygon is only ever used
    by the one thread that runs its unit. Nothing is shared between the threads but read-only
    NumPy arrays and each unit's own output.
    """
    first = np.full(lon.size, -1, dtype=np.int64)
    if not lon.size or not geoms.size:
        return first
    grid = _BoxGrid(geoms)
    own = shapely.transform(geoms, lambda xy: xy)  # private copies, prepared below
    # one pass of the box lookup per point chunk (bounded memory), then pairs sorted by polygon
    pairs_p, pairs_g = [], []
    for start in range(0, lon.size, _CHUNK):
        p, g = grid.candidates(lon[start : start + _CHUNK], lat[start : start + _CHUNK])
        pairs_p.append(p + start)
        pairs_g.append(g)
    p, g = np.concatenate(pairs_p), np.concatenate(pairs_g)
    if not p.size:
        return first
    order = np.argsort(g, kind="stable")
    p, g = p[order], g[order]
    units = _polygon_units(g, THREADS)
    lowest = np.full(lon.size, np.iinfo(np.int64).max, dtype=np.int64)

    def solve(unit: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = unit
        polygons = np.unique(g[lo:hi])
        shapely.prepare(own[polygons])
        hits = []
        for a in range(lo, hi, _CHUNK):
            b = min(a + _CHUNK, hi)
            hit = shapely.intersects_xy(own[g[a:b]], lon[p[a:b]], lat[p[a:b]])
            hits.append(np.flatnonzero(hit) + a)
        shapely.destroy_prepared(own[polygons])
        hit = np.concatenate(hits)
        return p[hit], g[hit]

    if len(units) == 1 or THREADS == 1:
        results = [solve(u) for u in units]
    else:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(solve, units))
    for hp, hg in results:  # merged in the calling thread only
        np.minimum.at(lowest, hp, hg)
    found = lowest < np.iinfo(np.int64).max
    first[found] = lowest[found]
    return first


def _polygon_units(g: np.ndarray, threads: int) -> list[tuple[int, int]]:
    """Cut pairs sorted by polygon into contiguous ranges ``[lo, hi)`` of similar size that never
    split one polygon's pairs: a polygon belongs to exactly one unit of work."""
    n = g.size
    n_units = max(1, min(4 * threads, n // 4096)) if threads > 1 else 1
    cuts = [0]
    for k in range(1, n_units):
        at = int(np.searchsorted(g, g[n * k // n_units], side="left"))  # a polygon's first pair
        if at > cuts[-1]:
            cuts.append(at)
    cuts.append(n)
    return [(lo, hi) for lo, hi in itertools.pairwise(cuts) if hi > lo]


def nearest_point(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    to_lon: npt.ArrayLike,
    to_lat: npt.ArrayLike,
    ids,
) -> Nearest:
    """Geodesic distance from points to the nearest of other points, with its id.

    Ties (to the millimetre) go to the target that comes first. With no targets every distance
    is NaN and every id None.

    >>> r = nearest_point([112.0], [37.0], [112.1, 111.9], [37.0, 37.0], ["E", "W"])
    >>> r.nearest.tolist(), round(float(r.distance_m[0]), 1)
    (['E'], 8901.2)
    """
    lon, lat = _as_points(lon, lat)
    tlon, tlat = _as_points(to_lon, to_lat)
    ids = np.asarray(list(ids), dtype=object)
    n = lon.size
    if tlon.size == 0:
        return Nearest(np.full(n, np.nan), np.full(n, -1, dtype=np.int64), np.full(n, None))
    targets = np.arange(tlon.size)
    segments = _Segments(np.column_stack([tlon, tlat]), targets, targets, targets)
    valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    distance = np.full(n, np.nan)
    owner = np.full(n, -1, dtype=np.int64)
    if valid.size:
        vlon, vlat = lon[valid], lat[valid]

        def exact(p: np.ndarray, s: np.ndarray) -> np.ndarray:
            return np.asarray(GEOD.inv(vlon[p], vlat[p], tlon[s], tlat[s])[2])

        distance[valid], owner[valid] = _nearest_segments(vlon, vlat, segments, exact)
    nearest = np.where(owner >= 0, ids[np.clip(owner, 0, None)], None)
    return Nearest(distance, owner, nearest)


__all__ = [
    "MAX_SEGMENT_M",
    "Nearest",
    "densify_geodesic",
    "disc_scale_bound",
    "geodesic_buffer",
    "geodesic_buffers",
    "nearest_line",
    "nearest_point",
    "nearest_polygon",
    "prepare_polygons",
    "scale_bound",
]

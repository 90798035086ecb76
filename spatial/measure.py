"""Geodesic distances on the WGS84 ellipsoid: point to nearest polygon edge, point to nearest
point, and geodesic buffers.

How the distance to the nearest polygon is found, exactly and fast:

1. **Inside** – points inside a polygon get 0 (lon/lat polygons, edges densified so that
   planar and geodesic edges agree to the millimetre).
2. **Candidates** – polygon boundaries are cut into segments no longer than
   :data:`MAX_SEGMENT_M`. Per 6° zone of points, the segments and points are projected with a
   transverse Mercator whose central scale is exactly 1, so every projected distance is at least
   the geodesic one and at most ``k_max`` times it (``k_max`` is the largest scale factor over
   the projected extent, bounded analytically). With ``d*`` the smallest projected distance of a
   point, the true nearest segment lies within ``k_max · d* + δ`` in the projection: every
   segment in that band is a candidate, so the search never misses the nearest feature.
3. **Exact** – for each candidate segment the endpoints are placed in the point's own
   ellipsoidal azimuthal-equidistant plane (azimuth and distance from GeographicLib via
   :class:`pyproj.Geod`), where distances from the point are exact; the distance from the origin
   to the short segment is then exact to well under a millimetre.

Ties (equal distances to the millimetre) go to the feature that comes first in the layer's
order (the order of ``ids``), so the same inputs always give the same nearest feature.

Examples
--------
>>> from shapely.geometry import Polygon, Point
>>> square = Polygon([(112.0, 37.0), (112.1, 37.0), (112.1, 37.1), (112.0, 37.1)])
>>> result = nearest_polygon([112.05, 112.2], [37.05, 37.05], [square], ["甲"])
>>> result.distance_m.round(1).tolist(), result.nearest.tolist()
([0.0, 8895.3], ['甲', '甲'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Geod, Transformer

from spatial.errors import LayerError

GEOD = Geod(ellps="WGS84")
MAX_SEGMENT_M = 1000.0
"""Boundary segments are at most this long (geodesic densification) before measuring."""
TIE_TOLERANCE_M = 1e-3
_FLATTENING_MARGIN = 1.01  # the ellipsoid's scale factor exceeds the sphere's by O(e²) < 1 %
WINDOW_DEG = 20.0
"""Segments within this many degrees of longitude of a zone's meridian are searched first."""
_BAND_SLACK_M = 1.0  # covers the sub-millimetre difference between projected chords and edges


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


def densify_geodesic(geom: shapely.Geometry, max_segment_m: float = MAX_SEGMENT_M):
    """Insert points along every edge so no edge is longer than ``max_segment_m`` (geodesic).

    Edges are taken as geodesics between consecutive vertices, as PostGIS ``geography`` does.
    """

    def ring(coords: np.ndarray) -> np.ndarray:
        lon1, lat1 = coords[:-1, 0], coords[:-1, 1]
        lon2, lat2 = coords[1:, 0], coords[1:, 1]
        pieces = np.ceil(GEOD.inv(lon1, lat1, lon2, lat2)[2] / max_segment_m).astype(int)
        out, start = [], 0
        for i in np.flatnonzero(pieces > 1):
            out.append(coords[start : i + 1])
            out.append(np.asarray(GEOD.npts(lon1[i], lat1[i], lon2[i], lat2[i], pieces[i] - 1)))
            start = i + 1
        out.append(coords[start:])
        return np.concatenate(out)

    def polygon(p: shapely.Polygon) -> shapely.Polygon:
        shell = ring(np.asarray(p.exterior.coords)[:, :2])
        holes = [ring(np.asarray(h.coords)[:, :2]) for h in p.interiors]
        return shapely.Polygon(shell, holes)

    parts = [polygon(p) for p in getattr(geom, "geoms", [geom]) if not p.is_empty]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def boundary_segments(geoms: list) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary edge of every polygon: endpoint coordinates (n, 4) and owner positions."""
    lines = shapely.boundary(np.asarray(geoms, dtype=object))
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, ring_of = shapely.get_coordinates(parts, return_index=True)
    same_ring = ring_of[1:] == ring_of[:-1]
    ends = np.hstack([coords[:-1], coords[1:]])[same_ring]
    return ends, owner[ring_of[:-1][same_ring]]


# --------------------------------------------------------------------------------------------
# Candidate search in a transverse Mercator with central scale 1


def _zone_of(lon: np.ndarray) -> np.ndarray:
    return np.floor((lon + 180.0) / 6.0).astype(int)


def _zone_projection(zone: int) -> tuple[Transformer, float]:
    cm = zone * 6.0 - 180.0 + 3.0
    crs = CRS.from_proj4(f"+proj=tmerc +lon_0={cm} +lat_0=0 +k=1 +x_0=0 +y_0=0 +ellps=WGS84")
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True), cm


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


def _exact_segment_distance(plon: np.ndarray, plat: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Geodesic distance from points to short geodesic segments (row-wise pairs).

    The segment's endpoints are placed in the point's azimuthal-equidistant plane, where the
    distance from the point is exact; the short segment is a straight chord there to well under
    a millimetre.
    """
    az_a, _, d_a = GEOD.inv(plon, plat, seg[:, 0], seg[:, 1])
    az_b, _, d_b = GEOD.inv(plon, plat, seg[:, 2], seg[:, 3])
    ax, ay = d_a * np.sin(np.radians(az_a)), d_a * np.cos(np.radians(az_a))
    bx, by = d_b * np.sin(np.radians(az_b)), d_b * np.cos(np.radians(az_b))
    vx, vy = bx - ax, by - ay
    length2 = vx * vx + vy * vy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-(ax * vx + ay * vy) / length2, 0.0, 1.0)
    t = np.where(length2 > 0, t, 0.0)
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


def _zone_candidates(
    lon: np.ndarray, lat: np.ndarray, seg: np.ndarray, zone: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs in one zone's projection, and each point's smallest projected distance."""
    transformer, cm = _zone_projection(zone)
    px, py = transformer.transform(lon, lat)
    sx1, sy1 = transformer.transform(seg[:, 0], seg[:, 1])
    sx2, sy2 = transformer.transform(seg[:, 2], seg[:, 3])
    k = scale_bound(
        cm,
        np.concatenate([lon, seg[:, 0], seg[:, 2]]),
        np.concatenate([lat, seg[:, 1], seg[:, 3]]),
    )
    lines = shapely.linestrings(
        np.stack([np.stack([sx1, sy1], -1), np.stack([sx2, sy2], -1)], axis=1)
    )
    tree = shapely.STRtree(lines)
    points = shapely.points(px, py)
    _, d_star = tree.query_nearest(points, return_distance=True, all_matches=False)
    band = k * d_star + _BAND_SLACK_M + 1e-6 * d_star
    p_idx, s_idx = tree.query(points, predicate="dwithin", distance=band)
    return p_idx, s_idx, d_star


def _candidates(lon: np.ndarray, lat: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (point, segment) pairs that surely include each point's nearest segment.

    Points are handled per 6° zone, against the segments within :data:`WINDOW_DEG` of the
    zone's central meridian. A point whose nearest in-window segment lies farther than the
    window reaches is searched again against every segment.
    """
    pairs_p, pairs_s = [], []
    zones = _zone_of(lon)
    seg_lon = (seg[:, 0] + seg[:, 2]) / 2
    for zone in np.unique(zones):
        members = np.flatnonzero(zones == zone)
        cm = zone * 6.0 - 180.0 + 3.0
        in_window = np.flatnonzero(np.abs(seg_lon - cm) <= WINDOW_DEG)
        reach = _window_reach_m(lat[members])
        done = np.zeros(members.size, dtype=bool)
        if in_window.size:
            p, s, d_star = _zone_candidates(lon[members], lat[members], seg[in_window], int(zone))
            done = d_star <= reach
            keep = done[p]
            pairs_p.append(members[p[keep]])
            pairs_s.append(in_window[s[keep]])
        if not done.all():
            rest = members[~done]
            p, s, _ = _zone_candidates(lon[rest], lat[rest], seg, int(zone))
            pairs_p.append(rest[p])
            pairs_s.append(s)
    if not pairs_p:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(pairs_p), np.concatenate(pairs_s)


def _window_reach_m(lat: np.ndarray) -> np.ndarray:
    """Geodesic distance that surely stays inside the window, from a point of the zone."""
    margin = np.radians(WINDOW_DEG - 3.0 - 0.5)  # 0.5° for segment half-lengths
    return margin * 6_356_000.0 * np.cos(np.radians(np.minimum(np.abs(lat) + 1.0, 89.0)))


# --------------------------------------------------------------------------------------------
# Public functions


def prepare_polygons(geoms, max_segment_m: float = MAX_SEGMENT_M) -> np.ndarray:
    """WGS84 polygons densified geodesically, ready for :func:`nearest_polygon`."""
    return np.asarray([densify_geodesic(g, max_segment_m) for g in geoms], dtype=object)


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
        raise LayerError("the built-up layer is empty: no polygon to measure the distance to")
    if len(ids) != len(polygons):
        raise ValueError(
            f"'ids' should have one value per polygon, got {len(ids)} for {len(polygons)}"
        )
    geoms = np.asarray(polygons, dtype=object) if densified else prepare_polygons(polygons)
    n = lon.size
    distance = np.full(n, np.nan)
    owner = np.full(n, -1, dtype=np.int64)
    valid = np.isfinite(lon) & np.isfinite(lat)

    # 1. inside: distance 0, the first containing polygon in layer order
    tree = shapely.STRtree(geoms)
    pts = shapely.points(lon[valid], lat[valid])
    valid_idx = np.flatnonzero(valid)
    p_in, g_in = tree.query(pts, predicate="intersects")
    if p_in.size:
        order = np.lexsort((g_in, p_in))
        p_in, g_in = p_in[order], g_in[order]
        first = np.r_[True, p_in[1:] != p_in[:-1]]
        distance[valid_idx[p_in[first]]] = 0.0
        owner[valid_idx[p_in[first]]] = g_in[first]

    # 2.-3. outside: candidates in projection, exact distance in each point's own AEQD plane
    outside = valid & (owner < 0)
    out_idx = np.flatnonzero(outside)
    if out_idx.size:
        seg, seg_owner = boundary_segments(list(geoms))
        p_rel, s_idx = _candidates(lon[out_idx], lat[out_idx], seg)
        d = _exact_segment_distance(lon[out_idx][p_rel], lat[out_idx][p_rel], seg[s_idx])
        best_d, best_o = _pick_nearest(p_rel, seg_owner[s_idx], d, out_idx.size)
        distance[out_idx], owner[out_idx] = best_d, best_o
    nearest = np.where(owner >= 0, ids[np.clip(owner, 0, None)], None)
    return Nearest(distance, owner, nearest)


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
    seg = np.stack([tlon, tlat, tlon, tlat], axis=-1)
    valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    distance = np.full(n, np.nan)
    owner = np.full(n, -1, dtype=np.int64)
    if valid.size:
        p_rel, s_idx = _candidates(lon[valid], lat[valid], seg)
        d = GEOD.inv(lon[valid][p_rel], lat[valid][p_rel], tlon[s_idx], tlat[s_idx])[2]
        best_d, best_o = _pick_nearest(p_rel, s_idx, np.asarray(d), valid.size)
        distance[valid], owner[valid] = best_d, best_o
    nearest = np.where(owner >= 0, ids[np.clip(owner, 0, None)], None)
    return Nearest(distance, owner, nearest)


# --------------------------------------------------------------------------------------------
# Geodesic buffers


def _aeqd_forward(lon0: float, lat0: float, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    az, _, dist = GEOD.inv(np.full(np.size(lon), lon0), np.full(np.size(lat), lat0), lon, lat)
    az = np.radians(az)
    return dist * np.sin(az), dist * np.cos(az)


def _aeqd_inverse(lon0: float, lat0: float, x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    az = np.degrees(np.arctan2(x, y))
    lon, lat, _ = GEOD.fwd(np.full(x.size, lon0), np.full(x.size, lat0), az, np.hypot(x, y))
    return np.asarray(lon), np.asarray(lat)


def geodesic_buffer(geom: shapely.Geometry, distance_m: float, quad_segs: int = 128):
    """A polygon covering every place within ``distance_m`` geodesic metres of ``geom``.

    Built in the ellipsoidal azimuthal-equidistant plane centred on the geometry (exact
    distances from the centre, scale error ~(ρ/R)²/6 elsewhere) with ``quad_segs`` segments per
    quarter circle; its outline lies within 1 m of the true geodesic offset for the built-up
    areas and radii used here (tested).
    """
    if geom.is_empty:
        return shapely.Polygon()
    centre = geom.centroid
    lon0, lat0 = centre.x, centre.y

    def to_plane(coords: np.ndarray) -> np.ndarray:
        x, y = _aeqd_forward(lon0, lat0, coords[:, 0], coords[:, 1])
        return np.stack([x, y], axis=-1)

    def to_lonlat(coords: np.ndarray) -> np.ndarray:
        lon, lat = _aeqd_inverse(lon0, lat0, coords[:, 0], coords[:, 1])
        return np.stack([lon, lat], axis=-1)

    planar = shapely.transform(geom, to_plane)
    buffered = shapely.buffer(planar, distance_m, quad_segs=quad_segs)
    buffered = shapely.segmentize(buffered, MAX_SEGMENT_M / 2)
    return shapely.transform(buffered, to_lonlat)


def geodesic_buffers(geoms, distance_m: float) -> list:
    """:func:`geodesic_buffer` for each geometry."""
    return [geodesic_buffer(g, distance_m) for g in geoms]


__all__ = [
    "MAX_SEGMENT_M",
    "Nearest",
    "densify_geodesic",
    "geodesic_buffer",
    "geodesic_buffers",
    "nearest_point",
    "nearest_polygon",
    "prepare_polygons",
    "scale_bound",
]

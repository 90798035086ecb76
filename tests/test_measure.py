"""Geodesic measurement against an independent oracle (PROJ's azimuthal equidistant projection
centred on each point, and brute-force GeographicLib distances)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Proj, Transformer
from shapely.geometry import Polygon

from spatial import measure
from spatial.errors import LayerError
from spatial.measure import (
    MAX_SEGMENT_M,
    WINDOW_DEG,
    _window_reach_m,
    densify_geodesic,
    disc_scale_bound,
    geodesic_buffer,
    nearest_line,
    nearest_point,
    nearest_polygon,
    prepare_polygons,
    scale_bound,
)

GEOD = Geod(ellps="WGS84")
TOLERANCE_M = 0.5


def oracle_distance(lon: float, lat: float, polygon) -> float:
    """Distance from a point to a polygon edge in PROJ's AEQD centred on the point.

    Radial distances are exact in that projection; edges are densified geodesically every 20 m
    first, so the chords between vertices are the geodesic edges to well under a millimetre.
    """
    dense = densify_geodesic(polygon, 20.0)
    if shapely.intersects(dense, shapely.Point(lon, lat)):
        return 0.0
    aeqd = CRS.from_proj4(f"+proj=aeqd +lon_0={lon} +lat_0={lat} +ellps=WGS84 +units=m")
    to_plane = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    planar = shapely.transform(dense, lambda c: np.stack(to_plane.transform(c[:, 0], c[:, 1]), -1))
    return float(shapely.distance(shapely.Point(0, 0), planar.boundary))


def star(lon0: float, lat0: float, radii_km: list[float], rotation: float = 0.0) -> Polygon:
    """A star-shaped polygon around a centre, one vertex per radius (geodesic offsets)."""
    n = len(radii_km)
    az = rotation + np.arange(n) * 360.0 / n
    lon, lat, _ = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), az, np.asarray(radii_km) * 1000)
    return Polygon(np.stack([lon, lat], -1))


def offset(lon0: float, lat0: float, az: float, dist_m: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(lon0, lat0, az, dist_m)
    return float(lon), float(lat)


polygons = st.builds(
    star,
    st.floats(110.0, 115.0),
    st.floats(36.0, 41.0),
    st.lists(st.floats(0.5, 8.0), min_size=3, max_size=12),
    st.floats(0, 360),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polygons, st.floats(0, 360), st.floats(0, 45_000))
def test_distance_matches_the_oracle_in_shanxi(polygon, az, dist):
    c = polygon.centroid
    lon, lat = offset(c.x, c.y, az, dist)
    result = nearest_polygon([lon], [lat], [polygon], ["A"])
    assert result.distance_m[0] == pytest.approx(
        oracle_distance(lon, lat, polygon), abs=TOLERANCE_M
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.floats(73.5, 134.5),
    st.floats(20.0, 52.0),
    st.lists(st.floats(0.5, 6.0), min_size=3, max_size=8),
    st.floats(0, 360),
    st.floats(0, 60_000),
)
def test_distance_matches_the_oracle_across_china(lon0, lat0, radii, az, dist):
    polygon = star(lon0, lat0, radii)
    lon, lat = offset(lon0, lat0, az, dist)
    result = nearest_polygon([lon], [lat], [polygon], ["A"])
    assert result.distance_m[0] == pytest.approx(
        oracle_distance(lon, lat, polygon), abs=TOLERANCE_M
    )


def test_nearest_feature_across_a_zone_boundary():
    """114°E separates 6° zones 49 and 50; points on both sides, polygons on both sides."""
    west = star(113.93, 37.8, [3, 4, 3, 4, 3, 4])
    east = star(114.12, 37.8, [2, 2, 2, 2])
    far = star(118.0, 37.8, [5, 5, 5])
    rng = np.random.default_rng(3)
    lon = rng.uniform(113.7, 114.4, 80)
    lat = rng.uniform(37.5, 38.1, 80)
    result = nearest_polygon(lon, lat, [far, west, east], ["far", "west", "east"])
    for i in range(lon.size):
        expected = {
            name: oracle_distance(lon[i], lat[i], g)
            for name, g in (("far", far), ("west", west), ("east", east))
        }
        best = min(expected, key=expected.get)
        assert result.distance_m[i] == pytest.approx(expected[best], abs=TOLERANCE_M)
        if sorted(expected.values())[1] - expected[best] > 2 * TOLERANCE_M:
            assert result.nearest[i] == best


def test_national_spread_of_points_and_polygons():
    rng = np.random.default_rng(11)
    centres = np.column_stack([rng.uniform(75, 133, 40), rng.uniform(22, 50, 40)])
    polys = [star(x, y, list(rng.uniform(1, 6, 7))) for x, y in centres]
    lon = rng.uniform(74, 134, 60)
    lat = rng.uniform(21, 51, 60)
    result = nearest_polygon(lon, lat, polys, list(range(40)))
    vertices = [np.asarray(p.exterior.coords) for p in polys]
    for i in range(lon.size):
        # the oracle runs on every polygon that could be nearest: edges are under 12 km, so a
        # polygon whose nearest vertex is more than 12 km beyond the best vertex cannot win
        to_vertex = np.array(
            [
                GEOD.inv(np.full(len(v), lon[i]), np.full(len(v), lat[i]), v[:, 0], v[:, 1])[
                    2
                ].min()
                for v in vertices
            ]
        )
        contenders = np.flatnonzero(to_vertex <= to_vertex.min() + 12_000)
        truth = {j: oracle_distance(lon[i], lat[i], polys[j]) for j in contenders}
        best = min(truth, key=truth.get)
        assert result.distance_m[i] == pytest.approx(truth[best], abs=TOLERANCE_M)
        assert result.nearest[i] == best


def test_points_inside_are_zero_and_name_the_polygon():
    a = star(112.7, 37.7, [4, 4, 4, 4])
    hole = star(112.7, 37.7, [1, 1, 1, 1])
    with_hole = Polygon(a.exterior.coords, [hole.exterior.coords])
    result = nearest_polygon([112.7, 112.72], [37.7, 37.7], [with_hole], ["榆次区"])
    assert result.distance_m[1] == 0 and result.nearest[1] == "榆次区"
    # the centre lies in the hole: outside, distance to the hole's edge (~1 km)
    assert result.distance_m[0] == pytest.approx(oracle_distance(112.7, 37.7, with_hole), abs=0.5)
    assert 700 < result.distance_m[0] < 715  # half-diagonal of the 1 km square hole


@pytest.mark.parametrize(("dist", "near"), [(9_999.0, True), (10_000.0, True), (10_001.0, False)])
def test_the_ten_km_line_decides_right(dist, near):
    square = Polygon([(112.0, 37.0), (112.1, 37.0), (112.1, 37.1), (112.0, 37.1)])
    lon, lat = offset(112.1, 37.05, 90.0, dist)  # perpendicular to the east (meridian) edge
    d = nearest_polygon([lon], [lat], [square], ["A"]).distance_m[0]
    assert d == pytest.approx(dist, abs=0.01)
    assert bool(d <= 10_000) is near


def test_ties_go_to_the_first_feature():
    left = Polygon([(111.9, 37.0), (112.0, 37.0), (112.0, 37.1), (111.9, 37.1)])
    right = Polygon([(112.2, 37.0), (112.3, 37.0), (112.3, 37.1), (112.2, 37.1)])
    for order in (["L", "R"], ["R", "L"]):
        geoms = [left, right] if order[0] == "L" else [right, left]
        result = nearest_polygon([112.1], [37.05], geoms, order)
        assert result.nearest[0] == order[0]


def test_empty_layer_is_a_clear_error():
    """The generic function says what it was given; naming the layer is its caller's job
    (:func:`spatial.facts.measure_fact`), so it never calls it 'the built-up layer'."""
    with pytest.raises(LayerError, match="polygons given are empty") as none:
        nearest_polygon([112.0], [37.0], [], [])
    with pytest.raises(LayerError, match="polygons given are all empty") as blank:
        nearest_polygon([112.0], [37.0], [shapely.Polygon(), None], ["A", "B"])
    with pytest.raises(LayerError, match="lines given are empty"):
        nearest_line([112.0], [37.0], [], [])
    assert "built-up" not in str(none.value) + str(blank.value)


def test_nan_points_get_no_distance():
    square = star(112.0, 37.0, [1, 1, 1, 1])
    result = nearest_polygon([np.nan, 112.0], [37.0, 37.0], [square], ["A"])
    assert np.isnan(result.distance_m[0]) and result.nearest[0] is None
    nothing = nearest_polygon([np.nan], [np.nan], [square], ["A"])
    assert np.isnan(nothing.distance_m[0]) and nothing.nearest[0] is None
    assert nearest_polygon([], [], [square], ["A"]).distance_m.size == 0
    assert nearest_point([np.nan], [37.0], [112.0], [37.0], ["H"]).nearest[0] is None


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(73.5, 134.5), st.floats(20, 52)), min_size=1, max_size=15),
    st.lists(st.tuples(st.floats(73.5, 134.5), st.floats(20, 52)), min_size=1, max_size=10),
)
def test_nearest_point_matches_brute_force(points, targets):
    lon, lat = np.array(points).T
    tlon, tlat = np.array(targets).T
    result = nearest_point(lon, lat, tlon, tlat, [f"H{i}" for i in range(tlon.size)])
    for i in range(lon.size):
        d = GEOD.inv(np.full(tlon.size, lon[i]), np.full(tlon.size, lat[i]), tlon, tlat)[2]
        assert result.distance_m[i] == pytest.approx(d.min(), abs=1e-3)


def test_nearest_point_without_targets():
    result = nearest_point([112.0], [37.0], [], [], [])
    assert np.isnan(result.distance_m[0]) and result.nearest[0] is None


@pytest.mark.parametrize("lat", [18.0, 30.0, 38.0, 53.0])
def test_scale_bound_covers_proj_factors(lat):
    cm = 111.0
    proj = Proj(f"+proj=tmerc +lon_0={cm} +k=1 +ellps=WGS84")
    lons = np.linspace(cm - 20, cm + 20, 81)
    factors = proj.get_factors(lons, np.full(lons.size, lat))
    assert scale_bound(cm, lons, np.full(lons.size, lat)) >= factors.meridional_scale.max()
    assert scale_bound(cm, lons, np.full(lons.size, lat)) >= factors.parallel_scale.max()


@pytest.mark.parametrize("radius", [10_000.0, 30_000.0])
def test_geodesic_buffer_outline_is_true_to_a_metre(radius):
    town = star(112.75, 37.7, [3, 5, 2.5, 4, 3.5, 6, 2])
    ring = np.asarray(geodesic_buffer(town, radius).exterior.coords)[:-1]
    sample = ring[:: max(1, len(ring) // 200)]
    d = nearest_polygon(sample[:, 0], sample[:, 1], [town], ["t"]).distance_m
    assert np.abs(d - radius).max() < 1.0


def test_nearest_beyond_the_search_window_is_still_found():
    """A point whose only feature lies far outside its zone's window falls back to all."""
    town = star(130.0, 45.0, [3, 3, 3, 3])
    result = nearest_polygon([76.0], [39.5], [town], ["east"])
    assert result.nearest[0] == "east"
    assert result.distance_m[0] == pytest.approx(oracle_distance(76.0, 39.5, town), abs=TOLERANCE_M)
    far = nearest_point([76.0], [39.5], [130.0, 131.0], [45.0, 45.0], ["a", "b"])
    assert far.nearest[0] == "a"


# --------------------------------------------------------------------------------------------
# The fast search: the bounds it relies on, and its fallbacks give the same answers


@pytest.mark.parametrize("seed", range(4))
def test_disc_scale_bound_covers_proj_factors_over_the_disc(seed):
    """Every place within the radius of a point has a TM scale factor under the point's bound."""
    rng = np.random.default_rng(seed)
    lon0, lat0 = rng.uniform(73, 135, 30), rng.uniform(18, 53, 30)
    cm = np.floor((lon0 + 180) / 6) * 6 - 180 + 3  # each point's own zone
    radius = rng.choice([1_000.0, 30_000.0, 300_000.0, 2_000_000.0], 30)
    bound = disc_scale_bound(cm, lon0, lat0, radius)
    for i in range(30):
        az, dist = rng.uniform(0, 360, 200), radius[i] * np.sqrt(rng.uniform(0, 1, 200))
        dist[:40] = radius[i]  # the rim, where the scale is largest
        lon, lat, _ = GEOD.fwd(np.full(200, lon0[i]), np.full(200, lat0[i]), az, dist)
        proj = Proj(f"+proj=tmerc +lon_0={cm[i]} +k=1 +ellps=WGS84")
        factors = proj.get_factors(lon, lat)
        assert factors.meridional_scale.max() <= bound[i]
        assert factors.parallel_scale.max() <= bound[i]


def test_window_reach_stays_inside_the_window():
    """A geodesic as long as the reach, in any direction, stays within the window."""
    rng = np.random.default_rng(5)
    lat0 = rng.uniform(18, 53, 200)
    reach = _window_reach_m(lat0)
    for az in np.arange(0, 360, 5.0):
        for frac in (0.5, 1.0):
            lon, _, _ = GEOD.fwd(np.zeros(200), lat0, np.full(200, az), reach * frac)
            assert np.abs(lon).max() <= WINDOW_DEG - 3.5


def _crowded_layer():
    rng = np.random.default_rng(21)
    centres = np.column_stack([rng.uniform(112.0, 112.5, 60), rng.uniform(37.0, 37.4, 60)])
    return [star(x, y, list(rng.uniform(0.5, 4.0, 9)), rng.uniform(0, 90)) for x, y in centres]


def test_radius_search_and_threads_give_the_same_answer(monkeypatch):
    """k nearest midpoints, the radius search behind them, chunks and threads: same result."""
    polys = _crowded_layer()
    rng = np.random.default_rng(22)
    lon, lat = rng.uniform(111.8, 112.7, 400), rng.uniform(36.8, 37.6, 400)
    ids = [f"B{i}" for i in range(len(polys))]
    reference = nearest_polygon(lon, lat, polys, ids)
    monkeypatch.setattr(measure, "_NEIGHBOURS", (1, 2))  # most points need the radius search
    monkeypatch.setattr(measure, "_CHUNK", 37)
    monkeypatch.setattr(measure, "THREADS", 2)
    other = nearest_polygon(lon, lat, polys, ids)
    # equal to the tie tolerance: a shared vertex may be reached through either segment
    assert np.allclose(other.distance_m, reference.distance_m, atol=1e-3, rtol=0)
    assert (other.index == reference.index).all()
    for i in rng.choice(400, 8, replace=False):
        # the oracle on the polygons that could be nearest (edges are under 9 km, see above)
        to_vertex = np.array(
            [
                GEOD.inv(np.full(len(c), lon[i]), np.full(len(c), lat[i]), c[:, 0], c[:, 1])[
                    2
                ].min()
                for c in (np.asarray(p.exterior.coords) for p in polys)
            ]
        )
        contenders = np.flatnonzero(to_vertex <= to_vertex.min() + 9_000)
        truth = min(oracle_distance(lon[i], lat[i], polys[j]) for j in contenders)
        assert reference.distance_m[i] == pytest.approx(truth, abs=TOLERANCE_M)


def test_nearest_outside_the_window_is_found():
    """The only in-window polygon lies beyond the window's reach; a nearer one lies outside."""
    south = star(82.5, 21.0, [3, 3, 3, 3])  # within 8° of zone 43's meridian (75°E), 2,000 km away
    east = star(85.0, 39.5, [3, 3, 3, 3])  # outside the window, 770 km away
    result = nearest_polygon([76.0], [39.5], [south, east], ["south", "east"])
    assert result.nearest[0] == "east"
    expected = oracle_distance(76.0, 39.5, east)
    assert result.distance_m[0] == pytest.approx(expected, abs=TOLERANCE_M)
    far = nearest_point([76.0], [39.5], [82.5, 85.0], [21.0, 39.5], ["south", "east"])
    assert far.nearest[0] == "east"


def test_prepare_polygons_keeps_parts_holes_and_vertices():
    outer = star(112.7, 37.7, [6, 6, 6, 6])
    hole = star(112.7, 37.7, [2, 2, 2, 2], 45)
    island = star(113.2, 37.7, [1.5, 1.5, 1.5])
    multi = shapely.MultiPolygon([Polygon(outer.exterior.coords, [hole.exterior.coords]), island])
    plain = star(112.0, 37.0, [0.3, 0.3, 0.3])  # edges shorter than a segment: unchanged
    prepared = prepare_polygons([multi, plain, shapely.Polygon()])
    assert prepared[0].geom_type == "MultiPolygon" and len(prepared[0].geoms) == 2
    assert len(prepared[0].geoms[0].interiors) == 1
    assert shapely.equals_exact(prepared[1], plain, tolerance=0)
    assert prepared[2].is_empty
    # geodesic edges bow off the straight lon/lat edges by a few metres at most
    assert shapely.hausdorff_distance(prepared[0].boundary, multi.boundary) < 3e-5  # ~3 m
    rings = shapely.get_rings(shapely.get_parts(prepared[0]))
    for ring in rings:
        c = np.asarray(ring.coords)
        edges = GEOD.inv(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1])[2]
        assert edges.max() <= MAX_SEGMENT_M + 1e-6
    original = shapely.get_coordinates(multi)
    assert shapely.contains_xy(
        shapely.buffer(shapely.boundary(prepared[0]), 1e-9), original[:, 0], original[:, 1]
    ).all()
    assert densify_geodesic(multi).equals(prepared[0])


def test_many_targets_with_threads_match_brute_force(monkeypatch):
    monkeypatch.setattr(measure, "_CHUNK", 50)
    monkeypatch.setattr(measure, "THREADS", 2)
    rng = np.random.default_rng(8)
    tlon, tlat = rng.uniform(110, 115, 300), rng.uniform(35, 41, 300)
    lon, lat = rng.uniform(109, 116, 500), rng.uniform(34, 42, 500)
    result = nearest_point(lon, lat, tlon, tlat, [f"H{i}" for i in range(300)])
    for i in range(0, 500, 7):
        d = GEOD.inv(np.full(300, lon[i]), np.full(300, lat[i]), tlon, tlat)[2]
        assert result.distance_m[i] == pytest.approx(d.min(), abs=1e-3)
        assert result.index[i] == np.flatnonzero(np.round(d / 1e-3) == np.round(d.min() / 1e-3))[0]


def test_first_containing_polygon_matches_geos(monkeypatch):
    """The box grid and the rounds give GEOS's answer: the first polygon in layer order that
    the point is in or on, for overlapping polygons of very different sizes."""
    monkeypatch.setattr(measure, "_CHUNK", 100)
    monkeypatch.setattr(measure, "THREADS", 2)
    rng = np.random.default_rng(31)
    polys = [
        star(x, y, list(rng.uniform(0.3, r, 8)))
        for x, y, r in zip(
            rng.uniform(112.0, 112.6, 40),
            rng.uniform(37.0, 37.5, 40),
            rng.choice([1.0, 4.0, 25.0], 40),
            strict=True,
        )
    ]
    polys += [shapely.MultiPolygon([polys[0], star(113.0, 37.2, [2, 2, 2])]), shapely.Polygon()]
    geoms = prepare_polygons(polys)
    lon, lat = rng.uniform(111.7, 113.2, 600), rng.uniform(36.8, 37.8, 600)
    corners = shapely.get_coordinates(geoms[3])[:4]  # on the edge of one of them
    lon, lat = np.r_[lon, corners[:, 0]], np.r_[lat, corners[:, 1]]
    got = measure._first_containing(lon, lat, geoms)
    hits = shapely.intersects_xy(geoms[None, :], lon[:, None], lat[:, None])
    expected = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    assert (got == expected).all()
    assert (got[-4:] >= 0).all() and not shapely.is_prepared(geoms).any()


def line_oracle(lon: float, lat: float, line) -> float:
    """Distance to a line in PROJ's AEQD centred on the point, edges densified every 20 m."""
    coords = np.asarray(line.coords)
    dense = []
    for (x1, y1), (x2, y2) in itertools.pairwise(coords):
        n = max(int(GEOD.inv(x1, y1, x2, y2)[2] // 20), 1)
        dense += [(x1, y1), *GEOD.npts(x1, y1, x2, y2, n)]
    dense.append(tuple(coords[-1]))
    aeqd = CRS.from_proj4(f"+proj=aeqd +lon_0={lon} +lat_0={lat} +ellps=WGS84 +units=m")
    x, y = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True).transform(*np.array(dense).T)
    return float(shapely.distance(shapely.Point(0, 0), shapely.LineString(np.c_[x, y])))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.floats(74.0, 134.0),
    st.floats(20.0, 52.0),
    st.lists(st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)), min_size=2, max_size=6),
    st.floats(0, 360),
    st.floats(0, 40_000),
)
def test_line_distance_matches_the_oracle(lon0, lat0, offsets, az, dist):
    from shapely.geometry import LineString

    from spatial.measure import nearest_line

    road = LineString([(lon0 + dx, lat0 + dy) for dx, dy in offsets])
    if road.length == 0:
        return
    lon, lat = offset(lon0, lat0, az, dist)
    result = nearest_line([lon], [lat], [road], ["G108"])
    assert result.nearest[0] == "G108"
    assert result.distance_m[0] == pytest.approx(line_oracle(lon, lat, road), abs=TOLERANCE_M)

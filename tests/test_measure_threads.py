"""The threaded measurement is safe (issue 13): no GEOS object is used by two threads at once.

GEOS builds a prepared polygon's point-in-area index lazily, on its first test; two threads
testing one freshly prepared polygon at once corrupted the heap (SIGSEGV or glibc's
``unaligned tcache chunk`` abort). The regression test runs the threaded inside-test many times
in a child process, on big freshly prepared polygons that every thread hits at the same moment
(the input that crashed every run before the fix), so a crash fails the test instead of
killing pytest.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import shapely
from pyproj import Geod

from spatial import measure
from spatial.measure import nearest_point, nearest_polygon, prepare_polygons

GEOD = Geod(ellps="WGS84")

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np, shapely
    from spatial import measure

    measure.THREADS = int(sys.argv[1])
    rng = np.random.default_rng(0)
    reference = None
    for trial in range(int(sys.argv[2])):
        n = 12000
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = 0.5 * rng.uniform(0.8, 1.2, n)
        polys = [
            shapely.Polygon(np.c_[112 + dx + r * np.cos(ang), 37 + r * np.sin(ang)])
            for dx in (0.0, 0.01, 0.02)
        ]
        lon, lat = rng.uniform(111.6, 112.4, 30000), rng.uniform(36.6, 37.4, 30000)
        geoms = np.asarray(measure.prepare_polygons(polys), dtype=object)
        got = measure._first_containing(lon, lat, geoms)
        reference_geoms = shapely.transform(geoms, lambda xy: xy)  # a copy, prepared here
        shapely.prepare(reference_geoms)  # in this one thread: the expected answer, fast
        hits = shapely.intersects_xy(reference_geoms[None, :], lon[:, None], lat[:, None])
        expected = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
        assert (got == expected).all(), "threaded inside test differs from GEOS"
    print("ok", trial + 1)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [2, 4])
def test_threaded_inside_test_never_crashes_on_fresh_prepared_polygons(threads):
    """Before the fix this child died with SIGSEGV in every run on this machine."""
    trials = 12
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(threads), str(trials)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f"child ended with {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.split() == ["ok", str(trials)]


def test_callers_geometries_are_left_as_they_were(monkeypatch):
    """The inside test prepares private copies: a caller's prepared geometries stay prepared
    (another thread may be using them) and unprepared ones are not prepared behind its back."""
    monkeypatch.setattr(measure, "THREADS", 2)
    monkeypatch.setattr(measure, "_CHUNK", 64)
    rng = np.random.default_rng(3)
    geoms = prepare_polygons(
        [shapely.box(112 + i * 0.05, 37, 112.04 + i * 0.05, 37.04) for i in range(20)]
    )
    shapely.prepare(geoms[:10])
    lon, lat = rng.uniform(111.9, 113.1, 20000), rng.uniform(36.95, 37.1, 20000)
    got = measure._first_containing(lon, lat, geoms)
    assert shapely.is_prepared(geoms[:10]).all() and not shapely.is_prepared(geoms[10:]).any()
    hits = shapely.intersects_xy(geoms[None, :], lon[:, None], lat[:, None])
    assert (got == np.where(hits.any(axis=1), hits.argmax(axis=1), -1)).all()


def test_polygon_units_never_split_a_polygon():
    g = np.sort(np.random.default_rng(5).integers(0, 50, 40_000))
    units = measure._polygon_units(g, 4)
    assert len(units) > 1
    assert units[0][0] == 0 and units[-1][1] == g.size
    for (_, hi), (lo, _) in itertools.pairwise(units):
        assert hi == lo and g[lo - 1] != g[lo]  # a cut falls between two polygons


def test_concurrent_callers_share_one_densified_layer(monkeypatch):
    """Two threads measuring against the same prepared layer (a notebook's thread pool, dask's
    threaded scheduler) get the single-threaded answer."""
    monkeypatch.setattr(measure, "THREADS", 2)
    rng = np.random.default_rng(9)
    seats = rng.uniform([111.0, 36.0], [113.0, 38.0], (60, 2))
    polys = [shapely.Point(x, y).buffer(0.03, 64) for x, y in seats]
    layer = prepare_polygons(polys)
    lon, lat = rng.uniform(111, 113, 20000), rng.uniform(36, 38, 20000)
    ids = [f"B{i}" for i in range(60)]
    reference = nearest_polygon(lon, lat, layer, ids, densified=True)
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(nearest_polygon(lon, lat, layer, ids, densified=True))
        except Exception as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors and len(results) == 9
    for r in results:
        assert (r.index == reference.index).all()
        assert np.array_equal(r.distance_m, reference.distance_m)


@pytest.mark.parametrize(
    ("targets", "point"),
    [
        ([(-100.0, 37.0), (30.0, -20.0)], (112.0, 37.0)),  # ≥ 80° of longitude from the zone
        ([(-68.0, -33.0)], (112.0, 37.0)),  # near the antipode
        ([(179.5, 10.0), (-179.5, 10.0)], (100.0, 10.0)),  # across the antimeridian
    ],
)
def test_far_targets_give_the_exact_nearest(targets, point):
    """A target far from the point's 6° zone used to reach cKDTree as an infinite projected
    coordinate (``ValueError: data must be finite``); now it is measured exactly."""
    tlon, tlat = np.array(targets).T
    r = nearest_point([point[0]], [point[1]], tlon, tlat, [f"T{i}" for i in range(len(tlon))])
    d = GEOD.inv(np.full(tlon.size, point[0]), np.full(tlon.size, point[1]), tlon, tlat)[2]
    assert r.index[0] == int(np.argmin(d))
    assert r.distance_m[0] == pytest.approx(d.min(), abs=1e-6)


def test_far_polygon_is_measured_to_its_edge():
    square = shapely.Polygon([(-100, 37), (-99.9, 37), (-99.9, 37.1), (-100, 37.1)])
    r = nearest_polygon([112.0], [37.0], [square], ["远"])
    corners = np.asarray(square.exterior.coords)
    to_corners = GEOD.inv(np.full(5, 112.0), np.full(5, 37.0), corners[:, 0], corners[:, 1])[2]
    assert r.nearest[0] == "远"
    # the nearest place lies on an edge: never farther than the nearest corner, and the
    # square is 11 km across, so never more than that nearer
    assert to_corners.min() - 11_200 < r.distance_m[0] <= to_corners.min() + 1e-3

"""Tests for spatial.coords: GCJ-02/BD-09 conversions, system names, to_wgs84 and in_china.

Distances are geodesic metres on the WGS84 ellipsoid (pyproj.Geod), as everywhere in the
project.
"""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import shape

from spatial import coords
from spatial.errors import CoordinateSystemError

GEOD = pyproj.Geod(ellps="WGS84")

#: What the inverses must achieve (the brief), and what they actually achieve with margin.
REQUIRED_M = 0.5
EXACT_M = 1e-6


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between two sets of lon/lat points."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    return np.asarray(GEOD.inv(*(a.ravel() for a in arrays))[2]).reshape(arrays[0].shape)


# --------------------------------------------------------------------------------------------
# Published coordinate pairs

# googollee/eviltransform, go/transform_test.go and python/test.py:
# (wgs lat, wgs lng, gcj lat, gcj lng); their forward test compares 6 decimals (about 0.1 m).
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVILTRANSFORM_PAIRS)
def test_eviltransform_pairs(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    # The values are given to 15-17 digits and our formula reproduces them to rounding
    # error; 1 mm leaves room for nothing but floating point.
    lon, lat = coords.wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert metres(lon, lat, gcj_lon, gcj_lat) < 1e-3
    lon, lat = coords.gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert metres(lon, lat, wgs_lon, wgs_lat) < 1e-3


# wandergis/coordtransform, test/app.js: every function applied to (116.404, 39.915), which is
# also Baidu's sample point for Tiananmen in BD-09. Forward results are exact (given to 17
# digits); its inverses are the one-step approximations, which we expect within a few cm.
COORDTRANSFORM_INPUT = (116.404, 39.915)


def test_coordtransform_forward_pairs():
    lon, lat = coords.wgs84_to_gcj02(*COORDTRANSFORM_INPUT)
    assert metres(lon, lat, 116.41024449916938, 39.91640428150164) < 1e-3
    lon, lat = coords.gcj02_to_bd09(*COORDTRANSFORM_INPUT)
    assert metres(lon, lat, 116.41036949371029, 39.92133699351021) < 1e-3


def test_coordtransform_one_step_inverses_are_close_to_exact():
    # Measured: 0.048 m (bd09togcj02) and 0.061 m (gcj02towgs84) at this point.
    lon, lat = coords.bd09_to_gcj02(*COORDTRANSFORM_INPUT)
    assert metres(lon, lat, 116.39762729119315, 39.90865673957631) < 0.1
    lon, lat = coords.gcj02_to_wgs84(*COORDTRANSFORM_INPUT)
    assert metres(lon, lat, 116.39775550083061, 39.91359571849836) < 0.1


def test_gcoord_pairs():
    # hujiulong/gcoord, test/unit/crs/GCJ02.spec.js. BD-09 is given to 8 decimals (1 mm
    # rounding); WGS84 is checked there to 5 decimals (toBeCloseTo(x, 5): 0.5 m).
    lon, lat = coords.gcj02_to_bd09(123, 45)
    assert metres(lon, lat, 123.00636499, 45.00636899) < 5e-3
    lon, lat = coords.gcj02_to_wgs84(123, 45)
    assert metres(lon, lat, 122.99395597, 44.99804071) < REQUIRED_M
    # ... and (183, 45) is not in China.
    lon, lat = coords.gcj02_to_wgs84(183, 45)
    assert (lon, lat) == (183, 45)


def test_baidu_tiananmen_lands_at_tiananmen():
    # Baidu's sample point (116.404, 39.915) is Tiananmen; in WGS84 it must land at the gate
    # (about 116.391 E, 39.907 N), about 1.2 km from the raw BD-09 numbers. A sanity check of
    # the direction and size of both offsets, not a precise pair.
    lon, lat = coords.bd09_to_wgs84(116.404, 39.915)
    assert metres(lon, lat, 116.391, 39.907) < 200
    assert metres(lon, lat, 116.404, 39.915) > 1000


# --------------------------------------------------------------------------------------------
# Exactness of the inverses

china_points = st.lists(
    st.tuples(
        st.floats(73.0, 135.0, allow_nan=False, allow_infinity=False),
        st.floats(18.0, 53.5, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=32,
)


def _split(points):
    array = np.asarray(points, dtype=float)
    return array[:, 0], array[:, 1]


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_gcj02_round_trips(points):
    lon, lat = _split(points)
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < EXACT_M
    forward = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *forward).max() < EXACT_M


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_bd09_round_trips(points):
    lon, lat = _split(points)
    back = coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < EXACT_M
    forward = coords.gcj02_to_bd09(*coords.bd09_to_gcj02(lon, lat))
    assert metres(lon, lat, *forward).max() < EXACT_M
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < EXACT_M
    forward = coords.wgs84_to_bd09(*coords.bd09_to_wgs84(lon, lat))
    assert metres(lon, lat, *forward).max() < EXACT_M


def test_inverse_exact_at_the_square_root_kink():
    # The GCJ-02 polynomials contain sqrt(|lon - 105|), not differentiable at 105 E.
    lat = np.linspace(20.0, 50.0, 301)
    lon = 105.0 + np.linspace(-1e-7, 1e-7, 301)
    forward = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *forward).max() < EXACT_M


@pytest.fixture(scope="module")
def china_grid():
    lon, lat = np.meshgrid(np.arange(73.0, 135.01, 0.25), np.arange(18.0, 53.51, 0.25))
    return lon.ravel(), lat.ravel()


def _naive_gcj_to_wgs(lon, lat):
    """The common one-step inverse: subtract the offset computed at the GCJ-02 point."""
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    return 2 * lon - glon, 2 * lat - glat


def _naive_bd_to_gcj(lon, lat):
    """The textbook one-step BD-09 inverse."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * np.pi * 3000.0 / 180.0)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * np.pi * 3000.0 / 180.0)
    return z * np.cos(theta), z * np.sin(theta)


def test_naive_gcj02_inverse_fails_the_requirement(china_grid):
    lon, lat = china_grid
    naive = metres(lon, lat, *coords.wgs84_to_gcj02(*_naive_gcj_to_wgs(lon, lat)))
    exact = metres(lon, lat, *coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat)))
    assert naive.max() > 3 * REQUIRED_M  # measured: 4.9 m in the far north-east
    assert exact.max() < EXACT_M


def test_naive_bd09_inverse_is_only_approximate(china_grid):
    lon, lat = china_grid
    naive = metres(lon, lat, *coords.gcj02_to_bd09(*_naive_bd_to_gcj(lon, lat)))
    exact = metres(lon, lat, *coords.gcj02_to_bd09(*coords.bd09_to_gcj02(lon, lat)))
    # On its own the one-step BD-09 inverse is off by up to about 0.2 m in China ...
    assert naive.max() > 0.1
    assert exact.max() < EXACT_M
    # ... and chained with the one-step GCJ-02 inverse, BD-09 to WGS84 misses by metres.
    wgs = _naive_gcj_to_wgs(*_naive_bd_to_gcj(lon, lat))
    chained = metres(lon, lat, *coords.wgs84_to_bd09(*wgs))
    assert chained.max() > 3 * REQUIRED_M


# --------------------------------------------------------------------------------------------
# Offsets, the China box, shapes

CITIES = {
    "Beijing": (116.40, 39.90),
    "Shanghai": (121.47, 31.23),
    "Guangzhou": (113.26, 23.13),
    "Taiyuan": (112.55, 37.87),
    "Chengdu": (104.07, 30.67),
    "Urumqi": (87.62, 43.83),
    "Lhasa": (91.13, 29.65),
    "Harbin": (126.63, 45.75),
    "Kashgar": (75.99, 39.47),
    "Sanya": (109.51, 18.25),
}


def test_gcj02_offset_magnitude_in_cities():
    lon, lat = _split(list(CITIES.values()))
    offset = metres(lon, lat, *coords.wgs84_to_gcj02(lon, lat))
    assert ((offset > 100) & (offset < 700)).all(), dict(zip(CITIES, offset.round(), strict=True))


def test_gcj02_offset_magnitude_across_china(china_grid):
    # The offset is not 100-700 m everywhere: it falls to about 18 m in the Qaidam basin
    # (96.6 E, 37.2 N) and reaches about 700 m in eastern Heilongjiang.
    lon, lat = china_grid
    inside = coords.in_china(lon, lat)
    offset = metres(lon[inside], lat[inside], *coords.wgs84_to_gcj02(lon[inside], lat[inside]))
    assert offset.min() > 10
    assert offset.max() < 720
    assert np.median(offset) > 300


OUTSIDE_BOX = [(0.0, 0.0), (139.69, 35.69), (-74.0, 40.7), (2.35, 48.85), (125.0, 60.0)]
CONVERSIONS = [
    coords.wgs84_to_gcj02,
    coords.gcj02_to_wgs84,
    coords.gcj02_to_bd09,
    coords.bd09_to_gcj02,
    coords.wgs84_to_bd09,
    coords.bd09_to_wgs84,
]


@pytest.mark.parametrize("convert", CONVERSIONS, ids=lambda f: f.__name__)
def test_points_outside_the_china_box_pass_through(convert):
    lon, lat = _split(OUTSIDE_BOX)
    out_lon, out_lat = convert(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


def test_box_is_a_rectangle():
    # The published formula only tests a bounding box: Seoul is in it and gets shifted.
    lon, lat = coords.wgs84_to_gcj02(126.98, 37.57)
    assert metres(lon, lat, 126.98, 37.57) > 100


@pytest.mark.parametrize("convert", CONVERSIONS, ids=lambda f: f.__name__)
def test_shapes_and_nan(convert):
    lon, lat = convert(116.4, 39.9)
    assert lon.shape == lat.shape == ()
    assert lon.dtype == np.float64
    grid_lon = np.array([[116.4, 121.5], [np.nan, 0.0]])
    lon, lat = convert(grid_lon, 39.9)  # broadcasts
    assert lon.shape == lat.shape == (2, 2)
    assert np.isnan(lon[1, 0]) and np.isnan(lat[1, 0])
    assert lon[1, 1] == 0.0 and lat[1, 1] == 39.9
    lon, lat = convert(np.array([]), np.array([]))
    assert lon.shape == (0,)


def test_inputs_are_not_modified():
    lon = np.array([116.4, 121.5])
    lat = np.array([39.9, 31.2])
    coords.gcj02_to_wgs84(lon, lat)
    coords.bd09_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, [116.4, 121.5])
    np.testing.assert_array_equal(lat, [39.9, 31.2])


# --------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("wgs84", "wgs84"),
        ("WGS84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("wgs 84", "wgs84"),
        ("GPS", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"),
        ("4326", "wgs84"),
        (4326, "wgs84"),
        ("cgcs2000", "cgcs2000"),
        ("CGCS2000", "cgcs2000"),
        ("国家2000", "cgcs2000"),
        (4490, "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        ("gcj02", "gcj02"),
        ("gcj-02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("amap", "gcj02"),
        ("gaode", "gcj02"),
        ("高德", "gcj02"),
        ("火星坐标", "gcj02"),
        ("tencent", "gcj02"),
        ("腾讯", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("bd09ll", "bd09"),
        ("baidu", "bd09"),
        ("百度", "bd09"),
        ("EPSG:4547", "EPSG:4547"),
        ("epsg:4547", "EPSG:4547"),
        (" EPSG: 4547 ", "EPSG:4547"),
        ("4547", "EPSG:4547"),
        (4547, "EPSG:4547"),
        (np.int64(32650), "EPSG:32650"),
        (4547.0, "EPSG:4547"),  # spreadsheets deliver codes as floats
        ("4547.0", "EPSG:4547"),
    ],
)
def test_normalize_coord_sys(given, expected):
    assert coords.normalize_coord_sys(given) == expected


def test_unknown_name_lists_accepted_names():
    with pytest.raises(CoordinateSystemError, match="'foo'") as info:
        coords.normalize_coord_sys("foo")
    for name in ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG"):
        assert name in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("given", ["EPSG:999999", 999999, "999999"])
def test_unknown_epsg_code(given):
    with pytest.raises(CoordinateSystemError, match="999999") as info:
        coords.normalize_coord_sys(given)
    assert "gcj02" in str(info.value)


@pytest.mark.parametrize("given", ["EPSG:5773", None, True, float("nan"), ""])
def test_unusable_values(given):
    with pytest.raises(CoordinateSystemError):
        coords.normalize_coord_sys(given)


# --------------------------------------------------------------------------------------------
# to_wgs84


def test_to_wgs84_mixed_rows():
    true_lon = np.array([116.40, 112.96, 121.47, 113.26, 114.30, 114.30, 87.62])
    true_lat = np.array([39.90, 38.49, 31.23, 23.13, 30.60, 30.60, 43.83])
    # EPSG:4547 is CGCS2000 / 3-degree Gauss-Kruger CM 114E, metres (easting, northing).
    to_4547 = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True)
    easting, northing = to_4547.transform(114.30, 30.60)
    assert 500_000 < easting < 600_000 and 3_000_000 < northing < 4_000_000
    gcj = coords.wgs84_to_gcj02(true_lon[2], true_lat[2])
    bd = coords.wgs84_to_bd09(true_lon[3], true_lat[3])
    x = np.array([true_lon[0], true_lon[1], gcj[0], bd[0], easting, easting, true_lon[6]])
    y = np.array([true_lat[0], true_lat[1], gcj[1], bd[1], northing, northing, true_lat[6]])
    systems = np.array(["wgs84", "cgcs2000", "高德", "BD-09", "EPSG:4547", 4547, "WGS84"], object)
    lon, lat = coords.to_wgs84(x, y, systems)
    error = metres(lon, lat, true_lon, true_lat)
    assert error[:4].max() < EXACT_M
    assert error[4:6].max() < 1e-3  # PROJ round trip through Gauss-Kruger
    assert error[6] == 0


def test_to_wgs84_one_system_and_shapes():
    lon, lat = coords.to_wgs84([[116.0, 117.0]], [[40.0, 41.0]], "WGS-84")
    np.testing.assert_array_equal(lon, [[116.0, 117.0]])
    np.testing.assert_array_equal(lat, [[40.0, 41.0]])
    lon, lat = coords.to_wgs84(116.4, 39.9, "gcj02")
    assert lon.shape == ()
    lon, lat = coords.to_wgs84(116.4, 39.9, ["wgs84", "gcj02"])  # broadcast
    assert lon.shape == (2,) and lon[0] == 116.4 and lon[1] != 116.4
    lon, lat = coords.to_wgs84(np.array([]), np.array([]), np.array([], dtype=object))
    assert lon.shape == (0,)


def test_to_wgs84_failed_rows_are_nan():
    x = np.array([528770.0, 1e30, np.nan])
    y = np.array([3386666.0, 1e30, 3386666.0])
    lon, lat = coords.to_wgs84(x, y, "EPSG:4547")
    assert np.isfinite(lon[0]) and np.isfinite(lat[0])
    assert np.isnan(lon[1:]).all() and np.isnan(lat[1:]).all()


def test_to_wgs84_rejects_unknown_systems_and_bad_shapes():
    with pytest.raises(CoordinateSystemError, match="'foo'"):
        coords.to_wgs84([116.0, 117.0], [40.0, 41.0], ["wgs84", "foo"])
    with pytest.raises(CoordinateSystemError, match="shape"):
        coords.to_wgs84([116.0, 117.0, 118.0], [40.0, 41.0, 42.0], ["wgs84", "gcj02"])


# --------------------------------------------------------------------------------------------
# in_china

INSIDE = {
    "Beijing": (116.40, 39.90),
    "Taiyuan": (112.55, 37.87),
    "Dingxiang": (112.96, 38.49),
    "Urumqi": (87.62, 43.83),
    "Lhasa": (91.13, 29.65),
    "Harbin": (126.63, 45.75),
    "Haikou": (110.33, 20.03),
    "Kashgar": (75.99, 39.47),
    "Mohe": (122.5, 53.0),
    "Sanya": (109.51, 18.25),
    "Taipei": (121.56, 25.04),
    "Kaohsiung": (120.30, 22.63),
    "Hong Kong": (114.17, 22.32),
    "Macau": (113.54, 22.19),
    # border and coastal towns: the outline must be generous
    "Erenhot": (111.98, 43.65),
    "Manzhouli": (117.43, 49.60),
    "Khorgos": (80.42, 44.21),
    "Ruili": (97.85, 24.01),
    "Dongxing": (107.97, 21.54),
    "Hunchun": (130.37, 42.87),
    "Fuyuan": (134.29, 48.36),
    "Zhangmu": (85.98, 27.99),
    "Shengsi islands": (122.45, 30.73),
    "Penghu": (119.57, 23.57),
}
OUTSIDE = {
    "null island": (0.0, 0.0),
    "Taiyuan swapped": (37.8, 112.7),
    "Dingxiang swapped": (38.49, 112.96),
    "Ulaanbaatar": (106.9, 47.9),
    "Gobi centre": (105.0, 44.5),
    "Almaty": (76.9, 43.2),
    "Bishkek": (74.6, 42.87),
    "Delhi": (77.2, 28.6),
    "Islamabad": (73.05, 33.7),
    "Hanoi": (105.85, 21.03),
    "Tokyo": (139.69, 35.69),
    "Seoul": (126.98, 37.57),
    "East China Sea": (125.5, 30.0),
    "mid-Pacific": (-160.0, 20.0),
    "Manila": (120.98, 14.6),
}


def test_in_china():
    lon, lat = _split(list(INSIDE.values()))
    inside = coords.in_china(lon, lat)
    assert inside.all(), [name for name, ok in zip(INSIDE, inside, strict=True) if not ok]
    lon, lat = _split(list(OUTSIDE.values()))
    inside = coords.in_china(lon, lat)
    assert not inside.any(), [name for name, ok in zip(OUTSIDE, inside, strict=True) if ok]


def test_in_china_shapes_and_nan():
    assert coords.in_china(116.4, 39.9).shape == ()
    result = coords.in_china([[116.4, np.nan]], 39.9)
    assert result.dtype == bool
    np.testing.assert_array_equal(result, [[True, False]])


def test_china_outline_file():
    resource = files("spatial") / "data" / "china_outline.geojson"
    data = json.loads(resource.read_text(encoding="utf-8"))
    geometry = shapely.union_all([shape(feature["geometry"]) for feature in data["features"]])
    assert geometry.is_valid
    assert 40 <= shapely.get_num_coordinates(geometry) <= 400
    west, south, east, north = geometry.bounds
    assert 72 < west < 74 and 17 < south < 18.5 and 135 < east < 136 and 53.5 < north < 54.5


# --------------------------------------------------------------------------------------------
# utm_epsg


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (116.40, 39.90, 32650),  # Beijing
        (112.96, 38.49, 32649),  # Dingxiang
        (87.62, 43.83, 32645),  # Urumqi
        (75.99, 39.47, 32643),  # Kashgar
        (126.63, 45.75, 32652),  # Harbin
        (151.21, -33.87, 32756),  # Sydney
        (-180.0, 0.0, 32601),
        (180.0, 0.0, 32601),
    ],
)
def test_utm_epsg(lon, lat, expected):
    assert coords.utm_epsg(lon, lat) == expected
    assert pyproj.CRS.from_epsg(expected).is_projected


@pytest.mark.parametrize(("lon", "lat"), [(116.0, 112.0), (200.0, 40.0), (np.nan, 40.0)])
def test_utm_epsg_rejects_non_coordinates(lon, lat):
    with pytest.raises(CoordinateSystemError, match="longitude/latitude"):
        coords.utm_epsg(lon, lat)

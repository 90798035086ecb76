"""Coordinate systems used for Chinese enterprise locations, and conversions to WGS84.

Enterprise tables from Chinese sources give coordinates in one of four systems, or in a
projected CRS with an EPSG code:

``wgs84``
    GPS, international maps, EPSG:4326.
``cgcs2000``
    China Geodetic Coordinate System 2000 (EPSG:4490), used by official surveys and the
    national "tianditu" map. It is passed through unchanged, a deliberate decision: the two
    ellipsoids differ by less than 0.1 mm in position and the frames agree at the centimetre
    level at a common epoch. CGCS2000 coordinates are frozen at epoch 2000.0 while WGS84
    follows the plates (about 3 cm a year in China), so today they differ by well under a
    metre: negligible against the GCJ-02 offsets (hundreds of metres) and the kilometre
    distances screened here. PROJ does the same (a "ballpark", null transformation).
``gcj02``
    The obfuscated "Mars" system required for published maps in China: Amap/Gaode, Tencent,
    Google Maps China. Its forward formula is public; its inverse is computed here by
    iteration, exact to far below a millimetre.
``bd09``
    Baidu's system, a further distortion of GCJ-02, also inverted exactly by iteration.

All conversions are vectorised: they take scalars or arrays (broadcast against each other)
and return float arrays of the broadcast shape.

>>> lon, lat = to_wgs84([116.41024449916938, 116.404], [39.91640428150164, 39.915],
...                     ["gcj02", "wgs84"])
>>> print(lon.round(6), lat.round(6))
[116.404 116.404] [39.915 39.915]
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from shapely.geometry import shape as _shape

from spatial.errors import CoordinateSystemError
from spatial.geodesic import WGS84

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "normalize_coord_sys",
    "to_wgs84",
    "utm_epsg",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The named systems :func:`normalize_coord_sys` returns (besides ``'EPSG:<code>'``).
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")

# --------------------------------------------------------------------------------------------
# Names

# Spellings accepted for each named system, compared after case folding and dropping spaces,
# hyphens and underscores (so 'WGS-84', 'wgs 84' and 'wgs_84' all match 'wgs84').
_ALIASES: dict[str, tuple[str, ...]] = {
    "wgs84": ("wgs84", "wgs1984", "gps", "crs84", "ogc:crs84", "epsg:4326", "4326"),
    "cgcs2000": (
        "cgcs2000",
        "cgcs",
        "epsg:4490",
        "4490",
        "国家2000",
        "2000国家大地坐标系",
        "国家2000坐标系",
        "天地图",
    ),
    "gcj02": (
        "gcj02",
        "gcj",
        "amap",
        "autonavi",
        "gaode",
        "高德",
        "高德坐标",
        "tencent",
        "qq",
        "腾讯",
        "mars",
        "火星",
        "火星坐标",
        "火星坐标系",
        "国测局",
        "国测局坐标",
    ),
    "bd09": ("bd09", "bd09ll", "bd", "baidu", "百度", "百度坐标", "百度坐标系"),
}
_LOOKUP = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_EPSG_NAMED = {4326: "wgs84", 4490: "cgcs2000"}
_EPSG_RE = re.compile(r"(?:epsg:{0,2})?(\d+)(?:\.0*)?")
_ACCEPTED = (
    "wgs84 (also WGS-84, GPS, EPSG:4326), cgcs2000 (also CGCS2000, 国家2000, EPSG:4490), "
    "gcj02 (also GCJ-02, amap, gaode, 高德, tencent, 火星坐标), bd09 (also BD-09, baidu, 百度), "
    "or an EPSG code such as 'EPSG:4547'"
)


def normalize_coord_sys(value: str | int) -> str:
    """Return the canonical name of a coordinate system given in any accepted spelling.

    Parameters
    ----------
    value
        A name (``'WGS-84'``, ``'gcj-02'``, ``'高德'``, ``'baidu'`` ...), an EPSG code as text
        (``'EPSG:4547'``, ``'4547'``) or an integer EPSG code. Case, spaces, hyphens and
        underscores are ignored. A float with an integral value (``4547.0``, as spreadsheets
        deliver codes) is taken as that integer.

    Returns
    -------
    str
        One of ``'wgs84'``, ``'cgcs2000'``, ``'gcj02'``, ``'bd09'``, or ``'EPSG:<code>'`` for
        any other EPSG code. EPSG:4326 gives ``'wgs84'`` and EPSG:4490 ``'cgcs2000'``.

    Raises
    ------
    CoordinateSystemError
        If the name is not known, or the EPSG code is not a horizontal (geographic or
        projected) CRS known to PROJ. The message lists the accepted names.

    Examples
    --------
    >>> normalize_coord_sys("WGS-84"), normalize_coord_sys("高德"), normalize_coord_sys(4490)
    ('wgs84', 'gcj02', 'cgcs2000')
    >>> normalize_coord_sys("epsg:4547")
    'EPSG:4547'
    """
    if isinstance(value, bool | np.bool_):
        raise CoordinateSystemError(
            f"coordinate system {value!r} is a boolean; expected {_ACCEPTED}"
        )
    if isinstance(value, int | np.integer):
        return _normalize_epsg(int(value), value)
    if isinstance(value, float | np.floating) and math.isfinite(value) and value.is_integer():
        return _normalize_epsg(int(value), value)
    if not isinstance(value, str):
        raise CoordinateSystemError(
            f"coordinate system {value!r} ({type(value).__name__}) is neither a name nor an "
            f"EPSG code; expected {_ACCEPTED}"
        )
    key = re.sub(r"[\s\-_]+", "", value).casefold()
    if key in _LOOKUP:
        return _LOOKUP[key]
    match = _EPSG_RE.fullmatch(key)
    if match:
        return _normalize_epsg(int(match.group(1)), value)
    raise CoordinateSystemError(f"unknown coordinate system {value!r}; expected {_ACCEPTED}")


def _normalize_epsg(code: int, given: object) -> str:
    if code in _EPSG_NAMED:
        return _EPSG_NAMED[code]
    problem = _epsg_problem(code)
    if problem:
        raise CoordinateSystemError(
            f"coordinate system {given!r}: EPSG:{code} {problem}; expected {_ACCEPTED}"
        )
    return f"EPSG:{code}"


@functools.lru_cache(maxsize=256)
def _epsg_problem(code: int) -> str | None:
    """Why ``code`` is unusable as a horizontal CRS, or None if it is fine."""
    try:
        crs = pyproj.CRS.from_epsg(code)
    except pyproj.exceptions.CRSError:
        return "is not a coordinate reference system known to PROJ's EPSG database"
    if not (crs.is_geographic or crs.is_projected):
        return f"is a {crs.type_name} ({crs.name}), not a geographic or projected CRS"
    return None


# --------------------------------------------------------------------------------------------
# GCJ-02 and BD-09

# Constants of the published GCJ-02 formula: the Krasovsky 1940 ellipsoid.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# Iterative inverses stop when the forward image of the estimate is this close to the target
# (degrees; 1e-11 degree is about 1 micrometre) or after _MAX_ITER steps. The distortions
# vary slowly (their derivatives are of order 1e-3), so each fixed-point step shrinks the error
# by orders of magnitude and 4-5 steps reach the tolerance.
_TOL_DEG = 1e-11
_MAX_ITER = 30


def _prepare(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray, tuple]:
    """Broadcast to float arrays; return flat copies and the broadcast shape."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x.flatten(), y.flatten(), x.shape


def _out_of_china(lon: FloatArray, lat: FloatArray) -> BoolArray:
    """The bounding box outside which the GCJ-02 formula leaves points unchanged."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS84 at a WGS84 point, in degrees (the published formula)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _bd_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 to BD-09, the published formula without the China box."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_inverse_approx(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The textbook one-step BD-09 to GCJ-02 formula (off by up to about a metre)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    target_x: FloatArray,
    target_y: FloatArray,
    x: FloatArray,
    y: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x, y) == target`` by fixed-point iteration from the guess ``x, y``.

    Converges because ``forward`` is the identity plus a small, slowly varying distortion.
    """
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex = fx - target_x
        ey = fy - target_y
        x = x - ex
        y = y - ey
        # NaN compares False, so rows with NaN input do not hold up the others.
        if not ((np.abs(ex) > _TOL_DEG) | (np.abs(ey) > _TOL_DEG)).any():
            break
    return x, y


def _apply_inside(
    func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Apply ``func`` to the points inside the GCJ-02 box; others are returned unchanged."""
    x, y, shape = _prepare(lon, lat)
    inside = ~_out_of_china(x, y)
    if inside.any():
        x[inside], y[inside] = func(x[inside], y[inside])
    return x.reshape(shape), y.reshape(shape)


def _gcj_inverse(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_gcj_forward, lon, lat, lon - dlon, lat - dlat)


def _bd_inverse(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _invert(_bd_forward, lon, lat, *_bd_inverse_approx(lon, lat))


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to GCJ-02 (Amap/Gaode, Tencent).

    Uses the standard published formula (Krasovsky ellipsoid constants). Points outside the
    formula's China bounding box (longitude 72.004-137.8347, latitude 0.8293-55.8271) are
    returned unchanged.

    Parameters
    ----------
    lon, lat
        WGS84 degrees; scalars or arrays, broadcast against each other.

    Returns
    -------
    lon, lat
        GCJ-02 degrees, float arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> print(f"{lon:.6f} {lat:.6f}")
    116.410244 39.916404
    """
    return _apply_inside(_gcj_forward, lon, lat)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to WGS84, exactly.

    The common one-step inverse (subtracting the offset computed at the GCJ-02 point) is off
    by up to a few metres; this one iterates until :func:`wgs84_to_gcj02` of the result
    reproduces the input to about a micrometre. Points outside the GCJ-02 bounding box are
    returned unchanged.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees; scalars or arrays, broadcast against each other.

    Returns
    -------
    lon, lat
        WGS84 degrees, float arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    >>> print(f"{lon:.9f} {lat:.9f}")
    116.404000000 39.915000000
    """
    return _apply_inside(_gcj_inverse, lon, lat)


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Uses the standard published formula (``x_pi = pi * 3000 / 180``). Points outside the
    GCJ-02 bounding box are returned unchanged, as GCJ-02 leaves them (some implementations
    shift them anyway; a BD-09 label on a point outside China is doubtful either way).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees; scalars or arrays, broadcast against each other.

    Returns
    -------
    lon, lat
        BD-09 degrees, float arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> print(f"{lon:.6f} {lat:.6f}")
    116.410369 39.921337
    """
    return _apply_inside(_bd_forward, lon, lat)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to GCJ-02, exactly.

    The textbook one-step inverse is off by up to about a metre; this one starts from it and
    iterates until :func:`gcj02_to_bd09` of the result reproduces the input to about a
    micrometre. Points outside the GCJ-02 bounding box are returned unchanged.

    Parameters
    ----------
    lon, lat
        BD-09 degrees; scalars or arrays, broadcast against each other.

    Returns
    -------
    lon, lat
        GCJ-02 degrees, float arrays of the broadcast shape.
    """
    return _apply_inside(_bd_inverse, lon, lat)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitude/latitude to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat
        WGS84 degrees; scalars or arrays, broadcast against each other.

    Returns
    -------
    lon, lat
        BD-09 degrees, float arrays of the broadcast shape.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to WGS84, exactly (through GCJ-02).

    Parameters
    ----------
    lon, lat
        BD-09 degrees; scalars or arrays, broadcast against each other.

    Returns
    -------
    lon, lat
        WGS84 degrees, float arrays of the broadcast shape.

    Examples
    --------
    Baidu's own sample point for Tiananmen:

    >>> lon, lat = bd09_to_wgs84(116.404, 39.915)
    >>> print(f"{lon:.4f} {lat:.4f}")
    116.3914 39.9073
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# --------------------------------------------------------------------------------------------
# Any system to WGS84


@functools.lru_cache(maxsize=64)
def _transformer_to_wgs84(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)


def _convert_group(system: str, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    if system in ("wgs84", "cgcs2000"):
        return x, y
    if system == "gcj02":
        return gcj02_to_wgs84(x, y)
    if system == "bd09":
        return bd09_to_wgs84(x, y)
    try:
        ox, oy = _transformer_to_wgs84(system).transform(x, y)
    except pyproj.exceptions.ProjError:
        return np.full_like(x, np.nan), np.full_like(y, np.nan)
    return np.asarray(ox, dtype=float), np.asarray(oy, dtype=float)


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, coord_sys: str | int | npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates given in any supported system to WGS84 longitude/latitude.

    ``wgs84`` and ``cgcs2000`` pass through unchanged (see the module notes on CGCS2000),
    ``gcj02`` and ``bd09`` use the exact inverses in this module, and EPSG codes go through
    :class:`pyproj.Transformer` with ``always_xy=True`` (so x is easting or longitude, y is
    northing or latitude, whatever the CRS's axis order). Rows are grouped by system, so a
    mixed table costs one vectorised call per system.

    Parameters
    ----------
    lon, lat
        x and y in each row's own system (degrees, or the projected CRS's units); scalars or
        arrays, broadcast against each other.
    coord_sys
        One system for all rows, or an array of them (one per row, broadcast against
        ``lon``). Any spelling :func:`normalize_coord_sys` accepts.

    Returns
    -------
    lon, lat
        WGS84 degrees, float arrays of the broadcast shape. Rows whose conversion fails (PROJ
        errors, infinite results) are NaN in both.

    Raises
    ------
    CoordinateSystemError
        If a system is not understood, or ``coord_sys`` does not match the points' shape.

    Examples
    --------
    >>> lon, lat = to_wgs84([116.404, 116.404], [39.915, 39.915], ["WGS84", "bd09"])
    >>> print(lon.round(4), lat.round(4))
    [116.404  116.3914] [39.915  39.9073]
    """
    x, y, shape = _prepare(lon, lat)
    systems = np.asarray(coord_sys, dtype=object)
    if systems.ndim == 0:
        groups = {normalize_coord_sys(systems.item()): np.ones(x.size, dtype=bool)}
    else:
        try:
            full = np.broadcast_shapes(shape, systems.shape)
        except ValueError:
            raise CoordinateSystemError(
                f"coord_sys has shape {systems.shape} but the coordinates have shape {shape}; "
                "expected one system, or one per point"
            ) from None
        x = np.broadcast_to(x.reshape(shape), full).flatten()
        y = np.broadcast_to(y.reshape(shape), full).flatten()
        shape = full
        systems = np.broadcast_to(systems, full).ravel()
        keys, first, index = np.unique(systems.astype(str), return_index=True, return_inverse=True)
        groups = {}
        for k in range(keys.size):
            system = normalize_coord_sys(systems[first[k]])
            mask = index.ravel() == k
            groups[system] = groups[system] | mask if system in groups else mask
    out_x = np.full(x.size, np.nan)
    out_y = np.full(x.size, np.nan)
    for system, mask in groups.items():
        if mask.any():
            out_x[mask], out_y[mask] = _convert_group(system, x[mask], y[mask])
    bad = ~(np.isfinite(out_x) & np.isfinite(out_y)) & np.isfinite(x) & np.isfinite(y)
    out_x[bad] = np.nan
    out_y[bad] = np.nan
    return out_x.reshape(shape), out_y.reshape(shape)


# --------------------------------------------------------------------------------------------
# Plausibility and helpers


@functools.cache
def _china_outline() -> shapely.Geometry:
    resource = importlib.resources.files("spatial") / "data" / "china_outline.geojson"
    data = json.loads(resource.read_text(encoding="utf-8"))
    outline = shapely.union_all([_shape(feature["geometry"]) for feature in data["features"]])
    shapely.prepare(outline)
    return outline


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> BoolArray:
    """Whether WGS84 points fall in China (mainland, Hainan, Taiwan, Hong Kong, Macau).

    A plausibility check, deliberately generous: the outline shipped in
    ``spatial/data/china_outline.geojson`` is a coarse hand-traced one pushed roughly
    35-50 km beyond the land border and the coast, so a real site near a border or on a
    coastal island is never rejected, while swapped lon/lat, 0/0 placeholders and points in
    neighbouring countries' interiors are. Points within about 50 km outside the border
    (some border towns of neighbouring countries) count as inside. Outlying South China Sea
    islands are not included.

    Parameters
    ----------
    lon, lat
        WGS84 degrees; scalars or arrays, broadcast against each other. NaN gives False.

    Returns
    -------
    numpy.ndarray
        Booleans of the broadcast shape.

    Examples
    --------
    >>> in_china([116.40, 37.8, 106.9], [39.90, 112.7, 47.9])  # Beijing, swapped, Ulaanbaatar
    array([ True, False, False])
    """
    x, y, shape = _prepare(lon, lat)
    return shapely.contains_xy(_china_outline(), x, y).reshape(shape)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing a point, for metric work near it.

    Plain 6-degree zones (no Norway/Svalbard exceptions): 326xx north of the equator,
    327xx south. China spans zones 43-53 (EPSG:32643-32653).

    Parameters
    ----------
    lon, lat
        WGS84 degrees of one point (for example the centre of the area of interest).

    Returns
    -------
    int
        The EPSG code.

    Raises
    ------
    CoordinateSystemError
        If the point is not a finite longitude/latitude.

    Examples
    --------
    >>> utm_epsg(116.40, 39.90)  # Beijing, zone 50N
    32650
    """
    x = float(lon)
    y = float(lat)
    if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= 180.0 and abs(y) <= 90.0):
        raise CoordinateSystemError(
            f"utm_epsg: ({lon}, {lat}) is not a WGS84 longitude/latitude; expected "
            "-180 <= lon <= 180 and -90 <= lat <= 90"
        )
    zone = int((x + 180.0) // 6.0) % 60 + 1
    return (32600 if y >= 0.0 else 32700) + zone

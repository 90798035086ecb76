"""The checks of an enterprise's coordinates: the coordinate system of the file and of each row
(``coord_sys``), numbers that are not coordinates (NaN, 0/0, swapped lon/lat, outside China)
and sizes that do not fit the coordinate system (metres labelled as degrees: :func:`projected_hint`
says which ``--crs`` to try)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from spatial import coords
from spatial._validate import Problems
from spatial.cell_values import _text, parse_numbers
from spatial.errors import CoordinateSystemError, InputFileError

# --------------------------------------------------------------------------------------------
# Validation


def _file_coord_sys(crs: str | None, layer_crs: str | None, path: Path) -> str:
    try:
        if crs:
            return coords.normalize_coord_sys(crs)
        if layer_crs:
            return coords.normalize_coord_sys(layer_crs)
    except CoordinateSystemError as exc:
        raise InputFileError(f"{path}: {exc}") from None
    return "wgs84"


def _row_coord_sys(frame: pd.DataFrame, default: str, problems: Problems) -> np.ndarray:
    systems = np.full(len(frame), default, dtype=object)
    if "coord_sys" not in frame:
        return systems
    given = _text(frame, "coord_sys")
    codes, uniques = pd.factorize(given)
    mapped = []
    for value in uniques:
        if not value:
            mapped.append(default)
            continue
        try:
            mapped.append(coords.normalize_coord_sys(value))
        except CoordinateSystemError:
            mapped.append(None)
    lookup = np.asarray([*mapped, default], dtype=object)
    systems = lookup[codes]  # code -1 (missing) takes the last entry: the default
    unknown = pd.isna(systems).astype(bool)
    problems.add(
        unknown,
        "unknown_coord_sys",
        [
            f"coord_sys: unknown coordinate system '{v}' (use wgs84, cgcs2000, gcj02, bd09 or "
            "an EPSG code)"
            for v in given.to_numpy()[unknown]
        ],
        column="coord_sys",
        value=given.to_numpy()[unknown],
    )
    return np.where(unknown, default, systems)


def _is_geographic(system: str) -> bool:
    if system in {"wgs84", "cgcs2000", "gcj02", "bd09"}:
        return True
    from pyproj import CRS

    return CRS.from_user_input(system).is_geographic


def projected_hint(x: float, y: float) -> str:
    """Which ``--crs`` to try for coordinates that look like projected metres.

    Gauss-Krüger eastings with the zone number in front (8 digits) name their zone; without
    it the central meridian of the area is needed.

    >>> projected_hint(38_500_000, 4_170_000)
    'EPSG:4526 (CGCS2000 3-degree Gauss-Kruger zone 38)'
    >>> projected_hint(19_700_000, 4_170_000)
    'EPSG:4497 (CGCS2000 6-degree Gauss-Kruger zone 19)'
    """
    zone = int(abs(x) // 1_000_000)
    if 13 <= zone <= 23:
        return f"EPSG:{4491 + zone - 13} (CGCS2000 6-degree Gauss-Kruger zone {zone})"
    if 25 <= zone <= 45:
        return f"EPSG:{4513 + zone - 25} (CGCS2000 3-degree Gauss-Kruger zone {zone})"
    if 0 < abs(x) < 1_000_000 and 1_000_000 < abs(y) < 6_500_000:
        return (
            "the Gauss-Kruger system of your area's central meridian, e.g. EPSG:4547 (CGCS2000 "
            "3-degree, CM 114E; EPSG:4534-4554 cover CM 75E-135E) or EPSG:32649 (UTM 49N)"
        )
    return "the projected system (EPSG code) the coordinates were taken in"


def _fmt(value: float) -> str:
    return str(round(float(value), 6))


def _check_coordinates(
    frame: pd.DataFrame, systems: np.ndarray, problems: Problems
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse, range-check and convert coordinates.

    Returns WGS84 lon, lat (NaN when bad) and the input x, y as parsed."""
    n = len(frame)
    has_geometry = "__x__" in frame
    none = np.zeros(n, dtype=bool)
    from_geometry = frame["__x__"].notna().to_numpy() if has_geometry else none
    # rows whose geometry is unusable were reported once, with their geometry problem
    geometry_reported = (
        frame["__geomcode__"].ne("").to_numpy(dtype=bool) if "__geomcode__" in frame else none
    )
    parsed, shown = {}, {}
    for axis, geom_col in (("lon", "__x__"), ("lat", "__y__")):
        if axis in frame:
            text = _text(frame, axis)
            numbers, blank = parse_numbers(text, degrees=True)
            numbers, blank = numbers.to_numpy(dtype=float), blank.to_numpy(dtype=bool)
        else:
            text = pd.Series([""] * n, index=frame.index, dtype=object)
            numbers, blank = np.full(n, np.nan), np.ones(n, dtype=bool)
        cells = text.to_numpy(dtype=object)
        if has_geometry:
            from_geom = frame[geom_col].astype(float).to_numpy()
            numbers = np.where(from_geometry, from_geom, numbers)
            blank = blank & ~from_geometry & ~geometry_reported
            if from_geometry.any():
                cells = cells.copy()
                cells[from_geometry] = [repr(float(v)) for v in from_geom[from_geometry]]
        shown[axis] = cells
        problems.add(blank, "missing_coordinates", f"{axis}: missing", column=axis, value="")
        bad = np.isnan(numbers) & ~blank & ~geometry_reported
        problems.add(
            bad,
            "not_a_number",
            [f"{axis}: not a number ('{c}')" for c in cells[bad]],
            column=axis,
            value=cells[bad],
        )
        infinite = np.isinf(numbers)
        problems.add(
            infinite,
            "not_a_number",
            [f"{axis}: not a finite number ('{c}')" for c in cells[infinite]],
            column=axis,
            value=cells[infinite],
        )
        parsed[axis] = numbers
    x_input, y_input = parsed["lon"], parsed["lat"]
    x = np.where(np.isinf(x_input), np.nan, x_input)
    y = np.where(np.isinf(y_input), np.nan, y_input)
    usable = np.isfinite(x) & np.isfinite(y)

    def pair(mask: np.ndarray) -> list[str]:
        return [f"({_fmt(a)}, {_fmt(b)})" for a, b in zip(x[mask], y[mask], strict=True)]

    def values(mask: np.ndarray) -> list[str]:
        return [f"{a}, {b}" for a, b in zip(shown["lon"][mask], shown["lat"][mask], strict=True)]

    codes, uniques = pd.factorize(pd.Series(systems, dtype=object))
    geographic = np.array([_is_geographic(s) for s in uniques] + [True], dtype=bool)[codes]
    zero = usable & geographic & (x == 0) & (y == 0)
    problems.add(
        zero,
        "zero_coordinates",
        "lon/lat: 0/0 is a placeholder, not a location",
        column="lon/lat",
        value=values(zero),
    )
    usable &= ~zero

    degrees_like = usable & ~geographic & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    problems.add(
        degrees_like,
        "looks_geographic",
        [
            f"lon/lat: {p} look like degrees, but the coordinate system {s} is projected "
            "(metres); give --crs wgs84 (or cgcs2000, gcj02, bd09), or fix the coord_sys column"
            for p, s in zip(pair(degrees_like), systems[degrees_like], strict=True)
        ],
        column="lon/lat",
        value=values(degrees_like),
    )
    usable &= ~degrees_like

    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    in_range = usable & (~geographic | ((np.abs(x) <= 180) & (np.abs(y) <= 90)))
    if in_range.any():
        cx, cy = coords.to_wgs84(x[in_range], y[in_range], systems[in_range])
        lon[in_range], lat[in_range] = cx, cy
    converted = np.isfinite(lon) & np.isfinite(lat)
    failed = in_range & ~converted
    problems.add(
        failed,
        "conversion_failed",
        [
            f"lon/lat: cannot convert {p} from {s}"
            for p, s in zip(pair(failed), systems[failed], strict=True)
        ],
        column="lon/lat",
        value=values(failed),
    )

    inside = np.zeros(n, dtype=bool)
    inside[converted] = coords.in_china(lon[converted], lat[converted])
    outside = usable & geographic & ~inside & ~failed
    swapped = np.zeros(n, dtype=bool)
    if outside.any():
        sx, sy = y[outside], x[outside]
        ok = (np.abs(sx) <= 180) & (np.abs(sy) <= 90)
        hit = np.zeros(ok.size, dtype=bool)
        if ok.any():
            tx, ty = coords.to_wgs84(sx[ok], sy[ok], systems[outside][ok])
            hit[ok] = coords.in_china(tx, ty)
        swapped[outside] = hit
    problems.add(
        swapped,
        "lon_lat_swapped",
        [
            f"lon/lat swapped: {p} is outside China but lies in China with lon and lat "
            "exchanged; swap the two columns"
            for p in pair(swapped)
        ],
        column="lon/lat",
        value=values(swapped),
    )
    metres = outside & ~swapped & ((np.abs(x) > 1000) | (np.abs(y) > 1000))
    problems.add(
        metres,
        "looks_projected",
        [
            f"lon/lat: {_fmt(a)}, {_fmt(b)} are not degrees but the coordinate system {s} is; "
            f"they look like projected metres: give --crs {projected_hint(a, b)}, or fix the "
            "coord_sys column"
            for a, b, s in zip(x[metres], y[metres], systems[metres], strict=True)
        ],
        column="lon/lat",
        value=values(metres),
    )
    projected_outside = usable & ~geographic & converted & ~inside
    far = (outside & ~swapped & ~metres) | projected_outside
    problems.add(
        far,
        "outside_china",
        [
            f"lon/lat: {p} is outside China; check the coordinates and the coordinate system"
            for p in pair(far)
        ],
        column="lon/lat",
        value=values(far),
    )
    return lon, lat, x_input, y_input

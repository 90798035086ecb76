"""Read and validate enterprise inventories (CSV, XLSX, GeoPackage, GeoJSON).

Every input row ends up either in ``enterprises`` (a GeoDataFrame of WGS84 points with the
contract's typed columns) or in ``rejected`` (its raw values, its spreadsheet row number and
every reason it was refused). Problems of a whole file (unreadable, no coordinate columns) raise
:class:`~spatial.errors.InputFileError` with the file name and what to fix.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = folder / "plants.csv"
>>> text = "企业名称,编号,经度,纬度,行业\\n甲厂,A1,112.75,37.69,铸造\\n乙厂,A2,abc,37.7,钢铁\\n"
>>> _ = path.write_bytes(text.encode("gbk"))
>>> inv = load_enterprises(path)
>>> inv.enterprises[["id", "industry"]].values.tolist()
[['A1', 'foundry']]
>>> inv.rejected[["row", "reason"]].values.tolist()
[[3, "lon: not a number ('abc')"]]
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import coords, schema
from spatial._validate import Problems
from spatial.errors import CoordinateSystemError, InputFileError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}
HEADER_SEARCH_ROWS = 20
WGS84 = "EPSG:4326"


@dataclass
class Inventory:
    """The result of loading one inventory file.

    Attributes
    ----------
    enterprises
        Accepted rows: contract columns typed, extra columns kept as text, ``row`` (the
        spreadsheet row number), ``lon``/``lat`` in WGS84, ``lon_input``/``lat_input`` and
        ``coord_sys`` as given, point geometry in EPSG:4326.
    rejected
        Refused rows: ``row``, ``reason``, ``reason_code`` and the raw values as text.
    source
        The file read.
    encoding
        The text encoding detected (CSV), or the format name.
    header_map
        Original header → contract column, for every header that was recognised.
    blank_rows
        Completely empty rows skipped (not facilities, not counted as input rows).
    """

    enterprises: gpd.GeoDataFrame
    rejected: pd.DataFrame
    source: Path
    encoding: str
    header_map: dict[str, str] = field(default_factory=dict)
    blank_rows: int = 0

    @property
    def n_input(self) -> int:
        """Input rows (accepted + rejected)."""
        return len(self.enterprises) + len(self.rejected)

    def reject_counts(self) -> Counter:
        """Rejected rows per reason code (a row with two problems counts under both)."""
        counts: Counter = Counter()
        for codes in self.rejected.get("reason_code", []):
            counts.update(str(codes).split(";"))
        return counts

    def summary(self) -> str:
        """A short text a planner reads at the end of a run."""
        lines = [
            f"{self.source.name}: {self.n_input} rows read, {len(self.enterprises)} accepted, "
            f"{len(self.rejected)} rejected"
        ]
        lines += [f"  rejected for {code}: {n}" for code, n in sorted(self.reject_counts().items())]
        if self.blank_rows:
            lines.append(f"  blank rows skipped: {self.blank_rows}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reading files into text tables


def detect_encoding(raw: bytes) -> str:
    """The encoding of a text file as planners' tools write it.

    UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (a superset of GBK, which Excel on
    Chinese Windows uses for CSV).

    >>> detect_encoding("名称".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("名称".encode("gbk"))
    'gb18030'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"cannot decode the file as UTF-8 or GBK/GB18030 (bad bytes at offset {exc.start}); "
            "save it from Excel as 'CSV UTF-8' and try again"
        ) from None


def _read_csv_rows(path: Path) -> tuple[list[list[str]], str]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError(f"{path}: the file is empty")
    head = raw[:4096]
    control = sum(head.count(bytes([b])) for b in (*range(9), *range(14, 32)))
    if control > 0.3 * len(head) and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(f"{path}: this is not a text file; give a CSV, XLSX, GPKG or GeoJSON")
    try:
        encoding = detect_encoding(raw)
    except InputFileError as exc:
        raise InputFileError(f"{path}: {exc}") from None
    text = raw.decode(encoding).replace("\x00", "")  # a NUL is never part of a cell
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputFileError(f"{path}: not a readable CSV ({exc})") from None
    return rows, encoding


def _read_excel_rows(path: Path) -> list[list[str]]:
    try:
        frame = pd.read_excel(path, header=None, dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        raise InputFileError(f"{path}: cannot read the workbook ({exc})") from None
    return frame.fillna("").astype(str).values.tolist()


def _header_row(rows: list[list[str]], path: Path) -> int:
    """The row among the first few that has the most recognised headers."""
    best, best_hits = -1, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len({schema.canonical_column(c) for c in row if str(c).strip()} - {None})
        if hits > best_hits:
            best, best_hits = i, hits
    if best < 0 or best_hits < 2:
        raise InputFileError(
            f"{path}: no header row found in the first {HEADER_SEARCH_ROWS} rows; the header "
            "needs at least id, lon and lat (or 编号, 经度, 纬度)"
        )
    return best


def _table_from_rows(rows: list[list[str]], path: Path) -> tuple[pd.DataFrame, list[int], int]:
    """A text DataFrame from raw rows; with spreadsheet row numbers and blank rows skipped."""
    h = _header_row(rows, path)
    header = [str(c).strip() for c in rows[h]]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    header = [c if c else f"column_{i + 1}" for i, c in enumerate(header)]
    body, numbers, blank, overlong = [], [], 0, []
    for offset, row in enumerate(rows[h + 1 :]):
        cells = [str(c) for c in row]
        if not any(c.strip() for c in cells):
            blank += 1
            continue
        extra = [c for c in cells[width:] if c.strip()]
        cells = (cells + [""] * width)[:width]
        body.append(cells)
        numbers.append(h + 2 + offset)
        overlong.append(bool(extra))
    frame = pd.DataFrame(body, columns=pd.Index(header), dtype=object)
    frame["__overlong__"] = overlong
    return frame, numbers, blank


def _read_vector(path: Path) -> tuple[pd.DataFrame, str | None]:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # GDAL errors come in many types
        raise InputFileError(f"{path}: cannot read the layer ({exc})") from None
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    frame = frame.where(frame.notna(), "").astype(str)
    geom = gdf.geometry
    is_point = (geom.geom_type == "Point").to_numpy() & ~geom.is_empty.to_numpy()
    frame["__x__"] = np.where(is_point, shapely.get_x(geom.values), np.nan)
    frame["__y__"] = np.where(is_point, shapely.get_y(geom.values), np.nan)
    frame["__geomtype__"] = geom.geom_type.fillna("missing").astype(str).to_numpy()
    frame["__overlong__"] = False
    return frame, crs


def read_table(path: str | Path) -> tuple[pd.DataFrame, list[int], str, int, str | None]:
    """Read an inventory file into a text table.

    Returns
    -------
    table, row_numbers, encoding, blank_rows, crs
        The cells as text with the original headers; the spreadsheet row number of each row;
        the encoding or format; the count of blank rows skipped; the layer's CRS (vector files).
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        rows, encoding = _read_csv_rows(path)
        frame, numbers, blank = _table_from_rows(rows, path)
        return frame, numbers, encoding, blank, None
    if suffix in EXCEL_SUFFIXES:
        frame, numbers, blank = _table_from_rows(_read_excel_rows(path), path)
        return frame, numbers, "xlsx", blank, None
    if suffix in VECTOR_SUFFIXES:
        frame, crs = _read_vector(path)
        return frame, list(range(1, len(frame) + 1)), suffix.lstrip("."), 0, crs
    raise InputFileError(
        f"{path}: unsupported file type {suffix!r}; give .csv, .xlsx, .gpkg or .geojson"
    )


def map_headers(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename recognised headers to contract names; two headers for one column is an error."""
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    clashes = []
    for header in frame.columns:
        if str(header).startswith("__"):
            continue
        name = schema.canonical_column(header)
        if name is None:
            continue
        if name in seen:
            clashes.append(f"{seen[name]!r} and {header!r} both mean {name!r}")
            continue
        seen[name] = header
        mapping[header] = name
    if clashes:
        raise InputFileError(f"{path}: ambiguous headers: {'; '.join(clashes)}; keep one of each")
    renamed = frame.rename(columns=mapping)
    return renamed.loc[:, ~renamed.columns.duplicated()], mapping


# --------------------------------------------------------------------------------------------
# Parsing values

_DMS = re.compile(
    r"^\s*(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*(?:(?P<min>\d+(?:\.\d+)?)\s*['′分])?\s*"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:\"|″|''|′′|秒))?\s*(?P<hem>[NSEWnsew东西南北])?\s*$"
)


def _fold_number_text(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str).map(lambda s: unicodedata.normalize("NFKC", s))
    return text.str.replace("。", ".", regex=False).str.strip()


def _parse_dms(text: str) -> float:
    match = _DMS.match(text)
    if not match:
        return np.nan
    value = float(match["deg"]) + float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
    if (match["hem"] or "").upper() in {"S", "W", "南", "西"}:
        value = -value
    return value


def parse_numbers(values: pd.Series, *, degrees: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse text to floats: full-width digits, Chinese decimal point, and DMS for degrees.

    Returns
    -------
    numbers, blank
        The floats (NaN where blank or unparseable) and a mask of blank cells.

    >>> nums, blank = parse_numbers(pd.Series(["１１２．５", "112。5", "", "x"]))
    >>> nums.tolist()[:2], blank.tolist()
    ([112.5, 112.5], [False, False, True, False])
    >>> parse_numbers(pd.Series(["112°45′30″E"]), degrees=True)[0].round(6).tolist()
    [112.758333]
    """
    text = _fold_number_text(values)
    blank = text.eq("") | text.str.lower().isin({"nan", "none", "null", "-", "/"})
    numbers = pd.to_numeric(text.where(~blank), errors="coerce").astype(float)
    if degrees:
        retry = numbers.isna() & ~blank
        if retry.any():
            numbers[retry] = text[retry].map(_parse_dms)
    return numbers, blank


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
    given = frame["coord_sys"].fillna("").astype(str).str.strip()
    cache: dict[str, str | None] = {}
    for value in given[given != ""].unique():
        try:
            cache[value] = coords.normalize_coord_sys(value)
        except CoordinateSystemError:
            cache[value] = None
    mapped = given.map(lambda v: cache.get(v, default) if v else default)
    unknown = mapped.isna().to_numpy()
    problems.add(
        unknown,
        "unknown_coord_sys",
        "coord_sys: unknown coordinate system '" + given + "' (use wgs84, cgcs2000, gcj02, bd09 "
        "or an EPSG code)",
    )
    systems = np.where(unknown, default, mapped.to_numpy(dtype=object))
    return systems


def _is_geographic(system: str) -> bool:
    if system in {"wgs84", "cgcs2000", "gcj02", "bd09"}:
        return True
    from pyproj import CRS

    return CRS.from_user_input(system).is_geographic


def _check_coordinates(
    frame: pd.DataFrame, systems: np.ndarray, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    """Parse, range-check and convert coordinates; returns WGS84 lon, lat (NaN when bad)."""
    n = len(frame)
    from_geometry = frame["__x__"].notna() if "__x__" in frame else pd.Series(False, frame.index)
    # rows whose geometry is not a point are reported once, as not_a_point
    other_geometry = (
        frame["__geomtype__"].ne("missing") & ~from_geometry
        if "__geomtype__" in frame
        else pd.Series(False, frame.index)
    )
    parsed = {}
    for axis, geom_col in (("lon", "__x__"), ("lat", "__y__")):
        raw = frame[axis] if axis in frame else pd.Series([""] * n, index=frame.index)
        numbers, blank = parse_numbers(raw, degrees=True)
        if geom_col in frame:
            numbers = numbers.where(~from_geometry, frame[geom_col].astype(float))
            blank = blank & ~from_geometry & ~other_geometry
        text = raw.fillna("").astype(str).str.strip()
        problems.add(blank.to_numpy(), "missing_coordinates", f"{axis}: missing")
        bad = (numbers.isna() & ~blank & ~other_geometry).to_numpy()
        problems.add(bad, "not_a_number", f"{axis}: not a number ('" + text + "')")
        infinite = np.isinf(numbers.to_numpy())
        problems.add(infinite, "not_a_number", f"{axis}: not a finite number ('" + text + "')")
        parsed[axis] = numbers.where(~np.isinf(numbers)).to_numpy(dtype=float)
    x, y = parsed["lon"], parsed["lat"]
    usable = np.isfinite(x) & np.isfinite(y)

    geographic = np.array([_is_geographic(s) for s in systems], dtype=bool) if n else np.array([])
    zero = usable & geographic & (x == 0) & (y == 0)
    problems.add(zero, "zero_coordinates", "lon/lat: 0/0 is a placeholder, not a location")
    usable &= ~zero

    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    in_range = usable & (~geographic | ((np.abs(x) <= 180) & (np.abs(y) <= 90)))
    if in_range.any():
        cx, cy = coords.to_wgs84(x[in_range], y[in_range], systems[in_range])
        lon[in_range], lat[in_range] = cx, cy
    converted = np.isfinite(lon) & np.isfinite(lat)
    failed = in_range & ~converted
    problems.add(failed, "conversion_failed", "lon/lat: cannot convert from " + pd.Series(systems))

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
    shown = "(" + pd.Series(x).round(6).astype(str) + ", " + pd.Series(y).round(6).astype(str) + ")"
    problems.add(
        swapped,
        "lon_lat_swapped",
        "lon/lat swapped: " + shown + " is outside China but lies in China with lon and lat "
        "exchanged; swap the two columns",
    )
    projected_outside = usable & ~geographic & converted & ~inside
    problems.add(
        (outside & ~swapped) | projected_outside,
        "outside_china",
        "lon/lat: " + shown + " is outside China; check the coordinates and the coordinate system",
    )
    return lon, lat


def _check_id(frame: pd.DataFrame, numbers: list[int], problems: Problems) -> pd.Series:
    ids = frame["id"].fillna("").astype(str).str.strip()
    problems.add(ids.eq("").to_numpy(), "empty_id", "id: empty")
    nonblank = ids.ne("")
    first_row = pd.Series(numbers, index=frame.index).groupby(ids).transform("first")
    dup = (ids.duplicated(keep="first") & nonblank).to_numpy()
    problems.add(
        dup,
        "duplicate_id",
        "id: duplicate of row " + first_row.astype(str) + " ('" + ids + "')",
    )
    return ids


def _coded(frame: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    out = {}
    for name in schema.columns_of_type("code") + schema.columns_of_type(schema.YESNO):
        if name not in frame:
            continue
        text = frame[name].fillna("").astype(str)
        keys = text.map(schema.normalize_text)
        values = keys.map(schema.code_lookup(name))
        blank = keys.isin({"", "nan", "none", "null", "-", "/"})
        unknown = (values.isna() & ~blank).to_numpy()
        if schema.columns()[name].type == schema.YESNO:
            hint = "yes or no (是/否), or blank if unknown"
        else:
            hint = ", ".join(schema.codes(name))
        problems.add(
            unknown,
            "unknown_code",
            f"{name}: unknown value '" + text.str.strip() + f"' (expected {hint})",
        )
        out[name] = values.where(~blank)
    return out


def _numbers(frame: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    out = {}
    for name in schema.columns_of_type("number"):
        if name not in frame:
            continue
        numbers, blank = parse_numbers(frame[name])
        text = frame[name].fillna("").astype(str).str.strip()
        bad = (numbers.isna() & ~blank) | np.isinf(numbers)
        problems.add(bad.to_numpy(), "not_a_number", f"{name}: not a number ('" + text + "')")
        negative = (numbers < 0).to_numpy()
        problems.add(negative, "negative_value", f"{name}: negative ('" + text + "')")
        out[name] = numbers.where(~bad & (numbers >= 0))
    return out


def validate(
    frame: pd.DataFrame,
    numbers: list[int],
    path: Path,
    *,
    coord_sys: str = "wgs84",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split a header-mapped text table into accepted enterprises and rejected rows.

    Parameters
    ----------
    frame
        Cells as text, headers already mapped to contract names (see :func:`map_headers`).
    numbers
        The spreadsheet row number of each row, for messages.
    path
        The file, for messages.
    coord_sys
        The file's coordinate system, used where a row has no ``coord_sys`` of its own.
    """
    has_geometry = "__x__" in frame
    if not has_geometry and not {"lon", "lat"} <= set(frame.columns):
        found = ", ".join(c for c in frame.columns if not str(c).startswith("__"))
        raise InputFileError(
            f"{path}: no coordinate columns; add 'lon' and 'lat' (or 经度 and 纬度). "
            f"Columns found: {found}"
        )
    if "id" not in frame:
        raise InputFileError(
            f"{path}: no 'id' column; add a unique id per facility (e.g. 统一社会信用代码) "
            "under the header 'id' or '编号'"
        )
    frame = frame.reset_index(drop=True)
    problems = Problems(len(frame))
    problems.add(
        frame["__overlong__"].to_numpy(dtype=bool),
        "extra_cells",
        "row has more cells than the header; a comma inside a value must be quoted",
    )
    if has_geometry:
        no_point = frame["__x__"].isna() & frame["__geomtype__"].ne("missing")
        problems.add(
            no_point.to_numpy(),
            "not_a_point",
            "geometry: " + frame["__geomtype__"] + ", expected a point",
        )
    ids = _check_id(frame, numbers, problems)
    systems = _row_coord_sys(frame, coord_sys, problems)
    lon, lat = _check_coordinates(frame, systems, problems)
    coded = _coded(frame, problems)
    numeric = _numbers(frame, problems)

    bad = problems.bad_mask()
    reasons = problems.frame()
    raw_cols = [c for c in frame.columns if not str(c).startswith("__")]
    rejected = frame.loc[bad, raw_cols].astype(str).copy()
    rejected.insert(0, "row", np.asarray(numbers, dtype=np.int64)[bad])
    rejected.insert(1, "reason", reasons["reason"].to_numpy())
    rejected.insert(2, "reason_code", reasons["reason_code"].to_numpy())
    rejected.insert(3, "source", path.name)

    good = ~bad
    data: dict[str, object] = {"id": ids[good].to_numpy(dtype=object)}
    for name in schema.columns():
        if name in {"id", "lon", "lat", "coord_sys"}:
            continue
        if name in coded:
            values = coded[name][good]
            data[name] = np.where(values.isna(), None, values.to_numpy(dtype=object))
        elif name in numeric:
            data[name] = numeric[name][good].to_numpy(dtype=float)
        elif name in frame:
            data[name] = frame.loc[good, name].fillna("").astype(str).str.strip().to_numpy()
    for extra in raw_cols:
        if extra not in schema.columns() and extra not in data:
            data[extra] = frame.loc[good, extra].astype(str).to_numpy()
    data["row"] = np.asarray(numbers, dtype=np.int64)[good]
    data["lon"], data["lat"] = lon[good], lat[good]
    if has_geometry:
        data["lon_input"] = frame.loc[good, "__x__"].astype(float).to_numpy()
        data["lat_input"] = frame.loc[good, "__y__"].astype(float).to_numpy()
    else:
        data["lon_input"] = parse_numbers(frame.loc[good, "lon"], degrees=True)[0].to_numpy()
        data["lat_input"] = parse_numbers(frame.loc[good, "lat"], degrees=True)[0].to_numpy()
    data["coord_sys"] = systems[good]
    enterprises = gpd.GeoDataFrame(
        data, geometry=gpd.points_from_xy(lon[good], lat[good]), crs=WGS84
    )
    return enterprises, rejected.reset_index(drop=True)


def load_enterprises(path: str | Path, crs: str | None = None) -> Inventory:
    """Load and validate an enterprise inventory.

    Parameters
    ----------
    path
        A CSV (UTF-8, UTF-8 with BOM or GBK), XLSX, GeoPackage or GeoJSON file.
    crs
        The coordinate system of the whole file (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or
        an EPSG code). Rows with their own ``coord_sys`` keep theirs. Default: the layer's CRS
        for vector files, else ``wgs84``.

    Returns
    -------
    Inventory
        Accepted enterprises and rejected rows; ``accepted + rejected`` is every input row.
    """
    path = Path(path)
    frame, numbers, encoding, blank, layer_crs = read_table(path)
    frame, header_map = map_headers(frame, path)
    system = _file_coord_sys(crs, layer_crs, path)
    enterprises, rejected = validate(frame, numbers, path, coord_sys=system)
    return Inventory(enterprises, rejected, path, encoding, header_map, blank)

"""Reading a table of enterprises: CSV (the delimiter sniffed, a ragged file through the csv
module), XLSX (merged cells copied into the rows they span) or a vector layer, and finding its
header (the row among the first :data:`HEADER_SEARCH_ROWS` with the most recognised headers; a
two-row header combined). :func:`read_table` gives every cell as text; :func:`map_headers` maps
the headers to the data contract."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import schema
from spatial.errors import InputFileError
from spatial.layers import choose_layer
from spatial.text_encoding import REPLACEMENT, _decode, _Text

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}
HEADER_SEARCH_ROWS = 20
# Column names the outputs use themselves; an input column of that name is kept as input_<name>.
RESERVED_COLUMNS = frozenset(
    {"row", "reason", "reason_code", "source", "geometry", "fid", "ogc_fid", "lon_input",
     "lat_input"}
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Reading files into text tables


@dataclass
class _Table:
    """A file read as text: cells with their headers, row numbers and notes."""

    frame: pd.DataFrame
    numbers: np.ndarray
    encoding: str
    blank: int = 0
    crs: str | None = None
    warnings: list[str] = field(default_factory=list)


def _lines_with_offsets(text: str) -> Iterator[tuple[str, int]]:
    """The lines the csv module sees (split at \\n, \\r\\n and lone \\r) with their end offsets."""
    buffer = io.StringIO(text, newline="")
    end = 0
    for line in iter(buffer.readline, ""):
        end += len(line)
        yield line, end


def _records(text: str, delimiter: str) -> Iterator[tuple[list[str], int]]:
    """CSV records of ``text`` with the character offset where each ends."""
    ends = [0]

    def lines() -> Iterator[str]:
        for line, end in _lines_with_offsets(text):
            ends[0] = end
            yield line

    for record in csv.reader(lines(), delimiter=delimiter):
        yield record, ends[0]


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:HEADER_SEARCH_ROWS])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        return ","


def _recognised(row: list[str]) -> list[str | None]:
    return [schema.canonical_column(c) if str(c).strip() else None for c in row]


def _merge_header(main: list[str], other: list[str], main_is_lower: bool) -> list[str]:
    """Column by column: the recognised header of the two rows, else the lower row's text."""
    width = max(len(main), len(other))
    main = main + [""] * (width - len(main))
    other = other + [""] * (width - len(other))
    names = {n for n in _recognised(main) if n}
    merged = []
    for a, b in zip(main, other, strict=True):
        name_b = schema.canonical_column(b) if b.strip() else None
        if schema.canonical_column(a) if a.strip() else None:
            merged.append(a)
        elif name_b and name_b not in names:
            merged.append(b)
            names.add(name_b)
        else:
            lower, upper = (a, b) if main_is_lower else (b, a)
            merged.append(lower if lower.strip() else upper)
    return merged


def _find_header(rows: list[list[str]], path: Path) -> tuple[int, int, list[str]]:
    """The header among the first rows: (first row, last row, header cells).

    One row normally; two when the row above (a group title row) or below (sub-headers under
    merged cells) adds recognised headers the best row lacks.
    """
    best, best_hits = -1, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len({n for n in _recognised(row) if n})
        if hits > best_hits:
            best, best_hits = i, hits
    if best < 0 or best_hits < 2:
        raise InputFileError(
            f"{path}: no header row found in the first {HEADER_SEARCH_ROWS} rows; the header "
            "needs at least id, lon and lat (or 编号, 经度, 纬度)"
        )
    header = [str(c).strip() for c in rows[best]]
    first = last = best

    def gain(candidate: list[str]) -> int:
        return len({n for n in _recognised(candidate) if n}) - best_hits

    if best > 0:
        merged = _merge_header(header, [str(c).strip() for c in rows[best - 1]], True)
        if gain(merged) > 0:
            header, first = merged, best - 1
    if best + 1 < len(rows):
        below = [str(c).strip() for c in rows[best + 1]]
        known = _recognised(header)
        # a sub-header row has text only under empty or unknown headers (a data row has values
        # under the known ones)
        clean = all(not cell or j >= len(known) or known[j] is None for j, cell in enumerate(below))
        if clean:
            merged = _merge_header(header, below, False)
            if len({n for n in _recognised(merged) if n}) > len({n for n in known if n}):
                header, last = merged, best + 1
    return first, last, header


def _clean_headers(cells: list[str]) -> list[str]:
    """Header names safe to use as columns: no blanks, no internal or reserved names, unknown
    repeats numbered. Recognised repeats are left for :func:`map_headers` to report."""
    names: list[str] = []
    taken: set[str] = set()
    for i, cell in enumerate(cells):
        name = re.sub(r"[\x00-\x1f\x7f]+", " ", str(cell)).strip() or f"column_{i + 1}"
        if name.startswith("__"):
            name = "_" + name.lstrip("_")
        if name.casefold() in RESERVED_COLUMNS:
            name = f"input_{name}"
        if schema.canonical_column(name) is None and name.casefold() in taken:
            base, k = name, 2
            while f"{base}_{k}".casefold() in taken:
                k += 1
            name = f"{base}_{k}"
        taken.add(name.casefold())
        names.append(name)
    return names


def _frame_from_records(
    records: list[list[str]], start_row: int, header: list[str]
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Body records → (text frame with __overlong__, row numbers, blank rows)."""
    width = len(header)
    body, numbers, overlong, blank = [], [], [], 0
    for offset, row in enumerate(records):
        cells = [str(c) for c in row]
        if not any(c.strip() for c in cells):
            blank += 1
            continue
        overlong.append(any(c.strip() for c in cells[width:]))
        body.append((cells + [""] * width)[:width])
        numbers.append(start_row + offset)
    frame = pd.DataFrame(body, columns=pd.Index(header), dtype=object)
    if not body:
        frame = pd.DataFrame({name: pd.Series(dtype=object) for name in dict.fromkeys(header)})
        frame = frame.reindex(columns=header)
    frame["__overlong__"] = np.asarray(overlong, dtype=bool)
    return frame, np.asarray(numbers, dtype=np.int64), blank


def _trim_header(cells: list[str]) -> list[str]:
    header = [str(c).strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    return header


_FIELDS = re.compile(r"Expected (\d+) fields in line \d+, saw (\d+)")
MAX_FAST_COLUMNS = 256


def _fast_body(
    body: str | bytes, delimiter: str, ncols: int, start: int = 0
) -> pd.DataFrame | None:
    """All body records through the pandas C parser, or None if the file is irregular.

    ``body`` is text, or UTF-8 bytes whose records begin at byte ``start`` (the whole file, so
    a big one is not copied). A row with more cells than ``ncols`` makes the parser stop; it is
    retried with room for them (up to a few times, and ``MAX_FAST_COLUMNS``), so a few overlong
    rows do not send a big file to the csv module. An unclosed quote does.
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    if not data[start:].strip(b"\r\n"):
        return None
    for _ in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                handle = io.BytesIO(data)  # shares the bytes, no copy
                handle.seek(start)
                frame = pd.read_csv(
                    handle,
                    encoding="utf-8",
                    sep=delimiter,
                    header=None,
                    names=list(range(ncols)),
                    index_col=False,
                    dtype=object,
                    na_filter=False,
                    skip_blank_lines=False,
                    engine="c",
                    quotechar='"',
                    doublequote=True,
                    low_memory=False,
                )
            except pd.errors.ParserError as exc:
                wider = _FIELDS.search(str(exc))
                if wider is None or int(wider[2]) > MAX_FAST_COLUMNS:
                    return None
                ncols = max(int(wider[2]), ncols + 8)
                continue
            except (pd.errors.ParserWarning, ValueError, OverflowError):
                return None
        return frame.fillna("")
    return None


def _head(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first records (enough to find the header) and where each ends.

    Read from a prefix of the text, grown until it holds them (or is the whole text).
    """
    size = 1 << 16
    while True:
        prefix = text[:size]
        head: list[list[str]] = []
        ends: list[int] = []
        for record, end in _records(prefix, delimiter):
            head.append(record)
            ends.append(end)
            if len(head) > HEADER_SEARCH_ROWS + 1:
                break
        # the last record of a prefix may be cut short (even inside a \r\n): the ones kept
        # are followed by another that starts inside the prefix, so they and their ends are whole
        if len(prefix) == len(text) or len(head) > HEADER_SEARCH_ROWS + 1:
            return head[: HEADER_SEARCH_ROWS + 1], ends[: HEADER_SEARCH_ROWS + 1]
        size *= 4


def _choose_delimiter(text: str, path: Path) -> tuple[str, list[list[str]], list[int]]:
    """The delimiter whose first records hold the best header row (the sniffed one on a tie).

    csv.Sniffer guesses from character counts, which cells full of commas or semicolons
    mislead; the recognised headers decide.
    """
    sniffed = _sniff_delimiter(text)
    best: tuple[int, str, list[list[str]], list[int]] | None = None
    error: csv.Error | None = None
    for delimiter in dict.fromkeys((sniffed, ",", "\t", ";")):
        try:
            head, ends = _head(text, delimiter)
        except csv.Error as exc:
            error = error or exc
            continue
        hits = max(
            (len({n for n in _recognised(r) if n}) for r in head[:HEADER_SEARCH_ROWS]), default=0
        )
        if best is None or hits > best[0]:
            best = (hits, delimiter, head, ends)
    if best is None:
        raise InputFileError(f"{path}: not a readable CSV ({error})")
    return best[1], best[2], best[3]


def _filled(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Of ``rows``, those whose cell in ``values`` has more than whitespace."""
    cells = values[rows]
    candidates = rows[cells != ""]
    if candidates.size == 0:
        return candidates
    keep = np.fromiter((bool(str(c).strip()) for c in values[candidates]), bool, candidates.size)
    return candidates[keep]


def _blank_and_overlong(table: pd.DataFrame, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose cells are all blank; rows with text beyond the header's width.

    Each cell is stripped at most once, and only while its row is not yet known to hold text.
    """
    n = len(table)
    filled = np.zeros(n, dtype=bool)
    overlong = np.zeros(n, dtype=bool)
    everything = np.arange(n)
    for j in range(table.shape[1]):
        values = table[j].to_numpy(dtype=object)
        if j < width:
            filled[_filled(values, np.flatnonzero(~filled))] = True
        else:
            hit = _filled(values, everything)
            overlong[hit] = True
            filled[hit] = True
    return ~filled, overlong


def _read_csv_table(path: Path) -> _Table:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError(f"{path}: the file is empty")
    head = raw[:4096]
    control = sum(head.count(bytes([b])) for b in (*range(9), *range(14, 32)))
    if control > 0.3 * len(head) and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(f"{path}: this is not a text file; give a CSV, XLSX, GPKG or GeoJSON")
    decoded = _decode(raw, path)
    text = decoded.text
    delimiter, head_rows, head_ends = _choose_delimiter(text, path)
    _, last, cells = _find_header(head_rows, path)
    header = _clean_headers(_trim_header(cells))
    width = len(header)
    start_row = last + 2  # spreadsheet row number of the first body record
    ncols = max([width, *(len(r) for r in head_rows)])
    body_chars = head_ends[last]
    # the body as UTF-8 bytes: the file itself when it is UTF-8 (no copy), else re-encoded
    byte_start = len(text[:body_chars].encode("utf-8"))
    if decoded.encoding in {"utf-8", "utf-8-sig"} and REPLACEMENT not in text:
        data = raw
        byte_start += 3 if decoded.encoding == "utf-8-sig" else 0
    else:
        data = text.encode("utf-8")
    table = None
    if not decoded.minority_offsets:
        del raw, text  # only the bytes are needed now
        decoded.text = ""
        table = _fast_body(data, delimiter, ncols, byte_start)
    if table is not None:
        del data
        cells_blank, overlong = _blank_and_overlong(table, width)
        keep = ~cells_blank
        numbers = (start_row + np.flatnonzero(keep)).astype(np.int64)
        frame = table.loc[keep, list(range(width))].reset_index(drop=True)
        frame.columns = pd.Index(header)
        frame["__overlong__"] = overlong[keep]
        blank = int(cells_blank.sum())
    else:
        body_text = data[byte_start:].decode("utf-8")
        del data
        records, ends = [], []
        try:
            for record, end in _records(body_text, delimiter):
                records.append(record)
                ends.append(end)
        except csv.Error as exc:
            raise InputFileError(f"{path}: not a readable CSV ({exc})") from None
        del body_text
        frame, numbers, blank = _frame_from_records(records, start_row, header)
    notes = []
    if decoded.minority:
        notes.append(_mixed_note(decoded, head_ends, ends if table is None else [], start_row))
    return _Table(frame, numbers, decoded.encoding, blank, None, notes)


def _mixed_note(decoded: _Text, head_ends: list[int], body_ends: list[int], start: int) -> str:
    """The warning for a file that mixes UTF-8 and GB18030 lines, naming the rows."""
    base = head_ends[start - 2] if start >= 2 else 0
    ends = np.asarray(head_ends[: start - 1] + [base + e for e in body_ends], dtype=np.int64)
    rows = sorted({int(i) + 1 for i in np.searchsorted(ends, decoded.minority_offsets, "right")})
    shown = ", ".join(map(str, rows[:20])) + (
        f" and {len(rows) - 20} more" if len(rows) > 20 else ""
    )
    names = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030"}
    main = decoded.encoding.split("+")[0]
    subject = f"rows {shown} are" if len(rows) > 1 else f"row {shown} is"
    return (
        f"the file mixes encodings: {subject} {names[decoded.minority or '']} while the "
        f"rest is {names[main]}; each line was decoded on its own and kept, but check the text "
        "of those rows and save the whole file once as 'CSV UTF-8'"
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    return str(value)


_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _merged_ranges(workbook, sheet) -> list[tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row) of the merged cells of a read-only worksheet.

    Read-only worksheets do not expose them, so they are read from the sheet's XML (they
    follow the cell data), streamed in blocks.
    """
    try:
        handle = workbook._archive.open(sheet._worksheet_path)
    except (AttributeError, KeyError, OSError):
        return []
    ranges, tail = [], b""
    with handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            data = tail + block
            last = 0
            for match in _MERGE_CELL.finditer(data):
                c1, r1, c2, r2 = match.groups()
                ranges.append((_column_number(c1), int(r1), _column_number(c2), int(r2)))
                last = match.end()
            tail = data[max(last, len(data) - 200) :]
    return ranges


def _read_excel_rows(path: Path, notes: list[str] | None = None) -> list[list[str]]:
    """The first worksheet as text rows; vertically merged cells copied into every row.

    The workbook is streamed (read-only), so a big one does not need its cells' objects in
    memory at once.
    """
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a corrupt workbook raises zipfile, XML and KeyError types
        raise InputFileError(
            f"{path}: cannot read the workbook ({type(exc).__name__}: {exc}); open it in Excel "
            "and save it again as .xlsx"
        ) from None
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise InputFileError(f"{path}: the workbook has no worksheet")
        sheet = sheets[0]
        if len(sheets) > 1 and notes is not None:
            notes.append(f"read the first sheet {sheet.title!r} of {len(sheets)} sheets")
        sheet.reset_dimensions()  # some tools write a wrong <dimension>: read every cell
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = [
                [_cell_text(v) for v in row]
                for row in sheet.iter_rows(min_row=1, min_col=1, values_only=True)
            ]
        for min_col, min_row, max_col, max_row in _merged_ranges(workbook, sheet):
            if min_col != max_col or min_row > len(rows):
                continue
            j, top = min_col - 1, min_row - 1
            value = rows[top][j] if j < len(rows[top]) else ""
            for i in range(top + 1, min(max_row, len(rows))):
                rows[i].extend([""] * (j + 1 - len(rows[i])))
                rows[i][j] = value
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            f"{path}: cannot read the workbook ({type(exc).__name__}: {exc}); open it in Excel "
            "and save it again as .xlsx"
        ) from None
    finally:
        workbook.close()
    for row in rows:
        while row and not row[-1]:
            row.pop()
    return rows


def _table_from_rows(rows: list[list[str]], path: Path) -> tuple[pd.DataFrame, list[int], int]:
    """A text DataFrame from raw rows; with spreadsheet row numbers and blank rows skipped."""
    _, last, cells = _find_header(rows, path)
    header = _clean_headers(_trim_header(cells))
    frame, numbers, blank = _frame_from_records(rows[last + 1 :], last + 2, header)
    return frame, numbers.tolist(), blank


def _geometry_columns(geom: gpd.GeoSeries) -> pd.DataFrame:
    """Per feature: x, y of its point (or NaN), type, problem code and message."""
    arr = np.asarray(geom.values, dtype=object)
    n = arr.size
    missing = shapely.is_missing(arr)
    empty = ~missing & shapely.is_empty(arr)
    kind = shapely.get_type_id(arr)
    parts = shapely.get_num_geometries(arr)
    point = (kind == 0) & ~empty
    single = (kind == 4) & (parts == 1) & ~empty
    points = arr.copy()
    if single.any():
        points[single] = shapely.get_geometry(arr[single], 0)
    usable = point | single
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    if usable.any():
        x[usable] = shapely.get_x(points[usable])
        y[usable] = shapely.get_y(points[usable])
    types = np.array(
        [g.geom_type if g is not None else "missing" for g in arr], dtype=object
    ).astype(str)
    code = np.full(n, "", dtype=object)
    message = np.full(n, "", dtype=object)
    code[empty] = "empty_geometry"
    message[empty] = [f"geometry: empty {t}, expected a point" for t in types[empty]]
    multi = (kind == 4) & (parts > 1)
    code[multi] = "multi_part"
    message[multi] = [
        f"geometry: MultiPoint of {k} points; give one point per facility (one row each)"
        for k in parts[multi]
    ]
    other = ~missing & ~empty & ~usable & ~multi
    if other.any():
        reasons = shapely.is_valid_reason(arr[other])
        code[other] = "not_a_point"
        message[other] = [
            f"geometry: {t}, expected a point"
            + ("" if r == "Valid Geometry" else f" (and invalid: {r})")
            for t, r in zip(types[other], reasons, strict=True)
        ]
    return pd.DataFrame(
        {
            "__x__": x,
            "__y__": y,
            "__geomtype__": types,
            "__geomcode__": code,
            "__geommsg__": message,
            "__has_z__": ~missing & ~empty & shapely.has_z(arr),
        }
    )


def _read_vector(path: Path) -> tuple[pd.DataFrame, str | None]:
    frame, crs, _ = _read_vector_table(path)
    return frame, crs


def _read_vector_table(path: Path) -> tuple[pd.DataFrame, str | None, list[str]]:
    layer, notes = choose_layer(path, "enterprise")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL warns about odd but readable files
            gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # GDAL errors come in many types
        raise InputFileError(f"{path}: cannot read the layer ({exc})") from None
    geometry = (
        gdf.geometry
        if isinstance(gdf, gpd.GeoDataFrame) and gdf._geometry_column_name in gdf
        else None
    )
    if geometry is None:
        attributes = pd.DataFrame(gdf)
        crs = None
    else:
        attributes = pd.DataFrame(gdf.drop(columns=geometry.name))
        crs = gdf.crs.to_string() if gdf.crs is not None else None
    attributes = attributes.astype(object)
    attributes = attributes.where(attributes.notna(), "").astype(str).astype(object)
    attributes.columns = pd.Index(_clean_headers([str(c) for c in attributes.columns]))
    attributes = attributes.reset_index(drop=True)
    if geometry is not None:
        geo = _geometry_columns(geometry)
        if geo["__has_z__"].any():
            notes.append(
                f"{int(geo['__has_z__'].sum())} features are 3D; their height (Z) was dropped"
            )
        attributes = pd.concat([attributes, geo.drop(columns="__has_z__")], axis=1)
    attributes["__overlong__"] = False
    return attributes, crs, notes


def _read(path: str | Path) -> _Table:
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder; give the inventory file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv_table(path)
    if suffix in EXCEL_SUFFIXES:
        notes: list[str] = []
        frame, numbers, blank = _table_from_rows(_read_excel_rows(path, notes), path)
        return _Table(frame, np.asarray(numbers, dtype=np.int64), "xlsx", blank, None, notes)
    if suffix in VECTOR_SUFFIXES:
        frame, crs, notes = _read_vector_table(path)
        numbers = np.arange(1, len(frame) + 1, dtype=np.int64)
        return _Table(frame, numbers, suffix.lstrip("."), 0, crs, notes)
    hint = " (save the old .xls workbook as .xlsx)" if suffix == ".xls" else ""
    raise InputFileError(
        f"{path}: unsupported file type {suffix!r}; give .csv, .xlsx, .gpkg or .geojson{hint}"
    )


def read_table(path: str | Path) -> tuple[pd.DataFrame, list[int], str, int, str | None]:
    """Read an inventory file into a text table.

    Returns
    -------
    table, row_numbers, encoding, blank_rows, crs
        The cells as text with the original headers; the spreadsheet row number of each row;
        the encoding or format; the count of blank rows skipped; the layer's CRS (vector files).
    """
    table = _read(path)
    return table.frame, table.numbers.tolist(), table.encoding, table.blank, table.crs


def map_headers(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename recognised headers to contract names; two headers for one column is an error."""
    mapping: dict[str, str] = {}
    seen: dict[str, tuple[str, int]] = {}
    clashes: list[str] = []
    units_wrong: list[str] = []
    for position, header in enumerate(frame.columns):
        if str(header).startswith("__"):
            continue
        name = schema.canonical_column(header)
        conflict = schema.unit_conflict(header)
        if conflict is not None:
            column, units = conflict
            units_wrong.append(
                f"{header!r} (column {position + 1}) looks like {column!r} "
                f"({schema.columns()[column].aliases[0]}) but its unit is not "
                f"{' or '.join(units)}: convert the values to {units[0]} and head the column "
                f"'{schema.columns()[column].aliases[0]}({units[0]})'"
            )
            continue
        if name is None:
            continue
        if name in seen:
            other, where = seen[name]
            clashes.append(
                f"{other!r} (column {where + 1}) and {header!r} (column {position + 1}) both "
                f"mean {name!r}"
            )
            continue
        seen[name] = (header, position)
        mapping[header] = name
    problems = [f"ambiguous headers: {'; '.join(clashes)}; keep one of each"] if clashes else []
    problems += units_wrong
    if problems:
        raise InputFileError(f"{path}: " + "; ".join(problems))
    renamed = frame.rename(columns=mapping)
    return renamed.loc[:, ~renamed.columns.duplicated()], mapping

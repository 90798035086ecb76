"""Read and validate enterprise inventories (CSV, XLSX, GeoPackage, GeoJSON).

Every input row ends up either in ``enterprises`` (a GeoDataFrame of WGS84 points with the
contract's typed columns) or in ``rejected`` (its raw values, its spreadsheet row number and
every reason it was refused); completely empty rows are counted as ``blank_rows``. Problems of a
whole file (unreadable, no coordinate columns) raise :class:`~spatial.errors.InputFileError`
with the file name and what to fix. No other exception escapes for bad input.

What the reader does with awkward files (see the README's failure-mode list):

- **Encodings**: UTF-8 (with or without BOM), UTF-16 with BOM, else GBK/GB18030. A file that
  is not valid UTF-8 is decoded line by line: a line that is valid UTF-8 and reads like
  Chinese (mostly common hanzi and punctuation) is read as UTF-8, else as GB18030. A file that
  mixes both (rows appended from another tool) is read correctly and the rows in the less
  common encoding are named in :attr:`Inventory.warnings`. Bytes valid in neither become
  U+FFFD and their row is rejected as ``bad_encoding``.
- **Header**: the row among the first 20 with the most recognised headers; a title row above
  it is skipped, and a two-row header (a group title row with merged cells over its
  sub-headers) is combined. In XLSX, vertically merged cells (a county name spanning its rows)
  are copied into every row they span.
- **Headers that clash**: two headers meaning one contract column is a file error; repeated
  unknown headers are numbered (``备注``, ``备注_2``); headers the outputs use themselves
  (``row``, ``reason``, ``geometry``, ``fid`` ...) are renamed ``input_<name>``.
- **Numbers**: full-width digits, '。' as decimal point, DMS (112°45′30″E); NaN/inf, 0/0,
  swapped lon/lat, points outside China, and coordinates whose size does not fit the
  coordinate system (metres labelled as degrees and the reverse) are rejected with a reason
  that says which ``--crs`` to try.
- **Geometry** (GPKG/GeoJSON): points are used; a MultiPoint with one point is that point; 3D
  points lose their Z; empty, missing-and-no-lon/lat, multi-part and non-point geometries
  (with their validity problem, e.g. a self-intersection) are rejected.
- **Speed**: a regular CSV goes through the pandas C parser; a ragged one (rows longer than
  the header, an unclosed quote) falls back to the csv module, with the same result.

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
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import coords, schema, vocabulary
from spatial._validate import Problems
from spatial.errors import CoordinateSystemError, InputFileError
from spatial.geodesic import WGS84
from spatial.layers import choose_layer

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}
HEADER_SEARCH_ROWS = 20
BLANK_WORDS = frozenset({"nan", "none", "null", "-", "/"})
# Column names the outputs use themselves; an input column of that name is kept as input_<name>.
RESERVED_COLUMNS = frozenset(
    {"row", "reason", "reason_code", "source", "geometry", "fid", "ogc_fid", "lon_input",
     "lat_input"}
)  # fmt: skip
REPLACEMENT = "\ufffd"
# Characters a cell may not hold: C0 controls but tab, line feed and carriage return (a cell
# may span lines), DEL, C1 controls and the XML non-characters U+FFFE/U+FFFF. Excel, the
# GeoPackage readers and XML (xlsx, html) refuse or mangle them; a NUL inside a number would
# otherwise be read as the digits around it.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# Invisible characters removed from ids before the duplicate check (with NFKC)
ZERO_WIDTH = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
SCIENTIFIC_ID = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]\d+")

# reason_code → (Chinese, English, how to fix in Chinese, how to fix in English)
REASONS: dict[str, tuple[str, str, str, str]] = {
    "missing_coordinates": (
        "缺少经纬度", "missing coordinates",
        "填写经度和纬度（十进制度，如 112.75、37.69）", "fill in lon and lat (decimal degrees)",
    ),
    "not_a_number": (
        "不是有效数字", "not a number",
        "只填数字，如 112.75 或 112°45′30″；不要填文字、单位或逗号",
        "write a plain number such as 112.75 (or 112°45′30″), no words, units or commas",
    ),
    "zero_coordinates": (
        "经纬度为 0/0（占位值）", "0/0 placeholder coordinates",
        "填写企业的实际经纬度", "give the facility's real coordinates",
    ),
    "lon_lat_swapped": (
        "经度、纬度填反", "lon and lat swapped",
        "交换经度、纬度两列的数值", "exchange the lon and lat values",
    ),
    "outside_china": (
        "位置在中国境外", "outside China",
        "核对经纬度和坐标系", "check the coordinates and the coordinate system",
    ),
    "looks_projected": (
        "坐标像投影坐标（米），不是经纬度", "coordinates look projected (metres), not degrees",
        "用 --crs 指定投影坐标系（如 EPSG:4547），或换成经纬度",
        "give the projected system with --crs (e.g. EPSG:4547) or convert to degrees",
    ),
    "looks_geographic": (
        "坐标像经纬度，但坐标系是投影坐标系", "coordinates look like degrees in a projected system",
        "用 --crs wgs84（或 cgcs2000、gcj02、bd09）", "give --crs wgs84 (or cgcs2000, gcj02, bd09)",
    ),
    "conversion_failed": (
        "坐标转换失败", "coordinate conversion failed",
        "核对坐标系和坐标值", "check the coordinate system and the values",
    ),
    "unknown_coord_sys": (
        "坐标系无法识别", "unknown coordinate system",
        "填 wgs84、cgcs2000、gcj02（高德）、bd09（百度）或 EPSG 代码",
        "use wgs84, cgcs2000, gcj02, bd09 or an EPSG code",
    ),
    "empty_id": (
        "编号为空", "empty id",
        "为每家企业填写唯一编号（如统一社会信用代码）", "give every facility a unique id",
    ),
    "id_scientific": (
        "编号被改成科学计数法（末位数字已丢失）", "id in scientific notation (digits lost)",
        "在 Excel 中把编号列设为“文本”格式，重新填写完整编号（如 18 位统一社会信用代码）",
        "format the id column as Text in Excel and re-enter the full ids (e.g. 18-digit codes)",
    ),
    "control_character": (
        "含不可见的控制字符", "invisible control character",
        "删除该单元格中的控制字符（重新输入该单元格的文字）",
        "retype the cell's text without the invisible control character",
    ),
    "duplicate_id": (
        "编号重复", "duplicate id",
        "同一编号只保留一行，或改为不同编号", "keep one row per id or give distinct ids",
    ),
    "unknown_code": (
        "取值不在代码表中", "value not in the code list",
        "按提示填写允许的取值（如 是/否、铸造、限制类）",
        "use one of the listed values (e.g. yes/no, foundry, restricted)",
    ),
    "negative_value": (
        "数值为负", "negative number", "填写非负数", "give a number of zero or more",
    ),
    "extra_cells": (
        "单元格多于表头", "more cells than headers",
        "含逗号的内容请加英文双引号，或删除多余单元格",
        "quote values that contain commas, or delete the extra cells",
    ),
    "bad_encoding": (
        "含无法识别的字符（乱码）", "unreadable characters (encoding)",
        "重新输入该行文字，或将文件另存为“CSV UTF-8”",
        "retype the row's text or save the file as 'CSV UTF-8'",
    ),
    "empty_geometry": (
        "几何为空", "empty geometry", "为该要素绘制一个点", "give the feature a point",
    ),
    "multi_part": (
        "多点几何", "multi-part geometry",
        "每家企业只保留一个点（拆分为多行）", "one point per facility (split into rows)",
    ),
    "not_a_point": (
        "几何不是点", "geometry is not a point",
        "用企业位置的点代替线或面", "use a point at the facility instead of a line or area",
    ),
}  # fmt: skip


def planner_headers(header_map: dict[str, str]) -> dict[str, str]:
    """Contract column → the header the planner's sheet gives it, where that header is their
    own word (a sheet headed with the contract's names, ``ultra_low``, gets the Chinese label).

    >>> planner_headers({"锅炉蒸吨(t/h)": "boiler_tph", "ultra_low": "ultra_low"})
    {'boiler_tph': '锅炉蒸吨(t/h)'}
    """
    return {
        column: header
        for header, column in header_map.items()
        if schema.normalize_text(str(header)) != schema.normalize_text(column)
    }


def _header_zh(column: str, headers: dict[str, str] | None) -> str:
    if headers and headers.get(column):
        return str(headers[column])
    return vocabulary.column_label(column, short=True)


def problem_zh(
    code: str, column: object, value: object, headers: dict[str, str] | None = None
) -> str:
    """One problem of a rejected row as a Chinese sentence naming the planner's column as
    headed in their sheet (``headers``: contract name → header) and saying how to fix it.

    >>> problem_zh("unknown_code", "fuel", "柴油", {"fuel": "燃料种类"})
    '「燃料种类」填写为“柴油”：取值不在代码表中，请填写：煤、燃气、生物质、电'
    >>> problem_zh("lon_lat_swapped", "lon/lat", "37.7, 112.76")
    '「经度」「纬度」填写为“37.7, 112.76”：经度、纬度填反，请交换经度、纬度两列的数值'
    """
    zh, _, fix_zh, _ = REASONS.get(code, ("无法使用", "", "请核实", ""))
    columns = [] if column is None or column != column else str(column).split("/")
    where = "".join(f"「{_header_zh(c, headers)}」" for c in columns)
    text = "" if value is None or value != value else str(value)
    shown = f"填写为“{text}”" if text.strip() else ("为空" if columns else "")
    if code == "unknown_code" and columns:
        kind = columns[0] if columns[0] in vocabulary.KINDS else "yesno"
        allowed = dict.fromkeys(vocabulary.labels(kind).values())
        fix_zh = "请填写：" + "、".join(allowed) + ("，不详的留空" if kind == "yesno" else "")
    elif fix_zh and not fix_zh.startswith("请"):
        fix_zh = "请" + fix_zh
    head = f"{where}{shown}：" if where or shown else ""
    return f"{head}{zh}，{fix_zh}" if fix_zh else f"{head}{zh}"


def reasons_zh(problems: pd.DataFrame, headers: dict[str, str] | None = None) -> pd.Series:
    """Per rejected row (indexed by ``row``): its problems as Chinese sentences (``；``)."""
    if problems.empty:
        return pd.Series(dtype=object)
    texts = [
        problem_zh(c, col, v, headers)
        for c, col, v in zip(
            problems["reason_code"], problems["column"], problems["value"], strict=True
        )
    ]
    texts = [CONTROL_CHARACTERS.sub(_escape_control, t) for t in texts]  # shown, not obeyed
    frame = pd.DataFrame({"row": problems["row"].to_numpy(), "text": texts})
    return frame.groupby("row", sort=False)["text"].agg(lambda t: "；".join(dict.fromkeys(t)))


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
        Refused rows: ``row``, ``reason``, ``reason_code``, ``source`` and the raw values as
        text. It holds only the refused rows, so its size is bounded by the bad rows.
    source
        The file read.
    encoding
        The text encoding detected (CSV; ``utf-8+gb18030`` for a file that mixes them), or the
        format name.
    header_map
        Original header → contract column, for every header that was recognised.
    blank_rows
        Completely empty rows skipped (not facilities, not counted as input rows).
    warnings
        File-level notes that did not stop the load (mixed encodings, 3D points, the sheet
        read from a workbook of several).
    problems
        One row per problem of a rejected row: ``row``, ``reason_code``, ``column`` (contract
        name, or None), ``value`` (the cell text) and ``message``; for ``spatial check``.
    """

    enterprises: gpd.GeoDataFrame
    rejected: pd.DataFrame
    source: Path
    encoding: str
    header_map: dict[str, str] = field(default_factory=dict)
    blank_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)

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
            f"{self.source.name}: 读取 {self.n_input} 行 rows read, {len(self.enterprises)} 行通过 "
            f"accepted, {len(self.rejected)} 行未通过 rejected"
        ]
        for code, n in sorted(self.reject_counts().items()):
            zh, en = REASONS.get(code, ("无法使用", "unusable"))[:2]
            lines.append(f"  未通过 rejected — {zh} / {en}: {n}")
        if self.blank_rows:
            lines.append(f"  blank rows skipped: {self.blank_rows}")
        lines += [f"  warning: {text}" for text in self.warnings]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Decoding text


def detect_encoding(raw: bytes) -> str:
    """The encoding of a text file as planners' tools write it.

    UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (a superset of GBK, which Excel on
    Chinese Windows uses for CSV). The loader itself decodes a non-UTF-8 file line by line
    (see the module notes); this is the whole-file answer.

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


@dataclass
class _Text:
    """Decoded file text and what the decoding noticed."""

    text: str
    encoding: str
    minority: str | None = None  # the less common encoding of a mixed file
    minority_offsets: list[int] = field(default_factory=list)  # where its lines start


_COMMON_SYMBOLS = frozenset("°±×÷·²³µ№Ωμāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü")


def _common_char(char: str) -> bool:
    """A character Chinese inventories use: GB2312 hanzi, CJK and full-width punctuation."""
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF:
        try:
            char.encode("gb2312")
            return True
        except UnicodeEncodeError:
            return False
    return (
        0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or 0x2010 <= code <= 0x203B
        or char in _COMMON_SYMBOLS
    )


def _plausible(text: str) -> bool:
    """Whether text decoded as UTF-8 reads like Chinese rather than GBK bytes misread.

    GBK bytes that happen to be valid UTF-8 decode mostly to Greek, Cyrillic, Hebrew, Arabic
    or rare hanzi; real UTF-8 text in an inventory is mostly common hanzi and punctuation.
    Control and space characters count for neither.
    """
    others = [c for c in text if ord(c) > 127 and unicodedata.category(c)[0] not in "CZ"]
    return sum(map(_common_char, others)) >= 0.8 * len(others)


def _decode_lines(body: bytes) -> _Text:
    """Decode a file that is not valid UTF-8, line by line.

    A line that is valid UTF-8 and reads like Chinese is UTF-8; else a line valid in GB18030 is
    GB18030; else valid UTF-8 after all; else GB18030 (or UTF-8, whichever most lines are) with
    U+FFFD for the bad bytes, which rejects its row.
    """
    pieces: list[str] = []
    kinds: list[int] = []  # 0 ascii, 1 utf-8, 2 gb18030, 3 neither
    lines = body.splitlines(keepends=True)
    for line in lines:
        if line.isascii():
            pieces.append(line.decode("ascii"))
            kinds.append(0)
            continue
        try:
            as_utf8: str | None = line.decode("utf-8")
        except UnicodeDecodeError:
            as_utf8 = None
        if as_utf8 is not None and _plausible(as_utf8):
            pieces.append(as_utf8)
            kinds.append(1)
            continue
        try:
            pieces.append(line.decode("gb18030"))
            kinds.append(2)
            continue
        except UnicodeDecodeError:
            pass
        if as_utf8 is not None:
            pieces.append(as_utf8)
            kinds.append(1)
        else:
            pieces.append(line.decode("gb18030", errors="replace"))
            kinds.append(3)
    n_utf8, n_gb = kinds.count(1), kinds.count(2)
    main, other, other_kind = ("gb18030", "utf-8", 1) if n_gb >= n_utf8 else ("utf-8", "gb18030", 2)
    if 3 in kinds and main == "utf-8":
        pieces = [
            line.decode("utf-8", errors="replace") if kind == 3 else piece
            for line, piece, kind in zip(lines, pieces, kinds, strict=True)
        ]
    if not (n_utf8 and n_gb):
        return _Text("".join(pieces), main)
    offsets, position = [], 0
    for piece, kind in zip(pieces, kinds, strict=True):
        if kind == other_kind:
            offsets.append(position)
        position += len(piece)
    return _Text("".join(pieces), f"{main}+{other}", other, offsets)


def _decode(raw: bytes, path: Path) -> _Text:
    """The file's text, as it is: a NUL or other control character stays in its cell, and
    :func:`_check_text` rejects that row (a number with a NUL inside is never read as the
    digits around it)."""
    return _decode_raw(raw, path)


def _decode_raw(raw: bytes, path: Path) -> _Text:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _Text(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: the file starts like UTF-16 but has bad bytes at offset {exc.start}; "
                "save it from Excel as 'CSV UTF-8' and try again"
            ) from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    try:
        return _Text(body.decode("utf-8"), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        if exc.end == len(body) and exc.reason == "unexpected end of data":
            # UTF-8 cut off inside the last character (a truncated file): that row is rejected
            text = body.decode("utf-8", errors="replace")
            return _Text(text, "utf-8-sig" if bom else "utf-8")
    return _decode_lines(body)


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
    clashes = []
    for position, header in enumerate(frame.columns):
        if str(header).startswith("__"):
            continue
        name = schema.canonical_column(header)
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
    text = values.map(lambda s: unicodedata.normalize("NFKC", str(s)), na_action="ignore")
    text = text.fillna("").astype(object)
    return text.str.replace("。", ".", regex=False).str.strip()


def _parse_dms(text: str) -> float:
    match = _DMS.match(text)
    if not match:
        return np.nan
    value = float(match["deg"]) + float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
    if (match["hem"] or "").upper() in {"S", "W", "南", "西"}:
        value = -value
    return value


def _to_float(text: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(text, errors="coerce").astype(float)
    except (TypeError, ValueError, OverflowError):
        return text.map(_float_or_nan).astype(float)


def _float_or_nan(value: object) -> float:
    try:
        return float(str(value))
    except (TypeError, ValueError, OverflowError):
        return np.nan


def parse_numbers(values: pd.Series, *, degrees: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse text to floats: full-width digits, Chinese decimal point, and DMS for degrees.

    Plain numbers go through pandas in one vectorised call; only the rest (blank, full-width,
    DMS, words) is folded and parsed value by value.

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
    values = pd.Series(values)
    as_text = _as_text(values)
    numbers = _to_float(as_text)
    blank = pd.Series(False, index=values.index)
    retry = numbers.isna()
    if retry.any():
        text = _fold_number_text(as_text[retry])
        empty = text.eq("") | text.str.lower().isin(BLANK_WORDS)
        blank[retry] = empty.to_numpy()
        parsed = _to_float(text.where(~empty, ""))
        if degrees:
            dms = parsed.isna() & ~empty
            if dms.any():
                parsed[dms] = text[dms].map(_parse_dms).astype(float)
        numbers[retry] = parsed.to_numpy()
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


def _as_text(column: pd.Series) -> pd.Series:
    """A column as Python strings in an object Series ('' for missing), without copying when
    it already is one."""
    column = column.astype(object)
    if pd.api.types.infer_dtype(column, skipna=False) != "string":
        column = column.where(column.notna(), "").map(str)
    return column.astype(object)


def _strip(column: pd.Series) -> pd.Series:
    """Strip every cell; a column with few distinct values strips each value once."""
    codes, uniques = pd.factorize(column)
    if len(uniques) * 4 > len(column):
        return column.str.strip().astype(object)
    stripped = np.asarray([str(u).strip() for u in uniques] + [""], dtype=object)
    return pd.Series(stripped[codes], index=column.index, dtype=object)


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as stripped text ('' for missing)."""
    return _strip(_as_text(frame[name]))


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


def normalize_ids(ids: pd.Series) -> pd.Series:
    """Ids as compared and kept: NFKC (full-width ``Ａ１`` is ``A1``), without zero-width and
    direction characters, stripped. An all-ASCII column is only stripped (one check).

    >>> normalize_ids(pd.Series(["Ａ１", "A\u200b2", " A3 "])).tolist()
    ['A1', 'A2', 'A3']
    """
    if "".join(ids.to_numpy()).isascii():
        return ids.str.strip()
    ids = ids.str.strip()
    wide = ids.str.contains(r"[^\x00-\x7f]", regex=True).to_numpy(dtype=bool)
    out = ids.copy()
    out[wide] = (
        ids[wide]
        .str.normalize("NFKC")
        .str.replace(ZERO_WIDTH, "", regex=True)
        .str.strip()
        .to_numpy(dtype=object)
    )
    return out


def _escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def _id_note(given: pd.Series, ids: pd.Series, numbers: np.ndarray) -> str | None:
    """The warning that ids were normalised, with the first few rows; None if none was."""
    changed = np.flatnonzero(given.ne(ids).to_numpy(dtype=bool))
    if changed.size == 0:
        return None
    shown = ", ".join(
        f"row {numbers[i]}: '{ZERO_WIDTH.sub(_escape, given.iat[i])}' → '{ids.iat[i]}'"
        for i in changed[:5]
    )
    more = f" and {changed.size - 5} more" if changed.size > 5 else ""
    return (
        f"{changed.size} ids were normalised before the duplicate check (full-width letters "
        f"and digits made half-width, invisible zero-width or direction characters removed) "
        f"and are kept so: {shown}{more}"
    )


def _check_id(
    frame: pd.DataFrame, numbers: np.ndarray, problems: Problems, notes: list[str] | None = None
) -> pd.Series:
    given = _text(frame, "id")
    ids = normalize_ids(given)
    note = _id_note(given, ids, numbers)
    if note and notes is not None:
        notes.append(note)
    problems.add(ids.eq("").to_numpy(), "empty_id", "id: empty", column="id", value="")
    joined = "\n".join(ids.to_numpy())
    if re.search(r"\d[eE][+-]\d", joined):
        scientific = ids.str.fullmatch(SCIENTIFIC_ID).to_numpy(dtype=bool)
        shown = given.to_numpy(dtype=object)[scientific]
        problems.add(
            scientific,
            "id_scientific",
            [
                f"id: '{v}' is a number in scientific notation: Excel rounded a long id (such as "
                "an 18-digit credit code) and its last digits are lost; format the column as "
                "Text and re-enter the full id"
                for v in shown
            ],
            column="id",
            value=shown,
        )
    dup = (ids.duplicated(keep="first") & ids.ne("")).to_numpy()
    if dup.any():
        first = ids[~ids.duplicated(keep="first")]
        first_row = dict(zip(first.to_numpy(), numbers[first.index.to_numpy()], strict=True))
        dup_ids = ids.to_numpy(dtype=object)[dup]
        dup_given = given.to_numpy(dtype=object)[dup]
        problems.add(
            dup,
            "duplicate_id",
            [
                f"id: duplicate of row {first_row[i]} ('{i}'"
                + ("" if g == i else f"; written here as '{g}'")
                + ")"
                for i, g in zip(dup_ids, dup_given, strict=True)
            ],
            column="id",
            value=dup_given,
        )
    return ids


def _coded(frame: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    out = {}
    for name in schema.columns_of_type("code") + schema.columns_of_type(schema.YESNO):
        if name not in frame:
            continue
        raw = _as_text(frame[name])
        codes, uniques = pd.factorize(raw)
        lookup = schema.code_lookup(name)
        keys = [schema.normalize_text(u) for u in uniques]
        mapped = np.asarray([lookup.get(k) for k in keys] + [None], dtype=object)
        is_blank = np.asarray([k in BLANK_WORDS or k == "" for k in keys] + [True], dtype=bool)
        values = mapped[codes]
        blank = is_blank[codes]
        unknown = pd.isna(values).astype(bool) & ~blank
        if schema.columns()[name].type == schema.YESNO:
            hint = "yes or no (是/否), or blank if unknown"
        else:
            hint = ", ".join(schema.codes(name))
        shown = [str(v).strip() for v in raw.to_numpy(dtype=object)[unknown]]
        problems.add(
            unknown,
            "unknown_code",
            [f"{name}: unknown value '{v}' (expected {hint})" for v in shown],
            column=name,
            value=shown,
        )
        out[name] = pd.Series(np.where(blank, None, values), index=frame.index, dtype=object)
    return out


def _numbers(frame: pd.DataFrame, problems: Problems) -> dict[str, pd.Series]:
    out = {}
    for name in schema.columns_of_type("number"):
        if name not in frame:
            continue
        numbers, blank = parse_numbers(frame[name])
        cells = _text(frame, name).to_numpy(dtype=object)
        bad = ((numbers.isna() & ~blank) | np.isinf(numbers)).to_numpy()
        problems.add(
            bad,
            "not_a_number",
            [f"{name}: not a number ('{c}')" for c in cells[bad]],
            column=name,
            value=cells[bad],
        )
        negative = (numbers < 0).to_numpy()
        problems.add(
            negative,
            "negative_value",
            [f"{name}: negative ('{c}')" for c in cells[negative]],
            column=name,
            value=cells[negative],
        )
        out[name] = numbers.where(~bad & (numbers >= 0))
    return out


def _control_name(text: str) -> str:
    """The first control character of ``text``, named: 'a NUL byte (U+0000)'."""
    match = CONTROL_CHARACTERS.search(text)
    char = match.group() if match else "\x00"
    label = "a NUL byte" if char == "\x00" else "the control character"
    return f"{label} (U+{ord(char):04X})"


def _escape_control(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def _escape_controls(rejected: pd.DataFrame) -> None:
    """Control characters in the rejected rows' cells and reasons written as visible escapes
    (``\\x00``, ``\\x01``): no output file can hold them, and the row says why it was refused."""
    for column in rejected.columns:
        if rejected.empty or not pd.api.types.is_string_dtype(rejected[column]):
            continue
        values = rejected[column].astype(str)
        if CONTROL_CHARACTERS.search("".join(values.to_numpy())):
            rejected[column] = values.str.replace(CONTROL_CHARACTERS, _escape_control, regex=True)


def _check_text(frame: pd.DataFrame, raw_cols: list, problems: Problems) -> None:
    """Rows with characters that could not be decoded (U+FFFD) are rejected; so are rows with
    a control character (a NUL byte, \\x01 ...: invisible, and no spreadsheet can hold it).

    Each column is searched whole first (one scan of its joined text); only a column with a
    hit is searched row by row."""
    found = np.zeros(len(frame), dtype=bool)
    first_column = np.full(len(frame), None, dtype=object)
    first_value = np.full(len(frame), None, dtype=object)
    control = np.zeros(len(frame), dtype=bool)
    control_column = np.full(len(frame), None, dtype=object)
    control_value = np.full(len(frame), None, dtype=object)
    for column in raw_cols:
        values = _as_text(frame[column])
        joined = "".join(values.to_numpy())
        if CONTROL_CHARACTERS.search(joined):
            hit = values.str.contains(CONTROL_CHARACTERS, regex=True).to_numpy(dtype=bool)
            new = hit & ~control
            control_column[new] = column
            control_value[new] = values.to_numpy(dtype=object)[new]
            control |= hit
        if REPLACEMENT not in joined:
            continue
        hit = values.str.contains(REPLACEMENT, regex=False).to_numpy(dtype=bool)
        new = hit & ~found
        first_column[new] = column
        first_value[new] = values.to_numpy(dtype=object)[new]
        found |= hit
    problems.add(
        control,
        "control_character",
        [
            f"{c}: contains {_control_name(v)}, an invisible character that no spreadsheet or "
            "report can hold; retype the cell without it"
            for c, v in zip(control_column[control], control_value[control], strict=True)
        ],
        column=control_column[control],
        value=control_value[control],
    )
    problems.add(
        found,
        "bad_encoding",
        [
            f"{c}: unreadable characters (shown as {REPLACEMENT}); the bytes are neither UTF-8 "
            "nor GBK: retype the text or save the file as 'CSV UTF-8'"
            for c in first_column[found]
        ],
        column=first_column[found],
        value=first_value[found],
    )


def _validate(
    frame: pd.DataFrame,
    numbers: list[int] | np.ndarray,
    path: Path,
    *,
    coord_sys: str = "wgs84",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    has_geometry = "__x__" in frame
    if not has_geometry and not {"lon", "lat"} <= set(frame.columns):
        found = ", ".join(str(c) for c in frame.columns if not str(c).startswith("__"))
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
    numbers = np.asarray(numbers, dtype=np.int64)
    if "__overlong__" not in frame:
        frame["__overlong__"] = False
    raw_cols = [c for c in frame.columns if not str(c).startswith("__")]
    problems = Problems(len(frame))
    _check_text(frame, raw_cols, problems)
    problems.add(
        frame["__overlong__"].to_numpy(dtype=bool),
        "extra_cells",
        "row has more cells than the header; a comma inside a value must be quoted",
    )
    if "__geomcode__" in frame:
        for code in ("empty_geometry", "multi_part", "not_a_point"):
            mask = frame["__geomcode__"].eq(code).to_numpy(dtype=bool)
            problems.add(
                mask,
                code,
                frame["__geommsg__"].to_numpy(dtype=object)[mask],
                column="geometry",
                value=frame["__geomtype__"].to_numpy(dtype=object)[mask],
            )
    notes: list[str] = []
    ids = _check_id(frame, numbers, problems, notes)
    systems = _row_coord_sys(frame, coord_sys, problems)
    lon, lat, x_input, y_input = _check_coordinates(frame, systems, problems)
    coded = _coded(frame, problems)
    numeric = _numbers(frame, problems)

    bad = problems.bad_mask()
    reasons = problems.frame()
    details = problems.details()
    rejected = frame.loc[bad, raw_cols].astype(object).map(str).astype(str)
    rejected.insert(0, "row", numbers[bad])
    rejected.insert(1, "reason", reasons["reason"].to_numpy())
    rejected.insert(2, "reason_code", reasons["reason_code"].to_numpy())
    rejected.insert(3, "source", path.name)
    _escape_controls(rejected)

    good = ~bad
    data: dict[str, object] = {"id": ids[good].to_numpy(dtype=object)}
    for name in schema.columns():
        if name in {"id", "lon", "lat", "coord_sys"}:
            continue
        if name in coded:
            data[name] = coded[name][good].to_numpy(dtype=object)
        elif name in numeric:
            data[name] = numeric[name][good].to_numpy(dtype=float)
        elif name in frame:
            data[name] = _text(frame.loc[good], name).to_numpy(dtype=object)
    for extra in raw_cols:
        if extra not in schema.columns() and extra not in data:
            data[extra] = _as_text(frame.loc[good, extra]).to_numpy()
    data["row"] = numbers[good]
    data["lon"], data["lat"] = lon[good], lat[good]
    data["lon_input"], data["lat_input"] = x_input[good], y_input[good]
    data["coord_sys"] = systems[good]
    enterprises = gpd.GeoDataFrame(
        data, geometry=gpd.points_from_xy(lon[good], lat[good]), crs=WGS84
    )
    details.insert(0, "row", numbers[details["pos"].to_numpy(dtype=np.int64)])
    return enterprises, rejected.reset_index(drop=True), details.drop(columns="pos"), notes


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
    enterprises, rejected, _, _ = _validate(frame, numbers, Path(path), coord_sys=coord_sys)
    return enterprises, rejected


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
        Accepted enterprises and rejected rows; ``accepted + rejected`` is every input row
        that is not blank.

    Raises
    ------
    InputFileError
        For a problem of the whole file (unreadable, no header, no coordinates, clashing
        headers, unknown ``crs``); the message names the file and what to do.
    """
    path = Path(path)
    table = _read(path)
    frame, header_map = map_headers(table.frame, path)
    system = _file_coord_sys(crs, table.crs, path)
    enterprises, rejected, problems, notes = _validate(frame, table.numbers, path, coord_sys=system)
    headers = planner_headers(header_map)
    rejected.insert(2, "reason_zh", rejected["row"].map(reasons_zh(problems, headers)))
    return Inventory(
        enterprises,
        rejected,
        path,
        table.encoding,
        header_map,
        table.blank,
        table.warnings + notes,
        problems,
    )

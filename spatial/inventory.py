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

The reading is in small modules, each named for what it does: :mod:`spatial.text_encoding`
(encodings), :mod:`spatial.tables` (CSV/XLSX/vector tables and their header),
:mod:`spatial.cell_values` (text and numbers, DMS) and :mod:`spatial.coordinate_checks` (the
coordinate system and the checks of the coordinates); this module validates the rows and gives
the :class:`Inventory`. Their public functions are importable from here too.

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

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import schema, vocabulary
from spatial._validate import Problems
from spatial.cell_values import BLANK_WORDS, _as_text, _text, parse_numbers
from spatial.coordinate_checks import (
    _check_coordinates,
    _file_coord_sys,
    _row_coord_sys,
)
from spatial.coordinate_checks import projected_hint as projected_hint
from spatial.errors import InputFileError
from spatial.geodesic import WGS84
from spatial.tables import _read, map_headers
from spatial.tables import read_table as read_table
from spatial.text_encoding import REPLACEMENT
from spatial.text_encoding import detect_encoding as detect_encoding

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

"""``lists.xlsx``: the lists a county office prints, signs and files (Jinzhong §二8 and the others).

Sheets, in order:

- ``汇总``: per county and measure the number of rows, the documents applied with their status on
  the as-of date (in force, expired, draft), and a table of the sheets.
- ``文件目录``: every document cited, in full (title, 文号, issuer, date, draft or issued); cells of
  the lists cite the short form (文号 and clause in the document's own numbering).
- Per county: ``错峰生产清单`` and ``豁免清单`` of the curtailment documents only (a rule table
  with a season, or rules that curtail, rotate, determine by heat or stop for a window);
  ``关停退出及整治清单`` (closures, clearing, exits, retrofits, and the other documents' stops and
  exemptions); ``待核实清单`` (cases the county must check). One row per enterprise and measure:
  two rules giving one enterprise the same measure are one row (their reasons and citations
  together).
- Dingxiang: one list per rectification phase (``整治第N阶段``) and the unassigned plants.
- ``减排量测算`` (:mod:`spatial.export.excel_emissions`).
- ``全部数据``: every row of the lists with every column (WGS84 and input coordinates, distances,
  documents), for filtering; the printed lists show only what a signer needs.

Every list sheet: a title with the season or the as-of date, 序号, a 合计 row, a 填报单位 / 负责人 /
日期 block, page numbers in the footer (第 &P 页 共 &N 页), A4 landscape fitted to the page width
with columns sized so that nothing is scaled below 100 % (10 pt body text), wrapped text and row
heights computed for it, dates as Excel dates, coordinates also as given (the system the row came
in: GCJ-02 rows can be pasted back into Amap).

Text from the data is written as text: a value that Excel would read as a formula (``=``, ``+``,
``-``, ``@``, tab, CR) is a text cell with Excel's quote prefix (shown as given, never run, stays
text when edited); sheet names are cleaned of the characters Excel forbids (see
:func:`sheet_name`).

The workbook is streamed (:mod:`spatial.export.xlsx_stream`, XlsxWriter's ``constant_memory``
mode): each sheet is written top to bottom, the rows of the lists and of 全部数据 a column at a
time, so a province takes seconds and memory does not grow with the cells. The 减排量测算 sheets
are laid out in openpyxl first (:func:`split_targets`, :func:`fit_emission_sheet`) and copied in.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from spatial.decisions import distance_zh
from spatial.export.atomic import atomic_path
from spatial.export.excel_emissions import write_emission_sheet
from spatial.export.xlsx_stream import (
    Book,
    CellFormats,
    Sheet,
    Style,
    clean_column,
    clean_text,
    copy_sheet,
)
from spatial.policy import (
    ACTIONS,
    Policy,
    PolicyStatus,
    cite_ref,
    date_zh,
    documents,
    documents_table,
    periods,
)
from spatial.vocabulary import ACTION_LABELS as ACTION_ZH
from spatial.vocabulary import fact_distance, fact_metres, labels

CURTAIL_ACTIONS = ("curtail", "heat_determined", "stop_season", "rotate")
"""Measures that only a curtailment document gives."""
SEASON_ACTIONS = (*CURTAIL_ACTIONS, "shutdown", "exempt")
"""What the 错峰生产清单 / 豁免清单 hold when a curtailment document gives it."""
OTHER_ACTIONS = ("shutdown", "close_or_merge", "clear", "exit_by", "rectify", "exempt")
"""The 关停退出及整治清单: closures, exits, retrofits and the other documents' stops/exemptions."""
INDUSTRY_ZH = labels("industry")
"""Industry labels (an alias of the vocabulary's, kept for the notebooks)."""
COORD_SYS_ZH = labels("coord_sys")
"""How a row's coordinate system (``coord_sys``) is named in the lists."""
NO_COUNTY = "（未填县区）"
FONT_NAME = "宋体"
BODY_PT = 10
"""Body text size; the columns of every printed list fit the A4 landscape width at 100 %."""
TITLE_PT = 16
PRINTABLE_WIDTH = 124
"""Column width units that fit across A4 landscape between 0.3-inch margins (798 pt) at 90 %
or more wherever the workbook is opened. Excel sizes a unit on the default font's digit
(Calibri 11: 7 px = 5.25 pt), so 124 units print at 100 %; LibreOffice without Calibri or
Carlito measures the unit on its fallback font (DejaVu Sans: 7 pt, measured), so 124 units
print at 798 / 868 = 92 %: 10 pt text stays at 9.2 pt or more."""
LO_UNIT_PT = 7.0
"""The widest column unit measured (LibreOffice's Calibri fallback), in points."""
PRINTABLE_PT = (11.69 - 0.6) * 72
LINE_PT = 14.5
"""Height of one wrapped line of 10 pt text: LibreOffice sets 14.5 pt a line (Noto Sans CJK's
line spacing is 1.45 em; measured on the PDF), 宋体 in Excel about 13.5 pt. Rows get 14.5 pt a
line + 5 pt, so wrapped text shows whole in both."""
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
FOOTER = "第 &P 页 共 &N 页"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_RGB = "DDEBF7"
TOTAL_RGB = "F2F2F2"
LINE_RGB = "808080"
THIN = Side(style="thin", color=LINE_RGB)
BOX = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
FOOTER_FIELD = f'&C&"{FONT_NAME}"&9 {FOOTER}'
"""The footer as the file holds it: centred, 宋体 9 pt."""

# The styles of the cells (:class:`spatial.export.xlsx_stream.Style`)
BOXED = (LINE_RGB,) * 4
BODY_STYLE = Style(FONT_NAME, BODY_PT)
TITLE_STYLE = Style(
    FONT_NAME, TITLE_PT, bold=True, wrap=True, horizontal="center", vertical="center"
)
LINE_STYLE = Style(FONT_NAME, BODY_PT, wrap=True, vertical="center")
SECTION_STYLE = Style(FONT_NAME, 12, bold=True)
HEADER_STYLE = Style(
    FONT_NAME,
    BODY_PT,
    bold=True,
    fill=HEADER_RGB,
    border=BOXED,
    wrap=True,
    horizontal="center",
    vertical="center",
)
CELL_LEFT = Style(FONT_NAME, BODY_PT, border=BOXED, wrap=True, horizontal="left", vertical="center")
CELL_CENTRE = replace(CELL_LEFT, horizontal="center")
NONE_STYLE = Style(FONT_NAME, BODY_PT, horizontal="center")
TOTAL_STYLE = Style(FONT_NAME, BODY_PT, bold=True, fill=TOTAL_RGB, border=BOXED)
COUNT_STYLE = replace(TOTAL_STYLE, horizontal="left", number='"共"0"条"')
TOTAL_BLANK = Style(fill=TOTAL_RGB, border=BOXED)
"""The empty cells of the 合计 row (the default font, as openpyxl wrote them)."""
SIGN_STYLE = Style(FONT_NAME, 11, vertical="bottom")

LIST_COLUMNS = {
    "id": "企业编号",
    "name": "企业名称",
    "county": "所在县（区、市）",
    "county_input": "清单填报县区",
    "township": "乡镇",
    "village": "村",
    "industry_zh": "行业",
    "action_zh": "管控措施",
    "curtail_pct": "限产比例（%）",
    "stop_days": "折算停产天数",
    "window_zh": "停产时段",
    "deadline": "完成时限",
    "deadline_state": "截至评估日",
    "builtup_zh": "与建成区的关系",
    "near_city_zh": f"是否位于建成区及周边{fact_distance('near_city')}",
    "dist_builtup_m": "距建成区距离（米）",
    "nearest_builtup": "最近建成区",
    "cite": "依据条款",
    "documents_zh": "涉及文件",
    "reason_zh": "说明",
    "flags_zh": "待核实事项",
    "lon": "经度（WGS84）",
    "lat": "纬度（WGS84）",
    "coord_sys_zh": "填报坐标系",
    "input_xy": "填报坐标（经度,纬度，可粘贴回原系统地图）",
    "location": "经纬度（WGS84）",
}
"""Every column of the rows (:func:`list_rows`) with its Chinese heading: the 全部数据 sheet."""


@dataclass(frozen=True)
class Column:
    """A column of a printed list: the row field, its heading, its width (Excel units)."""

    key: str
    header: str
    width: float
    kind: str = "text"  # text, int, date, centre


SEQ = Column("seq", "序号", 4.5, "int")
NAME = Column("name", "企业名称", 17)
TOWNSHIP = Column("township", "乡镇", 7)
INDUSTRY = Column("industry_zh", "行业", 6, "centre")
COORDS = Column("coords", "经纬度（填报坐标系）", 18)
HEAD = (SEQ, NAME, TOWNSHIP, INDUSTRY)
SHEET_COLUMNS = {
    "curtail": (
        *HEAD,
        Column("action_zh", "管控措施", 7.5, "centre"),
        Column("curtail_pct", "限产比例（%）", 5.5, "int"),
        Column("stop_days", "折算停产天数", 5.5, "int"),
        Column("cite_cell", "依据条款", 14),
        Column("note", "说明及待核实事项", 39),
        COORDS,
    ),
    "exempt": (
        *HEAD,
        Column("cite_cell", "依据条款", 14),
        Column("note", "豁免理由及待核实事项", 57.5),
        COORDS,
    ),
    "other": (
        *HEAD,
        Column("action_zh", "管控措施", 7.5, "centre"),
        Column("deadline", "完成时限", 14, "date"),
        Column("deadline_state", "截至评估日", 7, "centre"),
        Column("cite_cell", "依据条款", 14),
        Column("note", "说明及待核实事项", 29),
        COORDS,
    ),
    "review": (
        *HEAD,
        Column("cite_cell", "涉及条款", 14),
        Column("note", "需核实的情况", 57.5),
        COORDS,
    ),
}
"""The columns a signer needs, per kind of list; the rest are in 全部数据."""


# --------------------------------------------------------------------------------------------
# Text that Excel must not read as anything but text


def neutralise(value: object) -> object:
    """A value as a cell holds it: text stays as given (the writer marks text that starts like a
    formula with Excel's quote prefix, :func:`put`), control characters other than line breaks
    become spaces, NaN and NA become None.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("甲\\x07厂"), neutralise(float("nan"))
    ('=HYPERLINK("http://x")', '甲 厂', None)
    """
    return clean_text(value)


def is_formula_like(value: object) -> bool:
    """Whether Excel or LibreOffice would take this text for a formula if typed."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def put(sheet: Worksheet, row: int, column: int, value: object):
    """Write one cell; text that starts like a formula is a text cell with the quote prefix."""
    value = neutralise(value)
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would make "=…" a formula
        if is_formula_like(value) or value.startswith("'"):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_name(text: str, taken: Iterable[str] = (), suffix: str = "") -> str:
    """A sheet name Excel and LibreOffice accept, unique among ``taken`` (case-insensitive):
    the characters ``[]:*?/\\`` and control characters become ``_``, an apostrophe becomes ’
    (a name may not start or end with one, and references would need it doubled), the text is
    cut so that it and ``suffix`` fit in 31 characters, and a number is added when taken.

    >>> sheet_name("=cmd|' /C calc'!A0", suffix="-待核实清单")
    '=cmd|’ _C calc’!A0-待核实清单'
    >>> sheet_name("'太谷区", ["’太谷区"])
    '’太谷区（2）'
    >>> len(sheet_name("很" * 40, suffix="-错峰生产清单"))
    31
    """
    text = SHEET_FORBIDDEN.sub("_", str(text)).replace("'", "’").strip() or "_"
    taken_lower = {t.lower() for t in taken}
    for n in range(1, 1000):
        extra = "" if n == 1 else f"（{n}）"
        room = 31 - len(suffix) - len(extra)
        name = text[:room] + extra + suffix
        if name.lower() not in taken_lower and name.lower() != "history":
            return name
    raise ValueError(f"no free sheet name for {text!r}")


# --------------------------------------------------------------------------------------------
# The rows: one per enterprise and measure


def _texts(values: Iterable[object], sep: str = "\n") -> str:
    seen: dict[str, None] = {}
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        for part in str(value).split(sep):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return sep.join(seen)


def _as_date(value: object) -> dt.date | None:
    if type(value) is dt.date:
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return _date_of_text(str(value)[:10])


@functools.lru_cache(maxsize=65536)
def _date_of_text(text: str) -> dt.date | None:
    """The date ``text`` names (a row's deadline or window: a few distinct values)."""
    try:
        return pd.Timestamp(text).date()
    except ValueError:
        return None


def _number(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _builtup_zh(metres: object, place: object) -> str:
    """The 与建成区的关系 cell of a row: its distance to the nearest built-up area and that
    area's name."""
    metres = _number(metres)
    if metres is None:
        return ""
    place = str(place or "").strip()
    place = f"{place}建成区" if place and not place.endswith("建成区") else (place or "建成区")
    if metres == 0:
        return f"位于{place}内"
    limit = fact_metres("near_city") or 10_000.0  # the rule tables' distance (10 km in Jinzhong)
    inside = "在" if metres <= limit else "不在"
    return f"距{place}{distance_zh(metres, limit)}，{inside}周边{distance_zh(limit)}范围内"


def _coord_text(x: object, y: object, system: str) -> str:
    x, y = _number(x), _number(y)
    if x is None or y is None:
        return ""
    digits = 5 if abs(x) <= 360 and abs(y) <= 90 else 1  # degrees (≈1 m), or projected metres
    return f"{x:.{digits}f},{y:.{digits}f}"


OVERDUE = re.compile(r"（完成时限[^（）]*已逾期\d+天）")
"""The overdue remark of a reason, said by the 完成时限 and 截至评估日 columns of a list."""


def _drop_citations(text: str, cite: str) -> str:
    """``text`` without its ``（依据…）`` parts whose clauses the 依据条款 column already cites."""
    out, i = [], 0
    while True:
        start = text.find("（依据", i)
        if start < 0:
            out.append(text[i:])
            return "".join(out)
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"（": 1, "）": -1}.get(text[end], 0)
            if depth == 0:
                break
        cited = all(_is_cited(part, cite) for part in text[start + 3 : end].split("；"))
        out.append(text[i:start] if cited else text[i : end + 1])
        i = end + 1


def _is_cited(part: str, cite: str) -> bool:
    """Whether a ``文号 条款，条款`` citation is all in ``cite`` (the document and each clause)."""
    head, _, clauses = part.strip().rpartition(" ")
    if not head:
        return part.strip() in cite
    return head in cite and all(c.strip() in cite for c in clauses.split("，") if c.strip())


def note_text(reason: str, flags: str, cite: str = "") -> str:
    """The 说明 cell: the reasons (without the citations the 依据条款 column shows), then what the
    county must check, each sentence once.

    >>> ref = "忻政发〔2024〕7号 三（二）8"
    >>> note_text(f"锅炉予以清零（依据{ref}）。", "", ref)
    '锅炉予以清零。'
    >>> cited = "市工信产发〔2019〕79号 三（一）1，二、6"
    >>> note_text("以热定产（依据市工信产发〔2019〕79号 二、6）。", "", cited)
    '以热定产。'
    >>> note_text("「烧结」为空，请县级核实后补填。", "「烧结」为空，请补填后重新研判。")
    '「烧结」为空，请县级核实后补填。'
    >>> note_text("（请核实是否为供热锅炉）", "请核实是否为供热锅炉（本条针对供热锅炉）。")
    '（请核实是否为供热锅炉）'
    >>> note_text("限产40%。", "涉及安全生产负荷的，须报批。")
    '限产40%。\\n待核实：涉及安全生产负荷的，须报批。'
    """
    reason = _drop_citations(str(reason or ""), str(cite or ""))
    kept = []
    for part in re.split(r"(?<=[。；])", str(flags or "")):
        part = part.strip()
        named = re.findall(r"「[^」]+」", part)
        core = re.split(r"[（(]", part)[0].rstrip("。；;，, ")
        said = part in reason or (len(core) >= 4 and core in reason)
        if part and not said and not (named and all(n in reason for n in named)):
            kept.append(part)
    return reason + (f"\n待核实：{''.join(kept)}" if kept else "")


COUNTY_CHECK_FLAGS = ("county_mismatch", "county_unknown", "county_outside")
"""County flags (:data:`spatial.counties.FLAGS`) that put a plant on its county's 待核实清单
even when no measure applies to it: the county column disagrees with the location."""


def _county_checks(
    enterprises: pd.DataFrame, measures: pd.DataFrame, as_of: dt.date | None
) -> pd.DataFrame:
    """List rows for plants without a measure whose county column the county must confirm.

    A plant written 定襄县 that lies in 忻府区 falls under 忻府区's documents; where none of them
    gives it a measure it would be on no list, so it goes on the 待核实清单 of the county it
    lies in, saying what was written and where it lies.
    """
    if "county_flag" not in enterprises or not len(enterprises):
        return list_rows(enterprises.iloc[:0], measures.iloc[:0], as_of)
    flagged = enterprises["county_flag"].isin(COUNTY_CHECK_FLAGS).to_numpy()
    with_measure = set(measures["id"]) if len(measures) else set()
    keep = flagged & ~enterprises["id"].isin(with_measure).to_numpy()
    plants = enterprises[keep]
    stand_in = pd.DataFrame(
        {
            "id": plants["id"].to_numpy(),
            "policy": "",
            "rule_id": "",
            "action": "none",
            "rule_ref": None,
            "reason_zh": plants.get("reason_zh", pd.Series([""] * len(plants))).to_numpy(),
            "flags": plants["county_flag"].to_numpy(),
            "flags_zh": "",
        }
    )
    return list_rows(enterprises, stand_in, as_of)


def _deadline_state(deadline: dt.date | None, as_of: dt.date | None) -> str:
    if deadline is None or as_of is None:
        return ""
    days = (as_of - deadline).days
    if days > 0:
        return f"已逾期{days}天"
    return "当日到期" if days == 0 else f"剩余{-days}天"


MERGED_TEXTS = {
    "policy": ";",
    "rule_id": ";",
    "rule_ref": ";",
    "reason_zh": "\n",
    "flags": ";",
    "flags_zh": "\n",
}
"""Text columns of decisions joined when one enterprise has a measure twice (and separator)."""
MERGED_KEYS = ("id", "action", *MERGED_TEXTS, "curtail_pct", "stop_days", "deadline")


def _merge_groups(frame: pd.DataFrame, groups) -> list[dict]:
    """One row per group of ``frame`` (``groups``: each row's group, in order of appearance):
    the first row's values, every reason, flag and citation once, the highest percent and stop
    days, the earliest deadline. Worked on the columns as lists (a pandas group per measure
    cost a millisecond)."""
    values = {name: frame[name].tolist() for name in frame.columns}
    numbers = {
        key: pd.to_numeric(frame[key], errors="coerce").tolist() if key in frame else None
        for key in ("curtail_pct", "stop_days")
    }
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups.tolist()):
        members.setdefault(g, []).append(i)
    out = []
    for g, rows in members.items():
        first = {name: column[rows[0]] for name, column in values.items()}
        record = first | {
            key: _texts([values[key][i] for i in rows] if key in values else [], sep)
            for key, sep in MERGED_TEXTS.items()
        }
        for key, coerced in numbers.items():
            found = [coerced[i] for i in rows] if coerced is not None else []
            found = [x for x in found if x == x]  # NaN left out, as Series.max does
            record[key] = max(found) if found else math.nan
        deadlines = [_as_date(values["deadline"][i]) for i in rows] if "deadline" in values else []
        deadlines = [d for d in deadlines if d is not None]
        record["deadline"] = min(deadlines) if deadlines else None
        record["decision_rows"] = len(rows)
        record["_group"] = g
        out.append(record)
    return out


def _merge_measures(decisions: pd.DataFrame) -> pd.DataFrame:
    """Decisions merged per enterprise and measure, in the order of :data:`ACTIONS` (then of
    first appearance). A measure given once (most) is taken column by column; one given by
    several rules goes through :func:`_merge_groups`."""
    columns = list(decisions.columns)
    if decisions.empty:
        return pd.DataFrame(columns=[*columns, "decision_rows"])
    order = {action: rank for rank, action in enumerate(ACTIONS)}
    frame = decisions.reset_index(drop=True)
    group = frame.groupby(["id", "action"], sort=False).ngroup()
    kept = group >= 0  # keys with a missing id or action belong to no group
    frame, group = frame[kept.to_numpy()], group[kept]
    size = group.map(group.value_counts())
    once = (size == 1).to_numpy()
    single = frame[once].copy()
    for key, sep in MERGED_TEXTS.items():
        values = single[key].tolist() if key in single else [None] * len(single)
        cache: dict = {}
        single[key] = [
            cache[v] if v in cache else cache.setdefault(v, _texts([v], sep)) for v in values
        ]
    for key in ("curtail_pct", "stop_days"):
        values = single[key] if key in single else pd.Series(index=single.index, dtype=float)
        single[key] = pd.to_numeric(values, errors="coerce")
    deadlines = single["deadline"] if "deadline" in single else [None] * len(single)
    single["deadline"] = pd.Series(
        [_as_date(v) for v in deadlines], index=single.index, dtype=object
    )
    single["decision_rows"] = 1
    single["_group"] = group[once].to_numpy()
    parts = [single]
    several = frame[~once]
    if len(several):
        parts.append(pd.DataFrame(_merge_groups(several, group[~once].to_numpy())))
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else single
    merged["_rank"] = merged["action"].map(lambda a: order.get(a, len(order)))
    merged = merged.sort_values(["_rank", "_group"], kind="stable")
    names = [*columns, *(k for k in (*MERGED_KEYS, "decision_rows") if k not in columns)]
    merged = merged[names].reset_index(drop=True)
    for name in names:  # the types a frame of the records infers (text with None: text, NaN)
        if merged[name].dtype == object:
            merged[name] = pd.Series(merged[name].tolist(), index=merged.index)
    return merged


def list_rows(
    enterprises: pd.DataFrame, decisions: pd.DataFrame, as_of: dt.date | None = None
) -> pd.DataFrame:
    """One row per enterprise and measure, with every column the lists show (:data:`LIST_COLUMNS`
    and the enterprise's own columns).

    Decisions giving one enterprise the same measure (two rules, or two documents) are merged:
    the highest percent and stop days, the earliest deadline, every reason, flag and citation
    once. ``rule_ref``, ``policy`` and ``rule_id`` keep the machine references, joined by ``;``.
    """
    merged = _merge_measures(decisions)
    if "id" in enterprises and len(enterprises):  # only the enterprises with a row
        enterprises = enterprises[enterprises["id"].isin(merged["id"]).to_numpy()]
    info = pd.DataFrame(enterprises.drop(columns="geometry", errors="ignore"))
    info = info.drop(
        columns=[c for c in info.columns if c in merged.columns and c != "id"], errors="ignore"
    )
    rows = merged.merge(info.drop_duplicates("id"), on="id", how="left")
    n = len(rows)

    def column(name: str) -> pd.Series:
        return rows[name] if name in rows else pd.Series([None] * n, index=rows.index)

    rows["county"] = column("county").map(
        lambda v: NO_COUNTY if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()
    )
    rows["industry_zh"] = column("industry").map(lambda v: INDUSTRY_ZH.get(v, v))
    rows["action_zh"] = rows["action"].map(lambda v: ACTION_ZH.get(v, v))
    rows["deadline"] = column("deadline").map(_as_date)
    rows["deadline_state"] = [_deadline_state(d, as_of) for d in rows["deadline"]]
    rows["window_zh"] = [
        f"{date_zh(str(s)[:10])}至{date_zh(str(e)[:10])}" if _as_date(s) and _as_date(e) else ""
        for s, e in zip(column("window_start"), column("window_end"), strict=True)
    ]
    near = column("near_city")
    rows["near_city_zh"] = near.map(
        lambda v: "" if v is None or pd.isna(v) else ("是" if v else "否")
    )
    rows["dist_builtup_m"] = pd.to_numeric(column("dist_builtup_m"), errors="coerce").round(0)
    rows["builtup_zh"] = [
        _builtup_zh(metres, place)
        for metres, place in zip(
            rows["dist_builtup_m"].tolist(), column("nearest_builtup").tolist(), strict=True
        )
    ]
    refs = column("rule_ref").tolist()
    cites, documents_zh = {}, {}  # per distinct reference: most rows share a few
    for ref in refs:
        if isinstance(ref, str) and ref not in cites:
            cites[ref] = cite_ref(ref)
            documents_zh[ref] = "；".join(
                dict.fromkeys(cite_ref(p.split(" ")[0]) for p in ref.split(";") if p.strip())
            )
    empty = None if refs else object  # an empty column stays text, as .map left it
    rows["cite"] = pd.Series(
        [cites[ref] if isinstance(ref, str) else "" for ref in refs], rows.index, dtype=empty
    )
    rows["cite_cell"] = rows["cite"].str.replace(" ", "\n", regex=False).str.replace("；", "；\n")
    rows["documents_zh"] = pd.Series(
        [documents_zh[ref] if isinstance(ref, str) else "" for ref in refs], rows.index, dtype=empty
    )
    rows["reason_zh"] = column("reason_zh").fillna("")
    rows["flags_zh"] = [  # the county column checked against the location comes first
        "".join(t for t in (note, flags) if isinstance(t, str) and t)
        for note, flags in zip(
            column("county_note_zh").tolist(), column("flags_zh").tolist(), strict=True
        )
    ]
    notes: dict[tuple, str] = {}  # plants of one rule share their sentences
    rows["note"] = [
        notes[key]
        if key in notes
        else notes.setdefault(
            key, note_text(OVERDUE.sub("", key[0]) if key[3] else key[0], key[1], key[2])
        )
        for key in zip(
            rows["reason_zh"].tolist(),
            rows["flags_zh"].tolist(),
            rows["cite"].tolist(),
            [bool(d) for d in rows["deadline"].tolist()],
            strict=True,
        )
    ]
    systems = column("coord_sys").map(lambda v: "wgs84" if v is None or pd.isna(v) else str(v))
    lon, lat = column("lon"), column("lat")
    x_in = column("lon_input").where(column("lon_input").notna(), lon)
    y_in = column("lat_input").where(column("lat_input").notna(), lat)
    rows["coord_sys_zh"] = systems.map(lambda s: COORD_SYS_ZH.get(s, s))
    systems = systems.tolist()
    rows["input_xy"] = [
        _coord_text(x, y, s) for x, y, s in zip(x_in.tolist(), y_in.tolist(), systems, strict=True)
    ]
    rows["location"] = [
        _coord_text(x, y, "wgs84") for x, y in zip(lon.tolist(), lat.tolist(), strict=True)
    ]
    rows["coords"] = [
        f"{xy}\n{COORD_SYS_ZH.get(s, s)}" if xy else ""
        for xy, s in zip(rows["input_xy"].tolist(), systems, strict=True)
    ]
    return rows


# --------------------------------------------------------------------------------------------
# Writing a printed list


def _char_width(c: str) -> float:
    """Width of a character in Excel units at 10 pt: CJK and full-width ≈ 1.9, others ≈ 1."""
    width = _WIDTHS.get(c)
    if width is None:
        width = _WIDTHS[c] = 1.9 if unicodedata.east_asian_width(c) in "WF" else 1.0
    return width


_WIDTHS: dict[str, float] = {}


def text_lines(text: object, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` units wide (10 pt).

    >>> text_lines("甲" * 10, 20), text_lines("甲" * 11, 20)
    (1, 2)
    >>> text_lines("a\\nb", 20), text_lines(None, 5)
    (2, 1)
    """
    if text is None or text == "":
        return 1
    room = max(width - 0.3, 1.0)
    lines = 0
    for part in str(text).split("\n"):
        if len(part) * 1.9 < room - 1e-9:  # fits whatever its characters
            lines += 1
            continue
        used, count = 0.0, 1
        for c in part:
            w = _char_width(c)
            if used + w > room:
                count, used = count + 1, 0.0
            used += w
        lines += count
    return lines


def _font(bold: bool = False, size: float = BODY_PT) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold)


def print_setup(sheet: Worksheet, title_rows: str | None = None, fit_width: bool = True) -> None:
    """A4 landscape, fitted to the page width, page numbers in the footer, header rows repeated."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    if fit_width:
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.3
    sheet.page_margins.top = 0.5
    sheet.page_margins.bottom = 0.6
    sheet.page_margins.footer = 0.25
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = FOOTER
    sheet.oddFooter.center.size = 9
    sheet.oddFooter.center.font = FONT_NAME
    if title_rows:
        sheet.print_title_rows = title_rows


def _title(sheet: Sheet, title: str, lines: list[str], width: int) -> int:
    """Title (row 1) and the lines under it; returns the next free row."""
    sheet.height(1, 30)
    sheet.merge(1, 1, width, title, TITLE_STYLE)
    total = sum(sheet.widths[:width])
    row = 2
    for line in lines:
        sheet.height(row, LINE_PT * text_lines(line, total) + 5)
        sheet.merge(row, 1, width, line, LINE_STYLE)
        row += 1
    return row


def _sign_cells(width: int, unit: str = "") -> list[tuple[int, int, str]]:
    """(first column, last column, text) of the 填报单位 / 负责人 / 日期 line."""
    thirds = [1, 1 + width // 3, 1 + 2 * width // 3, width + 1]
    texts = (
        f"填报单位（盖章）：{unit}",
        "负责人（签字）：",
        "日期：　　　　年　　月　　日",
    )
    return [
        (start, stop - 1, text)
        for (start, stop), text in zip(itertools.pairwise(thirds), texts, strict=True)
    ]


def sign_block(sheet: Worksheet, row: int, width: int, unit: str = "") -> int:
    """The 填报单位 / 负责人 / 日期 line a county signs (an openpyxl sheet); returns the row
    after it."""
    for start, stop, text in _sign_cells(width, unit):
        cell = put(sheet, row, start, text)
        cell.font = _font(size=11)
        cell.alignment = Alignment(vertical="bottom")
        if stop > start:
            sheet.merge_cells(start_row=row, start_column=start, end_row=row, end_column=stop)
    sheet.row_dimensions[row].height = 36
    return row + 1


def _sign(sheet: Sheet, row: int, width: int, unit: str = "") -> int:
    """:func:`sign_block` on a streamed sheet."""
    sheet.height(row, 36)
    for start, stop, text in _sign_cells(width, unit):
        if stop > start:
            sheet.merge(row, start, stop, text, SIGN_STYLE)
        else:
            sheet.put(row, start, text, SIGN_STYLE)
    return row + 1


def _page(sheet: Sheet, title_rows: str | None = None, fit_width: bool = True) -> None:
    """:func:`print_setup` on a streamed sheet."""
    sheet.page(fit_width=fit_width, footer=FOOTER_FIELD, title_rows=title_rows)


def _ints(values: list) -> list:
    out = []
    for value in values:
        number = _number(value)
        out.append(None if number is None else round(number))
    return out


def _column_values(column: Column, rows: pd.DataFrame) -> list:
    """The cells of one column of a printed list, top to bottom."""
    if column.key == "seq":
        return list(range(1, len(rows) + 1))
    if column.key not in rows:
        return [None] * len(rows)
    if column.kind == "int":
        return _ints(rows[column.key].tolist())
    if column.kind == "date":
        return [_as_date(v) for v in rows[column.key].tolist()]
    return clean_column(rows[column.key])


def write_list(
    book: Book,
    name: str,
    title: str,
    lines: list[str],
    rows: pd.DataFrame,
    columns: tuple[Column, ...],
    unit: str = "",
) -> Sheet:
    """One printed list: title, lines under it, header, rows with 序号, 合计, sign block."""
    sheet = book.sheet(name)
    width = len(columns)
    sheet.set_widths([column.width for column in columns])
    row = _title(sheet, title, lines, width)
    header_row = row
    height = max(text_lines(column.header, column.width) for column in columns)
    sheet.height(row, LINE_PT * height + 5)
    for j, column in enumerate(columns, 1):
        sheet.put(row, j, column.header, HEADER_STYLE)
    values = [_column_values(column, rows) for column in columns]
    formats = []
    for column in columns:
        style = CELL_CENTRE if column.kind in ("int", "date", "centre") else CELL_LEFT
        dated = replace(style, number=DATE_FORMAT) if column.kind == "date" else style
        formats.append(CellFormats(blank=style, text=style, date=dated, number=style))
    lines: dict[tuple[str, float], int] = {}  # reasons and names repeat: each counted once
    heights = []
    for record in zip(*values, strict=True):
        height = 1
        for value, column in zip(record, columns, strict=True):
            if isinstance(value, str) and value:
                found = lines.get((value, column.width))
                if found is None:
                    found = lines[(value, column.width)] = text_lines(value, column.width)
                height = max(height, found)
        heights.append(LINE_PT * height + 5)
    sheet.stream_rows(row + 1, values, formats, heights)
    row += len(heights)
    count = len(rows)
    if not count:
        row += 1
        sheet.merge(row, 1, width, "（无）", NONE_STYLE)
    row += 1
    enterprises = rows["id"].nunique() if "id" in rows else len(rows)
    sheet.height(row, LINE_PT + 4)
    sheet.put(row, 1, "合计", TOTAL_STYLE)
    sheet.put(row, 2, count, COUNT_STYLE)
    done = 2
    if enterprises != count:
        last = min(width, 5)
        sheet.merge(row, 3, last, f"涉及{enterprises}家企业", TOTAL_STYLE)
        done = 3
    for j in range(done + 1, width + 1):
        sheet.put(row, j, None, TOTAL_BLANK)
    _sign(sheet, row + 2, width, unit)
    sheet.freeze(header_row + 1, 3)
    _page(sheet, f"{header_row}:{header_row}")
    sheet.done()
    return sheet


# --------------------------------------------------------------------------------------------
# Which rows go to which list


def curtailment_policies(policies: Iterable[Policy]) -> set[str]:
    """Ids of the curtailment documents: a table with a season, or with a rule that curtails,
    rotates, determines by heat or stops for a window."""
    out = set()
    for policy in policies:
        found: list[str] = []

        def walk(node: object, found: list[str] = found) -> None:
            if isinstance(node, dict):
                if node.get("action") in CURTAIL_ACTIONS:
                    found.append(node["action"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(policy.raw.get("rules"))
        if policy.raw.get("season") or found:
            out.add(policy.id)
    return out


def _in_season(rows: pd.DataFrame, seasonal: set[str]) -> pd.Series:
    """Rows of the 错峰 lists: curtailment measures, and a curtailment document's stops and
    exemptions (a shaft-furnace exemption of the cluster plan is not an exemption from 错峰)."""
    by_doc = rows["policy"].map(lambda p: bool(set(str(p).split(";")) & seasonal))
    return rows["action"].isin(CURTAIL_ACTIONS) | (rows["action"].isin(SEASON_ACTIONS) & by_doc)


def season_text(policies: Iterable[Policy], ids: Iterable[str]) -> str:
    """The season of the curtailment documents ``ids``: the table's ``season``, else the periods
    of its groups that curtail, else its own period (``2019年11月1日至2020年3月31日``)."""
    wanted = set(ids)
    spans: list[str] = []
    for policy in policies:
        if policy.id not in wanted:
            continue
        season = policy.raw.get("season")
        if season and season.get("start") and season.get("end"):
            spans.append(f"{date_zh(str(season['start']))}至{date_zh(str(season['end']))}")
            continue
        groups = [
            g
            for g in policy.raw.get("rules") or []
            if any(r.get("action") in CURTAIL_ACTIONS for r in g.get("rows") or [])
        ]
        found = [p for g in groups for p in periods(g)] or periods(policy.raw)
        spans += [p.text_zh() for p in found]
    return "、".join(dict.fromkeys(spans))


def _status_zh(status: PolicyStatus) -> str:
    return labels("policy_status").get(status.status, status.status)


# --------------------------------------------------------------------------------------------
# The workbook


def read_list(path: str | Path, sheet: str) -> pd.DataFrame:
    """The rows of one printed list of a ``lists.xlsx`` (between its header and 合计), headed as
    in the sheet, for reading a list back into pandas."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()
    start = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    end = next(i for i, r in enumerate(rows) if r and r[0] == "合计")
    body = [r for r in rows[start + 1 : end] if r[0] != "（无）"]
    return pd.DataFrame(body, columns=rows[start])


def phase_lists(
    enterprises: pd.DataFrame, decisions: pd.DataFrame | None = None, as_of: dt.date | None = None
) -> dict[str, pd.DataFrame]:
    """One list per Dingxiang rectification phase (``zone_phase``), plus the unassigned plants.

    With ``decisions``, each plant's rows are its decisions (merged per measure, as in the
    lists); without, its summary decision.
    """
    if "zone_phase" not in enterprises:
        return {}
    frame = pd.DataFrame(enterprises.drop(columns="geometry", errors="ignore"))
    if decisions is None:
        summary = ["id", "action", "curtail_pct", "stop_days", "deadline", "rule_ref", "reason_zh"]
        decisions = frame[[c for c in summary if c in frame]]
    out = {}
    for phase in sorted(frame["zone_phase"].dropna().unique()):
        ids = set(frame.loc[frame["zone_phase"] == phase, "id"])
        mine = decisions[decisions["id"].isin(ids) & (decisions["action"] != "none")]
        out[f"整治第{int(phase)}阶段"] = list_rows(enterprises, mine, as_of)
    unassigned = set(frame.loc[frame.get("zone_status") == "unassigned", "id"])
    if unassigned:
        mine = decisions[decisions["id"].isin(unassigned) & (decisions["action"] != "none")]
        out["整治阶段未定"] = list_rows(enterprises, mine, as_of)
    return out


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in ("township", "name", "id") if k in rows]
    return rows.sort_values(keys, kind="stable", na_position="last") if keys else rows


def write_lists(
    path: str | Path,
    enterprises: pd.DataFrame,
    decisions: pd.DataFrame,
    *,
    phase_lists: dict[str, pd.DataFrame] | None = None,
    map_url: str | None = None,
    emissions: pd.DataFrame | None = None,
    emission_targets: pd.DataFrame | None = None,
    policies: list[Policy] | None = None,
    as_of: dt.date | None = None,
    policy_status: list[PolicyStatus] | None = None,
) -> Path:
    """Write ``lists.xlsx`` atomically; returns its path.

    Parameters
    ----------
    path
        The workbook to write.
    enterprises
        Accepted enterprises with their facts (the ``enterprises`` layer).
    decisions
        The ``decisions`` table.
    phase_lists
        Optional sheet title → rows (:func:`list_rows`) for the Dingxiang phases.
    map_url
        Where the interactive map is published; written under every list's title.
    emissions, emission_targets
        The emission table and target check (:mod:`spatial.emissions`) for the 减排量测算 sheet.
    policies
        The rule tables applied: which are curtailment documents, and the 文件目录 sheet. Without
        them, the tables are looked up by the ``policy`` ids of the decisions.
    as_of
        The run's date (titles, days overdue, the summary); default today.
    policy_status
        :func:`spatial.policy.status_on` of the run (the summary's 执行状态); default computed
        from ``policies`` and ``as_of``.
    """
    from spatial.policy import load_policy, shipped_policies, status_on

    as_of = as_of or dt.date.today()
    if policies is None:
        known = set(shipped_policies())
        ids = sorted({p for v in decisions.get("policy", []) for p in str(v).split(";")} & known)
        policies = [load_policy(p) for p in ids]
    if policy_status is None:
        policy_status = status_on(policies, as_of)
    seasonal = curtailment_policies(policies)
    measures = decisions[decisions["action"] != "none"] if len(decisions) else decisions
    rows = list_rows(enterprises, measures, as_of)
    county_checks = _county_checks(enterprises, measures, as_of)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = Book(tmp)
        try:
            _write_book(
                book,
                enterprises,
                rows,
                county_checks,
                phase_lists=phase_lists,
                map_url=map_url,
                emissions=emissions,
                emission_targets=emission_targets,
                policies=policies,
                as_of=as_of,
                policy_status=policy_status,
                seasonal=seasonal,
            )
        except BaseException:
            with contextlib.suppress(Exception):
                book.close()  # its temporary files; atomic_path removes what it wrote
            raise
        book.close()
    return path


def _write_book(
    book: Book,
    enterprises: pd.DataFrame,
    rows: pd.DataFrame,
    county_checks: pd.DataFrame,
    *,
    phase_lists: dict[str, pd.DataFrame] | None,
    map_url: str | None,
    emissions: pd.DataFrame | None,
    emission_targets: pd.DataFrame | None,
    policies: list[Policy],
    as_of: dt.date,
    policy_status: list[PolicyStatus],
    seasonal: set[str],
) -> None:
    """The sheets of ``lists.xlsx`` in their order (:func:`write_lists`)."""
    taken: list[str] = []
    day = date_zh(as_of.isoformat())
    link = [f"在线地图：{map_url}"] if map_url else []
    cited = " ".join(rows["documents_zh"]) if len(rows) else ""
    drafts = [d for d in documents(policies) if d.draft and d.short_zh in cited]
    draft_note = (
        "；".join(f"{d.title_zh}为征求意见稿，尚未正式印发，据其列入的结论仅供参考" for d in drafts)
        + "。"
        if drafts
        else ""
    )

    def lines_for(part: pd.DataFrame, head: str) -> list[str]:
        docs = "；".join(
            dict.fromkeys(d for v in part.get("documents_zh", []) for d in v.split("；") if d)
        )
        out = [f"{head}　依据：{docs}" if docs else head]
        if draft_note and any(d.short_zh in docs for d in drafts):
            out.append(draft_note)
        return out + link

    summary_sheet = book.sheet("汇总")
    taken.append("汇总")
    documents_sheet = book.sheet("文件目录")
    taken.append("文件目录")

    county_names = sorted(
        {*rows["county"]}
        | {
            str(c).strip()
            for c in enterprises.get("county", pd.Series(dtype=object)).dropna().unique()
            if str(c).strip()
        }
    )
    sheets: list[tuple[str, str, int]] = []  # (sheet, what, rows)
    in_season = _in_season(rows, seasonal) if len(rows) else pd.Series([], dtype=bool)
    phases = {title: part for title, part in (phase_lists or {}).items()}
    in_phase = {
        (i, a) for part in phases.values() for i, a in zip(part["id"], part["action"], strict=True)
    }
    see_also = (
        "法兰产业集群分阶段整治企业另见“" + "”“".join(phases) + "”清单，本表不重复列出。"
        if phases
        else ""
    )
    # the county lists read a few columns: per county a slice of those alone, found once
    fields = {"id", "action", "policy", "county", "documents_zh", "township", "name"}
    fields |= {column.key for columns in SHEET_COLUMNS.values() for column in columns}
    lean = rows[[c for c in rows.columns if c in fields]]
    lean_checks = county_checks[[c for c in county_checks.columns if c in fields]]
    rows_of = lean.groupby("county", sort=False).indices if len(lean) else {}
    checks_of = lean_checks.groupby("county", sort=False).indices if len(lean_checks) else {}
    for county in county_names:
        mine = lean.iloc[rows_of.get(county, [])]
        phased = [(i, a) in in_phase for i, a in zip(mine["id"], mine["action"], strict=True)]
        if any(phased):
            mine = mine[[not p for p in phased]]
        seasonal_rows = mine[in_season[mine.index]] if len(mine) else mine
        curtail = seasonal_rows[seasonal_rows["action"] != "exempt"]
        exempt = seasonal_rows[seasonal_rows["action"] == "exempt"]
        rest = mine.drop(seasonal_rows.index)
        other = rest[rest["action"].isin(OTHER_ACTIONS)]
        review = rest[rest["action"] == "review"]
        checks = lean_checks.iloc[checks_of.get(county, [])]
        if len(checks):
            review = pd.concat([review, checks], ignore_index=True)
        lists = []
        ids = {p for v in seasonal_rows["policy"] for p in str(v).split(";")}
        season = season_text(policies, ids) or f"截至{day}"
        if len(curtail) or len(exempt):
            lists += [
                ("错峰生产清单", "错峰生产企业清单", curtail, "curtail", season),
                ("豁免清单", "错峰生产豁免企业清单", exempt, "exempt", season),
            ]
        if len(other):
            lists.append(
                ("关停退出及整治清单", "关停退出及整治企业清单", other, "other", f"截至{day}")
            )
        if len(review):
            lists.append(("待核实清单", "待核实企业清单", review, "review", f"截至{day}"))
        for suffix, heading, part, kind, when in lists:
            part = _sorted(part)
            if kind == "other":
                part = part.sort_values(
                    "action", key=lambda s: s.map(OTHER_ACTIONS.index), kind="stable"
                )
            name = sheet_name(county, taken, f"-{suffix}")
            taken.append(name)
            lines = lines_for(part, f"评估日：{day}")
            if any(phased) and kind in ("other", "review"):
                lines.insert(1, see_also)
            write_list(
                book,
                name,
                f"{county}{heading}（{when}）",
                lines,
                part,
                SHEET_COLUMNS[kind],
            )
            sheets.append((name, f"{county}{heading}", len(part)))
    for title, phase_rows in phases.items():
        if phase_rows.empty:
            continue
        name = sheet_name(title, taken)
        taken.append(name)
        part = _sorted(phase_rows)
        counties = sorted(set(part["county"])) if len(part) else []
        heading = f"{'、'.join(counties)}法兰产业集群{title}" + (
            "" if title.endswith("清单") else "企业清单"
        )
        write_list(
            book,
            name,
            f"{heading}（截至{day}）",
            lines_for(part, f"评估日：{day}"),
            part,
            SHEET_COLUMNS["other"],
        )
        sheets.append((name, heading, len(part)))
    if emissions is not None:
        # built in openpyxl (a small sheet, rearranged after it is written), then copied
        scratch = Workbook()
        write_emission_sheet(
            scratch, emissions, emission_targets, link=f"  在线地图：{map_url}" if map_url else ""
        )
        emission_sheet = scratch.worksheets[-1]
        targets_sheet = split_targets(scratch, emission_sheet)
        fit_emission_sheet(emission_sheet)
        copy_sheet(book, emission_sheet)
        taken.append(emission_sheet.title)
        sheets.append((emission_sheet.title, "减排量测算（按县区和管控措施）", 0))
        if targets_sheet is not None:
            fit_emission_sheet(targets_sheet, TARGET_WIDTHS)
            copy_sheet(book, targets_sheet)
            taken.append(targets_sheet.title)
            sheets.append((targets_sheet.title, "减排目标对照（规划目标与已定措施减排量）", 0))
    _write_full_data(book, sheet_name("全部数据", taken), rows, day)
    sheets.append(("全部数据", "全部清单行及全部字段（筛选、核对用，不需打印）", len(rows)))
    _write_documents(documents_sheet, policies, policy_status, day)
    _write_summary(summary_sheet, rows, county_names, policy_status, sheets, day, link, draft_note)


TARGETS_TITLE = "减排目标对照"
TARGET_WIDTHS = [15, 15, 7, 6, 6, 7, 7, 8, 9, 9, 9, 10, 8, 8]
"""Columns of the 减排目标对照 sheet (14, as :data:`excel_emissions.TARGET_COLUMNS`): 124 units."""


def split_targets(workbook: Workbook, sheet: Worksheet) -> Worksheet | None:
    """Move the 减排目标对照 block below the 减排量测算 table to a sheet of its own, so that each
    printed page repeats the header of its own table; returns that sheet (None without it)."""
    start = next(
        (c.row for c in sheet["A"] if isinstance(c.value, str) and c.value == TARGETS_TITLE),
        None,
    )
    if start is None:
        return None
    target = workbook.create_sheet(title=TARGETS_TITLE)
    for row in sheet.iter_rows(min_row=start, max_row=sheet.max_row):
        for cell in row:
            if cell.value is None:
                continue
            new = put(target, cell.row - start + 1, cell.column, cell.value)
            new.font = Font(bold=bool(cell.font and cell.font.bold), size=cell.font.size)
            new.number_format = cell.number_format
            new.fill = copy.copy(cell.fill)
    sheet.delete_rows(start, sheet.max_row - start + 1)
    target.print_title_rows = "2:2"
    return target


def fit_emission_sheet(sheet: Worksheet, widths: list[float] | None = None) -> None:
    """The 减排量测算 sheet (:mod:`spatial.export.excel_emissions`) set for print like the lists:
    10 pt, headers wrapped, columns narrowed to fit A4 landscape at 100 %, the merged method
    lines given the height their text needs, page numbers and a sign block."""
    width = sheet.max_column
    if widths is None:
        widths = [11, 9, 6, 10, 6] + [9.0] * max(width - 5, 0)
        if width > 5:
            room = (PRINTABLE_WIDTH - sum(widths[:5])) / (width - 5)
            widths[5:] = [min(room, 11.0)] * (width - 5)
    widths = (list(widths) + [9.0] * width)[:width]
    for j in range(1, width + 1):
        sheet.column_dimensions[get_column_letter(j)].width = widths[j - 1]
    total = sum(widths)
    merged = {r.min_row: r for r in sheet.merged_cells.ranges if r.min_col == 1}
    for row in sheet.iter_rows():
        lines = 1
        filled = [c for c in row if c.value is not None]
        table = row[0].row not in merged and len(filled) > 1  # a header, body or total row
        for cell in row:
            if table:
                cell.border = BOX
            if cell.value is None:
                continue
            bold = bool(cell.font and cell.font.bold)
            size = max(BODY_PT, min(cell.font.size or BODY_PT, 14)) if bold else BODY_PT
            cell.font = _font(bold, size)
            text = isinstance(cell.value, str)
            cell.alignment = Alignment(
                wrap_text=text,
                vertical="center",
                horizontal=cell.alignment.horizontal if cell.alignment else None,
            )
            if text:
                span = total if cell.row in merged else widths[cell.column - 1]
                span = span / (size / BODY_PT)  # wider characters in the 14 pt title
                lines = max(lines, text_lines(cell.value, span))
        line = LINE_PT if row[0].row > 1 else LINE_PT * 1.4  # the title is 14 pt
        sheet.row_dimensions[row[0].row].height = line * lines + 5
    sign_block(sheet, sheet.max_row + 2, width)
    print_setup(sheet, sheet.print_title_rows)


def _header_row(sheet: Sheet, row: int, labels: list[str], widths: list[float]) -> None:
    height = max(text_lines(label, width) for label, width in zip(labels, widths, strict=True))
    sheet.height(row, LINE_PT * height + 5)
    for j, label in enumerate(labels, 1):
        sheet.put(row, j, label, HEADER_STYLE)


def _body_row(sheet: Sheet, row: int, values: list, widths: list[float], bold=False) -> None:
    height = 1
    for value, width in zip(values, widths, strict=True):
        height = max(height, text_lines(value if isinstance(value, str) else "", width))
    sheet.height(row, LINE_PT * height + 5)
    for j, value in enumerate(values, 1):
        style = replace(
            CELL_LEFT if isinstance(value, str) else CELL_CENTRE,
            bold=bold,
            fill=TOTAL_RGB if bold else None,
            number=DATE_FORMAT if isinstance(value, dt.date) else None,
        )
        sheet.put(row, j, value, style)


def _write_summary(
    sheet: Sheet,
    rows: pd.DataFrame,
    counties: list[str],
    statuses: list[PolicyStatus],
    sheets: list[tuple[str, str, int]],
    day: str,
    link: list[str],
    draft_note: str,
) -> None:
    present_actions = set(rows["action"])
    actions = [a for a in ACTIONS if a in present_actions]
    labels = [
        "县（区、市）",
        *(ACTION_ZH.get(a, a) for a in actions),
        "合计（条）",
        "涉及企业（家）",
    ]
    n = len(labels)
    table_width = max(n, 6)
    widths = [14.0] + [(PRINTABLE_WIDTH - 14) / (table_width - 1)] * (table_width - 1)
    sheet.set_widths(widths)
    row = _title(
        sheet,
        f"管控清单汇总（截至{day}）",
        [
            f"评估日：{day}。各县（区、市）按本表所列清单逐页核对、填报单位盖章、负责人签字后报送。"
            "同一企业同一措施只列一行；一家企业有多项措施的，分列于相应清单。",
            *([draft_note] if draft_note else []),
            *link,
        ],
        table_width,
    )
    row += 1
    sheet.put(row, 1, "一、各县（区、市）管控措施条数", SECTION_STYLE)
    row += 1
    _header_row(sheet, row, labels + [""] * (table_width - n), widths)
    present = set(rows["county"])
    listed = [c for c in counties if c in present]
    per_action = rows.groupby(["county", "action"]).size().to_dict() if len(rows) else {}
    per_county = rows.groupby("county").size().to_dict() if len(rows) else {}
    plants = rows.groupby("county")["id"].nunique().to_dict() if len(rows) else {}
    for county in listed:
        row += 1
        counts = [int(per_action.get((county, a), 0)) for a in actions]
        _body_row(
            sheet,
            row,
            [county, *counts, int(per_county[county]), int(plants[county])]
            + [""] * (table_width - n),
            widths,
        )
    row += 1
    counts = [int((rows["action"] == a).sum()) for a in actions]
    _body_row(
        sheet,
        row,
        ["合计", *counts, len(rows), rows["id"].nunique()] + [""] * (table_width - n),
        widths,
        bold=True,
    )
    row += 1
    quiet = [c for c in counties if c not in listed]
    if quiet:
        text = f"评估日无管控措施的县（区、市）{len(quiet)}个：{'、'.join(quiet)}。"
        sheet.height(row, LINE_PT * text_lines(text, sum(widths)) + 5)
        sheet.merge(row, 1, table_width, text, LINE_STYLE)
        row += 1
    row += 1
    sheet.put(row, 1, "二、适用文件及评估日执行状态", SECTION_STYLE)
    row += 1
    merge = [(1, 2), (3, 3), (4, table_width)]
    status_widths = [widths[0] + widths[1], widths[2], sum(widths[3:])]
    row = _merged_table(
        sheet,
        row,
        merge,
        status_widths,
        ["文件", "执行状态", "说明"],
        [
            [_doc_of(s), _status_zh(s), re.sub(r"（--layer [^）]*）", "", s.reason_zh)]
            for s in statuses
        ],
    )
    row += 1
    sheet.put(row, 1, "三、本工作簿各表", SECTION_STYLE)
    row += 1
    row = _merged_table(
        sheet,
        row,
        merge,
        status_widths,
        ["工作表", "行数", "内容"],
        [[name, count if count else "", what] for name, what, count in sheets],
    )
    _sign(sheet, row + 1, table_width)
    _page(sheet)


def _doc_of(status: PolicyStatus) -> str:
    from spatial.policy import cite

    head = cite(status.policy)
    return head if "/" not in status.part else f"{head}（部分条款）"


def _merged_table(sheet: Sheet, row, merge, widths, labels, body) -> int:
    for values, bold in [(labels, True), *((v, False) for v in body)]:
        height = 1
        for value, width in zip(values, widths, strict=True):
            height = max(height, text_lines(value if isinstance(value, str) else "", width))
        sheet.height(row, LINE_PT * height + 5)
        for (start, stop), value in zip(merge, values, strict=True):
            style = replace(
                CELL_CENTRE if bold or not isinstance(value, str) else CELL_LEFT,
                bold=bold,
                fill=HEADER_RGB if bold else None,
            )
            if stop > start:
                sheet.merge(row, start, stop, value, style)
            else:
                sheet.put(row, start, value, style)
        row += 1
    return row


def _write_documents(
    sheet: Sheet, policies: list[Policy], statuses: list[PolicyStatus], day: str
) -> None:
    table = documents_table(policies)
    by_title = {}
    for policy in policies:
        mine = [s for s in statuses if s.policy == policy.id and s.part == policy.id]
        if mine:
            by_title[policy.document.title_zh] = _status_zh(mine[0])
    table[f"评估日（{day}）执行状态"] = table["文件名称"].map(by_title).fillna("（被引用）")
    widths = [36, 18, 20, 12, 10, 16, 12]
    sheet.set_widths(widths)
    row = _title(
        sheet,
        "文件目录",
        ["各清单“依据条款”栏以文号（无文号的以简称）加条款号引用下列文件；征求意见稿已注明。"],
        len(widths),
    )
    _header_row(sheet, row, list(table.columns), widths)
    for record in table.itertuples(index=False):
        row += 1
        _body_row(sheet, row, list(record), widths)
    _page(sheet, f"{3}:{3}")


FULL_COLUMNS = [
    "id", "name", "county", "county_input", "township", "village", "industry_zh", "action_zh",
    "curtail_pct", "stop_days", "window_zh", "deadline", "deadline_state", "builtup_zh",
    "near_city_zh", "dist_builtup_m", "nearest_builtup", "cite", "documents_zh", "reason_zh",
    "flags_zh", "lon", "lat", "coord_sys_zh", "input_xy",
]  # fmt: skip
FULL_WIDTHS = {"name": 24, "reason_zh": 60, "flags_zh": 30, "cite": 24, "documents_zh": 24,
               "builtup_zh": 20, "input_xy": 24, "deadline": 14, "coord_sys_zh": 14}  # fmt: skip


FULL_BLOCK = 20_000
"""Rows of 全部数据 prepared and written together."""


def _full_values(rows: pd.DataFrame, column: str) -> list:
    if column not in rows:
        return [None] * len(rows)
    values = rows[column]
    if column == "deadline":
        return [_as_date(v) for v in values.tolist()]
    if column in ("curtail_pct", "stop_days", "dist_builtup_m"):
        return _ints(values.tolist())
    if column in ("lon", "lat"):
        return [_number(v) for v in values.tolist()]
    return clean_column(values)


def _write_full_data(book: Book, name: str, rows: pd.DataFrame, day: str) -> None:
    """Every row with every column, one line per row (for filtering; not meant to be printed)."""
    sheet = book.sheet(name)
    sheet.set_widths([FULL_WIDTHS.get(column, 10) for column in FULL_COLUMNS])
    sheet.freeze(3, 3)
    sheet.put(1, 1, f"全部清单行（截至{day}，每家企业每项措施一行）", SECTION_STYLE)
    sheet.height(2, LINE_PT * 3 + 4)
    for j, column in enumerate(FULL_COLUMNS, 1):
        sheet.put(2, j, LIST_COLUMNS[column], HEADER_STYLE)
    dated = replace(BODY_STYLE, number=DATE_FORMAT)
    degrees = replace(BODY_STYLE, number="0.000000")
    formats = [
        CellFormats(blank=degrees, text=BODY_STYLE, date=dated, number=degrees)
        if column in ("lon", "lat")
        else CellFormats(blank=BODY_STYLE, text=BODY_STYLE, date=dated, number=BODY_STYLE)
        for column in FULL_COLUMNS
    ]
    for start in range(0, len(rows), FULL_BLOCK):  # a block of rows at a time: bounded memory
        block = rows.iloc[start : start + FULL_BLOCK]
        values = [_full_values(block, column) for column in FULL_COLUMNS]
        sheet.stream_rows(3 + start, values, formats)
    last = get_column_letter(len(FULL_COLUMNS))
    sheet.ws.autofilter(f"A2:{last}{max(2, len(rows) + 2)}")
    _page(sheet, "2:2", fit_width=False)
    sheet.done()

"""The 减排量测算 sheet of ``lists.xlsx``: tonnes avoided per county and measure, with totals,
and the comparison with a table's own targets (see :mod:`spatial.emissions`).

Kept apart from :mod:`spatial.export.excel` so the lists and this sheet change independently;
``write_lists`` calls :func:`write_emission_sheet` once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from spatial.emissions import (
    NO_COUNTY,
    PERIOD_ZH,
    POLLUTANT_ZH,
    POLLUTANTS,
    UNDECIDED,
)
from spatial.policy import ACTION_ZH, ACTIONS, cite_ref

SHEET_TITLE = "减排量测算"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="999999")
_A = ACTION_ZH
METHOD_ZH = (
    f"测算方法：{_A['curtail']}（限产）＝年排放量×限产比例×采暖季天数/365；"
    f"{_A['shutdown']}、{_A['stop_season']}或停产时段＝年排放量×停产天数/365；"
    f"{_A['close_or_merge']}、{_A['clear']}、{_A['exit_by']}＝自完成时限起每年减少全部年排放量；"
    f"{_A['rectify']}至排放限值＝年排放量×（1−限值/折算浓度）；"
    f"{_A['review']}、{_A['heat_determined']}不计减排量，其年排放量单列；{_A['exempt']}不计减排量。"
    "缺少年排放量数据的企业不计为0吨，按家数单列。采暖季与年度减排量口径不同，分别合计。"
)
SOURCE_REFS = (
    "004_8ff93025e2acb35e.txt §一; 004_8ff93025e2acb35e.txt §二13; "
    "003_598ea2f0f9e2d118.txt §一(三); 000_76214740fd4dcd9a.txt §三(二)3; "
    "002_44512477227ed7b1.txt ch.2 §二; "
    "002_44512477227ed7b1.txt ch.3 §二(四)2"
)
"""The clauses the method rests on: the purpose (offsetting), the season, the stop window, the
two retrofit limits and the Shapotou targets."""


TARGET_COLUMNS = {
    "title": "规划（文件）",
    "ref": "依据条款",
    "pollutant_zh": "污染物",
    "base_year": "基准年",
    "target_year": "目标年",
    "reduction_pct": "减排率（%）",
    "plants": "纳入企业（家）",
    "no_data_plants": "缺少排放量数据（家）",
    "base_t": "基准排放量（吨）",
    "required_t": "应减排量（吨）",
    "avoided_t": "已定措施减排量（吨）",
    "undated_t": "未定时限措施减排量（吨，未计入）",
    "gap_t": "差额（吨）",
    "met_zh": "是否达到",
}


def emission_sheet_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The sheet's body: per county and measure a row, then subtotals and totals per period.

    Columns: ``county``, ``measure`` (Chinese), ``period`` (Chinese), ``basis`` (减排量 or
    待研判年排放量), ``plants``, per pollutant ``<p>_t`` and ``<p>_no_data``, ``not_quantified``.
    A tonnes cell none of whose plants has a computed figure is empty, never 0.
    """
    if table.empty:
        return pd.DataFrame()
    order = {action: rank for rank, action in enumerate(ACTIONS)}
    frame = table.assign(county=table["county"].fillna(NO_COUNTY))
    arrays = _Arrays(frame)
    out = []
    counties = frame.groupby("county", sort=True).indices
    for county in sorted(counties):
        mine = counties[county]
        groups: dict[tuple, list[int]] = {}  # (period, action) in order of appearance
        for i in mine.tolist():
            key = (arrays.period[i], arrays.action[i])
            if key[0] == key[0] and key[1] == key[1]:  # pandas leaves out a missing key
                groups.setdefault(key, []).append(i)
        rows = []
        for (period, action), part in groups.items():
            basis = "待研判年排放量" if action in UNDECIDED else "减排量"
            rows.append(
                _row(arrays, np.array(part), county, ACTION_ZH.get(action, action), period, basis)
                | {"_key": (list(PERIOD_ZH).index(period), order.get(action, len(order)))}
            )
        rows.sort(key=lambda r: r.pop("_key"))
        out += rows
        out += _subtotals(arrays, mine, f"{county} 小计")
    out += _subtotals(arrays, np.arange(len(frame)), "合计")
    return pd.DataFrame(out)


class _Arrays:
    """The columns of the emission table the sheet sums, as arrays (ids as codes, -1 missing)."""

    def __init__(self, frame: pd.DataFrame):
        self.ids = pd.factorize(frame["id"])[0]
        self.pollutant, self._pollutants = pd.factorize(frame["pollutant"])
        self.status, self._statuses = pd.factorize(frame["status"])
        self.period = frame["period"].tolist()
        self.action = frame["action"].tolist()
        self.periods = frame["period"].to_numpy(dtype=object)
        self.undecided = frame["action"].isin(UNDECIDED).to_numpy()
        self.counted = frame["counted"].to_numpy(dtype=bool)
        self.avoided = frame["avoided_t"].to_numpy(dtype=float)
        self.annual = frame["annual_t"].to_numpy(dtype=float)

    def pollutant_code(self, value: str) -> int:
        """The code of a pollutant in :attr:`pollutant` (-2: not in the table)."""
        found = np.flatnonzero(np.asarray(self._pollutants, dtype=object) == value)
        return int(found[0]) if len(found) else -2

    def status_code(self, value: str) -> int:
        """The code of a status in :attr:`status` (-2: not in the table)."""
        found = np.flatnonzero(np.asarray(self._statuses, dtype=object) == value)
        return int(found[0]) if len(found) else -2


def _plants(codes: np.ndarray) -> int:
    """Distinct enterprises among ``codes`` (missing ids not counted, as ``nunique``)."""
    return len(np.unique(codes[codes >= 0]))


def _sum(values: np.ndarray) -> float:
    """``Series.sum`` of ``values``: missing as 0, summed in their order."""
    return np.where(np.isnan(values), 0.0, values).sum()


def _row(
    arrays: _Arrays, part: np.ndarray, county: str, measure: str, period: str, basis: str
) -> dict:
    """One line of the sheet from the emission rows ``part`` (positions) it sums (each plant
    once per pollutant)."""
    ids, status = arrays.ids[part], arrays.status[part]
    row = {
        "county": county,
        "measure": measure,
        "period": PERIOD_ZH[period],
        "basis": basis,
        "plants": _plants(ids),
        "not_quantified": _plants(ids[status == arrays.status_code("not_quantified")]),
    }
    pollutants = arrays.pollutant[part]
    for p in POLLUTANTS:
        mine = part[pollutants == arrays.pollutant_code(p)]
        if basis == "减排量":
            state = arrays.status[mine]
            done = [arrays.status_code("avoided"), arrays.status_code("zero")]
            computed = np.isin(state, done).sum()
            value = _sum(arrays.avoided[mine][arrays.counted[mine]])
            lacking = arrays.ids[mine][state == arrays.status_code("no_data")]
        else:
            _, first = np.unique(arrays.ids[mine], return_index=True)
            mine = mine[np.sort(first)]  # each plant once: its first row
            annual = arrays.annual[mine]
            known = ~np.isnan(annual)
            computed = known.sum()
            value = _sum(annual[known])
            lacking = arrays.ids[mine][~known]
        row[f"{p}_t"] = round(float(value), 3) if computed else None
        row[f"{p}_no_data"] = _plants(lacking)
    return row


def _subtotals(arrays: _Arrays, rows: np.ndarray, label: str) -> list[dict]:
    """Per period, the reductions summed, and apart the annual emissions under review."""
    out = []
    periods = arrays.periods[rows]
    for period in (p for p in PERIOD_ZH if (periods == p).any()):
        mine = rows[periods == period]
        review = mine[arrays.status[mine] == arrays.status_code("review")]
        for basis, part in (("减排量", mine[~arrays.undecided[mine]]), ("待研判年排放量", review)):
            if len(part):
                out.append(_row(arrays, part, label, "—", period, basis))
    return out


def _columns() -> dict[str, str]:
    columns = {
        "county": "县（区、市）",
        "measure": "管控措施",
        "period": "计算期",
        "basis": "数值口径",
        "plants": "企业（家）",
    }
    for p in POLLUTANTS:
        columns[f"{p}_t"] = f"{POLLUTANT_ZH[p]}（吨）"
        columns[f"{p}_no_data"] = f"{POLLUTANT_ZH[p]}缺数据（家）"
    columns["not_quantified"] = "未能测算（家）"
    return columns


def _header(sheet, row: int, labels: list[str]) -> None:
    for j, label in enumerate(labels, 1):
        cell = sheet.cell(row=row, column=j, value=label)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)


def _value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def write_emission_sheet(
    workbook: Workbook,
    table: pd.DataFrame | None,
    targets: pd.DataFrame | None = None,
    *,
    link: str = "",
) -> None:
    """Add the 减排量测算 sheet to ``workbook`` (nothing when ``table`` is None).

    Parameters
    ----------
    workbook
        The open workbook of ``lists.xlsx``.
    table
        :func:`spatial.emissions.emission_table`.
    targets
        :func:`spatial.emissions.target_check`, written below the totals when not empty.
    link
        Text appended to the title line (the map's address).
    """
    if table is None:
        return
    sheet = workbook.create_sheet(title=SHEET_TITLE)
    columns = _columns()
    width = len(columns)
    sheet.cell(row=1, column=1, value=f"减排量测算（按县区和管控措施）{link}").font = Font(
        bold=True, size=14
    )
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for r, text in ((2, METHOD_ZH), (3, f"依据：{cite_ref(SOURCE_REFS, form='full')}。")):
        cell = sheet.cell(row=r, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        sheet.row_dimensions[r].height = 45
    _header(sheet, 4, list(columns.values()))
    rows = emission_sheet_rows(table)
    r = 4
    for r, record in enumerate(rows.to_dict("records"), 5):
        total = record["measure"] == "—"
        for j, column in enumerate(columns, 1):
            cell = sheet.cell(row=r, column=j, value=_value(record.get(column)))
            if column.endswith("_t"):
                cell.number_format = "0.00"
            if total:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILL
    for j, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(j)].width = 16 if column != "county" else 20
    sheet.freeze_panes = "C5"
    sheet.print_title_rows = "4:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if targets is None or targets.empty:
        return
    start = r + 2
    sheet.cell(row=start, column=1, value="减排目标对照").font = Font(bold=True, size=12)
    _header(sheet, start + 1, list(TARGET_COLUMNS.values()))
    shown = targets.assign(
        pollutant_zh=targets["pollutant"].map(POLLUTANT_ZH),
        ref=targets["ref"].map(lambda ref: cite_ref(ref, form="full")),
        met_zh=[
            "范围内无企业"
            if not plants
            else ("数据不全，无法判断" if met is None or pd.isna(met) else ("是" if met else "否"))
            for met, plants in zip(targets["met"], targets["plants"], strict=True)
        ],
    )
    for i, record in enumerate(shown.to_dict("records"), start + 2):
        for j, column in enumerate(TARGET_COLUMNS, 1):
            cell = sheet.cell(row=i, column=j, value=_value(record.get(column)))
            if column.endswith("_t"):
                cell.number_format = "0.00"

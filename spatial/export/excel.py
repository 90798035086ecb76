"""``lists.xlsx``: the lists county offices submit (Jinzhong §二8 and the other documents).

Per county a pair of sheets, the curtailment list (错峰生产清单) and the exemption list
(错峰生产豁免清单), then one sheet of the other measures (closures, clearing, exits,
retrofits), one of the cases left for review (待研判), and, when zones were assigned, one list per
Dingxiang phase. Formatted for print: a title line, Chinese headers, frozen header, column widths,
landscape A4 fitted to the page width, header repeated on every page.

Text from the data is written as text: a value that starts like a formula (``=``, ``+``, ``-``,
``@``) gets a leading apostrophe so Excel never runs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from spatial.export.atomic import atomic_path
from spatial.export.excel_emissions import write_emission_sheet
from spatial.vocabulary import ACTION_LABELS as ACTION_ZH
from spatial.vocabulary import labels

CURTAIL_ACTIONS = ("curtail", "heat_determined", "stop_season", "rotate", "shutdown")
OTHER_ACTIONS = ("close_or_merge", "clear", "exit_by", "rectify")
INDUSTRY_ZH = labels("industry")
LIST_COLUMNS = {
    "id": "企业编号",
    "name": "企业名称",
    "industry_zh": "行业",
    "county": "所在县（区、市）",
    "township": "乡镇",
    "location": "经纬度（WGS84）",
    "near_city_zh": "是否位于建成区及周边10公里",
    "dist_builtup_m": "距建成区距离（米）",
    "nearest_builtup": "最近建成区",
    "action_zh": "管控措施",
    "curtail_pct": "限产比例（%）",
    "stop_days": "折算停产天数",
    "deadline": "完成时限",
    "rule_ref": "依据条款",
    "reason_zh": "说明",
    "flags": "待核实事项",
}
WIDTHS = {"name": 30, "reason_zh": 60, "rule_ref": 34, "location": 22, "flags": 28}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")


def neutralise(value: object) -> object:
    """Text that Excel would read as a formula gets a leading apostrophe.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("甲厂"), neutralise(12.5)
    ('\\'=HYPERLINK("http://x")', '甲厂', 12.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def list_rows(enterprises: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per decision, with the enterprise's columns the lists show."""
    info = pd.DataFrame(enterprises.drop(columns="geometry", errors="ignore")).drop(
        columns=["action", "curtail_pct", "stop_days", "deadline", "rule_ref", "reason_zh"],
        errors="ignore",
    )
    rows = decisions.merge(info, on="id", how="left")
    rows["industry_zh"] = rows.get("industry", pd.Series(dtype=object)).map(INDUSTRY_ZH)
    rows["action_zh"] = rows["action"].map(ACTION_ZH)
    near = rows.get("near_city", pd.Series([None] * len(rows)))
    rows["near_city_zh"] = near.map(lambda v: "" if pd.isna(v) else ("是" if v else "否"))
    rows["location"] = [
        "" if pd.isna(lon) else f"{lon:.6f}, {lat:.6f}"
        for lon, lat in zip(rows.get("lon", []), rows.get("lat", []), strict=False)
    ]
    rows["dist_builtup_m"] = pd.to_numeric(rows.get("dist_builtup_m"), errors="coerce").round(0)
    return rows


def _write_sheet(workbook: Workbook, title: str, heading: str, rows: pd.DataFrame) -> None:
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", title)[:31])
    columns = list(LIST_COLUMNS)
    sheet.cell(row=1, column=1, value=heading).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    for j, column in enumerate(columns, 1):
        cell = sheet.cell(row=2, column=j, value=LIST_COLUMNS[column])
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        sheet.column_dimensions[get_column_letter(j)].width = WIDTHS.get(column, 14)
    for i, record in enumerate(rows.to_dict("records"), 3):
        for j, column in enumerate(columns, 1):
            value = record.get(column)
            if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
                value = None
            cell = sheet.cell(row=i, column=j, value=neutralise(value))
            cell.alignment = Alignment(wrap_text=column in WIDTHS, vertical="top")
    sheet.freeze_panes = "C3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(2, len(rows) + 2)}"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def phase_lists(enterprises: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One list per rectification phase (``zone_phase``), plus the unassigned plants.

    Each row is the enterprise with its summary decision; the zone, its dates and status are
    in the reason and flags columns.
    """
    if "zone_phase" not in enterprises:
        return {}
    summary = ["id", "action", "curtail_pct", "stop_days", "deadline", "rule_ref", "reason_zh"]
    frame = pd.DataFrame(enterprises.drop(columns="geometry", errors="ignore"))
    out = {}
    for phase in sorted(frame["zone_phase"].dropna().unique()):
        mine = frame[frame["zone_phase"] == phase]
        rows = mine[summary].assign(flags=mine.get("zone_flags", "").fillna(""))
        out[f"整治第{int(phase)}阶段"] = list_rows(enterprises, rows)
    unassigned = frame[frame.get("zone_status") == "unassigned"]
    if len(unassigned):
        rows = unassigned[summary].assign(flags="unassigned")
        out["整治阶段未定"] = list_rows(enterprises, rows)
    return out


def write_lists(
    path: str | Path,
    enterprises: pd.DataFrame,
    decisions: pd.DataFrame,
    *,
    phase_lists: dict[str, pd.DataFrame] | None = None,
    map_url: str | None = None,
    emissions: pd.DataFrame | None = None,
    emission_targets: pd.DataFrame | None = None,
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
        Optional sheet title → rows (with the same columns) for the Dingxiang phases.
    map_url
        Where the interactive map is published; written on every sheet's title line.
    emissions, emission_targets
        The emission table and target check (:mod:`spatial.emissions`) for the 减排量测算 sheet.
    """
    rows = list_rows(enterprises, decisions)
    workbook = Workbook()
    workbook.remove(workbook.active)
    link = f"  在线地图：{map_url}" if map_url else ""
    counties = sorted(c for c in rows["county"].dropna().unique() if str(c).strip())
    for county in counties:
        mine = rows[rows["county"] == county]
        curtail = mine[mine["action"].isin(CURTAIL_ACTIONS)]
        exempt = mine[mine["action"] == "exempt"]
        if curtail.empty and exempt.empty:
            continue
        _write_sheet(
            workbook, f"{county}-错峰生产清单", f"{county} 错峰生产企业清单{link}", curtail
        )
        _write_sheet(workbook, f"{county}-豁免清单", f"{county} 错峰生产豁免清单{link}", exempt)
    other = rows[rows["action"].isin(OTHER_ACTIONS)].sort_values(["county", "action", "id"])
    if len(other):
        _write_sheet(workbook, "其他整治措施", f"关停整合、清零、限期退出与整改{link}", other)
    review = rows[rows["action"] == "review"].sort_values(["county", "id"])
    _write_sheet(workbook, "待研判", f"需县级研判或核实的企业{link}", review)
    for title, phase_rows in (phase_lists or {}).items():
        _write_sheet(workbook, title, f"{title}{link}", phase_rows)
    write_emission_sheet(workbook, emissions, emission_targets, link=link)
    path = Path(path)
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return path

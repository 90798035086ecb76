"""The 减排量测算 sheet: hand-computed tonnes per county and measure, blanks never 0 t, totals
that count each plant once, and the targets block."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from spatial.emissions import emission_table, target_check
from spatial.export.excel import LO_UNIT_PT, PRINTABLE_PT, PRINTABLE_WIDTH, write_lists
from spatial.export.excel_emissions import SHEET_TITLE, emission_sheet_rows, write_emission_sheet
from spatial.policy import load_policies
from spatial.vocabulary import label
from tests.helpers import decision, plant

POLICIES = load_policies()


@pytest.fixture
def table() -> pd.DataFrame:
    plants = pd.DataFrame(
        [
            plant("A", pm_t=100.0, nox_t=36.5),
            plant("B", pm_t=50.0),  # no NOx figure
            plant("C", pm_t=20.0),
            plant("D", county="忻府区", so2_t=30.0),
        ]
    )
    decisions = pd.DataFrame(
        [
            decision("A", "jinzhong-2019", "curtail", curtail_pct=30),
            decision("B", "jinzhong-2019", "curtail", curtail_pct=40),
            decision("C", "jinzhong-2019", "review"),
            decision("D", "xinzhou-2024", "close_or_merge", deadline="2024-10-31"),
            decision("D", "xinzhou-2024", "clear"),
        ]
    )
    return emission_table(plants, decisions, POLICIES)


def test_rows_per_county_and_measure(table):
    rows = emission_sheet_rows(table)
    curtail = rows[
        (rows["county"] == "榆次区") & (rows["measure"] == label("action", "curtail"))
    ].iloc[0]
    # 100 × 30 % × 152/365 + 50 × 40 % × 152/365
    assert curtail["pm_t"] == round((30 + 20) * 152 / 365, 3)  # tonnes to the kilogram
    assert curtail["nox_t"] == round(36.5 * 0.3 * 152 / 365, 3)
    assert curtail["nox_no_data"] == 1  # B: no NOx figure, shown as a count
    assert pd.isna(curtail["so2_t"]) and curtail["so2_no_data"] == 2  # no SO2 figure: blank
    review = rows[(rows["county"] == "榆次区") & (rows["measure"] == "待研判")].iloc[0]
    assert (review["basis"], review["pm_t"]) == ("待研判年排放量", 20.0)


def test_totals_count_a_plant_once(table):
    rows = emission_sheet_rows(table)
    total = rows[(rows["county"] == "合计") & (rows["period"] == "年")].iloc[0]
    assert total["so2_t"] == 30.0  # D closed and cleared: 30 t once
    assert total["plants"] == 1
    season = rows[(rows["county"] == "合计") & (rows["period"] == "采暖季")]
    assert season["basis"].tolist() == ["减排量", "待研判年排放量"]


def test_sheet_written_with_targets(table, tmp_path):
    workbook = Workbook()
    targets = pd.DataFrame(
        [
            {
                "policy": "shapotou-2025",
                "title": "中卫市沙坡头区涉气产业集群发展规划（2025-2027年）",
                "ref": "002_44512477227ed7b1.txt ch.2 §二 表2-1",
                "pollutant": "pm",
                "base_year": 2024,
                "target_year": 2027,
                "reduction_pct": 6.5,
                "plants": 2,
                "no_data_plants": 0,
                "base_t": 200.0,
                "required_t": 13.0,
                "avoided_t": 20.0,
                "undated_t": 0.0,
                "gap_t": -7.0,
                "met": True,
            }
        ]
    )
    write_emission_sheet(workbook, table, targets, link="  在线地图：http://x")
    workbook.save(tmp_path / "x.xlsx")
    sheet = load_workbook(tmp_path / "x.xlsx")[SHEET_TITLE]
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][0].startswith("减排量测算") and "在线地图" in values[0][0]
    assert values[3][:4] == ("县（区、市）", "管控措施", "计算期", "数值口径")
    flat = [cell for row in values for cell in row if cell is not None]
    assert "减排目标对照" in flat and "是" in flat and 13.0 in flat
    assert "市工信产发〔2019〕79号" in values[2][0]  # documents by title and number
    assert not [c for c in flat if ".txt" in str(c)]  # never a file name


def test_write_lists_adds_the_sheet_only_when_given(table, tmp_path):
    enterprises = pd.DataFrame(
        {
            "id": list("ABCD"),
            "county": ["榆次区"] * 3 + ["忻府区"],
            "name": list("甲乙丙丁"),
            "lon": [112.75] * 4,
            "lat": [37.69] * 4,
        }
    )
    decisions = pd.DataFrame([decision("A", "jinzhong-2019", "curtail", curtail_pct=30)])
    without = write_lists(tmp_path / "a.xlsx", enterprises, decisions)
    assert SHEET_TITLE not in load_workbook(without).sheetnames
    with_sheet = write_lists(
        tmp_path / "b.xlsx",
        enterprises,
        decisions,
        emissions=table,
        emission_targets=target_check(table, enterprises, POLICIES),
    )
    book = load_workbook(with_sheet)
    assert book.sheetnames[-3:] == [SHEET_TITLE, "减排目标对照", "全部数据"]
    targets = book["减排目标对照"]  # its own sheet: every page repeats its own header
    assert targets["A1"].value == "减排目标对照" and targets["A2"].value == "规划（文件）"
    assert targets.print_title_rows == "$2:$2" and targets.page_setup.orientation == "landscape"
    assert not any(c.value == "减排目标对照" for c in book[SHEET_TITLE]["A"])
    for sheet in (book[SHEET_TITLE], targets):  # print like the lists: A4 width, >= 9 pt
        columns = range(1, sheet.max_column + 1)
        width = sum(sheet.column_dimensions[get_column_letter(j)].width for j in columns)
        assert width <= PRINTABLE_WIDTH + 0.01, sheet.title
        scale = min(1.0, PRINTABLE_PT / (width * LO_UNIT_PT))
        sizes = [c.font.sz for r in sheet.iter_rows() for c in r if c.value is not None]
        assert min(sizes) * scale >= 9, (sheet.title, min(sizes), scale)
        assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"

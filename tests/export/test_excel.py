"""lists.xlsx: a sheet pair per county, Chinese headers, print setup, formulas neutralised."""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pandas as pd

from spatial.decisions import evaluate, summarize
from spatial.export.excel import write_lists
from spatial.policy import load_policy


def plants() -> gpd.GeoDataFrame:
    rows = [
        {
            "id": "A1",
            "name": "甲铸造厂",
            "county": "榆次区",
            "industry": "coating_ink",
            "near_city": True,
            "dist_builtup_m": 1234.4,
            "compliant": "yes",
        },
        {
            "id": "A2",
            "name": '=HYPERLINK("http://evil","点我")',
            "county": "榆次区",
            "industry": "steel",
            "green_factory": "yes",
            "compliant": "yes",
            "near_city": False,
            "dist_builtup_m": 20000.0,
        },
        {
            "id": "B1",
            "name": "+cmd|' /C calc'!A0",
            "county": "太谷区",
            "industry": "other",
            "compliant": "yes",
            "near_city": False,
            "dist_builtup_m": 15000.0,
        },
    ]
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(
        frame.assign(lon=112.7, lat=37.7),
        geometry=gpd.points_from_xy([112.7] * 3, [37.7] * 3),
        crs=4326,
    )


def test_sheet_pairs_headers_print_setup_and_neutralised_text(tmp_path):
    enterprises = plants()
    decisions = evaluate(enterprises, [load_policy("jinzhong-2019")])
    path = write_lists(
        tmp_path / "lists.xlsx",
        summarize(enterprises, decisions),
        decisions,
        map_url="https://example.org/map.html",
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["榆次区-错峰生产清单", "榆次区-豁免清单", "待研判"]
    sheet = book["榆次区-错峰生产清单"]
    header = [c.value for c in sheet[2]]
    assert header[:3] == ["企业编号", "企业名称", "行业"]
    assert sheet["A3"].value == "A1" and sheet["C3"].value == "涂料油墨"
    assert "https://example.org/map.html" in sheet["A1"].value
    assert sheet.freeze_panes == "C3" and sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape"
    values = {c: v for c, v in zip(header, [c.value for c in sheet[3]], strict=True)}
    assert values["限产比例（%）"] == 40 and values["折算停产天数"] == 61
    assert values["是否位于建成区及周边10公里"] == "是" and values["距建成区距离（米）"] == 1234
    exempt = book["榆次区-豁免清单"]
    assert exempt["B3"].value.startswith("'=HYPERLINK") and exempt["B3"].data_type == "s"
    review = book["待研判"]
    assert review["B3"].value.startswith("'+cmd")


def test_written_atomically(tmp_path):
    enterprises = plants()
    decisions = evaluate(enterprises, [load_policy("jinzhong-2019")])
    write_lists(tmp_path / "lists.xlsx", enterprises, decisions)
    assert [p.name for p in tmp_path.iterdir()] == ["lists.xlsx"]


def test_phase_lists_one_sheet_per_phase_and_unassigned():
    from spatial.export.excel import phase_lists

    frame = plants().assign(
        zone_phase=pd.array([1, 2, None], dtype="Int64"),
        zone_status=["due", "in_progress", "unassigned"],
        zone_flags=["", "overlap:张村(1),宏道镇(2)", "unassigned"],
        action="rectify",
        curtail_pct=None,
        stop_days=None,
        deadline=["2024-10-01", "2025-04-01", None],
        rule_ref="000_76214740fd4dcd9a.txt §二(二)",
        reason_zh="x",
    )
    lists = phase_lists(frame)
    assert list(lists) == ["整治第1阶段", "整治第2阶段", "整治阶段未定"]
    assert lists["整治第2阶段"]["id"].tolist() == ["A2"]
    assert lists["整治第2阶段"]["deadline"].tolist() == ["2025-04-01"]
    assert lists["整治第2阶段"]["flags"].tolist() == ["overlap:张村(1),宏道镇(2)"]
    assert phase_lists(plants()) == {}

"""lists.xlsx: the lists a county signs — which sheets, one row per enterprise and measure, 合计,
print settings, hostile names, no raw codes, and (when LibreOffice is installed) that it opens."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from spatial.decisions import DECISION_COLUMNS, evaluate, summarize
from spatial.export.excel import (
    FOOTER,
    LO_UNIT_PT,
    PRINTABLE_PT,
    PRINTABLE_WIDTH,
    list_rows,
    phase_lists,
    sheet_name,
    write_lists,
)
from spatial.fonts import packaged_font_file
from spatial.policy import load_policy

AS_OF = dt.date(2019, 12, 1)
J = "004_8ff93025e2acb35e.txt"  # Jinzhong 2019 (市工信产发〔2019〕79号)
X = "000_76214740fd4dcd9a.txt"  # Xinzhou cluster plan (忻政办函〔2024〕34号)
S = "002_44512477227ed7b1.txt"  # Shapotou plan, a draft
RAW_CODE = re.compile(
    r"[A-Za-z]+_[A-Za-z_]+"  # snake_case codes: unverified:online_monitoring, flange_limit_ratio
    r"|\b\d{3}_[0-9a-f]{16}\.txt"  # source file names
    r"|§"  # the rule tables' clause marks
    r"|\b(curtail|exempt|shutdown|review|rectify|none|exit_by|wgs84|gcj02)\b"
)


def plant(id_: str, name: str, county: str, industry: str, **extra) -> dict:
    return {
        "id": id_,
        "name": name,
        "county": county,
        "township": extra.pop("township", "城区街道"),
        "industry": industry,
        "lon": extra.pop("lon", 112.75),
        "lat": extra.pop("lat", 37.69),
        "coord_sys": extra.pop("coord_sys", "wgs84"),
        "lon_input": extra.pop("lon_input", None),
        "lat_input": extra.pop("lat_input", None),
        "dist_builtup_m": extra.pop("dist_builtup_m", 1234.4),
        "nearest_builtup": "榆次区",
        "near_city": True,
        **extra,
    }


def decision(id_: str, policy: str, action: str, ref: str, reason: str, **extra) -> dict:
    row = dict.fromkeys(DECISION_COLUMNS)
    row.update(
        id=id_, policy=policy, rule_id="x", action=action, rule_ref=ref, reason_zh=reason, flags=""
    )
    row["flags_zh"] = ""
    row.update(extra)
    return row


def tiny() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    plants = pd.DataFrame(
        [
            plant(
                "A1",
                "甲铸造厂",
                "榆次区",
                "foundry",
                county_note_zh="清单填写县区为太谷区，坐标位于榆次区，请核实。",
            ),
            plant(
                "A2",
                "乙钢铁厂",
                "榆次区",
                "steel",
                coord_sys="gcj02",
                lon=112.744,
                lat=37.688,
                lon_input=112.75,
                lat_input=37.69,
            ),
            plant("A3", "丙砖厂", "榆次区", "brick_kiln"),
            plant("P1", "丁球团厂", "代县", "pellet"),
            plant("P2", "戊球团厂", "代县", "pellet"),
            plant("F1", "己法兰厂", "定襄县", "flange"),
            plant("G1", "庚锅炉房", "沙坡头区", "boiler"),
            plant("Z1", "辛厂", "和顺县", "other"),  # no measure
        ]
    )
    decisions = pd.DataFrame(
        [
            decision(
                "A1", "jinzhong-2019", "curtail", f"{J} §三(一)4", "铸造企业限产40%。",
                curtail_pct=40, stop_days=61,
                flags="unverified:online_monitoring", flags_zh="「在线监测」为空，请核实。",
            ),
            decision("A2", "jinzhong-2019", "exempt", f"{J} §二2", "绿色工厂，豁免。"),
            decision("A3", "jinzhong-2019", "review", f"{J} §三(一)5", "限制类砖瓦窑未明确。"),
            decision("P1", "xinzhou-cluster-2024", "shutdown", f"{X} §三(一)", "竖炉关停。"),
            decision("P2", "xinzhou-cluster-2024", "exempt", f"{X} §二(一)", "长流程，不退出。"),
            decision(
                "F1", "xinzhou-cluster-2024", "rectify", f"{X} §二(二)",
                "第2阶段综合整治。（完成时限2025年4月1日，截至评估日2026年12月7日已逾期615天）",
                deadline="2025-04-01",
            ),
            decision("F1", "xinzhou-cluster-2024", "rectify", f"{X} §三(二)3", "二氧化硫超限值。"),
            decision(
                "G1", "shapotou-2025", "exit_by", f"{S} ch.3 §二(四)1", "燃煤锅炉淘汰。",
                deadline="2026-06-30",
            ),
        ]
    )  # fmt: skip
    return gpd.GeoDataFrame(
        plants, geometry=gpd.points_from_xy(plants["lon"], plants["lat"]), crs=4326
    ), decisions


POLICIES = ["jinzhong-2019", "xinzhou-cluster-2024", "shapotou-2025"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    enterprises, decisions = tiny()
    path = write_lists(
        tmp_path_factory.mktemp("lists") / "lists.xlsx",
        enterprises,
        decisions,
        policies=[load_policy(p) for p in POLICIES],
        as_of=AS_OF,
        map_url="https://example.org/map.html",
    )
    return openpyxl.load_workbook(path)


def body(sheet) -> list[list]:
    """The data rows of a list: from the header (序号) to the 合计 row."""
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "序号") + 1
    end = next(i for i, r in enumerate(rows) if r[0] == "合计")
    return rows[start:end]


def header(sheet) -> list:
    return next(list(r) for r in sheet.iter_rows(values_only=True) if r[0] == "序号")


def total(sheet) -> object:
    return next(r[1] for r in sheet.iter_rows(values_only=True) if r[0] == "合计")


def test_sheets_per_county_only_curtailment_documents_in_the_curtailment_lists(book):
    assert book.sheetnames == [
        "汇总",
        "文件目录",
        "代县-关停退出及整治清单",  # the pellet shutdown and exemption are not 错峰 lists
        "定襄县-关停退出及整治清单",
        "榆次区-错峰生产清单",
        "榆次区-豁免清单",
        "榆次区-待核实清单",
        "沙坡头区-关停退出及整治清单",
        "全部数据",
    ]
    dai = book["代县-关停退出及整治清单"]
    assert [(r[1], r[4]) for r in body(dai)] == [("丁球团厂", "停产治理"), ("戊球团厂", "豁免")]
    curtail = book["榆次区-错峰生产清单"]
    assert curtail["A1"].value == "榆次区错峰生产企业清单（2019年11月1日至2020年3月31日）"
    assert "截至2019年12月1日" in book["榆次区-待核实清单"]["A1"].value
    row = dict(zip(header(curtail), body(curtail)[0], strict=True))
    assert (
        row["企业名称"] == "甲铸造厂" and row["限产比例（%）"] == 40 and row["折算停产天数"] == 61
    )
    assert row["依据条款"] == "市工信产发〔2019〕79号\n三（一）4"
    assert "「在线监测」为空，请核实" in row["说明及待核实事项"]
    assert "坐标位于榆次区，请核实" in row["说明及待核实事项"]  # the county cross-check


def test_one_row_per_enterprise_and_measure_and_the_total_counts_them(book):
    dingxiang = book["定襄县-关停退出及整治清单"]
    rows = body(dingxiang)
    assert len(rows) == 1  # two rectify decisions of F1 merged
    row = dict(zip(header(dingxiang), rows[0], strict=True))
    assert row["依据条款"] == "忻政办函〔2024〕34号\n二（二），三（二）3"
    assert (
        "第2阶段综合整治" in row["说明及待核实事项"] and "二氧化硫超限值" in row["说明及待核实事项"]
    )
    assert "已逾期615天" not in row["说明及待核实事项"]  # said by the two columns beside it
    assert row["完成时限"] == dt.datetime(2025, 4, 1)  # a real date
    assert row["截至评估日"] == f"剩余{(dt.date(2025, 4, 1) - AS_OF).days}天"  # 1948
    for sheet in book.worksheets[2:-1]:
        rows = body(sheet)
        assert total(sheet) == len(rows), sheet.title
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), sheet.title  # 序号


def test_dates_are_excel_dates_and_coordinates_are_also_as_given(book):
    data = book["全部数据"]
    headers = [c.value for c in data[2]]
    rows = [
        dict(zip(headers, r, strict=False)) for r in data.iter_rows(min_row=3, values_only=True)
    ]
    by_name = {r["企业名称"]: r for r in rows}
    exit_row = next(r for r in data.iter_rows(min_row=3) if r[1].value == "庚锅炉房")
    date_cell = exit_row[headers.index("完成时限")]
    assert date_cell.is_date and "年" in date_cell.number_format
    steel = by_name["乙钢铁厂"]
    assert steel["填报坐标系"] == "GCJ-02（高德、腾讯坐标）"
    assert steel["填报坐标（经度,纬度，可粘贴回原系统地图）"] == "112.75000,37.69000"  # for Amap
    assert steel["经度（WGS84）"] == pytest.approx(112.744)
    exempt = book["榆次区-豁免清单"]
    row = dict(zip(header(exempt), body(exempt)[0], strict=True))
    assert row["经纬度（填报坐标系）"] == "112.75000,37.69000\nGCJ-02（高德、腾讯坐标）"


def test_summary_counts_documents_and_status(book):
    summary = book["汇总"]
    texts = [c for r in summary.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert summary["A1"].value == "管控清单汇总（截至2019年12月1日）"
    rows = [list(r) for r in summary.iter_rows(values_only=True)]
    head = next(r for r in rows if r[0] == "县（区、市）")
    counts = {r[0]: dict(zip(head, r, strict=True)) for r in rows if r[0] in ("榆次区", "定襄县")}
    assert counts["榆次区"]["错峰生产"] == 1 and counts["榆次区"]["豁免"] == 1
    assert counts["榆次区"]["待研判"] == 1 and counts["榆次区"]["合计（条）"] == 3
    assert counts["定襄县"]["限期整改"] == 1  # merged
    assert "评估日无管控措施的县（区、市）1个：和顺县。" in texts
    assert not any(r[0] == "和顺县" for r in rows)
    grand = next(r for r in rows if r[0] == "合计")
    assert grand[head.index("合计（条）")] == 7
    assert "有效" in texts and "尚未生效" in texts
    assert any(t.startswith("沙坡头区涉气产业集群规划（征求意见稿）") for t in texts)
    documents = book["文件目录"]
    full = [c for r in documents.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert "《晋中市2019-2020年秋冬季工业企业错峰生产行动方案》" in full
    assert "市工信产发〔2019〕79号" in full and "征求意见稿" in full


def test_a_draft_says_so_where_it_is_cited(book):
    sheet = book["沙坡头区-关停退出及整治清单"]
    lines = [sheet.cell(row=r, column=1).value for r in range(1, 4)]
    assert any("征求意见稿" in (line or "") and "仅供参考" in (line or "") for line in lines)
    row = dict(zip(header(sheet), body(sheet)[0], strict=True))
    assert row["依据条款"].startswith("沙坡头区涉气产业集群规划（征求意见稿）")


def test_print_settings_and_font_sizes_at_print_scale(book):
    for sheet in book.worksheets[:-1]:  # 全部数据 is for filtering, not for print
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9, sheet.title
        assert setup.fitToWidth == 1 and setup.fitToHeight == 0, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.oddFooter.center.text == FOOTER == "第 &P 页 共 &N 页"
        columns = range(1, sheet.max_column + 1)
        width = sum(
            sheet.column_dimensions[openpyxl.utils.get_column_letter(j)].width for j in columns
        )
        assert width <= PRINTABLE_WIDTH + 0.01, sheet.title
        # the scale LibreOffice fits to when its column unit is the widest measured
        scale = min(1.0, PRINTABLE_PT / (width * LO_UNIT_PT))
        sizes = [c.font.sz for r in sheet.iter_rows() for c in r if c.value is not None]
        assert min(sizes) * scale >= 9, (sheet.title, min(sizes), scale)
        texts = [c for r in sheet.iter_rows(values_only=True) for c in r if isinstance(c, str)]
        if sheet.title not in ("文件目录",):
            assert any(t.startswith("填报单位") for t in texts), sheet.title
            assert any(t.startswith("负责人") for t in texts) and any(
                t.startswith("日期") for t in texts
            )


def test_wrapped_rows_are_tall_enough_for_their_text(book):
    sheet = book["榆次区-错峰生产清单"]
    head_row = next(c.row for c in sheet["A"] if c.value == "序号")
    note = header(sheet).index("说明及待核实事项") + 1
    cell = sheet.cell(row=head_row + 1, column=note)
    assert cell.alignment.wrap_text
    lines = 2  # reason and the line for the county to check
    assert sheet.row_dimensions[head_row + 1].height >= lines * 12


def test_no_raw_codes_in_any_cell(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert not RAW_CODE.search(value.replace("example.org/map.html", "")), (
                        sheet.title,
                        value,
                    )


def test_the_lists_from_evaluate_merge_duplicates():
    enterprises, _ = tiny()
    flange = enterprises[enterprises["id"] == "F1"].assign(
        zone_phase=2, so2_mg=80.0, o2_pct=8.0, nox_mg=10.0, pm_mg=1.0
    )
    decisions = evaluate(flange, [load_policy("xinzhou-cluster-2024")], as_of=dt.date(2025, 1, 1))
    rows = list_rows(summarize(flange, decisions), decisions, dt.date(2025, 1, 1))
    assert len(rows) == rows[["id", "action"]].drop_duplicates().shape[0]
    assert (rows["decision_rows"] >= 1).all() and rows["decision_rows"].sum() == len(decisions)


HOSTILE = ["=cmd|' /C calc'!A0", "'太谷区", "+1+1", "[县]:*?/\\", "很长" * 20]


def test_hostile_county_names_give_safe_sheet_names_and_text_cells(tmp_path):
    enterprises, decisions = tiny()
    enterprises = enterprises[enterprises["id"] == "A1"]
    decisions = decisions[decisions["id"] == "A1"]
    frames = [enterprises.assign(id=f"H{i}", county=c) for i, c in enumerate(HOSTILE)]
    enterprises = pd.concat(frames, ignore_index=True)
    decisions = pd.concat(
        [decisions.assign(id=f"H{i}") for i in range(len(HOSTILE))], ignore_index=True
    )
    path = write_lists(
        tmp_path / "lists.xlsx",
        gpd.GeoDataFrame(enterprises, geometry="geometry", crs=4326),
        decisions,
        policies=[load_policy("jinzhong-2019")],
        as_of=AS_OF,
    )
    names = openpyxl.load_workbook(path).sheetnames
    assert len(names) == len({n.lower() for n in names})
    for name in names:
        assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name), name
        assert not name.startswith("'") and not name.endswith("'"), name
    assert "=cmd|’ _C calc’!A0-错峰生产清单" in names
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in archive.read(n).decode() for n in sheets)  # no formula at all
    book = openpyxl.load_workbook(path)
    title = book["=cmd|’ _C calc’!A0-错峰生产清单"]["A1"]
    assert title.value.startswith("=cmd|' /C calc'!A0") and title.data_type == "s"
    assert title.quotePrefix  # Excel keeps it text when edited
    summary = [c for r in book["汇总"].iter_rows() for c in r if c.value == "'太谷区"]
    assert summary and summary[0].quotePrefix  # shown as given, not eaten as a prefix


def test_sheet_names_are_unique_and_short():
    taken: list[str] = []
    for _ in range(3):
        taken.append(sheet_name("很长" * 20, taken, "-待核实清单"))
    assert len(set(taken)) == 3 and all(len(t) <= 31 for t in taken)
    assert sheet_name("History", []) != "History"


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_workbook_and_prints_it(tmp_path):
    enterprises, decisions = tiny()
    enterprises = pd.concat(
        [enterprises, enterprises.iloc[[0]].assign(id="H1", county="'=太谷区")], ignore_index=True
    )
    decisions = pd.concat([decisions, decisions.iloc[[0]].assign(id="H1")], ignore_index=True)
    path = write_lists(
        tmp_path / "lists.xlsx",
        gpd.GeoDataFrame(enterprises, geometry="geometry", crs=4326),
        decisions,
        policies=[load_policy(p) for p in POLICIES],
        as_of=AS_OF,
    )
    # the font the project ships (noto-cjk-sans-otc) is given to LibreOffice's fontconfig too,
    # so the print works on a machine with no system font (a planner's laptop, a bare CI image)
    font_dir = packaged_font_file().parent
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{font_dir}</dir>'
        f"<cachedir>{tmp_path}/fc-cache</cachedir></fontconfig>",
        encoding="utf-8",
    )
    done = subprocess.run(
        ["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "FONTCONFIG_FILE": str(tmp_path / "fonts.conf")},
    )  # fmt: skip
    pdf = tmp_path / "lists.pdf"
    assert pdf.exists(), done.stderr
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "'=太谷区错峰生产企业清单" in text.replace(" ", "")
        assert "榆次区错峰生产企业清单" in text.replace(" ", "")
        assert "填报单位（盖章）" in text and "第 1 页" in text


def test_phase_lists_one_sheet_per_phase_and_unassigned():
    enterprises, decisions = tiny()
    frame = enterprises.assign(
        zone_phase=pd.array([1, 2, None, None, None, 2, None, None], dtype="Int64"),
        zone_status=["due", "in_progress", None, None, None, "in_progress", "unassigned", None],
    )
    lists = phase_lists(frame, decisions, AS_OF)
    assert list(lists) == ["整治第1阶段", "整治第2阶段", "整治阶段未定"]
    assert sorted(lists["整治第2阶段"]["id"]) == ["A2", "F1"]
    assert lists["整治第2阶段"].set_index("id").loc["F1", "deadline"] == dt.date(2025, 4, 1)
    assert phase_lists(enterprises) == {}


def test_written_atomically(tmp_path):
    enterprises, decisions = tiny()
    write_lists(tmp_path / "lists.xlsx", enterprises, decisions, as_of=AS_OF)
    assert [p.name for p in tmp_path.iterdir()] == ["lists.xlsx"]


def test_a_plant_whose_county_column_disagrees_is_on_the_located_countys_review_list(tmp_path):
    # written 定襄县, lies in 忻府区, and no document gives it a measure: it would be on no list
    from shapely.geometry import Point

    from spatial.counties import assign_counties

    table = {
        "id": ["A1", "A2"],
        "name": ["甲法兰厂", "乙法兰厂"],
        "industry": ["flange", "flange"],
        "county": ["定襄县", "忻府"],
        "reason_zh": ["无适用条款。", "无适用条款。"],
    }
    points = [Point(112.72, 38.45), Point(112.70, 38.42)]
    plants = assign_counties(gpd.GeoDataFrame(table, geometry=points, crs="EPSG:4326"))
    assert plants["county"].tolist() == ["忻府区", "忻府区"]
    assert plants["county_flag"].tolist() == ["county_mismatch", ""]
    none = pd.DataFrame({"id": ["A1", "A2"], "policy": "", "action": "none"})
    path = write_lists(tmp_path / "lists.xlsx", plants, none, policies=[])
    workbook = openpyxl.load_workbook(path)
    assert "忻府区-待核实清单" in workbook.sheetnames
    cells = [
        str(v) for row in workbook["忻府区-待核实清单"].iter_rows(values_only=True) for v in row
    ]
    assert any("甲法兰厂" in c for c in cells) and not any("乙法兰厂" in c for c in cells)
    assert any("清单填写县区为定襄县，坐标位于忻府区，请核实" in c for c in cells)

"""``spatial check``: the report a county office fixes its sheet from, and its exit codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from spatial.check import check_inventory, shown
from spatial.cli import main

CORPUS = Path(__file__).parent / "data" / "corpus"
HEADER = "编号,企业名称,行业,经度,纬度"


def run(*args: str):
    return CliRunner().invoke(main, ["check", *args])


def test_clean_file_exits_0(csv_file):
    path = csv_file([HEADER, "A1,甲厂,铸造,112.75,37.69", "A2,乙厂,焦化,112.5,37.4"], "gbk")
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert "2 行通过 accepted, 0 行未通过 rejected" in result.output
    assert "全部 2 行可以筛查 / all 2 rows can be screened" in result.output
    assert "编码 encoding: gb18030" in result.output


def test_rejected_rows_are_listed_by_reason_with_column_and_value(csv_file):
    path = csv_file(
        [
            HEADER + ",备注",
            "A1,甲厂,铸造,112.75,37.69,",
            "A2,乙厂,飞船,abc,37.7,见附件",
            "A1,丙厂,铸造,112.76,37.7,",
            ",丁厂,铸造,37.7,112.76,",
            "A5,戊厂,铸造,１１２。７,37.7,",
        ]
    )
    result = run(str(path))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "5 data rows: 2 行通过 accepted, 3 行未通过 rejected" in out
    assert "【" in out and "不是有效数字 not a number — 1 行 rows\n" in out
    assert "[not_a_number]" not in out and "not_a_number" not in out  # no raw code
    assert "第 3 行 row 3  列 column 经度 (lon) = 'abc'" in out
    assert "行业 (industry) = '飞船'" in out  # both problems of row 3 are reported
    # in Chinese first, naming the column as the sheet heads it, with the values it accepts
    assert "「行业」填写为“飞船”：取值不在代码表中，请填写：钢铁、铁合金、焦化" in out
    assert "「经度」填写为“abc”：不是有效数字" in out
    assert "编号重复 duplicate id" in out and "id: duplicate of row 2 ('A1')" in out
    assert "编号为空 empty id" in out and "经度/纬度 (lon/lat) = '37.7, 112.76'" in out
    assert "改法 fix: 交换经度、纬度两列的数值 / exchange the lon and lat values" in out
    assert "其他列（原样保留）other columns (kept as they are): 备注" in out
    assert "3 行需修改后重新提交，其余 2 行可以筛查" in out
    assert "Traceback" not in out


def test_file_level_problem_exits_2(tmp_path):
    for path in (CORPUS / "duplicate_headers.csv", CORPUS / "random_bytes.xlsx"):
        result = run(str(path))
        assert result.exit_code == 2, result.output
        assert "文件无法使用 The file cannot be used" in result.output
        assert str(path) in result.output and "Traceback" not in result.output
    result = run(str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_crs_option_and_the_projected_hint():
    path = CORPUS / "projected_as_degrees.csv"
    result = run(str(path))
    assert result.exit_code == 1
    assert "--crs EPSG:4526" in result.output
    assert run(str(path), "--crs", "EPSG:4526").exit_code == 0
    assert run(str(path), "--crs", "nonsense").exit_code == 2


def test_max_rows_limits_each_reason(csv_file):
    lines = [HEADER] + [f"B{i},厂,铸造,abc,37.7" for i in range(30)]
    result = run(str(csv_file(lines)), "--max-rows", "5")
    assert result.exit_code == 1
    assert result.output.count("列 column 经度 (lon) = 'abc'") == 5
    assert "…还有 25 行 and 25 more rows" in result.output
    everything = run(str(csv_file(lines)), "--max-rows", "0")
    assert everything.output.count("= 'abc'") == 30


def test_warnings_and_blank_rows_are_reported():
    result = run(str(CORPUS / "mixed_encoding.csv"))
    assert result.exit_code == 0
    assert "提示 Warnings:" in result.output and "rows 4, 5 are GBK/GB18030" in result.output
    result = run(str(CORPUS / "blank_lines.csv"))
    assert "3 空行跳过 blank rows skipped" in result.output


def test_hostile_cells_cannot_rewrite_the_terminal(csv_file):
    path = csv_file([HEADER, "A1,\x1b[2J\x1b[31mred,spaceship\u202e,112.75,37.69"])
    report = check_inventory(path)
    text = report.text()
    assert "\x1b" not in text and "\u202e" not in text
    assert "spaceship\\u202e" in text
    assert shown("\x1b[31m") == "\\x1b[31m"


def test_help_names_the_exit_codes():
    result = CliRunner().invoke(main, ["check", "--help"])
    assert result.exit_code == 0
    assert "Exit code: 0" in result.output and "--crs" in result.output

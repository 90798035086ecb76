"""spatial.export.xlsx_stream: rows built as XML equal the cells XlsxWriter writes itself."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from spatial.export import xlsx_stream
from spatial.export.xlsx_stream import Book, CellFormats, Style, _style_for, clean_text

BODY = Style("宋体", 10, wrap=True, vertical="center", border=("808080",) * 4)
FORMATS = CellFormats(
    blank=Style("宋体", 10),
    text=BODY,
    date=Style("宋体", 10, number='yyyy"年"m"月"d"日"'),
    number=Style("宋体", 10, number="0.000000"),
)
VALUES = [
    '=HYPERLINK("http://x")',
    "+1",
    "-x",
    "@SUM(A1)",
    "'quoted",
    " leading space",
    "trailing space ",
    'a & b < c > d "e"',
    "_x0041_ looks escaped",
    "tab\tinside",
    "line\nbreak",
    "carriage\rreturn",
    "control\x0bcharacter",
    "",
    None,
    0,
    12,
    -3.25,
    1e20,
    True,
    dt.date(2024, 11, 15),
    "普通文本",
    "长" * 40000,  # cut to 32,767 characters
]


def _sheet(book: Book, name: str, stream: bool) -> None:
    sheet = book.sheet(name)
    sheet.set_widths([10, 10])
    sheet.put(1, 1, "header", Style("宋体", 10, bold=True))
    values = [clean_text(v) for v in VALUES]  # as the lists hand them over
    columns = [values, list(reversed(values))]
    heights = [19.5 + i for i in range(len(VALUES))]
    heights[3] = None
    if stream:  # in two blocks, as 全部数据 is written
        sheet.stream_rows(2, [c[:10] for c in columns], [FORMATS, FORMATS], heights[:10])
        sheet.stream_rows(12, [c[10:] for c in columns], [FORMATS, FORMATS], heights[10:])
    else:
        for i, record in enumerate(zip(*columns, strict=True)):
            if heights[i] is not None:
                sheet.height(2 + i, heights[i])
            for j, value in enumerate(record, 1):
                sheet.put(2 + i, j, value, _style_for(value, FORMATS))
    sheet.put(len(VALUES) + 3, 1, "after", Style("宋体", 11))


def _write(path) -> None:
    """One workbook (so one numbering of the styles): sheet1 cell by cell, sheet2 streamed."""
    book = Book(path)
    _sheet(book, "put", stream=False)
    _sheet(book, "stream", stream=True)
    book.close()


def _sheet_data(path, number: int) -> tuple[str, str]:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(f"xl/worksheets/sheet{number}.xml").decode()
    data = re.search(r"<sheetData>.*</sheetData>", xml, re.S).group(0)
    return data, re.search(r"<dimension[^>]*>", xml).group(0)


def test_streamed_rows_are_the_cells_xlsxwriter_writes(tmp_path):
    _write(tmp_path / "book.xlsx")
    put, streamed = _sheet_data(tmp_path / "book.xlsx", 1), _sheet_data(tmp_path / "book.xlsx", 2)
    assert "_x000D_" in put[0] and "_x005F_x0041_" in put[0]  # the escapes were exercised
    assert streamed == put


def test_streamed_rows_read_back(tmp_path):
    _write(tmp_path / "book.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "book.xlsx")["stream"]
    assert sheet["A2"].value == '=HYPERLINK("http://x")' and sheet["A2"].data_type == "s"
    assert sheet["A2"].quotePrefix and sheet["A6"].quotePrefix  # formula-like, leading '
    assert not sheet["A7"].quotePrefix and sheet["A7"].value == " leading space"
    assert sheet["A9"].value == 'a & b < c > d "e"'
    assert sheet["A15"].value is None and sheet["A16"].value is None
    assert sheet["A19"].value == -3.25 and sheet["A19"].number_format == "0.000000"
    assert sheet["A22"].value == dt.datetime(2024, 11, 15)
    assert sheet["A22"].number_format == 'yyyy"年"m"月"d"日"'
    assert sheet["A23"].value == "普通文本" and sheet["A23"].font.name == "宋体"
    assert sheet.row_dimensions[2].height == 19.5 and sheet.row_dimensions[5].height is None
    assert sheet[f"A{len(VALUES) + 3}"].value == "after"


def test_without_xlsxwriters_row_stream_the_cells_are_put_one_by_one(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "_can_stream", lambda ws: False)
    _write(tmp_path / "book.xlsx")
    assert _sheet_data(tmp_path / "book.xlsx", 2) == _sheet_data(tmp_path / "book.xlsx", 1)


class Code:
    def __str__(self) -> str:
        return "=A1 as text"


def test_other_values_are_their_text_and_infinity_is_refused(tmp_path):
    book = Book(tmp_path / "x.xlsx")
    sheet = book.sheet("s")
    sheet.stream_rows(1, [[Code()]], [FORMATS])
    with pytest.raises(ValueError, match="A2: inf is no number"):
        sheet.stream_rows(2, [[float("inf")]], [FORMATS])
    book.close()
    cell = openpyxl.load_workbook(tmp_path / "x.xlsx")["s"]["A1"]
    assert cell.value == "=A1 as text" and cell.data_type == "s" and cell.quotePrefix


def test_more_sheets_than_open_files_a_process_may_hold(tmp_path):
    """Each finished sheet closes its row file (a national workbook has thousands of sheets)."""
    script = f"""
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from spatial.export.xlsx_stream import Book, Style
book = Book({str(tmp_path / "many.xlsx")!r})
for i in range(300):
    sheet = book.sheet(f"s{{i}}")
    sheet.put(1, 1, f"first {{i}}", Style())
    sheet.put(2, 1, f"last {{i}}", Style())  # still held by XlsxWriter when the sheet is done
    sheet.done()
book.close()
"""
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2])
    book = openpyxl.load_workbook(tmp_path / "many.xlsx", read_only=True)
    assert len(book.sheetnames) == 300
    assert list(book["s299"].iter_rows(values_only=True)) == [("first 299",), ("last 299",)]
    book.close()

"""A workbook written row by row (XlsxWriter's ``constant_memory`` mode), for ``lists.xlsx``.

Each sheet keeps one row in memory and is written top to bottom, so a province's 全部数据 sheet
costs neither the time nor the memory of a cell object per value (openpyxl's in-memory workbook
took 56 s at 200,000 enterprises, and 609 s and +2 GB at a million). Cells are styled by
:class:`Style` values; each distinct style is one format of the workbook.

Long bodies of rows (:meth:`Sheet.stream_rows`) are built as XML a column at a time and written
into the sheet's row file, which is XlsxWriter's own ``constant_memory`` machinery, not its
public API (its row file, previous row and extent; ``_write_single_row``, ``_convert_date_time``,
``Format._get_xf_index``; :meth:`Sheet.done` closes a finished sheet's row file with
``_opt_close``, as XlsxWriter does for every sheet when it saves): XlsxWriter's per-cell calls
cost about 6 µs a cell. The cells are byte for byte those XlsxWriter writes
(``tests/export/test_xlsx_stream.py``, run with 3.2 and 3.3); where that machinery is missing
the cells are written one by one through the public API.
Column widths likewise go through :class:`_Worksheet` (a subclass, overriding how a column's
width is written).

Text is always written as text (never a formula, a number or a link): text that Excel would
read as a formula if typed (``=``, ``+``, ``-``, ``@``, tab, CR) or that starts with an
apostrophe gets Excel's quote prefix, as :func:`spatial.export.excel.put` does in openpyxl.

Column widths and row heights are kept as given: XlsxWriter keeps sizes in whole pixels, which
would round 4.5 units to 4.43 and 34 pt to 33.75 pt. Heights are handed over as fractional
pixels; widths are written as given by :class:`_Worksheet`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import numbers
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
import xlsxwriter.worksheet
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet as OpenpyxlSheet
from xlsxwriter.utility import xl_col_to_name

MAX_DIGIT_PX = 7
"""Pixels of a width unit (Calibri 11's digit), as XlsxWriter and Excel count them."""
QUOTED = ("=", "+", "-", "@", "\t", "\r", "'")
"""Text starting with one of these gets the quote prefix (formula-like, or a leading ')."""
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters (Unicode category Cc) other than tab, line feed and carriage return."""
SIDES = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class Style:
    """How a cell looks. ``border``: the colour of a thin line on each side (left, right, top,
    bottom; None: no line); ``fill``: the RGB of a solid fill; ``horizontal``/``vertical`` as in
    openpyxl (``center``, ``left``, ``top``, ``bottom``); ``number``: the number format."""

    font: str = "Calibri"
    size: float = 11
    bold: bool = False
    fill: str | None = None
    border: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)
    wrap: bool = False
    horizontal: str | None = None
    vertical: str | None = None
    number: str | None = None
    quote: bool = False

    def quoted(self) -> Style:
        return dataclasses.replace(self, quote=True)

    def properties(self) -> dict:
        """The XlsxWriter format properties."""
        out: dict = {"font_name": self.font, "font_size": self.size}
        if self.bold:
            out["bold"] = True
        if self.fill:
            out |= {"pattern": 1, "bg_color": f"#{self.fill}"}
        for side, colour in zip(SIDES, self.border, strict=True):
            if colour:
                out |= {side: 1, f"{side}_color": f"#{colour}"}
        if self.wrap:
            out["text_wrap"] = True
        if self.horizontal:
            out["align"] = self.horizontal
        if self.vertical:
            out["valign"] = "vcenter" if self.vertical == "center" else self.vertical
        if self.number:
            out["num_format"] = self.number
        if self.quote:
            out["quote_prefix"] = True
        return out


def clean_text(value: object) -> object:
    """A value as a cell holds it: control characters other than tab and line breaks become
    spaces, NaN and NA become None (:func:`spatial.export.excel.neutralise`)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return CONTROL.sub(" ", value)
    return value


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet writing each column's width as given: XlsxWriter keeps widths in
    pixels and writes them in 1/256 units rounded down (9.111 → 9.109), which moved the fit to
    width of a 124-unit sheet by a point in LibreOffice."""

    def __init__(self):
        super().__init__()
        self.exact_widths: dict[int, float] = {}

    def _write_col_info(self, col_min, col_max, col_info) -> None:
        exact = self.exact_widths.get(col_min)
        if exact is None or col_max != col_min:
            super()._write_col_info(col_min, col_max, col_info)
            return
        tag = self._xml_empty_tag

        def exact_tag(name, attributes=()):
            tag(name, [(k, f"{exact:.16g}" if k == "width" else v) for k, v in attributes])

        self._xml_empty_tag = exact_tag
        try:
            super()._write_col_info(col_min, col_max, col_info)
        finally:
            del self._xml_empty_tag


@dataclass(frozen=True)
class CellFormats:
    """The styles of one column's cells by what they hold (:meth:`Sheet.stream_rows`)."""

    blank: Style
    text: Style
    date: Style
    number: Style


_LEADING_OR_TRAILING_SPACE = re.compile(r"^\s|\s$")
_ESCAPED_LOOKALIKE = re.compile("(_x[0-9a-fA-F]{4}_)")
_XML_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_XML_SPECIAL = re.compile("[&<>]")


MAX_TEXT = 32767
"""The longest text a cell holds, in UTF-16 units: longer text is cut, as XlsxWriter does."""


def _cut(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT` UTF-16 units, never inside a character."""
    if len(text) <= MAX_TEXT // 2 or len(text.encode("utf-16-le", "surrogatepass")) <= 2 * MAX_TEXT:
        return text
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > MAX_TEXT:
            return text[:index]
    return text


def _inline_text(text: str) -> tuple[str, bool]:
    """Text as XlsxWriter writes an inline string in ``constant_memory`` mode: ``_xHHHH_``
    look-alikes escaped, control characters as ``_xHHHH_``, ``&<>`` as entities; and whether
    it needs ``xml:space="preserve"``."""
    if "_x" in text:
        text = _ESCAPED_LOOKALIKE.sub(r"_x005F\1", text)
    if _XML_CONTROL.search(text):
        text = _XML_CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    preserve = bool(_LEADING_OR_TRAILING_SPACE.search(text))
    if _XML_SPECIAL.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text, preserve


def clean_column(values: pd.Series) -> list:
    """:func:`clean_text` of every value of a column, as a list; text columns are checked for
    control characters all at once."""
    if isinstance(values.dtype, pd.StringDtype) or values.dtype.kind == "f":
        out = values.tolist()
        for i in np.flatnonzero(values.isna().to_numpy()).tolist():
            out[i] = None
        if isinstance(values.dtype, pd.StringDtype):
            dirty = values.str.contains(CONTROL.pattern, regex=True, na=False).to_numpy()
            for i in np.flatnonzero(dirty).tolist():
                out[i] = CONTROL.sub(" ", out[i])
        return out
    return [clean_text(v) for v in values.tolist()]


class Book:
    """An ``.xlsx`` written on :meth:`close`; sheets are added in their final order."""

    def __init__(self, path: str | Path):
        self.workbook = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "nan_inf_to_errors": True,
            },
        )
        self._formats: dict[Style, object] = {}

    def format(self, style: Style):
        found = self._formats.get(style)
        if found is None:
            found = self._formats[style] = self.workbook.add_format(style.properties())
        return found

    def format_index(self, style: Style) -> int:
        """The number of ``style`` among the workbook's cell formats (the ``s`` of a cell)."""
        return self.format(style)._get_xf_index()

    def sheet(self, name: str) -> Sheet:
        return Sheet(self, name)

    def close(self) -> None:
        self.workbook.close()


class Sheet:
    """One worksheet, written top to bottom (rows 1-based, as openpyxl counts them)."""

    def __init__(self, book: Book, name: str):
        self.book = book
        self.title = name
        self.ws = book.workbook.add_worksheet(name, worksheet_class=_Worksheet)
        self.widths: list[float] = []

    def set_widths(self, widths: list[float]) -> None:
        """Column widths in Excel units, before any row is written."""
        self.widths = list(widths)
        for j, width in enumerate(widths, 1):
            self.set_width(j, width)

    def set_width(self, column: int, width: float) -> None:
        """One column's width in Excel units. Each column is its own ``<col>`` element, as
        openpyxl writes them (XlsxWriter joins neighbours of one width, which openpyxl then reads
        as the first column's alone): a millionth of a pixel per column, dropped by the file's
        1/256-unit precision, keeps them apart."""
        pixels = width * MAX_DIGIT_PX + column * 1e-6
        self.ws.set_column_pixels(column - 1, column - 1, pixels)
        self.ws.exact_widths[column - 1] = width

    def height(self, row: int, points: float) -> None:
        """The height of ``row`` in points; before the row's cells are written."""
        self.ws.set_row_pixels(row - 1, points * 4.0 / 3.0)

    def put(self, row: int, column: int, value: object, style: Style) -> None:
        """Write one cell; text stays text (quote prefix where Excel would read a formula)."""
        value = clean_text(value)
        ws, r, c = self.ws, row - 1, column - 1
        if value is None or value == "":
            ws.write_blank(r, c, None, self.book.format(style))
        elif isinstance(value, str):
            if value.startswith(QUOTED):
                style = style.quoted()
            ws.write_string(r, c, value, self.book.format(style))
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, self.book.format(style))
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, value, self.book.format(style))
        elif isinstance(value, numbers.Number):
            ws.write_number(r, c, value, self.book.format(style))
        else:  # its text, as text
            self.put(row, column, str(value), style)

    def stream_rows(
        self,
        first_row: int,
        columns: list[list],
        formats: list[CellFormats],
        heights: list[float] | None = None,
    ) -> None:
        """Rows ``first_row``, ``first_row + 1``, ... from column 1 on: ``columns`` holds each
        column's cleaned values (:func:`clean_text`), ``formats`` its styles, ``heights`` each
        row's height in points (None: the default). The cells are those :meth:`put` writes,
        built here as XML a column at a time: XlsxWriter's per-cell calls cost about 6 µs a
        cell, 20 s for the 2.9 M cells of 全部数据 at a million enterprises. Falls back to
        :meth:`put` where XlsxWriter's row stream is not what this was written against."""
        ws = self.ws
        n = len(columns[0]) if columns else 0
        if not n:
            return
        if not _can_stream(ws):
            for i, record in enumerate(zip(*columns, strict=True)):
                if heights is not None and heights[i] is not None:
                    self.height(first_row + i, heights[i])
                for j, (value, style) in enumerate(zip(record, formats, strict=True), 1):
                    self.put(first_row + i, j, value, _style_for(value, style))
            return
        ws._write_single_row(first_row - 1)  # out goes the row XlsxWriter holds
        cells = [
            self._column_xml(j, first_row, values, style)
            for j, (values, style) in enumerate(zip(columns, formats, strict=True))
        ]
        rows = range(first_row, first_row + n)
        if heights is None:
            heads = [f'<row r="{r}">' for r in rows]
        else:
            heads = [
                f'<row r="{r}">'
                if h is None or h * 4.0 / 3.0 == 20
                else f'<row r="{r}" ht="{h * 4.0 / 3.0 * 0.75:.16g}" customHeight="1">'
                for r, h in zip(rows, heights, strict=True)
            ]
        write = ws.fh.write
        for start in range(0, n, 4096):
            stop = min(n, start + 4096)
            write(
                "".join(
                    head + "".join(parts) + "</row>"
                    for head, *parts in zip(
                        heads[start:stop], *(c[start:stop] for c in cells), strict=True
                    )
                )
            )
        last = first_row + n - 2  # zero-based
        ws.previous_row = last
        ws.dim_rowmin = (
            first_row - 1 if ws.dim_rowmin is None else min(ws.dim_rowmin, first_row - 1)
        )
        ws.dim_rowmax = last if ws.dim_rowmax is None else max(ws.dim_rowmax, last)
        ws.dim_colmin = 0 if ws.dim_colmin is None else min(ws.dim_colmin, 0)
        width = len(columns) - 1
        ws.dim_colmax = width if ws.dim_colmax is None else max(ws.dim_colmax, width)

    def _column_xml(self, column: int, first_row: int, values: list, style: CellFormats) -> list:
        """The ``<c>`` elements of one column, top to bottom."""
        index = self.book.format_index
        letter = xl_col_to_name(column)
        blank = f' s="{index(style.blank)}"/>'
        text = f' s="{index(style.text)}" t="inlineStr"><is><t'
        quoted = f' s="{index(style.text.quoted())}" t="inlineStr"><is><t'
        number = f' s="{index(style.number)}"><v>'
        date = f' s="{index(style.date)}"><v>'
        tails: dict[str, str] = {}  # a column's texts repeat (county, measure, clause...)
        out = []
        append = out.append
        for r, value in enumerate(values, first_row):
            if value is None or value == "":
                tail = blank
            elif isinstance(value, str):
                tail = tails.get(value)
                if tail is None:
                    shown = _cut(value)
                    head = quoted if shown.startswith(QUOTED) else text
                    escaped, preserve = _inline_text(shown)
                    space = ' xml:space="preserve"' if preserve else ""
                    tail = tails[value] = f"{head}{space}>{escaped}</t></is></c>"
            elif isinstance(value, bool):
                tail = f' s="{index(style.number)}" t="b"><v>{int(value)}</v></c>'
            elif isinstance(value, dt.date):
                serial = self.ws._convert_date_time(value)
                tail = f"{date}{serial:.16G}</v></c>"
            elif isinstance(value, numbers.Real) and math.isfinite(value):
                tail = f"{number}{value:.16G}</v></c>"
            elif isinstance(value, numbers.Real):
                raise ValueError(f"cell {letter}{r}: {value} is no number a cell can hold")
            else:  # as put: its text, never a formula
                shown = _cut(clean_text(str(value)))
                head = quoted if shown.startswith(QUOTED) else text
                escaped, preserve = _inline_text(shown)
                space = ' xml:space="preserve"' if preserve else ""
                tail = f"{head}{space}>{escaped}</t></is></c>"
            append(f'<c r="{letter}{r}"{tail}')
        return out

    def merge(self, row: int, first: int, last: int, value: object, style: Style) -> None:
        """A merged range of one row holding ``value`` in ``style``; its other cells as openpyxl
        leaves them: the default style with the top, bottom and (last cell) right lines of the
        first cell."""
        if last <= first:
            self.put(row, first, value, style)
            return
        self.ws.merge_range(row - 1, first - 1, row - 1, last - 1, "", self.book.format(style))
        self.put(row, first, value, style)
        _, right, top, bottom = style.border
        for column in range(first + 1, last + 1):
            edge = Style(border=(None, right if column == last else None, top, bottom))
            self.ws.write_blank(row - 1, column - 1, None, self.book.format(edge))

    def done(self) -> None:
        """Nothing more is written to this sheet: its row file is closed until the workbook is
        saved (XlsxWriter keeps one open per sheet, and a national workbook has thousands of
        sheets, beyond the 1,024 files a process may usually hold open)."""
        close = getattr(self.ws, "_opt_close", None)
        if close is not None and getattr(self.ws, "constant_memory", False):
            close()

    def freeze(self, row: int, column: int) -> None:
        """Freeze the rows above ``row`` and the columns left of ``column`` (openpyxl's
        ``freeze_panes`` at that cell)."""
        self.ws.freeze_panes(row - 1, column - 1)

    def page(
        self,
        *,
        landscape: bool = True,
        paper: int = 9,
        fit_width: bool = True,
        margins: tuple[float, float, float, float, float, float] = (0.3, 0.3, 0.5, 0.6, 0.5, 0.25),
        centred: bool = True,
        footer: str = "",
        title_rows: str | None = None,
    ) -> None:
        """Print settings: orientation, paper (9: A4), one page wide, margins (left, right,
        top, bottom, header, footer; inches), centred across, the footer, rows repeated."""
        ws = self.ws
        if landscape:
            ws.set_landscape()
        ws.set_paper(paper)
        if fit_width:
            # "1" written out (XlsxWriter leaves out the default 1, which openpyxl reads as None)
            ws.fit_to_pages("1", 0)
        left, right, top, bottom, header, foot = margins
        ws.set_margins(left=left, right=right, top=top, bottom=bottom)
        ws.set_header("", {"margin": header})
        ws.set_footer(footer, {"margin": foot})
        if centred:
            ws.center_horizontally()
        if title_rows:
            first, _, last = title_rows.replace("$", "").partition(":")
            ws.repeat_rows(int(first) - 1, int(last or first) - 1)


def _can_stream(ws) -> bool:
    """Whether the worksheet is XlsxWriter's ``constant_memory`` row stream that
    :meth:`Sheet.stream_rows` writes into (its row file, previous row and extent)."""
    return bool(getattr(ws, "constant_memory", False)) and all(
        hasattr(ws, name)
        for name in (
            "_write_single_row",
            "_convert_date_time",
            "fh",
            "previous_row",
            "dim_rowmax",
            "dim_colmax",
        )
    )


def _style_for(value: object, formats: CellFormats) -> Style:
    if value is None or value == "":
        return formats.blank
    if isinstance(value, str):
        return formats.text
    if isinstance(value, dt.date):
        return formats.date
    return formats.number


def style_of(cell) -> Style:
    """The :class:`Style` of an openpyxl cell (font name, size and bold; a solid fill; thin
    borders; alignment; number format; quote prefix)."""
    font, fill, border, align = cell.font, cell.fill, cell.border, cell.alignment

    def colour(value) -> str | None:
        rgb = getattr(value, "rgb", None)
        return rgb[-6:] if isinstance(rgb, str) else None

    sides = tuple(
        (colour(getattr(border, side).color) or "000000")
        if getattr(border, side) is not None and getattr(border, side).style
        else None
        for side in SIDES
    )
    return Style(
        font=font.name or "Calibri",
        size=float(font.size or 11),
        bold=bool(font.bold),
        fill=colour(fill.fgColor) if fill is not None and fill.fill_type == "solid" else None,
        border=sides,
        wrap=bool(align.wrap_text),
        horizontal=align.horizontal,
        vertical=align.vertical,
        number=None if cell.number_format == "General" else cell.number_format,
        quote=bool(cell.quotePrefix),
    )


def copy_sheet(book: Book, source: OpenpyxlSheet) -> Sheet:
    """A small openpyxl sheet copied into ``book`` as it would be saved: values, styles, merged
    cells, column widths, row heights, frozen panes and print settings."""
    sheet = book.sheet(source.title)
    for letter, dimension in source.column_dimensions.items():
        if dimension.width:
            sheet.set_width(column_index_from_string(letter), dimension.width)
    if source.freeze_panes:
        cell = source[source.freeze_panes]
        sheet.freeze(cell.row, cell.column)
    merged = {(r.min_row, r.min_col): r for r in source.merged_cells.ranges}
    covered = {cell for spanned in source.merged_cells.ranges for cell in spanned.cells}
    heights = {r: d.height for r, d in source.row_dimensions.items() if d.height is not None}
    last = max([source.max_row, *heights]) if heights else source.max_row
    for r in range(1, last + 1):
        if r in heights:
            sheet.height(r, heights[r])
        written = False
        for cell in next(source.iter_rows(min_row=r, max_row=r)) if r <= source.max_row else ():
            key = (r, cell.column)
            spanned = merged.get(key)
            if spanned is not None:
                sheet.ws.merge_range(
                    spanned.min_row - 1,
                    spanned.min_col - 1,
                    spanned.max_row - 1,
                    spanned.max_col - 1,
                    "",
                    book.format(style_of(cell)),
                )
            if cell.value is None and not cell.has_style and key not in covered:
                continue
            sheet.put(r, cell.column, cell.value, style_of(cell))
            written = True
        if r in heights and not written:  # XlsxWriter writes no row without a cell
            sheet.put(r, 1, None, Style())
    setup = source.page_setup
    margins = source.page_margins
    footer = source.oddFooter.center
    text = ""
    if footer.text:
        text = "&C" + (f'&"{footer.font}"' if footer.font else "")
        text += (f"&{footer.size} " if footer.size else "") + footer.text
    sheet.page(
        landscape=setup.orientation == "landscape",
        paper=int(setup.paperSize or 9),
        fit_width=bool(source.sheet_properties.pageSetUpPr.fitToPage),
        margins=(
            margins.left,
            margins.right,
            margins.top,
            margins.bottom,
            margins.header,
            margins.footer,
        ),
        centred=bool(source.print_options.horizontalCentered),
        footer=text,
        title_rows=source.print_title_rows,
    )
    sheet.done()
    return sheet

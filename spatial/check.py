"""``spatial check``: validate an inventory without screening, and say how to fix each row.

The report is for the county office that sent the sheet: in Chinese and English, per reason
the count, what to do, and every row with its column (as headed in their sheet) and value. Cell
text is shown with control and direction-override characters escaped, so a hostile cell cannot
rewrite the terminal.

Exit codes: 0 the file is clean, 1 some rows would be rejected, 2 the file cannot be used.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "plants.csv"
>>> _ = path.write_text("编号,经度,纬度\\nA1,112.75,37.69\\nA2,abc,37.7\\n", encoding="utf-8")
>>> report = check_inventory(path)
>>> report.exit_code
1
>>> print(report.text().splitlines()[-1])  # doctest: +NORMALIZE_WHITESPACE
结论 Result: 1 行需修改后重新提交，其余 1 行可以筛查 /
1 rows need fixing; the other 1 can be screened
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from spatial.errors import SpatialError
from spatial.inventory import REASONS, Inventory, load_enterprises, planner_headers, problem_zh
from spatial.vocabulary import column_label

EXIT_CLEAN, EXIT_REJECTED, EXIT_FILE_ERROR = 0, 1, 2
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def shown(value: object, limit: int = 80) -> str:
    """Cell text safe to print: control, zero-width and bidi characters escaped, shortened.

    >>> shown("a\\nb\\u202e"), shown("x" * 100, limit=5)
    ('a\\\\nb\\\\u202e', 'xxxxx…')
    """
    text = "" if value is None else str(value)
    text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class CheckReport:
    """The outcome of checking one inventory file."""

    path: Path
    inventory: Inventory | None = None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 clean, 1 rows rejected, 2 the file cannot be used."""
        if self.inventory is None:
            return EXIT_FILE_ERROR
        return EXIT_REJECTED if len(self.inventory.rejected) else EXIT_CLEAN

    def _column(self, name: object) -> str:
        """A column as the sheet heads it, with the contract name: '经度 (lon)'; a pair of
        columns as '经度/纬度 (lon/lat)'."""
        if name is None or name != name:  # None or NaN
            return ""
        inverse = {v: k for k, v in self.inventory.header_map.items()} if self.inventory else {}
        parts = str(name).split("/")
        headers = "/".join(shown(inverse.get(p, column_label(p, short=True)), 40) for p in parts)
        return str(name) if headers == name else f"{headers} ({name})"

    def _headers(self) -> dict[str, str]:
        """Contract column → the planner's header."""
        if self.inventory is None:
            return {}
        return planner_headers(self.inventory.header_map)

    def text(self, max_rows: int = 20) -> str:
        """The report; ``max_rows`` rows listed per reason (0: all)."""
        lines = [f"检查 Checking: {self.path}"]
        if self.inventory is None:
            lines += [
                "文件无法使用 The file cannot be used:",
                f"  {shown(self.error, 2000)}",
                "结论 Result: 请按上述提示修改文件后重试 / fix the file as described and try again",
            ]
            return "\n".join(lines)
        inv = self.inventory
        recognised = ", ".join(f"{shown(k, 40)}→{v}" for k, v in inv.header_map.items())
        columns = [
            c
            for c in inv.rejected.columns
            if c not in {"row", "reason", "reason_zh", "reason_code"}
        ]
        known = set(inv.header_map.values()) | {"source"}
        other = [shown(c, 40) for c in columns if c not in known]
        other += [
            shown(c, 40)
            for c in inv.enterprises.columns
            if c not in known and c not in other and c not in _OUTPUT_COLUMNS
        ]
        lines.append(f"  编码 encoding: {inv.encoding}")
        lines.append(f"  识别的列 recognised columns: {recognised or '-'}")
        if other:
            lines.append(
                f"  其他列（原样保留）other columns (kept as they are): {', '.join(other)}"
            )
        lines.append(
            f"共 {inv.n_input} 行数据 {inv.n_input} data rows: {len(inv.enterprises)} 行通过 "
            f"accepted, {len(inv.rejected)} 行未通过 rejected"
            + (f", {inv.blank_rows} 空行跳过 blank rows skipped" if inv.blank_rows else "")
        )
        if len(inv.rejected):
            lines += [
                "",
                "需修改的行 Rows to fix (一行可有多个问题 a row can have several problems):",
            ]
            lines += self._problems(max_rows)
        if inv.warnings:
            lines += ["", "提示 Warnings:"]
            lines += [f"  ! {shown(w, 2000)}" for w in inv.warnings]
        lines.append("")
        n_bad, n_good = len(inv.rejected), len(inv.enterprises)
        if n_bad:
            lines.append(
                f"结论 Result: {n_bad} 行需修改后重新提交，其余 {n_good} 行可以筛查 / "
                f"{n_bad} rows need fixing; the other {n_good} can be screened"
            )
        else:
            lines.append(
                f"结论 Result: 全部 {n_good} 行可以筛查 / all {n_good} rows can be screened"
            )
        return "\n".join(lines)

    def _problems(self, max_rows: int) -> list[str]:
        problems = self.inventory.problems
        lines = []
        counts = problems.groupby("reason_code")["row"].nunique()
        order = sorted(counts.index, key=lambda code: (-counts[code], code))
        for number, code in enumerate(order, 1):
            zh, en, fix_zh, fix_en = REASONS.get(code, (code, code, "", ""))
            mine = problems[problems["reason_code"] == code]
            rows = sorted(mine["row"].unique())
            lines.append("")
            lines.append(f"【{number}】{zh} {en} — {len(rows)} 行 rows")
            if fix_zh:
                lines.append(f"    改法 fix: {fix_zh} / {fix_en}")
            listed = rows if max_rows == 0 else rows[:max_rows]
            by_row = mine.groupby("row", sort=False)
            for row in listed:
                cells, messages = [], []
                for record in by_row.get_group(row).itertuples(index=False):
                    where = self._column(record.column)
                    if where:
                        value = "" if record.value is None else record.value
                        cells.append(f"{where} = '{shown(value)}'")
                    words = problem_zh(code, record.column, record.value, self._headers())
                    messages.append(f"{shown(words, 300)} / {shown(record.message, 300)}")
                cell = f"  列 column {'; '.join(cells)}" if cells else ""
                lines.append(f"    第 {row} 行 row {row}{cell} — {'; '.join(messages)}")
            if len(listed) < len(rows):
                more = len(rows) - len(listed)
                lines.append(f"    …还有 {more} 行 and {more} more rows (--max-rows 0 lists all)")
        return lines


_OUTPUT_COLUMNS = {"row", "lon_input", "lat_input", "geometry", "coord_sys", "lon", "lat"}


def check_inventory(path: str | Path, crs: str | None = None) -> CheckReport:
    """Load and validate an inventory as ``spatial screen`` would, without screening it.

    Parameters
    ----------
    path
        The inventory (CSV, XLSX, GeoPackage, GeoJSON).
    crs
        The file's coordinate system, as ``--crs`` of ``spatial screen``.

    Returns
    -------
    CheckReport
        With the inventory, or the file-level error message.
    """
    path = Path(path)
    try:
        inventory = load_enterprises(path, crs=crs)
    except SpatialError as exc:
        return CheckReport(path, error=str(exc))
    return CheckReport(path, inventory=inventory)

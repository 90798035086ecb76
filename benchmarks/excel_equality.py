"""Does ``write_lists`` write the same workbook as an earlier revision? (issue 19)

Runs ``spatial.export.excel.write_lists`` of an earlier commit (default ``aafa703``, the last
one written with openpyxl's in-memory workbook) and of this work tree on the same inputs, each
in its own process, times both, and compares the two workbooks read back with openpyxl: the
sheets and their order; every cell's value, type, number format, font (name, size, bold), fill,
alignment (wrap, horizontal, vertical), borders and quote prefix; merged ranges; column widths;
row heights; frozen panes; auto filter; print settings (orientation, paper, fit to width, rows
repeated, margins, centring, footer, scale).

Also compares the frames the lists are made of (``list_rows``, ``_county_checks``) with
``pandas.testing.assert_frame_equal``.

Inputs: the demo region's run (the ``write_lists`` call of ``pipeline.run``, captured), and
optionally a pickle of ``(args, kwargs)`` of a real call (``--pickle``), cut to its first
``--slice`` enterprises. Exit status 1 when anything differs beyond :data:`EXPECTED`.

    .venv/bin/python -m benchmarks.excel_equality [--old aafa703] [--pickle lists.pkl --slice 20000]
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EXPECTED: dict[str, str] = {}
"""Differences of the writer that change nothing shown or printed, by kind, with the reason.

Read as equal (the file format's defaults, written by one writer and left out by the other):
a font without a name and Calibri (the workbook's default font); ``fitToWidth``/``fitToHeight``
absent and 1; ``scale`` absent and 100; vertical alignment absent and ``bottom``; the alpha byte
of colours (openpyxl writes 00, XlsxWriter FF; Excel and LibreOffice ignore it)."""

RUN = """
import pickle, sys, time
sys.path.insert(0, sys.argv[1])
from spatial.export.excel import _county_checks, list_rows, write_lists
args, kwargs = pickle.load(open(sys.argv[2], "rb"))
start = time.perf_counter()
write_lists(sys.argv[3], *args[1:], **kwargs)
print(f"{time.perf_counter() - start:.2f}")
enterprises, decisions = args[1], args[2]
measures = decisions[decisions["action"] != "none"]
frames = [list_rows(enterprises, measures, kwargs.get("as_of"))]
frames.append(_county_checks(enterprises, measures, kwargs.get("as_of")))
pickle.dump(frames, open(sys.argv[3] + ".rows.pkl", "wb"))
"""

CAPTURE = """
import pickle, sys, tempfile
sys.path.insert(0, sys.argv[1])
import spatial.pipeline as pipeline
from tests.helpers import DEMO_AS_OF
calls = []
real = pipeline.write_lists
def capture(*args, **kwargs):
    calls.append((args, kwargs))
    return real(*args, **kwargs)
pipeline.write_lists = capture
pipeline.run(pipeline.demo_config(tempfile.mkdtemp() + "/out", as_of=DEMO_AS_OF, figures=False))
pickle.dump(calls[0], open(sys.argv[2], "wb"))
"""


def _python() -> str:
    return sys.executable


def capture_demo(folder: Path) -> Path:
    target = folder / "demo.pkl"
    env = {"SPATIAL_NO_NETWORK": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [_python(), "-c", CAPTURE, str(ROOT), str(target)], check=True, env=env, cwd=ROOT
    )
    return target


def sliced(source: Path, n: int, folder: Path) -> Path:
    args, kwargs = pickle.loads(source.read_bytes())
    enterprises = args[1].iloc[:n]
    ids = set(enterprises["id"])
    decisions = args[2][args[2]["id"].isin(ids)]
    kwargs = dict(kwargs)
    for key in ("emissions",):
        if kwargs.get(key) is not None and "id" in kwargs[key]:
            kwargs[key] = kwargs[key][kwargs[key]["id"].isin(ids)]
    target = folder / f"slice-{n}.pkl"
    target.write_bytes(pickle.dumps(((args[0], enterprises, decisions), kwargs)))
    return target


def write(code: Path, inputs: Path, out: Path) -> float:
    done = subprocess.run(
        [_python(), "-c", RUN, str(code), str(inputs), str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=code,
    )
    return float(done.stdout.strip().splitlines()[-1])


def _rgb(colour) -> str | None:
    rgb = getattr(colour, "rgb", None)
    return rgb[-6:] if isinstance(rgb, str) else None


def _cell(cell) -> dict:
    border = cell.border
    return {
        "value": cell.value,
        "type": type(cell.value).__name__,
        "number_format": cell.number_format,
        "font": (cell.font.name or "Calibri", float(cell.font.size or 11), bool(cell.font.b)),
        "fill": (
            (cell.fill.fill_type, _rgb(cell.fill.fgColor))
            if cell.fill is not None and cell.fill.fill_type
            else None
        ),
        "alignment": (
            bool(cell.alignment.wrap_text),
            cell.alignment.horizontal,
            cell.alignment.vertical if cell.alignment.vertical != "bottom" else None,
        ),
        "border": tuple(
            (getattr(border, side).style, _rgb(getattr(border, side).color))
            if getattr(border, side) is not None and getattr(border, side).style
            else None
            for side in ("left", "right", "top", "bottom")
        ),
        "quote_prefix": bool(cell.quotePrefix),
    }


def _sheet(ws) -> dict:
    setup, margins, footer = ws.page_setup, ws.page_margins, ws.oddFooter.center
    widths = {
        letter: round(d.width, 9) for letter, d in ws.column_dimensions.items() if d.customWidth
    }
    heights = {r: round(d.height, 6) for r, d in ws.row_dimensions.items() if d.height}
    return {
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "widths": widths,
        "heights": heights,
        "freeze_panes": ws.freeze_panes,
        "auto_filter": ws.auto_filter.ref,
        "orientation": setup.orientation,
        "paper": str(setup.paperSize),
        "fit": (
            bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
            1 if setup.fitToWidth is None else setup.fitToWidth,
            1 if setup.fitToHeight is None else setup.fitToHeight,
        ),
        "scale": 100 if setup.scale is None else setup.scale,
        "print_title_rows": (ws.print_title_rows or "").replace("$", ""),
        "margins": (
            margins.left,
            margins.right,
            margins.top,
            margins.bottom,
            margins.header,
            margins.footer,
        ),
        "centred": bool(ws.print_options.horizontalCentered),
        "footer": (footer.text, footer.font, footer.size),
    }


def compare(old: Path, new: Path) -> list[tuple[str, str, str]]:
    """Differences (sheet, what, example) between two workbooks."""
    from openpyxl import load_workbook

    a, b = load_workbook(old), load_workbook(new)
    out: list[tuple[str, str, str]] = []
    if a.sheetnames != b.sheetnames:
        out.append(("*", "sheetnames", f"{a.sheetnames} != {b.sheetnames}"))
    for name in a.sheetnames:
        if name not in b.sheetnames:
            continue
        wa, wb = a[name], b[name]
        sa, sb = _sheet(wa), _sheet(wb)
        for key in sa:
            if sa[key] != sb[key]:
                out.append((name, key, f"{sa[key]!r} != {sb[key]!r}"[:300]))
        covered = {(r, c) for m in wa.merged_cells.ranges for r, c in m.cells}
        cells = {k for k in wa._cells} | {k for k in wb._cells}
        for row, column in sorted(cells):
            ca, cb = _cell(wa.cell(row, column)), _cell(wb.cell(row, column))
            for key in ca:
                if ca[key] != cb[key]:
                    where = "merged-cell" if (row, column) in covered else "cell"
                    example = f"{wa.cell(row, column).coordinate}: {ca[key]!r} != {cb[key]!r}"
                    out.append((name, f"{where} {key}", example[:300]))
    return out


def compare_rows(old: Path, new: Path) -> list[tuple[str, str, str]]:
    """Differences between the two ``list_rows`` and ``_county_checks`` frames (values, types,
    columns and their order)."""
    import pandas as pd

    out = []
    for name, a, b in zip(
        ("list_rows", "_county_checks"),
        pickle.loads(old.read_bytes()),
        pickle.loads(new.read_bytes()),
        strict=True,
    ):
        try:
            pd.testing.assert_frame_equal(a, b)
        except AssertionError as error:
            out.append((name, "frame", str(error)[:300]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="aafa703", help="git revision of the reference")
    parser.add_argument("--pickle", type=Path, help="(args, kwargs) of a write_lists call")
    parser.add_argument("--slice", type=int, default=20_000)
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="excel-equality-"))
    old_code = folder / "old"
    old_code.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", options.old, "spatial"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(old_code)], input=archive, check=True)
    inputs = {"demo": capture_demo(folder)}
    if options.pickle:
        inputs[f"slice {options.slice}"] = sliced(options.pickle, options.slice, folder)
    failed = False
    for label, path in inputs.items():
        old_out, new_out = folder / f"{path.stem}-old.xlsx", folder / f"{path.stem}-new.xlsx"
        old_s, new_s = write(old_code, path, old_out), write(ROOT, path, new_out)
        print(f"{label}: old {old_s:.2f} s, new {new_s:.2f} s ({old_out}, {new_out})")
        differences = compare(old_out, new_out)
        differences += compare_rows(Path(f"{old_out}.rows.pkl"), Path(f"{new_out}.rows.pkl"))
        kinds: Counter = Counter()
        examples: dict[str, list[str]] = defaultdict(list)
        for sheet, what, example in differences:
            kinds[what] += 1
            if len(examples[what]) < 3:
                examples[what].append(f"{sheet} {example}")
        for what, count in sorted(kinds.items()):
            known = what in EXPECTED
            failed |= not known
            print(f"  {'expected' if known else 'DIFFERENT'} {what}: {count}")
            for example in examples[what]:
                print(f"      {example}")
        if not differences:
            print("  identical")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

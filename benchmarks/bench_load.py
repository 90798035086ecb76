"""Loading a big, partly broken inventory: time, peak memory and the rejected table.

    python -m benchmarks.bench_load            # 1,000,000 rows, 5 % bad (about 2 minutes)
    python -m benchmarks.bench_load --quick    # 100,000 rows

The inventory is a CSV as county offices send them (Chinese headers, Chinese codes, an extra
column) with 5 % bad rows of every kind the loader rejects (not a number, missing, 0/0,
swapped, outside China, projected metres, empty and duplicate ids, unknown codes). Two files:
``regular`` (every row as wide as the header: the pandas C parser reads it) and ``ragged``
(the same plus rows with surplus cells, which send the whole file through the csv module).

Each load runs in its own process: ``peak_rss_mb`` is its peak resident memory (``VmHWM``;
``ru_maxrss`` is reported too, but Linux carries the parent's size at fork into it), and
``import_rss_mb`` the same process before loading (Python and the libraries), so the load's
own memory is the difference. The rejected table holds only the bad rows, so its size grows
with them, not with the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["编号", "企业名称", "行业", "所在县", "产业政策类别", "达标排放", "经度", "纬度", "备注"]
INDUSTRY = np.array(["铸造", "焦化", "水泥", "砖瓦窑", "化工", "炭素", "foundry"])
COUNTY = np.array(["榆次区", "太谷区", "祁县", "平遥县", "介休市", "灵石县"])
CLASS = np.array(["允许类", "限制类", "鼓励类", ""])
YESNO = np.array(["是", "否", ""])
BAD_KINDS = (
    "not_a_number",
    "missing_coordinates",
    "zero_coordinates",
    "lon_lat_swapped",
    "outside_china",
    "looks_projected",
    "empty_id",
    "duplicate_id",
    "unknown_code",
)
BAD_SHARE = 0.05

MEASURE = """
import json, resource, sys, time

def peak_mb():
    # VmHWM: this process's own peak. ru_maxrss also counts the parent's memory at fork
    # (Linux keeps it across exec), so it is reported beside it, not instead.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

from spatial.inventory import load_enterprises
import_rss = peak_mb()
wall, cpu = time.perf_counter(), time.process_time()
inv = load_enterprises(sys.argv[1])
summary = inv.summary()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({
    "seconds": wall,
    "cpu_seconds": cpu,
    "import_rss_mb": import_rss,
    "peak_rss_mb": peak_mb(),
    "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "accepted": len(inv.enterprises),
    "rejected": len(inv.rejected),
    "blank": inv.blank_rows,
    "rejected_mb": float(inv.rejected.memory_usage(deep=True).sum()) / 2**20,
    "problems_mb": float(inv.problems.memory_usage(deep=True).sum()) / 2**20,
    "by_reason": dict(inv.reject_counts()),
    "summary": summary,
}, ensure_ascii=False))
"""


def make_inventory(
    path: Path, n: int, *, ragged: bool = False, seed: int = 20191101
) -> dict[str, int]:
    """Write an ``n``-row inventory CSV with 5 % bad rows; returns the bad rows by kind.

    Every bad row has exactly one problem; with ``ragged``, a further 0.1 % of the good rows
    get a surplus cell (rejected as ``extra_cells``).
    """
    rng = np.random.default_rng(seed)
    ids = np.char.add("E", np.arange(n).astype(str)).astype(object)
    names = np.char.add("企业", np.arange(n).astype(str)).astype(object)
    industry = INDUSTRY[rng.integers(0, INDUSTRY.size, n)].astype(object)
    county = COUNTY[rng.integers(0, COUNTY.size, n)].astype(object)
    policy = CLASS[rng.integers(0, CLASS.size, n)].astype(object)
    compliant = YESNO[rng.integers(0, YESNO.size, n)].astype(object)
    lon = np.round(rng.uniform(110.6, 113.9, n), 6).astype(str).astype(object)
    lat = np.round(rng.uniform(35.6, 39.9, n), 6).astype(str).astype(object)
    note = np.where(rng.random(n) < 0.1, "见附件", "").astype(object)

    bad = np.flatnonzero(rng.random(n) < BAD_SHARE)
    bad = bad[bad > 0]  # row 0 stays good: the duplicates repeat its id
    kinds = np.array(BAD_KINDS)[rng.integers(0, len(BAD_KINDS), bad.size)]
    counts: dict[str, int] = {}
    for kind in BAD_KINDS:
        rows = bad[kinds == kind]
        if kind == "duplicate_id":
            ids[rows] = ids[0]
        elif kind == "not_a_number":
            lon[rows] = "一一二点五"
        elif kind == "missing_coordinates":
            lat[rows] = ""
        elif kind == "zero_coordinates":
            lon[rows], lat[rows] = "0", "0"
        elif kind == "lon_lat_swapped":
            lon[rows], lat[rows] = lat[rows], lon[rows]
        elif kind == "outside_china":
            lon[rows], lat[rows] = "106.9", "47.9"
        elif kind == "looks_projected":
            lon[rows], lat[rows] = "38523456.1", "4172345.6"
        elif kind == "empty_id":
            ids[rows] = ""
        elif kind == "unknown_code":
            industry[rows] = "飞船制造"
        counts[kind] = int(rows.size)

    extra = np.zeros(n, dtype=bool)
    if ragged:
        good = np.setdiff1d(np.arange(1, n), bad)
        extra[rng.choice(good, size=max(1, n // 1000), replace=False)] = True
        counts["extra_cells"] = int(extra.sum())
    columns = [ids, names, industry, county, policy, compliant, lon, lat, note]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\r\n")
        for i, cells in enumerate(zip(*columns, strict=True)):
            line = ",".join(cells)
            handle.write(line + (",多余\r\n" if extra[i] else "\r\n"))
    return counts


def measure(path: Path) -> dict:
    """Load ``path`` in a fresh process; its time, memory and counts."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout)


def run(quick: bool = False, *, rows: int | None = None) -> list[dict]:
    """Generate and load the two inventories; one result row per file."""
    n = rows or (100_000 if quick else 1_000_000)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for case in ("regular", "ragged"):
            path = Path(tmp) / f"inventory_{case}.csv"
            start = time.perf_counter()
            expected = make_inventory(path, n, ragged=case == "ragged")
            generated = time.perf_counter() - start
            measured = measure(path)
            bad = sum(expected.values())
            row = {
                "benchmark": "load_enterprises",
                "case": case,
                "rows": n,
                "bad_rows": bad,
                "file_mb": path.stat().st_size / 2**20,
                "generate_seconds": generated,
                **measured,
            }
            if "error" not in measured:
                row["rows_per_second"] = n / measured["seconds"]
                row["all_rows_accounted"] = measured["accepted"] + measured["rejected"] == n
                row["rejected_as_expected"] = measured["by_reason"] == expected
            results.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "summary"}, ensure_ascii=False),
                  flush=True)  # fmt: skip
    return results


def report(results: list[dict]) -> str:
    lines = [
        "| file | rows | bad | MB | load (s) | CPU (s) | rows/s | peak RSS (MB) | after "
        "imports (MB) | rejected table (MB) | all rows accounted |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['rows']:,} | error: {r['error']} |")
            continue
        lines.append(
            f"| {r['case']} | {r['rows']:,} | {r['bad_rows']:,} | {r['file_mb']:.0f} | "
            f"{r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['rows_per_second']:,.0f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['import_rss_mb']:,.0f} | {r['rejected_mb']:.1f} | "
            f"{'yes' if r['all_rows_accounted'] and r['rejected_as_expected'] else 'NO'} |"
        )
    first = next((r for r in results if "summary" in r), None)
    if first:
        lines += ["", f"Summary printed by the CLI ({first['case']} file):", "", "```"]
        lines += [first["summary"], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--rows", type=int, default=None, help="inventory size")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    results = run(args.quick, rows=args.rows)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if all(r.get("all_rows_accounted") for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The threaded measurement against one thread: time and identical results (issue 13).

    python -m benchmarks.bench_threads                # 200,000 points x 5,000 polygons
    python -m benchmarks.bench_threads --quick        # 20,000 x 400

``spatial.measure`` measures in chunks on ``THREADS`` worker threads; the crash of issue 13 came
from GEOS objects shared between them, and its fix (private prepared copies, whole polygons per
thread) must keep the speed the threads exist for. Each thread count runs in its own process on
the same generated inputs (``benchmarks.data``, seeded), measures ``nearest_polygon`` (inside
test, candidate search, exact geodesic distance) and ``nearest_point`` (heat sources) ``--repeat``
times, and reports the best and median wall-clock seconds with CPU seconds; the distances and
nearest ids of every thread count are compared with those of one thread (they must be the same
to the last bit: the threads split work, not arithmetic).

The table is printed and written to ``benchmarks/results-threads.md``; on a shared machine the
load average is written beside it, since other work on the two cores shrinks the gain.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"quick": (20_000, 400), "200k": (200_000, 5_000)}

CHILD = """
import json, resource, sys, time
import numpy as np
from benchmarks import data
from spatial import measure

size, threads, repeat, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data.SIZES[size] = tuple(json.loads(sys.argv[5]))
case = data.generate("shanxi", size)
measure.THREADS = threads
geoms = measure.prepare_polygons(case.builtup.geometry.to_numpy())
ids = case.builtup["name"].to_numpy()
hx, hy = case.heat.geometry.x.to_numpy(), case.heat.geometry.y.to_numpy()
times = {"polygon": [], "point": []}
cpu = {"polygon": [], "point": []}
for _ in range(repeat):
    t, c = time.perf_counter(), time.process_time()
    poly = measure.nearest_polygon(case.lon, case.lat, geoms, ids, densified=True)
    times["polygon"].append(time.perf_counter() - t)
    cpu["polygon"].append(time.process_time() - c)
    t, c = time.perf_counter(), time.process_time()
    point = measure.nearest_point(case.lon, case.lat, hx, hy, case.heat["id"].to_numpy())
    times["point"].append(time.perf_counter() - t)
    cpu["point"].append(time.process_time() - c)
np.savez(out, poly_d=poly.distance_m, poly_i=poly.index, point_d=point.distance_m,
         point_i=point.index)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "cpu": cpu, "peak_mb": peak}))
"""


def run(size: str, threads: list[int], repeat: int) -> dict:
    """Every thread count in its own process; results compared with the first count's."""
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for n in threads:
            out = Path(tmp) / f"t{n}.npz"
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, size, str(n), str(repeat), str(out),
                 json.dumps(SIZES[size])],
                cwd=ROOT, capture_output=True, text=True, check=False,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            if proc.returncode != 0:
                raise SystemExit(f"{n} threads: exit {proc.returncode}\n{proc.stderr[-2000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            arrays = dict(np.load(out))
            if reference is None:
                reference = arrays
            same = all(np.array_equal(arrays[k], reference[k], equal_nan=True) for k in reference)
            rows[n] = {**result, "identical_to_first": same, "load": os.getloadavg()[0]}
    return rows


def table(size: str, rows: dict) -> str:
    n_points, n_polygons = SIZES[size]
    lines = [
        f"Threaded measurement, {n_points:,} points x {n_polygons:,} polygons "
        f"({os.cpu_count()} cores; seconds wall, best / median of runs, CPU s in brackets)",
        "",
        "| threads | nearest_polygon | nearest_point | peak MB | same results as "
        f"{next(iter(rows))} thread(s) | load |",
        "|---|---|---|---|---|---|",
    ]
    for n, r in rows.items():
        cells = []
        for key in ("polygon", "point"):
            t = r["times"][key]
            c = r["cpu"][key][int(np.argmin(t))]
            cells.append(f"{min(t):.2f} / {float(np.median(t)):.2f} ({c:.2f})")
        same = "yes" if r["identical_to_first"] else "**NO**"
        lines.append(
            f"| {n} | {cells[0]} | {cells[1]} | {r['peak_mb']:.0f} | {same} | {r['load']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 x 400 instead of 200k x 5k")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    size = "quick" if args.quick else "200k"
    rows = run(size, [int(t) for t in args.threads.split(",")], args.repeat)
    text = table(size, rows)
    print(text)
    target = ROOT / (
        "outputs/benchmark-threads-quick.md" if args.quick else "benchmarks/results-threads.md"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return 0 if all(r["identical_to_first"] for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The dask engine on a national inventory streamed from partitioned GeoParquet, beside the
local engine on the largest size it holds.

    python -m benchmarks.bench_dask                     # 5,000,000 points x 50,000 polygons
    python -m benchmarks.bench_dask --quick             # 200,000 x 5,000 (a minute or two)
    python -m benchmarks.bench_dask --points 2000000 --local 1000000

What is measured
----------------
- **Data**: built-up areas as noisy star polygons 1-8 km across (:func:`benchmarks.data.
  star_polygons`) at seats spread over China; the inventory written as GeoParquet partition by
  partition (:data:`PART_ROWS` rows each, never all in memory): half the points uniform in China,
  half 0-40 km beyond a seat's outline, with counties, industries and conditions drawn so every
  policy table decides something.
- **Dask engine**: a :class:`distributed.LocalCluster` of one single-threaded worker process per
  core; :func:`spatial.scale.read_partitioned_inventory` (validation file by file), then
  :func:`spatial.scale.screen_dask` + :func:`spatial.scale.write_partitioned` (Hilbert
  partitions, geodesic facts, zones, policies, summary; GeoParquet out). Wall time, points per
  second, CPU seconds of the workers, and peak memory: the largest **sum of the resident set
  sizes of the worker and nanny processes** seen by sampling them with psutil every 0.25 s,
  plus the same for this (client/scheduler) process.
- **Local engine** (in a fresh process, so its peak is its own): the same partitions read and
  validated as one table, then ``add_facts`` + ``evaluate`` + ``summarize``; outputs not written.
  Peak memory is the process's ``ru_maxrss``.

The other benchmarks' runner can call :func:`run` (``run(quick=True)``) or :func:`main`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely
from pyproj import Geod

from benchmarks.data import star_polygons

ROOT = Path(__file__).resolve().parent.parent
GEOD = Geod(ellps="WGS84")
CHINA_BOX = (73.0, 135.0, 18.0, 54.0)
PART_ROWS = 250_000
"""Rows per GeoParquet file of the generated inventory (and so per input partition) at most;
small runs get at least four files per core."""
SIZES = {"quick": (200_000, 5_000, 200_000), "full": (5_000_000, 50_000, 1_000_000)}
"""points, polygons, local-engine points."""

COUNTIES = np.array(
    ["榆次区", "太谷区", "祁县", "平遥县", "介休市", "灵石县", "寿阳县", "忻府区", "原平市",
     "定襄县", "五台县", "代县", "潞州区", "上党区", "襄垣县", "沙坡头区", "某县", "另一县"]
)  # fmt: skip
INDUSTRIES = np.array(
    ["steel", "coking", "foundry", "brick_kiln", "cement", "chemical", "carbon", "refractory",
     "glassware", "boiler", "flange", "pellet", "other"]
)  # fmt: skip
CLASSES = np.array(["encouraged", "permitted", "restricted"])
YESNO = np.array(["yes", "no", ""])


# --------------------------------------------------------------------------------------------
# Data, generated partition by partition


def _in_china_uniform(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    from spatial.coords import in_china

    x0, x1, y0, y1 = CHINA_BOX
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < n:
        x, y = rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)
        inside = in_china(x, y)
        lon, lat = np.r_[lon, x[inside]], np.r_[lat, y[inside]]
    return lon[:n], lat[:n]


def seats(n: int, seed: int) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` built-up polygons at seats uniform over China: the layer, seat lon, lat, radius."""
    rng = np.random.default_rng(seed)
    lon, lat = _in_china_uniform(rng, n)
    polygons, radius = star_polygons(rng, lon, lat)
    layer = gpd.GeoDataFrame(
        {
            "name": [f"BU{i:05d}" for i in range(n)],
            "level": np.where(rng.random(n) < 0.1, "city", "county"),
        },
        geometry=polygons,
        crs="EPSG:4326",
    )
    return layer, lon, lat, radius


def heat_sources(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed + 1)
    lon, lat = _in_china_uniform(rng, n)
    return gpd.GeoDataFrame(
        {
            "id": [f"H{i:05d}" for i in range(n)],
            "name": [f"热源{i}" for i in range(n)],
            "kind": np.where(np.arange(n) % 3 == 0, "chp", "industrial"),
            "capacity_mw": np.where(np.arange(n) % 3 == 0, 350.0, 50.0),
        },
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )


def inventory_part(
    index: int, n: int, first_id: int, seat_lon, seat_lat, seat_radius, seed: int
) -> gpd.GeoDataFrame:
    """One partition of the inventory: half uniform in China, half near a seat."""
    from spatial.coords import in_china

    rng = np.random.default_rng([seed, index])
    n_near = n // 2
    lon_u, lat_u = _in_china_uniform(rng, n - n_near)
    lon_n, lat_n = np.empty(0), np.empty(0)
    while lon_n.size < n_near:
        host = rng.integers(0, seat_lon.size, n_near)
        x, y, _ = GEOD.fwd(
            seat_lon[host],
            seat_lat[host],
            rng.uniform(0, 360, n_near),
            seat_radius[host] * 1.35 + rng.uniform(0, 40_000, n_near),
        )
        inside = in_china(x, y)
        lon_n, lat_n = np.r_[lon_n, x[inside]], np.r_[lat_n, y[inside]]
    order = rng.permutation(n)
    lon = np.r_[lon_u, lon_n[:n_near]][order]
    lat = np.r_[lat_u, lat_n[:n_near]][order]
    ids = np.arange(first_id, first_id + n)
    return gpd.GeoDataFrame(
        {
            "id": [f"E{i:08d}" for i in ids],
            "name": [f"企业{i}" for i in ids],
            "industry": INDUSTRIES[rng.integers(0, INDUSTRIES.size, n)],
            "county": COUNTIES[rng.integers(0, COUNTIES.size, n)],
            "policy_class": CLASSES[rng.integers(0, CLASSES.size, n)],
            "compliant": YESNO[rng.choice(3, n, p=[0.8, 0.15, 0.05])],
            "ultra_low": YESNO[rng.integers(0, 3, n)],
            "clean_transport": YESNO[rng.integers(0, 3, n)],
            "supplies_heat": YESNO[rng.choice(3, n, p=[0.1, 0.8, 0.1])],
        },
        geometry=shapely.points(np.round(lon, 6), np.round(lat, 6)),
        crs="EPSG:4326",
    )


def write_data(
    folder: Path,
    n_points: int,
    n_polygons: int,
    seed: int = 20191101,
    part_rows: int | None = None,
) -> dict:
    """The benchmark's inputs in ``folder``: ``inventory/part.N.parquet``, ``builtup.gpkg``,
    ``heat_sources.gpkg``. Memory is one partition plus the seats."""
    folder.mkdir(parents=True, exist_ok=True)
    layer, lon, lat, radius = seats(n_polygons, seed)
    layer.to_file(folder / "builtup.gpkg", layer="builtup", engine="pyogrio")
    heat_sources(max(30, n_polygons // 40), seed).to_file(
        folder / "heat_sources.gpkg", layer="heat_sources", engine="pyogrio"
    )
    inventory = folder / "inventory"
    inventory.mkdir(exist_ok=True)
    rows = part_rows or min(PART_ROWS, max(10_000, -(-n_points // (4 * (os.cpu_count() or 1)))))
    written = 0
    for i in range(-(-n_points // rows)):
        n = min(rows, n_points - written)
        inventory_part(i, n, written, lon, lat, radius, seed).to_parquet(
            inventory / f"part.{i}.parquet"
        )
        written += n
    return {"inventory": inventory, "builtup": folder / "builtup.gpkg",
            "heat_sources": folder / "heat_sources.gpkg"}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Memory of a set of processes


class MemorySampler:
    """Peak of the summed resident set size of some processes, sampled every ``interval`` s."""

    def __init__(self, pids: list[int], interval: float = 0.25):
        self.processes = [psutil.Process(p) for p in pids]
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for process in self.processes:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


# --------------------------------------------------------------------------------------------
# The two engines


def _layers(paths: dict) -> dict:
    from spatial.builtup import load_builtup
    from spatial.heat import load_heat_sources

    return {
        "builtup": load_builtup(paths["builtup"]),
        "heat_sources": load_heat_sources(paths["heat_sources"]),
    }


def run_dask_engine(paths: dict, out: Path, n_workers: int | None = None) -> dict:
    """Validate, screen and write the partitioned inventory on a local cluster."""
    from spatial.policy import fact_specs, load_policies
    from spatial.scale import (
        dask_client,
        read_partitioned_inventory,
        screen_dask,
        write_partitioned,
    )

    policies = load_policies(())
    specs = fact_specs(policies)
    layers = _layers(paths)
    with dask_client(n_workers=n_workers) as client:
        workers = list(client.run(os.getpid).values())
        nannies = [psutil.Process(p).ppid() for p in workers]
        pids = workers + nannies
        cpu0 = _cpu_seconds(workers)
        with MemorySampler(pids) as cluster_mem, MemorySampler([os.getpid()]) as client_mem:
            start = time.perf_counter()
            inventory = read_partitioned_inventory(paths["inventory"], out / "work", client=client)
            validated = time.perf_counter()
            lazy = screen_dask(inventory.accepted, layers, specs, policies, client=client)
            written = write_partitioned(lazy, out, output_crs="EPSG:4490", client=client)
            seconds = time.perf_counter() - start
        cpu = _cpu_seconds(workers) - cpu0
    import pyarrow.parquet as pq

    from spatial.scale import parquet_files

    n_written = sum(
        pq.read_metadata(f).num_rows for f in parquet_files(written.paths["enterprises"])
    )
    assert n_written == written.enterprises
    return {
        "engine": "dask",
        "workers": len(workers),
        "points": inventory.n_input,
        "accepted": inventory.n_accepted,
        "written": n_written,
        "decisions": written.decisions,
        "partitions": len(inventory.files),
        "seconds": seconds,
        "validate_seconds": validated - start,
        "screen_write_seconds": seconds - (validated - start),
        "points_per_second": inventory.n_input / seconds,
        "worker_cpu_seconds": cpu,
        "peak_workers_mb": cluster_mem.peak_mb,
        "peak_client_mb": client_mem.peak_mb,
    }


def run_local_engine(paths: dict, n_points: int) -> dict:
    """The local engine on the first ``n_points`` rows, in this process (call it in a fresh one:
    see :func:`local_in_subprocess`)."""
    from spatial.decisions import evaluate, summarize
    from spatial.facts import add_facts
    from spatial.inventory import map_headers, validate
    from spatial.parquet_inventory import _text_table, parquet_files
    from spatial.policy import fact_specs, load_policies

    policies = load_policies(())
    specs = fact_specs(policies)
    layers = _layers(paths)
    start = time.perf_counter()
    parts, total = [], 0
    for file in parquet_files(paths["inventory"]):
        if total >= n_points:
            break
        part = gpd.read_parquet(file).iloc[: n_points - total]
        parts.append(part)
        total += len(part)
    frame, _ = _text_table(pd.concat(parts, ignore_index=True))
    del parts
    frame, _ = map_headers(frame, paths["inventory"])
    enterprises, _ = validate(frame, list(range(1, len(frame) + 1)), paths["inventory"])
    del frame
    validated = time.perf_counter()
    enterprises = add_facts(enterprises, layers, specs)
    measured = time.perf_counter()
    decisions = evaluate(enterprises, policies)
    enterprises = summarize(enterprises, decisions)
    seconds = time.perf_counter() - start
    return {
        "engine": "local",
        "points": total,
        "accepted": len(enterprises),
        "decisions": len(decisions),
        "seconds": seconds,
        "validate_seconds": validated - start,
        "facts_seconds": measured - validated,
        "decide_seconds": seconds - (measured - start),
        "points_per_second": total / seconds,
        "cpu_seconds": time.process_time(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def local_in_subprocess(paths: dict, n_points: int) -> dict:
    """:func:`run_local_engine` in a fresh Python, so its peak memory is its own."""
    code = (
        "import json, sys; from pathlib import Path; from benchmarks.bench_dask import "
        "run_local_engine; p = {k: Path(v) for k, v in json.loads(sys.argv[1]).items()}; "
        "print(json.dumps(run_local_engine(p, int(sys.argv[2]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps({k: str(v) for k, v in paths.items()}),
         str(n_points)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return {"engine": "local", "points": n_points, "error": done.stderr.strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Report


def report(results: dict) -> str:
    d, lo = results.get("dask") or {}, results.get("local") or {}
    lines = [
        f"# Dask engine: {results['points']:,} points x {results['polygons']:,} built-up polygons",
        "",
        f"Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GB; "
        f"load average before the run {results['load_before']:.1f}. Data generated in "
        f"{results['generate_seconds']:.0f} s ({results['files']} GeoParquet files).",
        "",
        "| engine | points | wall s | points/s | CPU s | peak memory |",
        "|---|---:|---:|---:|---:|---|",
    ]
    if d:
        lines.append(
            f"| dask ({d['workers']} workers x 1 thread) | {d['points']:,} | {d['seconds']:.0f} "
            f"| {d['points_per_second']:,.0f} | {d['worker_cpu_seconds']:.0f} (workers) | "
            f"{d['peak_workers_mb']:,.0f} MB workers + nannies (sum, psutil RSS); "
            f"{d['peak_client_mb']:,.0f} MB client/scheduler |"
        )
    if "error" in lo:
        lines.append(f"| local | {lo['points']:,} | failed: {lo['error'][-200:]} | | | |")
    elif lo:
        lines.append(
            f"| local | {lo['points']:,} | {lo['seconds']:.0f} | "
            f"{lo['points_per_second']:,.0f} | {lo['cpu_seconds']:.0f} | "
            f"{lo['peak_mb']:,.0f} MB (ru_maxrss) |"
        )
    lines.append("")
    if d:
        lines.append(
            f"Dask: validation {d['validate_seconds']:.0f} s, screening + GeoParquet writing "
            f"{d['screen_write_seconds']:.0f} s; {d['accepted']:,} accepted, "
            f"{d['decisions']:,} decisions."
        )
    if lo and "error" not in lo:
        lines.append(
            f"Local: validation {lo['validate_seconds']:.0f} s, facts {lo['facts_seconds']:.0f} "
            f"s, decisions {lo['decide_seconds']:.0f} s (outputs not written)."
        )
    return "\n".join(lines) + "\n"


def run(
    quick: bool = False,
    *,
    points: int | None = None,
    polygons: int | None = None,
    local: int | None = None,
    workdir: Path | None = None,
    workers: int | None = None,
    part_rows: int | None = None,
    report_path: Path | None = None,
    dask: bool = True,
) -> dict:
    """Generate, run both engines, return the numbers (and write ``outputs/bench-dask*.md``)."""
    n_points, n_polygons, n_local = SIZES["quick" if quick else "full"]
    n_points, n_polygons = points or n_points, polygons or n_polygons
    n_local = min(n_points, local if local is not None else n_local)
    with tempfile.TemporaryDirectory(prefix="bench-dask-", dir=workdir) as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        paths = write_data(folder / "data", n_points, n_polygons, part_rows=part_rows)
        generated = time.perf_counter() - start
        print(f"data: {n_points:,} points, {n_polygons:,} polygons in {generated:.0f} s",
              flush=True)  # fmt: skip
        results = {"points": n_points, "polygons": n_polygons, "generate_seconds": generated,
                   "files": len(list(paths["inventory"].glob("*.parquet"))),
                   "load_before": os.getloadavg()[0]}  # fmt: skip
        if dask:
            results["dask"] = run_dask_engine(paths, folder / "out", workers)
            print(json.dumps(results["dask"]), flush=True)
        if n_local:
            results["local"] = local_in_subprocess(paths, n_local)
            print(json.dumps(results["local"]), flush=True)
    text = report(results)
    target = report_path or ROOT / "outputs" / ("bench-dask-quick.md" if quick else "bench-dask.md")
    target.parent.mkdir(exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.with_suffix(".json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(text)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_dask", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="200,000 points, 5,000 polygons")
    parser.add_argument("--points", type=int, default=None, help="inventory size")
    parser.add_argument("--polygons", type=int, default=None, help="built-up polygons")
    parser.add_argument("--local", type=int, default=None, help="local engine size (0: skip)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--workdir", type=Path, default=None, help="where the data goes")
    parser.add_argument("--part-rows", type=int, default=None, help="rows per GeoParquet file")
    parser.add_argument("--report", type=Path, default=None, help="the Markdown report")
    parser.add_argument("--no-dask", action="store_true", help="the local engine only")
    args = parser.parse_args(argv)
    run(
        args.quick,
        points=args.points,
        polygons=args.polygons,
        local=args.local,
        workdir=args.workdir,
        workers=args.workers,
        part_rows=args.part_rows,
        report_path=args.report,
        dask=not args.no_dask,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

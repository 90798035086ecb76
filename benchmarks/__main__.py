"""Speed, memory and error of the geodesic engine against its peers, in one run.

    python -m benchmarks            # Shanxi and China, 100k x 2k and 1M x 20k (about 10 min)
    python -m benchmarks --quick    # a smoke run on 20k x 400 (about a minute)
    python -m benchmarks --suite screen,policy   # `spatial screen` end to end, policy engine
    python -m benchmarks --suite engine,screen,policy   # everything (what `make bench` runs)

Suites: ``engine`` (this module: the geodesic engine against its peers), ``screen``
(:mod:`benchmarks.bench_screen`: every default output at 200k × 5k beside the geopandas route,
results checked against the code before the speed work) and ``policy``
(:mod:`benchmarks.bench_policy`: the policy engine and zone assignment per million
enterprises beside the code before). Each suite prints its own report.

Each measurement runs in its own process (see :mod:`benchmarks.cases`), so its peak memory is
its own. The table is printed and written to ``benchmarks/results.md`` (``--quick``:
``outputs/benchmark-quick.md``), with the raw numbers next to it as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import postgis
from benchmarks.data import REGIONS, SIZES, generate

ROOT = Path(__file__).resolve().parent.parent
MEASUREMENTS = ("engine", "heat", "sjoin_max", "sjoin", "naive", "write_inputs", "end_to_end")
TARGET_RATIO = 1.5
TARGET_PER_MINUTE = 1_000_000
TARGET_PEAK_MB = 4096
RULE_M = 10_000.0
WINDOW_M = 50.0


# --------------------------------------------------------------------------------------------
# Machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def machine_info() -> dict:
    import geopandas
    import pyproj
    import scipy
    import shapely

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gb": round(_ram_gb(), 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": f"{shapely.__version__} (GEOS {shapely.geos_version_string})",
        "pyproj": f"{pyproj.__version__} (PROJ {pyproj.proj_version_str})",
        "geopandas": geopandas.__version__,
        "scipy": scipy.__version__,
        "load_average_start": round(os.getloadavg()[0], 2),
    }


# --------------------------------------------------------------------------------------------
# Running


def run_case(name: str, region: str, size: str, workdir: Path, budget_s: float) -> dict:
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.cases", name, region, size, str(workdir), str(budget_s)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail, "load_average": load}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average"] = round(load, 2)
    return result


def run_postgis(cluster, region: str, size: str, workdir: Path, budget_s: float) -> dict:
    engine_file = workdir / "engine.npy"
    engine = np.load(engine_file) if engine_file.exists() else None
    try:
        return postgis.measure(cluster, generate(region, size), engine, budget_s)
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def errors_of_baseline(workdir: Path) -> dict:
    """sjoin_nearest (50 km) in Gauss-Krüger against the geodesic engine."""
    try:
        ours = np.load(workdir / "engine.npy")
        theirs = np.load(workdir / "sjoin_max.npy")
    except OSError as error:
        return {"error": str(error)}
    both = np.isfinite(ours) & np.isfinite(theirs)
    diff = np.abs(theirs[both] - ours[both])
    near_ours = ours <= RULE_M
    near_theirs = np.where(np.isfinite(theirs), theirs <= RULE_M, False)
    window = np.abs(ours - RULE_M) <= WINDOW_M
    flips = window & (near_ours != near_theirs)
    out = {
        "max_m": float(diff.max()),
        "p99_m": float(np.percentile(diff, 99)),
        "outside_compared": int((both & (ours > 0)).sum()),
        "window": int(window.sum()),
        "flips_in_window": int(flips.sum()),
        "flips_total": int((near_ours != near_theirs).sum()),
    }
    at_rule = both & (np.abs(ours - RULE_M) <= 1000)
    if at_rule.any():
        out["max_m_near_10km"] = float(np.abs(theirs[at_rule] - ours[at_rule]).max())
    naive_file = workdir / "naive.npy"
    if naive_file.exists():
        index = np.load(workdir / "naive_index.npy")
        naive = np.load(naive_file)
        ok = naive <= 50_000  # beyond, the 50 km box may miss the nearest polygon
        if ok.any():
            out["naive_max_diff_m"] = float(np.abs(naive[ok] - ours[index][ok]).max())
    return out


# --------------------------------------------------------------------------------------------
# Report


def _s(value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _get(result: dict, key: str = "seconds"):
    return None if "error" in result else result.get(key)


def _label(region: str, size: str) -> str:
    n, m = SIZES[size]
    return f"{region.capitalize()} | {n:,} × {m:,}"


def report(info: dict, results: dict, pg_note: str, elapsed: float) -> str:
    lines = ["# Benchmark results", ""]
    lines += [
        f"Run {info['date']} by `python -m benchmarks{' --quick' if info.get('quick') else ''}`"
        f" in {elapsed / 60:.1f} min.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}; "
        f"Python {info['python']}, numpy {info['numpy']}, shapely {info['shapely']}, "
        f"pyproj {info['pyproj']}, geopandas {info['geopandas']}, scipy {info['scipy']}; "
        f"{pg_note}.",
        f"Load average (1 min) at start {info['load_average_start']}, at end "
        f"{info['load_average_end']}: the machine is shared, so times are wall-clock times under "
        "whatever else ran (each measurement's load average is in results.json).",
        "",
        "## Nearest built-up area (distance to the nearest polygon edge, 0 inside)",
        "",
        "Seconds, wall clock (in brackets: CPU seconds of the process, all threads; less "
        "sensitive to what else runs on the machine). *This engine*: `prepare_polygons` + "
        "`nearest_polygon`, geodesic, "
        f"{info.get('threads', '?')} threads. *sjoin_nearest*: points and polygons projected to "
        "Gauss-Krüger (Shanxi: EPSG:4547, CGCS2000 3° GK CM 114E; China: per 6° zone, CGCS2000 "
        "GK of the zone's meridian, EPSG:4502-4512, against the polygons within 9° of it), "
        "`geopandas.sjoin_nearest` with `max_distance=50 km` and without; projection included. "
        "*Naive loop*: per point, polygons within a 50 km box, then `Geod.inv` to every vertex "
        "(edges densified every 100 m), timed on a subsample and extrapolated (†). *PostGIS*: "
        "geography with a GiST index, two sessions; `min(ST_Distance)` over `ST_DWithin(50 km)`, "
        "and the 10 km `ST_DWithin` decision alone, on a subsample, extrapolated (†).",
        "",
        "| region | points × polygons | this engine | sjoin_nearest 50 km | sjoin_nearest | "
        "engine ÷ faster sjoin | naive loop † | PostGIS ST_Distance † | PostGIS ST_DWithin "
        "10 km † | peak MB engine / sjoin |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        region, size = key
        eng, eng_cpu = _get(r["engine"]), _get(r["engine"], "cpu_seconds")
        runs = [r[m] for m in ("sjoin_max", "sjoin") if _get(r[m])]
        fastest = min(runs, key=lambda x: x["seconds"]) if runs else None
        ratio = eng / fastest["seconds"] if eng and fastest else None
        ratio_cpu = eng_cpu / fastest["cpu_seconds"] if eng_cpu and fastest else None
        pg = r.get("postgis", {})
        lines.append(
            f"| {_label(region, size)} | {_s(eng)} ({_s(eng_cpu)}) | "
            f"{_s(_get(r['sjoin_max']))} ({_s(_get(r['sjoin_max'], 'cpu_seconds'))}) | "
            f"{_s(_get(r['sjoin']))} ({_s(_get(r['sjoin'], 'cpu_seconds'))}) | "
            f"{_s(ratio)} ({_s(ratio_cpu)}) | {_s(_get(r['naive']))} | "
            f"{_s(_get(pg))} | {_s(_get(pg, 'rule_seconds'))} | "
            f"{_s(_get(r['engine'], 'peak_mb'))} / {_s(_get(r['sjoin_max'], 'peak_mb'))} |"
        )
    lines += ["", "† extrapolated from the points measured:", ""]
    for key, r in results.items():
        pg = r.get("postgis", {})
        nv = r["naive"]
        parts = []
        if "measured_points" in nv:
            parts.append(
                f"naive loop {nv['measured_points']:,} points in {nv['measured_seconds']:.1f} s"
            )
        if "measured_points" in pg:
            parts.append(
                f"PostGIS {pg['measured_points']:,} points in {pg['measured_seconds']:.1f} s "
                f"(10 km rule {pg['measured_rule_seconds']:.1f} s; loading the polygons "
                f"{pg['load_polygons_s']:.1f} s and the GiST index {pg['index_s']:.1f} s not "
                "included)"
            )
        elif "error" in pg or "skipped" in pg:
            parts.append(f"PostGIS: {pg.get('error') or pg.get('skipped')}")
        lines.append(f"- {_label(*key).replace(' |', ':')} — " + "; ".join(parts))

    lines += [
        "",
        "## End to end: the near-city rule (jinzhong-2019)",
        "",
        "CSV with Chinese headers → `spatial.inventory.load_enterprises` → built-up GeoPackage → "
        "`spatial.facts.add_facts` with `fact_specs(load_policies(['jinzhong-2019']))` → the "
        "enterprises' `dist_builtup_m`, `nearest_builtup`, `near_city`. One process per run.",
        "",
        "| region | points × polygons | seconds (CPU s) | of which loading the CSV | "
        "of which facts | points per minute | peak MB | near_city |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        e = r["end_to_end"]
        if "error" in e:
            lines.append(f"| {_label(*key)} | failed: {e['error']} ||||||")
            continue
        lines.append(
            f"| {_label(*key)} | {_s(e['seconds'])} ({_s(e['cpu_seconds'])}) | "
            f"{_s(e['load_seconds'])} | "
            f"{_s(e['facts_seconds'])} | {e['points_per_minute']:,.0f} | {_s(e['peak_mb'])} | "
            f"{e['near_city']:,} |"
        )

    lines += [
        "",
        "## Nearest heat source (point to point, `nearest_point`)",
        "",
        "| region | points × heat sources | seconds | peak MB |",
        "|---|---|---|---|",
    ]
    for (region, size), r in results.items():
        h = r["heat"]
        if "error" in h:
            lines.append(f"| {region} | {size} | failed: {h['error']} | |")
            continue
        lines.append(
            f"| {region.capitalize()} | {SIZES[size][0]:,} × {h['targets']:,} | "
            f"{_s(h['seconds'])} | {_s(h['peak_mb'])} |"
        )

    lines += [
        "",
        "## Error of the projected baseline",
        "",
        "`sjoin_nearest` (50 km) distance in Gauss-Krüger minus the geodesic distance, over the "
        "points both measured; decisions flipped among the points whose geodesic distance lies "
        "within ±50 m of 10 km (and in all).",
        "",
        "| region | points × polygons | max error m | p99 error m | max error m, 9-11 km | "
        "points within ±50 m | flipped there | per 10,000 there | flipped in all |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        e = r["errors"]
        if "error" in e:
            lines.append(f"| {_label(*key)} | {e['error']} |||||||")
            continue
        per = 10_000 * e["flips_in_window"] / e["window"] if e["window"] else float("nan")
        lines.append(
            f"| {_label(*key)} | {e['max_m']:.2f} | {e['p99_m']:.2f} | "
            f"{e.get('max_m_near_10km', float('nan')):.2f} | {e['window']:,} | "
            f"{e['flips_in_window']:,} | {per:,.0f} | {e['flips_total']:,} |"
        )
    checks = []
    for key, r in results.items():
        pg = r.get("postgis", {})
        if "max_diff_vs_engine_m" in pg:
            worst = pg.get("worst", [])
            engine_off = max((abs(w["engine_m"] - w["oracle_m"]) for w in worst), default=0.0)
            postgis_off = max((abs(w["postgis_m"] - w["oracle_m"]) for w in worst), default=0.0)
            checks.append(
                f"PostGIS vs this engine, {_label(*key).replace(' |', ':')}: max "
                f"{pg['max_diff_vs_engine_m']:.3f} m, p99 {pg['p99_diff_vs_engine_m']:.3f} m "
                f"over {pg['compared']:,} points; at the {len(worst)} worst the PROJ-AEQD oracle "
                f"is within {engine_off:.4f} m of this engine and {postgis_off:.3f} m of PostGIS"
            )
        if "naive_max_diff_m" in r["errors"]:
            checks.append(
                f"naive loop (vertices every 100 m) vs this engine, within 50 km, "
                f"{_label(*key).replace(' |', ':')}: max {r['errors']['naive_max_diff_m']:.2f} m"
            )
    if checks:
        lines += ["", "Cross-checks of the exact distances:", ""]
        lines += [f"- {c}" for c in checks]

    lines += ["", "## Targets (issue 3)", ""]
    lines += targets(results)
    return "\n".join(lines) + "\n"


def targets(results: dict) -> list[str]:
    out = []
    for key, r in results.items():
        eng = _get(r["engine"])
        sj = [v for v in (_get(r["sjoin_max"]), _get(r["sjoin"])) if v]
        if eng and sj:
            ratio = eng / min(sj)
            verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
            out.append(
                f"- {_label(*key).replace(' |', ':')}: engine {eng:.1f} s vs faster sjoin_nearest "
                f"{min(sj):.1f} s = {ratio:.2f}× (target ≤ {TARGET_RATIO}×): **{verdict}**"
            )
    for key, r in results.items():
        if key[1] == "quick":
            continue
        e = r["end_to_end"]
        if "error" not in e and SIZES[key[1]][0] >= 1_000_000:
            ok = e["points_per_minute"] >= TARGET_PER_MINUTE
            out.append(
                f"- {_label(*key).replace(' |', ':')}: end to end {e['points_per_minute']:,.0f} "
                f"points per minute (target ≥ 1,000,000): **{'met' if ok else 'NOT met'}**"
            )
            peaks = [_get(r[m], "peak_mb") or 0 for m in ("engine", "end_to_end") if m in r]
            ok = max(peaks) < TARGET_PEAK_MB
            out.append(
                f"- {_label(*key).replace(' |', ':')}: peak memory {max(peaks):,.0f} MB "
                f"(end to end and engine alone; target < 4 GB): **{'met' if ok else 'NOT met'}**"
            )
    return out


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="one small size, short budgets")
    parser.add_argument("--regions", default=",".join(REGIONS), help="shanxi,china")
    parser.add_argument("--sizes", default=None, help="quick,100k,1M (default: 100k,1M)")
    parser.add_argument("--no-postgis", action="store_true", help="skip PostGIS")
    parser.add_argument("--out", type=Path, default=None, help="the Markdown report")
    parser.add_argument("--suite", default="engine", help="engine,screen,policy (default: engine)")
    args = parser.parse_args(argv)
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    unknown = sorted(set(suites) - {"engine", "screen", "policy"})
    if unknown:
        parser.error(f"unknown suite {', '.join(unknown)}: choose from engine, screen, policy")
    status = 0
    for suite, module in (("screen", "bench_screen"), ("policy", "bench_policy")):
        if suite in suites:
            # --quick: a smoke run (20k × 500, without the figures: ~117 county figures alone
            # take many minutes)
            extra = ["--size", "quick", "--no-figures"] if suite == "screen" and args.quick else []
            extra += ["--n", "100000"] if suite == "policy" and args.quick else []
            status |= subprocess.run(
                [sys.executable, "-m", f"benchmarks.{module}", *extra], cwd=ROOT
            ).returncode
    if "engine" not in suites:
        return status
    sizes = (args.sizes or ("quick" if args.quick else "100k,1M")).split(",")
    regions = args.regions.split(",")
    out = args.out or (
        ROOT / "outputs" / "benchmark-quick.md"
        if args.quick
        else ROOT / "benchmarks" / "results.md"
    )
    budget = 5.0 if args.quick else 15.0
    started = time.perf_counter()

    from spatial.measure import THREADS

    info = machine_info() | {"quick": args.quick, "threads": THREADS}
    print(f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB; load {os.getloadavg()[0]}")

    cluster, pg_note = None, ""
    if args.no_postgis:
        pg_note = "PostGIS skipped (--no-postgis)"
    else:
        bindir, pg_note = postgis.find_postgis()
        if bindir is None:
            print(f"PostGIS skipped: {pg_note}")
            pg_note = f"PostGIS skipped: {pg_note}"
        else:
            try:
                cluster = postgis.Cluster(bindir)
                cluster.start()
                cluster.sql("CREATE EXTENSION postgis")
                pg_note = f"{pg_note}, PostGIS {cluster.version()} (throwaway cluster, loopback)"
            except Exception as error:
                print(f"PostGIS skipped: could not start a cluster: {error}")
                pg_note = f"PostGIS skipped: could not start a cluster ({error})"
                if cluster:
                    cluster.stop()
                cluster = None

    results: dict = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            for size in sizes:
                for region in regions:
                    workdir = Path(tmp) / f"{region}-{size}"
                    workdir.mkdir()
                    r: dict = {}
                    for name in MEASUREMENTS:
                        t = time.perf_counter()
                        r[name] = run_case(name, region, size, workdir, budget)
                        print(
                            f"{region:7s} {size:5s} {name:12s} {time.perf_counter() - t:6.1f} s "
                            f"{json.dumps(r[name])}",
                            flush=True,
                        )
                    if cluster is not None:
                        t = time.perf_counter()
                        r["postgis"] = run_postgis(cluster, region, size, workdir, budget)
                        print(
                            f"{region:7s} {size:5s} {'postgis':12s} "
                            f"{time.perf_counter() - t:6.1f} s {json.dumps(r['postgis'])}",
                            flush=True,
                        )
                    else:
                        r["postgis"] = {"skipped": pg_note}
                    r["errors"] = errors_of_baseline(workdir)
                    results[(region, size)] = r
    finally:
        if cluster is not None:
            cluster.stop()

    info["load_average_end"] = round(os.getloadavg()[0], 2)
    elapsed = time.perf_counter() - started
    text = report(info, results, pg_note, elapsed)
    print()
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    raw = {"machine": info, "results": {f"{k[0]}-{k[1]}": v for k, v in results.items()}}
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    print(f"written {out} and {out.with_suffix('.json').name} in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

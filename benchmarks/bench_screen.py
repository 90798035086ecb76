"""`spatial screen` end to end with every default output, stage by stage, beside the inexact
geopandas route a GIS technician would write, measured in the same run (issue 19).

    python -m benchmarks.bench_screen                      # 200,000 × 5,000 in Shanxi
    python -m benchmarks.bench_screen --size 1M            # 1,000,000 × 20,000
    python -m benchmarks.bench_screen --check-ref none     # no check against the code before
    python -m benchmarks.bench_screen --json outputs/screen.json

Inputs (generated from a seed by :mod:`benchmarks.data`, written once per run):

- ``enterprises.csv``: the demo inventory's rows (every attribute the shipped rule tables read:
  industry, policy class, compliance, furnaces, boilers, emissions ...) drawn at random for each
  synthetic point, with new ids, the point's coordinates and the county the point lies in;
- ``builtup.gpkg``: the star polygons of :mod:`benchmarks.data`; ``heat_sources.csv``.

Three measurements, each in its own process (its own peak memory, ``VmHWM``):

- **screen**: :func:`spatial.pipeline.run` with the CLI's defaults (every shipped policy, the
  GeoPackage, the Excel lists, the map, the figures, ``run.json``) under a
  :class:`spatial.progress.Timings` reporter, which gives each stage's seconds; the wall time
  counts from before the inputs are read to after ``run.json`` is swapped in (imports not
  included, as for the baseline);
- **geopandas**: the route a technician would write: ``pandas.read_csv``, points, both layers
  to Gauss-Krüger (EPSG:4547, CGCS2000 3° GK CM 114E), ``geopandas.sjoin_nearest`` with a
  distance column, the joined enterprises written to a GeoPackage (pyogrio);
- **reference** (``--check-ref``, default aafa703: main before the second session of speed
  work, whose words are those of this code; 602a485, before the first, words zone dates
  differently): the
  same run by the code of that commit (``git archive`` into a temporary folder, run with it
  first on the path) without figures, which decide nothing. The fast run's enterprises and
  decisions must equal it: the same rows in the same order, every decision, code, deadline
  and flag equal, every distance within 1e-6 m; the words (reasons, flag sentences) are
  compared too and reported apart, since other work may reword them between that commit and
  this code. ``--reference FILE`` compares with a stored one instead (``--save-reference
  FILE`` writes it).

The machine's load average is printed and stored with the results: on a shared 2-core machine
wall times move with it, so the ratio is taken between measurements of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spatial.decisions import DECISION_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/bench_screen.py`; after an old code's path
    sys.path.append(str(ROOT))

#: main before the second session of issue 19's speed work (the lists, figures, map and the
#: policy engine's second round): its outputs, words included, are what the fast run must give
CHECK_REF = "aafa703"
#: what decides: must be equal (distances within the tolerance); other columns are words,
#: which other work may change between the reference and this code: reported, not failed
DECIDING = (set(DECISION_COLUMNS) - {"reason_zh", "flags_zh"}) | {"decision_count", "none_kind"}
TARGET_RATIO = 2.0
AS_OF = dt.date(2026, 12, 1)
SIZES = {"quick": (20_000, 500), "200k": (200_000, 5_000), "1M": (1_000_000, 20_000)}


# --------------------------------------------------------------------------------------------
# Inputs


def write_inputs(size: str, folder: Path, seed: int = 20191101) -> dict:
    """The enterprises CSV, built-up GeoPackage and heat-source CSV of one size, in ``folder``."""
    import shapely

    from benchmarks.data import SIZES as DATA_SIZES
    from benchmarks.data import generate
    from spatial.counties import locate
    from spatial.datasets import get_path

    n, m = SIZES[size]
    # the generator's box reaches into four neighbouring provinces: draw 1.8× the points and
    # keep the first n inside Shanxi (a provincial inventory; its ~117 counties get figures)
    key = f"bench-screen-{size}"
    DATA_SIZES[key] = (int(n * 1.8), m)
    case = generate("shanxi", key, seed=seed)
    located = locate(case.lon, case.lat)
    keep = np.flatnonzero(located["province"].to_numpy() == "山西省")[:n]
    if keep.size < n:
        raise RuntimeError(f"only {keep.size} of {n} generated points lie in Shanxi")
    lon, lat = case.lon[keep], case.lat[keep]
    demo = pd.read_csv(get_path("enterprises.csv"), dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed + n)
    rows = demo.iloc[rng.integers(0, len(demo), n)].reset_index(drop=True)
    rows["id"] = [f"E{i:07d}" for i in range(n)]
    rows["name"] = rows["name"].str.cat([f"{i}" for i in range(n)], sep="-")
    rows["lon"] = np.round(lon, 6)
    rows["lat"] = np.round(lat, 6)
    rows["coord_sys"] = "wgs84"
    rows["county"] = located["name"].to_numpy()[keep]
    rows = rows.drop(columns=[c for c in ("township", "village") if c in rows])
    rows.to_csv(folder / "enterprises.csv", index=False, encoding="utf-8")
    case.builtup.to_file(folder / "builtup.gpkg", driver="GPKG", engine="pyogrio")
    heat = case.heat
    pd.DataFrame(
        {
            "id": heat["id"],
            "name": heat["name"],
            "kind": heat["kind"],
            "capacity_mw": heat["capacity_mw"],
            "lon": np.round(shapely.get_x(heat.geometry.values), 6),
            "lat": np.round(shapely.get_y(heat.geometry.values), 6),
        }
    ).to_csv(folder / "heat_sources.csv", index=False, encoding="utf-8")
    return {
        "enterprises": n,
        "polygons": m,
        "heat_sources": len(heat),
        "counties": int(rows["county"].nunique()),
    }


# --------------------------------------------------------------------------------------------
# Measurements (each run in a child: python -m benchmarks.bench_screen --child NAME FOLDER)


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_screen(
    folder: Path, figures: bool = True, save: Path | None = None, out_name: str = "out"
) -> dict:
    """The pipeline with the CLI's defaults; stage seconds from :class:`Timings`."""
    from spatial.config import RunConfig
    from spatial.pipeline import run
    from spatial.progress import Timings

    config = RunConfig(
        enterprises=folder / "enterprises.csv",
        builtup=folder / "builtup.gpkg",
        heat_sources=folder / "heat_sources.csv",
        out=folder / out_name,
        as_of=AS_OF,
        figures=figures,
    )

    class Live(Timings):
        """Timings that also print each stage when it ends (stderr), so a run stopped early
        still tells how far it got."""

        def stage(self, text, total=None, unit="it"):
            return _live(super().stage(text, total, unit), text)

    timings = Live()
    sampler = _TotalMemory()
    cpu = time.process_time()
    start = time.perf_counter()
    with sampler:
        result = run(config, progress=timings)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if save is not None:
        save_result(result, save)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the figures' processes
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "worker_cpu_seconds": workers.ru_utime + workers.ru_stime,
        "peak_mb": _peak_mb(),
        "worker_peak_mb": workers.ru_maxrss / 1024,
        "total_peak_mb": sampler.peak_mb,
        "workers": figure_workers() if figures else 0,
        "stages": [[text, s, count] for text, s, count in timings.stages],
        "actions": {str(k): int(v) for k, v in result.enterprises["action"].value_counts().items()},
        "decisions": len(result.decisions),
        "outputs": {
            role: sum(f.stat().st_size for f in Path(p).rglob("*"))
            if Path(p).is_dir()
            # figures: a folder
            else Path(p).stat().st_size
            for role, p in result.outputs.items()
        },
        "figures": len(list((config.out / "figures").glob("*"))) if figures else 0,
        "code": str(Path(run.__code__.co_filename).parent),
    }


class _TotalMemory:
    """The largest memory the run held at once: this process's resident set plus what each of
    its child processes (the figures' workers) holds alone (USS: pages shared with this
    process counted once), sampled every 0.5 s with psutil."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.5):
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_full_info().uss
            self.peak_mb = max(self.peak_mb, total / 2**20)


def figure_workers() -> int:
    """Processes drawing the figures of a run with more than one batch."""
    from spatial.export.figures import _worker_count

    return _worker_count(1_000)


@contextlib.contextmanager
def _live(inner, text: str):
    start = time.perf_counter()
    with inner as bar:
        yield bar
    print(
        f"stage {text}: {time.perf_counter() - start:.2f} s, peak {_peak_mb():,.0f} MB",
        file=sys.stderr,
        flush=True,
    )


def child_geopandas(folder: Path) -> dict:
    """The inexact route: CSV → points → Gauss-Krüger → sjoin_nearest → GeoPackage."""
    import geopandas as gpd

    cpu = time.process_time()
    start = time.perf_counter()
    frame = pd.read_csv(folder / "enterprises.csv", encoding="utf-8")
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    ).to_crs("EPSG:4547")
    builtup = gpd.read_file(folder / "builtup.gpkg", engine="pyogrio").to_crs("EPSG:4547")
    joined = gpd.sjoin_nearest(points, builtup[["name", "geometry"]], distance_col="dist_m")
    joined = joined[~joined.index.duplicated()]  # ties: one row per enterprise
    joined.to_file(folder / "geopandas.gpkg", driver="GPKG", engine="pyogrio")
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mb": _peak_mb(),
        "rows": len(joined),
        "near_10km": int((joined["dist_m"] <= 10_000).sum()),
    }


def save_result(result, path: Path) -> None:
    """What the check compares: the enterprises' and decisions' columns (no geometry)."""
    enterprises = pd.DataFrame(result.enterprises.drop(columns="geometry"))
    decisions = pd.DataFrame(result.decisions.drop(columns="geometry", errors="ignore"))
    path.mkdir(parents=True, exist_ok=True)
    for name, frame in (("enterprises", enterprises), ("decisions", decisions)):
        frame = frame.copy()
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
                frame[column] = frame[column].map(
                    lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)
                )
        frame.to_pickle(path / f"{name}.pkl")


def compare(fast: Path, reference: Path, tolerance_m: float = 1e-6) -> dict:
    """Same rows in the same order, equal texts and codes, distances within ``tolerance_m``."""
    out: dict = {"tolerance_m": tolerance_m, "problems": [], "texts": []}
    for name in ("enterprises", "decisions"):
        a = pd.read_pickle(fast / f"{name}.pkl")
        b = pd.read_pickle(reference / f"{name}.pkl")
        if len(a) != len(b):
            out["problems"].append(f"{name}: {len(a)} rows, reference {len(b)}")
            continue
        missing = sorted(set(b.columns) - set(a.columns))
        if missing:
            out["problems"].append(f"{name}: columns missing {missing}")
        worst = 0.0
        for column in b.columns:
            if column not in a:
                continue
            x, y = a[column].reset_index(drop=True), b[column].reset_index(drop=True)
            xf = pd.to_numeric(x, errors="coerce") if x.dtype.kind in "fiub" else None
            if xf is not None and y.dtype.kind in "fiub":
                xv, yv = xf.to_numpy(float), y.to_numpy(float)
                both_nan = np.isnan(xv) & np.isnan(yv)
                diff = np.where(both_nan, 0.0, np.abs(xv - yv))
                diff = np.where(np.isnan(diff), np.inf, diff)
                if column.endswith("_m"):
                    worst = max(worst, float(diff.max(initial=0)))
                    bad = int((diff > tolerance_m).sum())
                else:
                    bad = int((diff > 0).sum())
            else:
                # as Python lists: pandas' != calls two missing values different
                xs, ys = map(_texts, (x, y))
                bad = sum(u != v for u, v in zip(xs, ys, strict=True))
            if bad:
                deciding = (
                    column in DECIDING
                    or column.endswith("_m")
                    or column.startswith(("near", "in_", "dist"))
                )
                where = out["problems"] if deciding else out["texts"]
                where.append(f"{name}.{column}: {bad} rows differ")
        out[f"{name}_rows"] = len(a)
        out[f"{name}_max_distance_diff_m"] = worst
    out["identical"] = not out["problems"]
    return out


def _texts(values: pd.Series) -> list:
    """Values as text, every kind of missing value as None."""
    return [None if v is None or v is pd.NA or v != v else str(v) for v in values.tolist()]


def _run_child(args: list[str], pythonpath: Path | None = None) -> dict:
    env = dict(os.environ)
    if pythonpath is not None:
        # the old code first; this folder after it for `benchmarks` itself
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), str(ROOT)])
        code = (
            "import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from benchmarks.bench_screen import main; raise SystemExit(main(sys.argv[1:]))"
        )
        command = [sys.executable, "-c", code, str(pythonpath), *args]
    else:
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        command = [sys.executable, "-m", "benchmarks.bench_screen", *args]
    load = os.getloadavg()[0]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:]) or "no output"
        return {"error": tail, "load_average": round(load, 2)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average"] = round(load, 2)
    return result


def old_code(ref: str, folder: Path) -> Path:
    """The package of git ``ref`` extracted into ``folder`` (``spatial`` only)."""
    archive = folder / "ref.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), ref, "spatial"], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "ref", filter="data")
    return folder / "ref"


# --------------------------------------------------------------------------------------------


def _merge_stages(stages: list) -> dict[str, float]:
    merged: dict[str, float] = {}
    for text, seconds, _ in stages:
        merged[text] = merged.get(text, 0.0) + seconds
    return merged


def report(result: dict) -> str:
    screen, base = result["screen"], result["geopandas"]
    lines = [
        f"spatial screen, every default output, {result['enterprises']:,} enterprises × "
        f"{result['polygons']:,} built-up polygons (Shanxi, synthetic), {result['date']}"
        + ("" if result.get("figures", True) else " — WITHOUT the figures (--no-figures)"),
        f"load average (1 min) at start {result['load_start']}, end {result['load_end']}; "
        f"{os.cpu_count()} cores",
    ]
    if "error" in screen:
        lines.append(f"failed: {screen['error']}")
        return "\n".join(lines)
    if "error" in base:  # skipped (--no-baseline) or failed: the run alone, no ratio
        base = None
    lines += [
        f"screen     {screen['seconds']:7.1f} s (CPU {screen['cpu_seconds']:.1f} s), "
        f"peak {screen['peak_mb']:,.0f} MB"
        + (
            f"; figures drawn by {screen['workers']} processes (CPU "
            f"{screen['worker_cpu_seconds']:.1f} s, peak {screen['worker_peak_mb']:,.0f} MB "
            "the largest, pages shared with the run included); all processes together at most "
            f"{screen.get('total_peak_mb', 0):,.0f} MB (sampled)"
            if screen.get("worker_cpu_seconds")
            else ""
        ),
    ]
    if base is None:
        lines.append(f"geopandas  not measured: {result['geopandas']['error']}")
    else:
        ratio = screen["seconds"] / base["seconds"]
        lines += [
            f"geopandas  {base['seconds']:7.1f} s (CPU {base['cpu_seconds']:.1f} s), "
            f"peak {base['peak_mb']:,.0f} MB",
            f"ratio      {ratio:.2f}× (target ≤ {TARGET_RATIO}×: "
            f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})",
        ]
    lines += [
        "stages (s):",
    ]
    for text, seconds in _merge_stages(screen["stages"]).items():
        lines.append(f"  {text:32s} {seconds:7.2f}")
    check = result.get("check")
    if check:
        if "error" in check:
            lines.append(f"check: failed to run: {check['error']}")
        else:
            verdict = (
                "identical"
                if check["identical"]
                else "DIFFERENT: " + "; ".join(check["problems"][:10])
            )
            texts = check.get("texts") or []
            verdict += "; words: " + ("; ".join(texts[:10]) if texts else "identical")
            lines.append(
                f"check against {check['against']}: {verdict} (enterprises "
                f"{check.get('enterprises_rows', 0):,}, "
                f"decisions {check.get('decisions_rows', 0):,}, "
                f"max distance difference {check.get('enterprises_max_distance_diff_m', 0):.2e} m)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_screen")
    parser.add_argument("--size", default="200k", choices=sorted(SIZES))
    parser.add_argument("--check-ref", default=CHECK_REF, help="git ref, or 'none'")
    parser.add_argument("--reference", type=Path, help="a stored reference (--save-reference)")
    parser.add_argument("--save-reference", type=Path, help="store this run's result there")
    parser.add_argument("--no-baseline", action="store_true", help="skip the geopandas route")
    parser.add_argument("--json", type=Path, help="write the raw numbers there")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="leave out the figures (not every default output: said so in the report)",
    )
    parser.add_argument("--child", nargs=2, metavar=("NAME", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        name, folder = args.child[0], Path(args.child[1])
        if name == "screen":
            out = child_screen(folder, figures=True, save=args.save)
        elif name in ("screen-no-figures", "reference"):
            out = child_screen(folder, figures=False, save=args.save, out_name=name)
        elif name == "geopandas":
            out = child_geopandas(folder)
        else:
            raise SystemExit(f"unknown child {name}")
        print(json.dumps(out))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-screen-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        result: dict = {
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "size": args.size,
            "load_start": round(os.getloadavg()[0], 2),
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        }
        t = time.perf_counter()
        result |= write_inputs(args.size, folder)
        print(f"inputs written in {time.perf_counter() - t:.1f} s", flush=True)
        if not args.no_baseline:
            result["geopandas"] = _run_child(["--child", "geopandas", str(folder)])
            print(f"geopandas: {json.dumps(result['geopandas'])}", flush=True)
        kind = "screen-no-figures" if args.no_figures else "screen"
        result["figures"] = not args.no_figures
        result["screen"] = _run_child(
            ["--child", kind, str(folder), "--save", str(folder / "fast")]
        )
        print(f"screen: {json.dumps(result['screen'])}", flush=True)
        reference = args.reference
        if reference is None and args.check_ref != "none":
            code = old_code(args.check_ref, folder)
            ref = _run_child(
                ["--child", "reference", str(folder), "--save", str(folder / "reference")],
                pythonpath=code,
            )
            result["reference_run"] = ref
            print(f"reference ({args.check_ref}): {json.dumps(ref)}", flush=True)
            reference = folder / "reference" if "error" not in ref else None
            against = f"the code of {args.check_ref} in the same run"
        else:
            against = f"the stored reference {reference}"
        if reference is not None and "error" not in result["screen"]:
            result["check"] = compare(folder / "fast", reference) | {"against": against}
        elif "error" in result.get("reference_run", {}):
            result["check"] = {"error": result["reference_run"]["error"]}
        if args.save_reference and (folder / "fast").exists():
            args.save_reference.mkdir(parents=True, exist_ok=True)
            for file in (folder / "fast").iterdir():
                (args.save_reference / file.name).write_bytes(file.read_bytes())
        result["load_end"] = round(os.getloadavg()[0], 2)
        if args.no_baseline:
            result["geopandas"] = {"error": "skipped (--no-baseline)"}
        text = report(result)
        print()
        print(text)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    ok = result.get("check", {}).get("identical", True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

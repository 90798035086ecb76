"""The web map with many plants: build time, HTML size, load time and redraw time in Chromium,
for this code and, beside it, the map code before the 200k work (``--baseline-ref``).

    python -m benchmarks.bench_webmap                  # 20,000 and 200,000 plants (a few minutes)
    python -m benchmarks.bench_webmap --n 20000 --repeat 3 --json outputs/webmap.json
    python -m benchmarks.bench_webmap --baseline-ref none   # this code only

The plants are the demo region's screened enterprises (``spatial demo``: decisions, reasons,
distances) repeated with a jitter of about 2 km and new ids, on the demo's context layers.
``map.html`` is written with the offline basemap ('none') and opened from file:// in headless
Chromium with the network blocked (``tests/export/browser.py``):

- build: ``write_map`` wall time (median of ``--repeat``, after one untimed build that loads
  what a process loads once: the policy tables behind the citations, PROJ's database);
- size: the HTML file;
- load: navigation start → every layer drawn (the runtime's ready mark after two frames),
  median over fresh tabs, at 1366 × 768;
- pan / zoom: one pan of 300 px and one zoom step, until the next two frames are drawn.

The baseline is ``spatial/export/webmap.py`` and its ``webmap.js`` as of ``--baseline-ref``
(read with ``git show``, run on the same plants in the same process): the "current path" the
numbers are compared with. The machine's load average is printed with the results: on a
shared 2-core machine the browser numbers move by a factor of two with it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/bench_webmap.py` as well as `-m`
    sys.path.insert(0, str(ROOT))

from spatial.export.webmap import write_map  # noqa: E402
from spatial.pipeline import demo_config, run  # noqa: E402
from tests.export.browser import Browser, find_chromium  # noqa: E402

LAYERS = ("builtup", "heat_sources", "near_city_10km", "heat_radius_30km", "dingxiang_zones")
#: main before the 200k work of the map (issue 19): columns per row, floats, one canvas pass
BASELINE_REF = "e1152ef"


def baseline_writer(ref: str):
    """``write_map`` of the map code at git ``ref`` (its webmap.py and webmap.js), or None
    when git or the commit is not there."""

    def show(path: str) -> str | None:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            return None

    code = show("spatial/export/webmap.py")
    js = show("spatial/export/assets/webmap/webmap.js")
    if code is None or js is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as f:
        f.write(code)
    name = "spatial.export._webmap_baseline"
    spec = importlib.util.spec_from_file_location(name, f.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    os.unlink(f.name)
    own_asset = module._asset

    class _Text:
        def __init__(self, text: str) -> None:
            self.text = text

        def read_text(self, encoding: str | None = None) -> str:
            return self.text

    module._asset = lambda path: _Text(js) if path == "webmap/webmap.js" else own_asset(path)
    return module.write_map


FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))"


def demo_data(workdir: Path) -> tuple[gpd.GeoDataFrame, dict]:
    """The demo region's screened enterprises and context layers."""
    run(demo_config(workdir / "demo"))
    path = workdir / "demo" / "screening.gpkg"
    import pyogrio

    present = {name for name, _ in pyogrio.list_layers(path)}
    enterprises = gpd.read_file(path, layer="enterprises")
    layers = {name: gpd.read_file(path, layer=name) for name in LAYERS if name in present}
    return enterprises, layers


def many(enterprises: gpd.GeoDataFrame, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` plants: the demo's, repeated with ~2 km of jitter and new ids."""
    rng = np.random.default_rng(seed)
    rows = enterprises.iloc[np.arange(n) % len(enterprises)].reset_index(drop=True)
    lon = rows.geometry.x.to_numpy() + rng.normal(0, 0.02, n)
    lat = rows.geometry.y.to_numpy() + rng.normal(0, 0.02, n)
    rows["id"] = [f"B{i:06d}" for i in range(n)]
    rows["name"] = [f"{name}{i // len(enterprises) or ''}" for i, name in enumerate(rows["name"])]
    return rows.set_geometry(gpd.points_from_xy(lon, lat), crs=enterprises.crs)


def measure_page(browser: Browser, path: Path) -> dict:
    page = browser.open(path, timeout=120)
    ready_ms = page.wait_for("window.spatialMap && spatialMap.ready && spatialMap.readyAt", 120)
    pan_ms = page.evaluate(
        "(async () => { const t = performance.now();"
        " spatialMap.map.panBy([300, 0], {animate: false});"
        f" await {FRAMES}; return performance.now() - t; }})()"
    )
    zoom_ms = page.evaluate(
        "(async () => { const t = performance.now();"
        " spatialMap.map.setZoom(spatialMap.map.getZoom() + 1, {animate: false});"
        f" await {FRAMES}; return performance.now() - t; }})()"
    )
    popup_ok = page.evaluate(
        "(() => { spatialMap.showEnterprise(0);"
        " return !!document.querySelector('.leaflet-popup-content'); })()"
    )
    errors = page.errors()
    external = page.external_requests()
    page.send("Page.close")
    return {
        "ready_ms": ready_ms,
        "pan_ms": pan_ms,
        "zoom_ms": zoom_ms,
        "popup": popup_ok,
        "errors": errors,
        "external_requests": external,
    }


def bench(
    n: int,
    repeat: int,
    enterprises,
    layers,
    workdir: Path,
    browser: Browser | None,
    writer=write_map,
    label: str = "this code",
):
    plants = many(enterprises, n)
    builds = []
    path = workdir / f"map_{label.replace(' ', '_')}_{n}.html"
    writer(workdir / "warm.html", plants.iloc[:100], layers, basemap="none")
    for _ in range(repeat):
        start = time.perf_counter()
        writer(path, plants, layers, basemap="none")
        builds.append(time.perf_counter() - start)
    result = {
        "code": label,
        "plants": n,
        "build_s": statistics.median(builds),
        "html_mb": path.stat().st_size / 1e6,
    }
    if browser is not None:
        pages = [measure_page(browser, path) for _ in range(repeat)]
        result.update(
            {
                "load_s": statistics.median(p["ready_ms"] for p in pages) / 1000,
                "pan_ms": statistics.median(p["pan_ms"] for p in pages),
                "zoom_ms": statistics.median(p["zoom_ms"] for p in pages),
                "popup": all(p["popup"] for p in pages),
                "errors": sorted({e for p in pages for e in p["errors"]}),
                "external_requests": sorted({u for p in pages for u in p["external_requests"]}),
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20_000, 200_000], help="plant counts")
    parser.add_argument(
        "--baseline-ref",
        default=BASELINE_REF,
        help="git commit of the map code to measure beside this one ('none': skip)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    chromium = find_chromium()
    if chromium is None:
        print("chromium not found: build time and size only", file=sys.stderr)
    writers = [("this code", write_map)]
    if args.baseline_ref != "none":
        baseline = baseline_writer(args.baseline_ref)
        if baseline is None:
            print(f"baseline {args.baseline_ref} not found (git): skipped", file=sys.stderr)
        else:
            writers.append((f"baseline {args.baseline_ref}", baseline))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-webmap-") as tmp:
        workdir = Path(tmp)
        enterprises, layers = demo_data(workdir)
        browser = Browser(chromium, width=1366, height=768).start() if chromium else None
        try:
            for n in args.n:
                for label, writer in writers:
                    results.append(
                        bench(n, args.repeat, enterprises, layers, workdir, browser, writer, label)
                    )
        finally:
            if browser is not None:
                browser.close()

    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} (1 min), {os.cpu_count()} CPUs")
    print("| plants | code | build (s) | map.html (MB) | load (s) | pan (ms) | zoom (ms) |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['plants']:,} | {r['code']} | {r['build_s']:.2f} | {r['html_mb']:.1f} | "
            f"{r.get('load_s', float('nan')):.2f} | {r.get('pan_ms', float('nan')):.0f} | "
            f"{r.get('zoom_ms', float('nan')):.0f} |"
        )
        r["load_average"] = load[0]
    for r in results:
        if r.get("errors") or r.get("external_requests") or r.get("popup") is False:
            print(f"problems at {r['plants']}: {r}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

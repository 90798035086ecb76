"""The policy engine per million enterprises with every shipped rule table, and the Dingxiang
zone assignment, beside the code before the speed work (issue 19), in the same process.

    python -m benchmarks.bench_policy                 # 1,000,000 enterprises
    python -m benchmarks.bench_policy --n 200000 --json outputs/policy.json

The enterprises are the demo region's, screened as ``spatial screen`` does up to the policies
(inventory, context layers, geodesic facts, Dingxiang zones), then repeated to ``--n`` rows
with new ids; every copy after the first is moved (its ``county`` only) to a county drawn from
the scopes of the shipped tables (Jinzhong, Xinzhou, Changzhi, Shapotou) or, one in five, to a
county no table governs, so every table and every kind of ``none`` is exercised. Distances,
zones and attributes stay the demo's.

Measured, wall clock (one process, one run each, after an untimed warm-up on 2,000 rows):

- **policies**: :func:`spatial.decisions.evaluate` + :func:`spatial.decisions.summarize` (the
  pipeline's "applying policies" and "summarising decisions" stages);
- **zones**: :func:`spatial.zones.assign_zones` on the demo's enterprises repeated to ``--n``
  rows, every copy kept in its county and moved up to ~500 m (so the flange plants of Dingxiang,
  about three in four rows, are in the zones' scope).

"before" is ``spatial/decisions.py`` as of ``--baseline-ref`` (default 1f8e024: the engine
after the first round of issue 19; 602a485, before it, words zone dates differently now) and
``spatial/zones.py`` as of
``--zones-baseline-ref`` (read
with ``git show``, loaded as modules beside this code, run on the same rows in the same
process). The outputs must be identical: decisions and summary frames equal column by column
(``pandas.testing``), the zone columns equal. The load average is printed with the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: the policy engine before its second round of speed work (issue 19): decisions.py of 1f8e024,
#: already 53-58x faster than 602a485 (before the first round), whose reasons now differ in
#: wording only (it writes zone dates as 2024-05-01, main since c6004f2 as 2024年5月1日), so
#: it no longer serves for the identity check; and the zone assignment before its speed work
BASELINE_REF = "1f8e024"
ZONES_BASELINE_REF = "16b66d3"
AS_OF = dt.date(2026, 12, 1)
TARGET_S_PER_MILLION = 5.0


def baseline_module(ref: str, path: str, name: str):
    """``path`` (a module of ``spatial``) as of git ``ref``, loaded as ``name``."""
    code = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as f:
        f.write(code)
    spec = importlib.util.spec_from_file_location(name, f.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def scope_counties(policies) -> list[str]:
    """Every county named in a scope of the tables."""
    counties: list[str] = []
    for policy in policies:
        for group in policy.raw.get("rules") or []:
            wanted = (group.get("scope") or {}).get("county") or []
            for county in wanted if isinstance(wanted, list) else [wanted]:
                if county not in counties:
                    counties.append(str(county))
    return counties


def screened_demo(folder: Path):
    """The demo's enterprises with facts and zones, the policies and the zone layer."""
    import warnings

    from spatial.inventory import load_enterprises
    from spatial.pipeline import context_layers, demo_config
    from spatial.policy import fact_specs, load_policies
    from spatial.zones import assign_zones

    config = demo_config(folder)
    policies = load_policies(())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inventory = load_enterprises(config.enterprises)
        layers = context_layers(config)
    from spatial.facts import add_facts

    enterprises = add_facts(inventory.enterprises, layers, fact_specs(policies))
    return enterprises, policies, layers["dingxiang_zones"], assign_zones


def repeat(enterprises, n: int, counties: list[str], seed: int = 19):
    """``enterprises`` repeated to ``n`` rows with new ids; the copies moved to ``counties``
    (one in five to a county no table names) or, without ``counties``, moved on the ground."""
    import geopandas as gpd
    import shapely

    reps = -(-n // len(enterprises))
    frame = pd.concat([enterprises] * reps, ignore_index=True).iloc[:n].copy()
    copy = np.repeat(np.arange(reps), len(enterprises))[:n]
    frame["id"] = [f"T{c}-{i}" for c, i in zip(copy, frame["id"], strict=True)]
    rng = np.random.default_rng(seed)
    moved = copy > 0
    if counties:
        choice = np.array([*counties, "某县"], dtype=object)
        weights = np.r_[np.full(len(counties), 0.8 / len(counties)), 0.2]
        county = frame["county"].to_numpy(dtype=object).copy()
        county[moved] = rng.choice(choice, size=int(moved.sum()), p=weights)
        frame["county"] = county
    else:  # kept in their county, moved up to ~500 m (for the zones)
        x = shapely.get_x(frame.geometry.values) + np.where(moved, rng.uniform(-5e-3, 5e-3, n), 0)
        y = shapely.get_y(frame.geometry.values) + np.where(moved, rng.uniform(-5e-3, 5e-3, n), 0)
        frame["geometry"] = shapely.points(x, y)
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=enterprises.crs)
    out.attrs = dict(enterprises.attrs)
    return out


CPU: dict[str, float] = {}


def timed(function, *args, **kwargs):
    """``function(*args)``, its wall seconds; its CPU seconds go to ``CPU["last"]``."""
    cpu, start = time.process_time(), time.perf_counter()
    result = function(*args, **kwargs)
    CPU["last"] = time.process_time() - cpu
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_policy")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="git ref, or 'none'")
    parser.add_argument("--zones-baseline-ref", default=ZONES_BASELINE_REF, help="git ref")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    from spatial import decisions, zones

    result: dict = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "n": args.n,
        "load_start": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp:
        demo, policies, zone_layer, _ = screened_demo(Path(tmp) / "out")
    demo_zones = demo.join(zones.assign_zones(demo, zone_layer, AS_OF))
    frame = repeat(demo_zones, args.n, scope_counties(policies))
    plain = repeat(demo, args.n, [])  # Dingxiang's plants stay there: in the zones' scope
    result["tables"] = [p.id for p in policies]
    old_d = old_z = None
    if args.baseline_ref != "none":
        old_d = baseline_module(args.baseline_ref, "spatial/decisions.py", "_decisions_before")
        old_z = baseline_module(args.zones_baseline_ref, "spatial/zones.py", "_zones_before")

    def policy_engine(module, rows):
        out = module.evaluate(rows, policies, as_of=AS_OF)
        return out, module.summarize(rows, out, policies, AS_OF)

    small = frame.iloc[:2000]
    for module in filter(None, (decisions, old_d)):  # warm-up: tables, vocabularies, caches
        policy_engine(module, small)

    runs = {}
    (new_decisions, new_summary), runs["policies_now_s"] = timed(policy_engine, decisions, frame)
    runs["policies_now_cpu_s"] = CPU["last"]
    print(f"policies now: {runs['policies_now_s']:.2f} s", flush=True)
    new_zones, runs["zones_now_s"] = timed(zones.assign_zones, plain, zone_layer, AS_OF)
    print(f"zones now: {runs['zones_now_s']:.2f} s", flush=True)
    result["decisions"] = len(new_decisions)
    result["actions"] = {str(k): int(v) for k, v in new_summary["action"].value_counts().items()}
    result["in_zone_scope"] = int(zones.in_scope(plain).sum())
    if old_d is not None:
        (old_decisions, old_summary), runs["policies_before_s"] = timed(policy_engine, old_d, frame)
        runs["policies_before_cpu_s"] = CPU["last"]
        print(f"policies before: {runs['policies_before_s']:.2f} s", flush=True)
        old_zones, runs["zones_before_s"] = timed(old_z.assign_zones, plain, zone_layer, AS_OF)
        print(f"zones before: {runs['zones_before_s']:.2f} s", flush=True)
        checks = {}
        for name, a, b in (
            ("decisions", new_decisions, old_decisions),
            ("summary", new_summary, old_summary),
            ("zones", new_zones, old_zones),
        ):
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True)
                checks[name] = "identical"
            except AssertionError as error:
                checks[name] = f"DIFFERENT: {str(error)[:500]}"
        result["check"] = checks
    result |= {k: round(v, 3) for k, v in runs.items()}
    per_million = runs["policies_now_s"] * 1_000_000 / args.n
    result["policies_now_s_per_million"] = round(per_million, 2)
    result["policies_now_cpu_s_per_million"] = round(
        runs["policies_now_cpu_s"] * 1_000_000 / args.n, 2
    )
    result["load_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    verdict = "met" if per_million <= TARGET_S_PER_MILLION else "NOT met"
    print(
        f"policy engine: {per_million:.2f} s per million enterprises "
        f"(target ≤ {TARGET_S_PER_MILLION} s): {verdict}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    same = all(v == "identical" for v in result.get("check", {}).values())
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

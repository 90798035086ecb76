"""One measurement per process, so each peak memory is its own.

``python -m benchmarks.cases NAME REGION SIZE WORKDIR`` runs one measurement and prints one
JSON line: ``seconds``, ``peak_mb`` (``ru_maxrss`` of the process: imports, the generated data
and the measurement) and whatever else the measurement reports. Distances are saved in
WORKDIR as ``.npy`` files for the error analysis.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.data import Case, generate, write_inventory_csv

MAX_DISTANCE_M = 50_000.0
NAIVE_DENSIFY_M = 100.0
GK_SHANXI = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E


def gk_zone_epsg(cm: float) -> str:
    """CGCS2000 / Gauss-Kruger CM ``cm``E (6° zones, no zone prefix): EPSG:4502 is CM 75E."""
    return f"EPSG:{4502 + round(float(cm - 75) / 6)}"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _save(workdir: Path, name: str, values: np.ndarray) -> None:
    np.save(workdir / f"{name}.npy", values)


# --------------------------------------------------------------------------------------------
# This engine


def engine(case: Case, workdir: Path) -> dict:
    """prepare_polygons + nearest_polygon from lon/lat arrays (what facts.py does)."""
    from spatial.measure import nearest_polygon, prepare_polygons

    start = time.perf_counter()
    cpu = time.process_time()
    polygons = prepare_polygons(case.builtup.geometry.values)
    result = nearest_polygon(case.lon, case.lat, polygons, case.builtup["name"], densified=True)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    _save(workdir, "engine", result.distance_m)
    d = result.distance_m
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "inside_share": float(np.mean(d == 0)),
        "median_m": float(np.median(d)),
    }


def heat(case: Case, workdir: Path) -> dict:
    """nearest_point: every enterprise against the heat sources (point to point)."""
    from spatial.measure import nearest_point

    heat = case.heat
    start = time.perf_counter()
    result = nearest_point(case.lon, case.lat, heat.geometry.x, heat.geometry.y, heat["id"])
    seconds = time.perf_counter() - start
    _save(workdir, "heat", result.distance_m)
    return {"seconds": seconds, "targets": len(heat)}


# --------------------------------------------------------------------------------------------
# geopandas.sjoin_nearest in Gauss-Krüger (the fast, inexact baseline)


def _sjoin_one(points, builtup, crs: str, max_distance: float | None) -> np.ndarray:
    import geopandas as gpd

    pts = points.to_crs(crs)
    polys = builtup[["geometry"]].to_crs(crs)
    joined = gpd.sjoin_nearest(
        pts, polys, how="left", max_distance=max_distance, distance_col="distance"
    )
    # ties (overlapping or equidistant polygons) give several rows per point: keep one
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["distance"].reindex(pts.index).to_numpy(dtype=float)


def sjoin(case: Case, workdir: Path, max_distance: float | None) -> dict:
    """Shanxi: EPSG:4547 (GK CM 114E). China: per 6° zone, CGCS2000 GK of the zone's CM, the
    points of the zone against the polygons within 9° of that meridian."""
    import geopandas as gpd

    start = time.perf_counter()
    cpu = time.process_time()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(case.lon, case.lat), crs="EPSG:4326")
    if case.region == "shanxi":
        distance = _sjoin_one(points, case.builtup, GK_SHANXI, max_distance)
        crs = GK_SHANXI
    else:
        distance = np.full(case.n_points, np.nan)
        cm = np.floor(case.lon / 6.0) * 6.0 + 3.0
        centre = case.builtup.geometry.centroid.x.to_numpy()
        for zone_cm in np.unique(cm):
            members = np.flatnonzero(cm == zone_cm)
            near = case.builtup[np.abs(centre - zone_cm) <= 9.0]
            distance[members] = _sjoin_one(
                points.iloc[members], near, gk_zone_epsg(zone_cm), max_distance
            )
        crs = "per 6° zone, EPSG:4502-4512"
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    name = "sjoin_max" if max_distance else "sjoin"
    _save(workdir, name, distance)
    return {"seconds": seconds, "cpu_seconds": cpu, "crs": crs}


# --------------------------------------------------------------------------------------------
# A naive geodesic loop (subsample, extrapolated)


def naive(case: Case, workdir: Path, budget_s: float) -> dict:
    """Per point: polygons whose centre lies within a 50 km box, inside test, then Geod.inv to
    every vertex of those polygons (edges densified every 100 m), minimum. Run on a random
    subsample for about ``budget_s`` seconds and extrapolated linearly to every point."""
    import shapely
    from pyproj import Geod

    from spatial.measure import prepare_polygons

    geod = Geod(ellps="WGS84")
    polygons = prepare_polygons(case.builtup.geometry.values, NAIVE_DENSIFY_M)
    coords, owner = shapely.get_coordinates(shapely.boundary(polygons), return_index=True)
    starts = np.searchsorted(owner, np.arange(len(polygons) + 1))
    centre = shapely.centroid(polygons)
    cx, cy = shapely.get_x(centre), shapely.get_y(centre)
    rng = np.random.default_rng(7)
    order = rng.permutation(case.n_points)
    done, distances = [], []
    start = time.perf_counter()
    for i in order:
        lon, lat = case.lon[i], case.lat[i]
        box = 0.45 + 0.1  # degrees of latitude for 50 km, plus the polygons' radius
        near = np.flatnonzero(
            (np.abs(cy - lat) <= box) & (np.abs(cx - lon) <= box / np.cos(np.radians(lat)))
        )
        best = np.nan
        if near.size:
            if shapely.contains_xy(polygons[near], lon, lat).any():
                best = 0.0
            else:
                idx = np.concatenate([np.arange(starts[j], starts[j + 1]) for j in near])
                d = geod.inv(
                    np.full(idx.size, lon), np.full(idx.size, lat), coords[idx, 0], coords[idx, 1]
                )[2]
                best = float(np.min(d))
        done.append(i)
        distances.append(best)
        if time.perf_counter() - start > budget_s and len(done) >= 20:
            break
    seconds = time.perf_counter() - start
    done = np.asarray(done)
    np.save(workdir / "naive_index.npy", done)
    _save(workdir, "naive", np.asarray(distances))
    return {
        "seconds": seconds * case.n_points / done.size,
        "measured_points": int(done.size),
        "measured_seconds": seconds,
        "extrapolated": True,
    }


# --------------------------------------------------------------------------------------------
# End to end: the near-city rule from the CSV to the enterprises' columns


def write_inputs(case: Case, workdir: Path) -> dict:
    """The inventory CSV and the built-up GeoPackage for :func:`end_to_end` (not timed)."""
    write_inventory_csv(case, workdir / "enterprises.csv")
    case.builtup.to_file(workdir / "builtup.gpkg", driver="GPKG")
    return {"seconds": 0.0}


def end_to_end(case_size: tuple[str, str], workdir: Path) -> dict:
    """load CSV → load_enterprises → load built-up → add_facts (near_city, jinzhong-2019)."""
    import geopandas as gpd

    from spatial.facts import add_facts
    from spatial.inventory import load_enterprises
    from spatial.policy import fact_specs, load_policies

    start = time.perf_counter()
    cpu = time.process_time()
    inventory = load_enterprises(workdir / "enterprises.csv")
    t_load = time.perf_counter() - start
    try:
        from spatial.builtup import load_builtup

        builtup = load_builtup(workdir / "builtup.gpkg")
        loader = "spatial.builtup.load_builtup"
    except Exception as error:  # the loader is someone else's, keep measuring if it moved
        builtup = gpd.read_file(workdir / "builtup.gpkg")
        loader = f"geopandas.read_file ({type(error).__name__})"
    specs = fact_specs(load_policies(["jinzhong-2019"]))
    t_facts = time.perf_counter()
    enterprises = add_facts(inventory.enterprises, {"builtup": builtup}, specs)
    end = time.perf_counter()
    seconds = end - start
    near = enterprises["near_city"].fillna(False).to_numpy(dtype=bool)
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "load_seconds": t_load,
        "facts_seconds": end - t_facts,
        "rows": len(enterprises),
        "rejected": len(inventory.rejected),
        "near_city": int(near.sum()),
        "points_per_minute": len(enterprises) / seconds * 60.0,
        "builtup_loader": loader,
    }


def run(name: str, region: str, size: str, workdir: Path, budget_s: float = 15.0) -> dict:
    if name == "end_to_end":
        result = end_to_end((region, size), workdir)
    else:
        case = generate(region, size)
        if name == "engine":
            result = engine(case, workdir)
        elif name == "heat":
            result = heat(case, workdir)
        elif name == "sjoin_max":
            result = sjoin(case, workdir, MAX_DISTANCE_M)
        elif name == "sjoin":
            result = sjoin(case, workdir, None)
        elif name == "naive":
            result = naive(case, workdir, budget_s)
        elif name == "write_inputs":
            result = write_inputs(case, workdir)
        else:
            raise SystemExit(f"unknown measurement {name!r}")
    result["peak_mb"] = peak_mb()
    return result


if __name__ == "__main__":
    name, region, size, workdir = sys.argv[1:5]
    budget = float(sys.argv[5]) if len(sys.argv) > 5 else 15.0
    print(json.dumps(run(name, region, size, Path(workdir), budget)))

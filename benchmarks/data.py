"""Synthetic benchmark data: built-up areas as noisy star polygons, enterprises as points.

Everything is generated from a seed, so every run measures the same inputs.

Everything lies inside China's outline (:func:`spatial.coords.in_china`, what the inventory
loader accepts).

- **Built-up areas**: one per random seat, uniform in the region's bounding box; a noisy star
  polygon 1-8 km across (12-40 vertices, radii jittered ±35 %, placed with geodesic offsets so
  the size is true on the ground).
- **Enterprises**: half uniform in the bounding box, half 0-40 km (geodesic) beyond the outline
  radius of a random built-up area, in a random direction.
- **Heat sources** (for the point-to-point measure): uniform in the bounding box, every third a
  chp plant of >= 300 MW.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from spatial.coords import in_china

GEOD = Geod(ellps="WGS84")

REGIONS = {
    # lon_min, lon_max, lat_min, lat_max
    "shanxi": (110.2, 114.6, 34.6, 40.7),
    "china": (73.0, 135.0, 18.0, 53.0),
}

SIZES = {
    "quick": (20_000, 400),
    "100k": (100_000, 2_000),
    "1M": (1_000_000, 20_000),
}

INDUSTRIES = np.array(["foundry", "coking", "cement", "brick_kiln", "chemical", "carbon"])
CLASSES = np.array(["encouraged", "permitted", "restricted"])


@dataclass
class Case:
    """One generated data set."""

    region: str
    size: str
    lon: np.ndarray
    lat: np.ndarray
    builtup: gpd.GeoDataFrame
    heat: gpd.GeoDataFrame

    @property
    def n_points(self) -> int:
        return self.lon.size

    @property
    def n_polygons(self) -> int:
        return len(self.builtup)


def _uniform(rng: np.random.Generator, region: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform in the region's box and inside China's outline (what the loader accepts)."""
    x0, x1, y0, y1 = REGIONS[region]
    lon, lat = np.empty(0), np.empty(0)
    while lon.size < n:
        x, y = rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)
        keep = in_china(x, y)
        lon, lat = np.r_[lon, x[keep]], np.r_[lat, y[keep]]
    return lon[:n], lat[:n]


def star_polygons(
    rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy star polygons around the seats; returns the polygons and their mean radius (m)."""
    n = lon.size
    diameter = rng.uniform(1_000.0, 8_000.0, n)
    vertices = rng.integers(12, 41, n)
    owner = np.repeat(np.arange(n), vertices)
    step = 360.0 / vertices[owner]
    first = np.concatenate([[0], np.cumsum(vertices)[:-1]])
    k = np.arange(owner.size) - first[owner]
    az = rng.uniform(0, 360, n)[owner] + k * step + rng.uniform(-0.3, 0.3, owner.size) * step
    radius = diameter[owner] / 2 * rng.uniform(0.65, 1.35, owner.size)
    vlon, vlat, _ = GEOD.fwd(lon[owner], lat[owner], az, radius)
    # close every ring: repeat each polygon's first vertex at its end
    closing = np.r_[first[1:], owner.size] - 1
    index = np.insert(np.arange(owner.size), closing + 1, first)
    ring_owner = np.insert(owner, closing + 1, np.arange(n))
    coords = np.column_stack([vlon[index], vlat[index]])
    rings = shapely.linearrings(coords, indices=ring_owner)
    return shapely.polygons(rings), diameter / 2


def generate(region: str, size: str, seed: int = 20191101) -> Case:
    """The data set of one region and size."""
    n_points, n_polygons = SIZES[size]
    rng = np.random.default_rng(seed + 17 * n_points + (0 if region == "shanxi" else 1))
    seat_lon, seat_lat = _uniform(rng, region, n_polygons)
    polygons, radius = star_polygons(rng, seat_lon, seat_lat)
    builtup = gpd.GeoDataFrame(
        {
            "name": [f"BU{i:05d}" for i in range(n_polygons)],
            "level": np.where(rng.random(n_polygons) < 0.1, "city", "county"),
        },
        geometry=polygons,
        crs="EPSG:4326",
    )
    n_near = n_points // 2
    lon_u, lat_u = _uniform(rng, region, n_points - n_near)
    lon_n, lat_n = np.empty(0), np.empty(0)
    while lon_n.size < n_near:  # near a built-up area, and in China
        host = rng.integers(0, n_polygons, n_near)
        x, y, _ = GEOD.fwd(
            seat_lon[host],
            seat_lat[host],
            rng.uniform(0, 360, n_near),
            radius[host] * 1.35 + rng.uniform(0, 40_000, n_near),
        )
        keep = in_china(x, y)
        lon_n, lat_n = np.r_[lon_n, x[keep]], np.r_[lat_n, y[keep]]
    lon_n, lat_n = lon_n[:n_near], lat_n[:n_near]
    order = rng.permutation(n_points)
    lon = np.concatenate([lon_u, lon_n])[order]
    lat = np.concatenate([lat_u, lat_n])[order]
    n_heat = max(30, n_polygons // 40)
    hlon, hlat = _uniform(rng, region, n_heat)
    heat = gpd.GeoDataFrame(
        {
            "id": [f"H{i:04d}" for i in range(n_heat)],
            "name": [f"热源{i}" for i in range(n_heat)],
            "kind": np.where(np.arange(n_heat) % 3 == 0, "chp", "industrial"),
            "capacity_mw": np.where(np.arange(n_heat) % 3 == 0, 350.0, 50.0),
        },
        geometry=shapely.points(hlon, hlat),
        crs="EPSG:4326",
    )
    return Case(region, size, lon, lat, builtup, heat)


def write_inventory_csv(case: Case, path: Path) -> Path:
    """The enterprises as an inventory CSV with Chinese headers, as planners send them."""
    n = case.n_points
    rng = np.random.default_rng(n)
    frame = pd.DataFrame(
        {
            "编号": [f"E{i:07d}" for i in range(n)],
            "企业名称": [f"企业{i}" for i in range(n)],
            "行业": INDUSTRIES[rng.integers(0, INDUSTRIES.size, n)],
            "所在县": "某县",
            "产业政策类别": CLASSES[rng.integers(0, CLASSES.size, n)],
            "经度": np.round(case.lon, 6),
            "纬度": np.round(case.lat, 6),
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8")
    return path

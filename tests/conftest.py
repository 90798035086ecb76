"""Tiny data built in code, shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

os.environ.setdefault("SPATIAL_NO_NETWORK", "1")

HEADER = "id,name,industry,county,policy_class,compliant,lon,lat"


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    """Write CSV lines (joined with CRLF, as Excel does) in the given encoding."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def csv_file(tmp_path):
    """A factory: csv_file(lines, encoding='utf-8', name='plants.csv') -> Path."""

    def make(lines: list[str], encoding: str = "utf-8", name: str = "plants.csv") -> Path:
        return write_csv(tmp_path / name, lines, encoding)

    return make


@pytest.fixture
def builtup_file(tmp_path) -> Path:
    """Two small built-up polygons near Yuci (WGS84 → written in CGCS2000)."""
    yuci = Polygon([(112.72, 37.67), (112.78, 37.67), (112.78, 37.72), (112.72, 37.72)])
    taigu = Polygon([(112.53, 37.40), (112.57, 37.40), (112.57, 37.44), (112.53, 37.44)])
    gdf = gpd.GeoDataFrame(
        {"name": ["榆次区", "太谷区"], "level": ["city", "county"]},
        geometry=[yuci, taigu],
        crs="EPSG:4490",
    )
    path = tmp_path / "builtup.gpkg"
    gdf.to_file(path, layer="builtup", engine="pyogrio")
    return path

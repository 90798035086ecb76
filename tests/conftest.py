"""Fixtures shared by the tests: tiny data built in code, and ONE run of the demo region.

Builders that tests call directly (``HEADER``, ``write_csv``, ...) live in
``tests/helpers.py``: test modules import from there, never from each other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from tests.helpers import DEMO_AS_OF, write_csv

os.environ.setdefault("SPATIAL_NO_NETWORK", "1")


@dataclass(frozen=True)
class DemoRun:
    """The shared demo run: its config, what ``pipeline.run`` returned, and its reporter
    (``timings.steps``: the numbered steps; ``timings.stages``: the stages with counts)."""

    config: object
    result: object
    timings: object

    @property
    def out(self) -> Path:
        return Path(self.config.out)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """ONE local run of the demo region shipped in the package, shared by every test that only
    reads its outputs (tests/test_pipeline.py, test_progress.py, test_scale.py,
    test_reliability.py): as of :data:`DEMO_AS_OF`, without figures (the figures are tested on
    their own in tests/export/test_figures.py). Do not write into ``demo_run.out``."""
    from spatial.pipeline import demo_config, run
    from spatial.progress import Timings

    out = tmp_path_factory.mktemp("demo-run") / "out"
    config = demo_config(out, as_of=DEMO_AS_OF, figures=False)
    timings = Timings()
    return DemoRun(config, run(config, progress=timings), timings)


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

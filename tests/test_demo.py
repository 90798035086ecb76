"""The demo-data generator: the shipped ``spatial/data/demo`` is what ``tools.demo`` writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import yaml
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod

from spatial.datasets import DEMO_DIR as DEMO
from tools import demo

TEXT_FILES = ("enterprises.csv", "enterprises_gbk.csv", "heat_sources.csv", "region.osm")
GPKGS = ("builtup.gpkg", "dingxiang_sources.gpkg")
N_BAD = len(demo.BAD_ROWS)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo files regenerated into a temporary folder."""
    return demo.write_demo_data(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def enterprises() -> pd.DataFrame:
    """The committed enterprise CSV, every cell as text."""
    return pd.read_csv(DEMO / "enterprises.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def alias_table() -> dict:
    """The project's column alias table."""
    return yaml.safe_load((files("spatial") / "data" / "columns.yaml").read_text("utf-8"))


def test_writes_every_committed_file(fresh: dict[str, Path]) -> None:
    committed = {p.name for p in DEMO.iterdir()}
    assert {p.name for p in fresh.values()} == committed
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 4 * 1024 * 1024


@pytest.mark.parametrize("name", [*TEXT_FILES, "README.md"])
def test_text_files_are_byte_identical(fresh: dict[str, Path], name: str) -> None:
    folder = fresh["enterprises"].parent
    assert (folder / name).read_bytes() == (DEMO / name).read_bytes()


@pytest.mark.parametrize("name", GPKGS)
def test_geopackage_layers_are_identical(fresh: dict[str, Path], name: str) -> None:
    new, old = fresh["enterprises"].parent / name, DEMO / name
    layers = [str(row[0]) for row in pyogrio.list_layers(old)]
    assert layers == [str(row[0]) for row in pyogrio.list_layers(new)]
    for layer in layers:
        assert_geodataframe_equal(
            gpd.read_file(new, layer=layer),
            gpd.read_file(old, layer=layer),
            check_less_precise=True,
        )


def test_geopackage_layers_are_cgcs2000_with_names() -> None:
    for name in GPKGS:
        for layer, _ in pyogrio.list_layers(DEMO / name):
            frame = gpd.read_file(DEMO / name, layer=layer)
            assert frame.crs.to_epsg() == 4490, (name, layer)
            assert "name" in frame.columns and frame["name"].ne("").all(), (name, layer)


def test_xlsx_content_is_identical(fresh: dict[str, Path]) -> None:
    new = pd.read_excel(fresh["enterprises_xlsx"], dtype=str)
    old = pd.read_excel(DEMO / "enterprises.xlsx", dtype=str)
    pd.testing.assert_frame_equal(new, old)
    assert len(old) == 100 and {"企业名称", "经度（°）", "纬度（°）"} <= set(old.columns)


def test_raster_is_projected_class_map(fresh: dict[str, Path]) -> None:
    with rasterio.open(DEMO / "builtup.tif") as src:
        assert src.crs.to_epsg() == 32649
        assert src.res == (100.0, 100.0) and src.nodata == 0
        old = src.read(1)
    with rasterio.open(fresh["builtup_raster"]) as src:
        assert np.array_equal(src.read(1), old)
    assert set(np.unique(old).tolist()) == {0, 10, 50}
    assert (old[0] == 0).all() and (old[:, -1] == 0).all()


def test_enterprises_cover_every_industry_code(
    enterprises: pd.DataFrame, alias_table: dict
) -> None:
    good = enterprises.iloc[:-N_BAD]
    assert set(alias_table["codes"]["industry"]) <= set(good["industry"])
    assert set(good["industry"]) <= set(alias_table["codes"]["industry"])
    assert set(good["policy_class"]) == {"encouraged", "permitted", "restricted", ""}
    for col in demo.YESNO_COLUMNS:
        assert set(good[col]) <= {"yes", "no", ""}, col
    assert list(enterprises.columns) == list(demo.COLUMNS)
    assert good["id"].is_unique and good["id"].is_monotonic_increasing
    assert 1800 <= len(good) <= 2300


def test_gcj02_rows_are_about_ten_percent(enterprises: pd.DataFrame) -> None:
    share = enterprises.iloc[:-N_BAD]["coord_sys"].value_counts(normalize=True)
    assert set(share.index) == {"wgs84", "gcj02"}
    assert 0.08 <= share["gcj02"] <= 0.12


def test_bad_rows_are_at_the_end(enterprises: pd.DataFrame) -> None:
    bad = enterprises.iloc[-N_BAD:].set_index("id", drop=False)
    assert list(bad["id"]) == [row[0] for row in demo.BAD_ROWS]
    assert bad.loc["BAD-01", "lon"] == ""
    assert bad.loc["BAD-02", "lat"] == "abc"
    assert float(bad.loc["BAD-03", "lon"]) < 60 and float(bad.loc["BAD-03", "lat"]) > 100
    assert float(bad.loc["BAD-04", "lat"]) > 45  # Mongolia
    assert float(bad.loc["BAD-05", "lon"]) == float(bad.loc["BAD-05", "lat"]) == 0
    assert "JZ-0007" in set(enterprises.iloc[:-N_BAD]["id"])
    assert "" in set(bad["id"])
    assert bad.loc["BAD-08", "industry"] == "spaceship"
    assert bad.loc["BAD-09", "policy_class"] == "preferred"
    assert bad.loc["BAD-10", "compliant"] == "maybe"
    assert float(bad.loc["BAD-11", "lat"]) > 90
    assert bad.loc["BAD-12", "subtype"] == "rocket"
    assert float(bad.loc["BAD-13", "furnace_t"]) < 0


def test_straddle_rows_sit_either_side_of_10km(enterprises: pd.DataFrame) -> None:
    builtup = gpd.read_file(DEMO / "builtup.gpkg", layer="builtup")
    distance = demo.GeodesicToBuiltup(builtup)
    rows = enterprises.set_index("id")
    near = far = 0
    for town, bearing, _ in demo.JZ_STRADDLE:
        lon0, lat0 = demo.TOWN[town].lon, demo.TOWN[town].lat
        for offset in demo.JZ_STRADDLE_OFFSETS:
            lon, lat = demo.point_at_builtup_distance(distance, (lon0, lat0), bearing, 1e4 + offset)
            hits = rows[(rows["lon"] == f"{lon:.6f}") & (rows["lat"] == f"{lat:.6f}")]
            assert len(hits) == 1 and hits["coord_sys"].iloc[0] == "wgs84"
            d = distance(lon, lat)
            near, far = near + (9_950 < d < 10_000), far + (10_000 < d < 10_050)
    assert near == far == len(demo.JZ_STRADDLE)


def test_osm_document_root() -> None:
    root = ET.parse(DEMO / "region.osm").getroot()
    assert (root.tag, root.get("version"), root.get("generator")) == ("osm", "0.6", "spatial.demo")
    assert root.find("relation/tag[@v='multipolygon']") is not None


def test_osm_landuse_reads_with_osmnx() -> None:
    ox = pytest.importorskip("osmnx")
    landuse = ox.features_from_xml(DEMO / "region.osm", tags={"landuse": True})
    assert {"residential", "commercial", "industrial"} <= set(landuse["landuse"])
    assert "relation" in set(landuse.index.get_level_values(0))
    assert (landuse.geom_type.isin(["Polygon", "MultiPolygon"])).all()


def test_osm_roads_and_ring_gap() -> None:
    ox = pytest.importorskip("osmnx")
    roads = ox.features_from_xml(DEMO / "region.osm", tags={"highway": True})
    assert {"三环路", "机场大道", "108国道"} <= set(roads["name"])
    ring = roads[roads["name"] == "三环路"].geometry.tolist()
    assert len(ring) == 3
    ends = [line.coords[i] for line in ring for i in (0, -1)]
    geod = Geod(ellps="WGS84")
    gaps = sorted(
        geod.inv(a[0], a[1], b[0], b[1])[2] for i, a in enumerate(ends) for b in ends[i + 1 :]
    )
    assert gaps[:2] == [0.0, 0.0]  # two joints share their nodes
    assert 25.0 < gaps[2] < 35.0  # the one deliberate ~30 m gap


def test_gbk_csv_is_excel_flavour() -> None:
    raw = (DEMO / "enterprises_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.count("\r\n") == text.count("\n") == 201
    header = text.split("\r\n", 1)[0].split(",")
    assert {"企业名称", "经度", "纬度", "行业", "所在县", "产业政策类别", "达标排放"} <= set(header)
    assert "坐标系" not in header and "coord_sys" not in header

"""Built-up polygons: any CRS, repaired, dissolved by name, clear errors."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from spatial.builtup import load_builtup_polygons
from spatial.errors import LayerError

BOWTIE = Polygon([(112.0, 37.0), (112.1, 37.1), (112.1, 37.0), (112.0, 37.1)])
SQUARE = Polygon([(112.3, 37.0), (112.4, 37.0), (112.4, 37.1), (112.3, 37.1)])
SATELLITE = Polygon([(112.5, 37.0), (112.52, 37.0), (112.52, 37.02), (112.5, 37.02)])


def write(tmp_path, gdf, name="b.gpkg"):
    path = tmp_path / name
    gdf.to_file(path, engine="pyogrio")
    return path


def test_repair_dissolve_and_any_crs(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"名称": ["甲县", "乙市", "乙市"], "level": ["county", "市", "city"]},
        geometry=[BOWTIE, SQUARE, SATELLITE],
        crs=4326,
    ).to_crs("EPSG:4547")
    out = load_builtup_polygons(write(tmp_path, gdf))
    assert out.crs.to_epsg() == 4326
    assert sorted(out.name) == ["乙市", "甲县"]
    row = out.set_index("name")
    assert row.loc["甲县", "n_repaired"] == 1 and row.loc["甲县", "geometry"].is_valid
    assert row.loc["乙市", "level"] == "city"
    assert row.loc["乙市", "geometry"].geom_type == "MultiPolygon"
    assert set(out.source) == {"polygons"} and set(out.source_detail) == {"b.gpkg"}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (gpd.GeoDataFrame({"x": [1]}, geometry=[SQUARE], crs=4326), "no name column"),
        (gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(112, 37)], crs=4326), "no polygons"),
    ],
)
def test_clear_errors(tmp_path, frame, message):
    with pytest.raises(LayerError, match=message):
        load_builtup_polygons(write(tmp_path, frame))


def test_missing_file(tmp_path):
    with pytest.raises(LayerError, match="no such file"):
        load_builtup_polygons(tmp_path / "none.gpkg")

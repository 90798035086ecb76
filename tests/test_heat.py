"""Heat sources from CSV (Chinese headers too) or a point layer; problems named by row."""

from __future__ import annotations

import geopandas as gpd
import pytest

from spatial.errors import LayerError
from spatial.heat import load_heat_sources


def test_chinese_headers_and_kinds(tmp_path):
    path = tmp_path / "热源.csv"
    path.write_bytes(
        "编号,名称,类型,装机容量,经度,纬度\nH1,甲电厂,热电联产,600,112.7,38.4\nH2,乙厂,工业企业,90,112.8,38.5\n".encode(
            "gbk"
        )
    )
    heat = load_heat_sources(path)
    assert heat.kind.tolist() == ["chp", "industrial"]
    assert heat.capacity_mw.tolist() == [600.0, 90.0]
    assert heat.crs.to_epsg() == 4326


def test_every_problem_is_reported_with_its_row(tmp_path):
    path = tmp_path / "heat.csv"
    path.write_text(
        "id,name,kind,capacity_mw,lon,lat\nH1,a,nuclear,600,112.7,38.4\nH2,b,chp,lots,0,0\n"
    )
    with pytest.raises(LayerError) as info:
        load_heat_sources(path)
    message = str(info.value)
    assert "row 2, kind" in message and "row 3, capacity_mw" in message
    assert "row 3, lon/lat" in message


def test_missing_columns(tmp_path):
    path = tmp_path / "heat.csv"
    path.write_text("id,name,lon,lat\nH1,a,112.7,38.4\n")
    with pytest.raises(LayerError, match="kind, capacity_mw"):
        load_heat_sources(path)


def test_point_layer(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": ["H1"], "name": ["甲"], "kind": ["chp"], "capacity_mw": [300]},
        geometry=gpd.points_from_xy([112.7], [38.4]),
        crs=4490,
    )
    gdf.to_file(tmp_path / "heat.gpkg")
    heat = load_heat_sources(tmp_path / "heat.gpkg")
    assert heat.geometry.x.iloc[0] == pytest.approx(112.7)

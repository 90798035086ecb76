"""Any context layer named in a rule table: loaded, measured and decided on (Shapotou §一(一))."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, Polygon

from spatial.cli import main
from spatial.decisions import evaluate_policy
from spatial.errors import LayerError
from spatial.facts import add_facts
from spatial.layers import load_context_layer
from spatial.policy import fact_specs, load_policy

RESERVE = Polygon([(105.0, 37.4), (105.1, 37.4), (105.1, 37.5), (105.0, 37.5)])


def test_polygons_in_any_crs_get_names(tmp_path):
    path = tmp_path / "eco.gpkg"
    gpd.GeoDataFrame({"名称": ["沙坡头自然保护区"]}, geometry=[RESERVE], crs=4326).to_crs(
        "EPSG:4508"
    ).to_file(path)
    layer = load_context_layer(path, "eco_zones")
    assert layer.crs.to_epsg() == 4326 and layer.name.tolist() == ["沙坡头自然保护区"]


def test_unnamed_features_are_numbered(tmp_path):
    path = tmp_path / "urban.geojson"
    gpd.GeoDataFrame(geometry=[Point(105.2, 37.5), Point(105.3, 37.5)], crs=4326).to_file(path)
    assert load_context_layer(path, "urban_areas").name.tolist() == [
        "urban_areas-1",
        "urban_areas-2",
    ]


def test_missing_crs_and_empty_layers_are_clear_errors(tmp_path):
    with pytest.raises(LayerError, match="no such file"):
        load_context_layer(tmp_path / "none.gpkg", "eco_zones")


def test_a_rule_on_a_named_layer_decides(tmp_path):
    """Shapotou's layout facts: inside an ecological zone → review citing ch.3 §一(一)."""
    policy = load_policy("shapotou-2025")
    plants = gpd.GeoDataFrame(
        {"id": ["in", "out"], "county": ["沙坡头区"] * 2, "industry": ["ferroalloy"] * 2},
        geometry=[Point(105.05, 37.45), Point(105.5, 37.45)],
        crs=4326,
    )
    eco = gpd.GeoDataFrame({"name": ["沙坡头自然保护区"]}, geometry=[RESERVE], crs=4326)
    urban = gpd.GeoDataFrame({"name": ["中卫城区"]}, geometry=[Point(106.5, 37.5)], crs=4326)
    road = LineString([(105.0, 37.4505), (105.2, 37.4505)])  # 100 m north of "in"
    roads = gpd.GeoDataFrame({"name": ["G338"]}, geometry=[road], crs=4326)
    layers = {"eco_zones": eco, "urban_areas": urban, "trunk_roads": roads}
    specs = {k: v for k, v in fact_specs([policy]).items() if k != "near_city"}
    facts = add_facts(plants, layers, specs)
    assert facts["in_eco_zone"].tolist() == [True, False]
    assert facts["near_trunk_road"].tolist() == [True, False]
    assert facts["nearest_trunk_road"].tolist() == ["G338", "G338"]
    assert 50 < facts["dist_trunk_road_m"].iloc[0] < 60
    decisions = evaluate_policy(pd.DataFrame(facts.drop(columns="geometry")), policy)
    inside = decisions[decisions["id"] == "in"]
    assert inside["rule_id"].tolist() == ["inside-ecological-zone", "near-trunk-road"]
    assert "沙坡头自然保护区" in inside["reason_zh"].iloc[0]
    assert decisions[decisions["id"] == "out"].empty


def test_layer_option_needs_name_and_file(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "screen",
            "--enterprises",
            __file__,
            "--builtup",
            __file__,
            "--layer",
            "eco_zones",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "NAME=FILE" in result.output

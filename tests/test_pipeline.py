"""The whole run on the demo region: every row accounted for, facts and layers written."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest

from spatial.pipeline import demo_config, run


def test_every_input_row_is_accounted_for(demo_run):
    record = json.loads((demo_run.out / "run.json").read_text(encoding="utf-8"))
    counts = record["counts"]
    assert counts["accepted"] + counts["rejected"] == counts["rows_read"] == 2111
    assert counts["rejected"] == 13
    assert [step for step, _, _ in demo_run.timings.steps] == [1, 2, 3, 4, 5]


def test_layers_and_contract_columns(demo_run):
    out = demo_run.out
    layers = dict(pyogrio.list_layers(out / "screening.gpkg"))
    for name in [
        "enterprises",
        "rejected",
        "builtup",
        "heat_sources",
        "near_city_10km",
        "heat_radius_30km",
    ]:
        assert name in layers
    e = gpd.read_file(out / "screening.gpkg", layer="enterprises")
    assert e.crs.to_epsg() == 4490
    for column in [
        "dist_builtup_m",
        "nearest_builtup",
        "near_city",
        "heat_source_id",
        "dist_heat_m",
        "in_heat_radius",
    ]:
        assert column in e
    assert ((e.dist_builtup_m <= 10_000) == e.near_city.astype(bool)).all()


def test_geopackage_for_qgis_heat_field_and_counties(demo_run):
    """The heat sources carry the rule's own selection (≥300 MW CHP or industrial) and the
    county outlines hold one Atlas page per county of the plants."""
    out, result = demo_run.out, demo_run.result
    heat = gpd.read_file(out / "screening.gpkg", layer="heat_sources").set_index("id")
    counts = heat["counts_for_radius"].astype(bool)
    assert counts["HS-01"] and counts["HS-05"]  # 700 MW CHP; industrial supplier
    assert not counts["HS-06"] and not counts["HS-08"]  # 50 MW, 135 MW CHP
    assert heat.loc["HS-06", "radius_basis_zh"].startswith("不符合：装机容量50 MW < 300 MW")
    buffered = set(gpd.read_file(out / "screening.gpkg", layer="heat_radius_30km")["feature"])
    assert buffered == set(counts[counts].index)  # the field and the 30 km buffers agree
    counties = gpd.read_file(out / "screening.gpkg", layer="counties")
    pages = counties[counties["n_enterprises"] > 0]
    assert set(pages["name"]) == set(result.enterprises["county"].dropna())
    assert pages["n_enterprises"].sum() == result.enterprises["county"].notna().sum()


def test_gcj02_rows_are_converted_before_measuring(demo_run):
    """JZ-1025 is 10,150 m from a built-up area; read naively as WGS84 it would be 9,549 m."""
    e = demo_run.result.enterprises.set_index("id")
    assert e.loc["JZ-1025", "coord_sys"] == "gcj02"
    assert e.loc["JZ-1025", "dist_builtup_m"] == pytest.approx(10_150, abs=1)
    assert not e.loc["JZ-1025", "near_city"]
    assert e.loc["JZ-0299", "near_city"]


def test_run_json_names_inputs_policies_and_thresholds(demo_run):
    record = json.loads((demo_run.out / "run.json").read_text(encoding="utf-8"))
    assert set(record["inputs"]) == {"enterprises", "builtup", "heat_sources", "zones", "zones_osm"}
    assert all(len(v["sha256"]) == 64 for v in record["inputs"].values())
    assert record["facts"]["near_city"]["within_m"] == 10_000
    assert {p["id"] for p in record["policies"]} >= {"jinzhong-2019", "xinzhou-2024"}


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path):
    from spatial.errors import OutputError
    from spatial.lock import output_lock

    with output_lock(tmp_path / "out"), pytest.raises(OutputError, match="another run"):
        run(demo_config(tmp_path / "out"))
    assert not (tmp_path / "out" / "screening.gpkg").exists()


def test_emission_table_and_summary_without_emission_columns(demo_run):
    """The demo inventory has no annual emissions: every plant with a measure is "no data",
    never 0 t, and the table is in the GeoPackage."""
    out = demo_run.out
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    pm = record["emissions"]["by_pollutant"]["pm"]
    assert pm["plants_with_data"] == 0 and pm["no_data_plants"] > 0
    emissions = pyogrio.read_dataframe(out / "screening.gpkg", layer="emissions")
    assert set(emissions["pollutant"]) == {"pm", "so2", "nox", "vocs"}
    assert emissions["avoided_t"].dropna().eq(0).all()  # only exempt/review/limit rows are 0
    assert (emissions.loc[emissions["status"] == "no_data", "avoided_t"].isna()).all()

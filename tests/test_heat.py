"""Heat sources from CSV (Chinese headers too) or a point layer; problems named by row."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Polygon

from spatial.cli import main
from spatial.datasets import get_path
from spatial.errors import LayerError
from spatial.heat import attribution, load_heat_sources, resolve
from tests.helpers import HEADER


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


# Issue 14: capacities positive, ids unique, points only, one --heat-sources.
HEAD = "id,name,kind,capacity_mw,lon,lat\n"


@pytest.mark.parametrize("capacity", ["-300", "0", "0.0"])
def test_a_capacity_of_zero_or_less_is_refused_naming_the_row(tmp_path, capacity):
    path = tmp_path / "heat.csv"
    path.write_text(HEAD + f"H1,a,chp,600,112.7,38.4\nH2,b,chp,{capacity},112.8,38.5\n")
    with pytest.raises(LayerError, match=r"row 3, capacity_mw: .* more than 0"):
        load_heat_sources(path)


@pytest.mark.parametrize("second", ["H1", "h1", "Ｈ1", " H1 "])
def test_an_id_given_twice_is_refused_naming_both_rows(tmp_path, second):
    path = tmp_path / "heat.csv"
    path.write_text(
        HEAD + f"H1,a,chp,600,112.7,38.4\nH2,b,chp,300,112.8,38.5\n{second},c,chp,350,112.9,38.6\n",
        encoding="utf-8",
    )
    with pytest.raises(LayerError, match=r"rows 2, 4, id: .* 2 times"):
        load_heat_sources(path)


@pytest.mark.parametrize(
    ("geometry", "word"),
    [
        (Polygon([(112.0, 38.0), (112.1, 38.0), (112.1, 38.1)]), "Polygon"),
        (LineString([(112.0, 38.0), (112.1, 38.0)]), "LineString"),
    ],
)
def test_a_polygon_or_line_layer_is_refused_in_one_sentence(tmp_path, geometry, word):
    gdf = gpd.GeoDataFrame(
        {
            "id": ["H1", "H2"],
            "name": ["甲", "乙"],
            "kind": ["chp", "chp"],
            "capacity_mw": [600, 300],
        },
        geometry=[geometry, geometry],
        crs=4326,
    )
    gdf.to_file(tmp_path / "heat.gpkg")
    with pytest.raises(LayerError) as info:
        load_heat_sources(tmp_path / "heat.gpkg")
    message = str(info.value)
    assert f"heat sources are points, one per plant, but this layer holds {word}" in message
    assert "outside China" not in message


def test_a_repeated_heat_sources_option_is_refused(csv_file, builtup_file, tmp_path):
    plants = csv_file([HEADER, "A1,甲铸造厂,foundry,榆次区,permitted,yes,112.75,37.69"])
    heat = []
    for name in ("a.csv", "b.csv"):
        heat.append(tmp_path / name)
        heat[-1].write_text(HEAD + "H1,a,chp,600,112.7,38.4\n")
    out = tmp_path / "out"
    args = ["screen", "--enterprises", str(plants), "--builtup", str(builtup_file)]
    args += ["--heat-sources", str(heat[0]), "--heat-sources", str(heat[1]), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "--heat-sources" in result.output and "given 2 times" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_an_unknown_heat_source_name_is_a_usage_error(csv_file, builtup_file, tmp_path):
    plants = csv_file([HEADER, "A1,甲铸造厂,foundry,榆次区,permitted,yes,112.75,37.69"])
    args = ["screen", "--enterprises", str(plants), "--builtup", str(builtup_file)]
    args += ["--heat-sources", "gpdd", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert (
        result.exit_code == 2 and "gpdd: no such file" in result.output and "gppd" in result.output
    )


# Issue 15 item 6: the WRI Global Power Plant Database coal plants, shipped and usable by name.
def test_the_shipped_gppd_layer_loads_by_name():
    heat = load_heat_sources("gppd")
    assert get_path("gppd_coal_plants") == resolve("gppd")
    assert len(heat) == 946 and heat["id"].is_unique
    assert set(heat["kind"]) == {"chp"} and (heat["capacity_mw"] > 0).all()
    assert (heat["capacity_mw"] >= 300).sum() == 745
    # the Shanxi box of the README: 149 plants, 119 of them >= 300 MW
    box = heat.cx[110:114.6, 34.5:40.8]
    assert (len(box), int((box["capacity_mw"] >= 300).sum())) == (149, 119)
    assert (
        attribution("gppd") == "Global Power Plant Database, World Resources Institute (CC BY 4.0)"
    )


def test_the_gppd_readme_carries_the_licence_and_says_what_it_does_not_know():
    text = (get_path("gppd_coal_plants").parent / "README.md").read_text(encoding="utf-8")
    assert "Global Power Plant Database, World Resources Institute (CC BY 4.0)" in text
    assert "creativecommons.org/licenses/by/4.0" in text
    for topic in ("Which plants supply heat", "≥ 300 MW", "Duplicate sites"):
        assert topic in text


def test_the_gppd_conversion():
    """tools.gppd on rows shaped like the published file: repeated rows once, units of one id
    merged, shut-down and planned plants left out, plants sharing a site named."""
    from tools.gppd import convert

    def row(pid, name, mw, lat, lon, status=None, year=2010.0):
        return {"Power Plant ID": pid, "Name": name, "Fuel": "Coal", "Capacity (MW)": mw,
                "Commissioning Date": year, "Owner": "o", "Operational Status": status,
                "Location": "x", "Latitude": lat, "Longitude": lon, "Source": "s",
                "Geolocation Source": "g"}  # fmt: skip

    raw = pd.DataFrame(
        [
            row("1", "Dup", 120.0, 38.0, 112.0),
            row("1", "Dup", 120.0, 38.0, 112.0),
            row("2", "Unit 1", 150.0, 37.0, 112.5),
            row("2", "Unit 2", 150.0, 37.0, 112.5, year=2012.0),
            row("3", "Gone", 600.0, 36.0, 113.0, status="Shutdown"),
            row("4", "Planned", 600.0, 36.5, 113.0, status="Under Construction"),
            row("5", "Neighbour", 320.0, 37.0, 112.5),
        ]
    )
    plants, counts = convert(raw)
    assert plants["id"].tolist() == ["GPPD-1", "GPPD-2", "GPPD-5"]
    assert plants["capacity_mw"].tolist() == [120.0, 300.0, 320.0]
    assert plants["units"].tolist() == [1, 2, 1]
    assert plants["same_site"].tolist() == ["", "GPPD-5", "GPPD-2"]
    assert counts["repeated_rows_dropped"] == 1 and counts["left_out_shutdown"] == 1
    assert counts["left_out_under_construction"] == 1


def test_the_gppd_attribution_is_in_the_footer_sources():
    from spatial.export.figures import source_phrases

    phrases = source_phrases({"heat_sources": resolve("gppd")})
    assert phrases[0].endswith(
        "gppd_coal_plants.csv（Global Power Plant Database, World Resources Institute (CC BY 4.0)）"
    )
    assert attribution(get_path("heat_sources.csv")) == ""  # the demo's own file: no credit

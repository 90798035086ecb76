"""The web map: one offline HTML file, its data escaped, Amap alignment, and a real browser.

The browser test opens map.html from file:// in Debian's headless Chromium with the network
blocked (see ``tests/export/browser.py``), waits for Leaflet, checks the layers, opens a popup
with a real click, searches, measures, and checks that no request left the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from spatial.errors import SpatialError
from spatial.export import webmap, webmap_encode
from spatial.export.webmap import tile_templates, write_map
from spatial.policy import FactSpec, load_policy
from spatial.vocabulary import label
from tests.export.browser import Browser, browser_missing, find_chromium
from tests.helpers import CURTAIL_NAME, XSS_AREA, XSS_NAME, XSS_SCRIPT, sample

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "spatial" / "export" / "assets"
URL_RE = re.compile(r"https?://[^\s\"'<>()\\]+")
# Not fetched by the page: the SVG namespace and the href of Leaflet's attribution link.
NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
BLOCK_RE = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)
TIANDITU_TEST_KEY = "0123456789abcdef0123456789abcdef"


STACKED = ["祁县甲厂", "同址甲厂", "同址<i>乙</i>厂"]  # three plants at one spot: rows 4, 6, 7


def counties() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two neighbouring counties whose shared border wiggles (hundreds of vertices, 4 m
    wiggles), and their seats."""
    lat = np.linspace(37.20, 37.50, 601)
    border_lon = 112.45 + 0.00005 * np.sin(np.arange(601))  # +-4.4 m
    west = Polygon([(112.20, 37.20), *zip(border_lon, lat, strict=True), (112.20, 37.50)])
    east = Polygon([*zip(border_lon, lat, strict=True), (112.70, 37.50), (112.70, 37.20)])
    boundaries = gpd.GeoDataFrame(
        {"code": ["140727", "140703"], "name": ["祁县", "太谷区"]},
        geometry=[west, east],
        crs="EPSG:4326",
    )
    seats = gpd.GeoDataFrame(
        {"name": ["祁县", "太谷区"]},
        geometry=gpd.points_from_xy([112.335, 112.55], [37.36, 37.42]),
        crs="EPSG:4326",
    )
    return boundaries, seats


HEAT_RULE = FactSpec(
    name="in_heat_radius",
    layer="heat_sources",
    within_m=30000.0,
    distance_column="dist_heat_m",
    nearest_column="heat_source_id",
    ref="001_522351a5754bb1d1.txt §三(二)8",
    policy="xinzhou-2024",
    where=({"kind": "chp", "capacity_mw": {"min": 300}}, {"kind": "industrial"}),
    buffer_layer="heat_radius_30km",
)


def blocks(html: str) -> dict[str, object]:
    """The JSON blocks of a map page, decoded."""
    return {ident: json.loads(text) for ident, text in BLOCK_RE.findall(html)}


def layer_data(html: str, layer_id: str) -> object:
    """A layer's data; coordinates (millionths of a degree in the page) in degrees."""
    data = blocks(html)
    spec = next(s for s in data["sm-config"]["layers"] if s["id"] == layer_id)
    out = data[spec["data"]]
    for name, column in out.get("columns", {}).items():
        if isinstance(column, dict) and "e6" in column:
            out["columns"][name] = [v / 1e6 for v in column["e6"]]
    return out


@pytest.fixture(scope="module")
def maps(tmp_path_factory) -> dict[str, Path]:
    """map.html written with each basemap (and a map link on the offline one)."""
    enterprises, layers = sample()
    boundaries, seats = counties()
    folder = tmp_path_factory.mktemp("maps")
    out = {}
    for basemap in ("none", "osm", "amap", "tianditu"):
        out[basemap] = write_map(
            folder / f"{basemap}.html",
            enterprises,
            layers,
            basemap=basemap,
            tianditu_key=TIANDITU_TEST_KEY,
            map_url="https://intranet.example.gov.cn/screening/2024/map.html"
            if basemap == "none"
            else None,
            counties=boundaries,
            county_seats=seats,
            as_of="2024-11-15",
            policies=[load_policy("xinzhou-2024")],
            facts={"in_heat_radius": HEAT_RULE},
        )
    return out


# --------------------------------------------------------------------------------------------
# The file


@pytest.mark.parametrize("basemap", ["none", "osm", "amap", "tianditu"])
def test_no_url_but_tile_templates(maps, basemap):
    html = maps[basemap].read_text(encoding="utf-8")
    tiles = {t["url"] for t in tile_templates(basemap, TIANDITU_TEST_KEY)}
    allowed = tiles | NOT_FETCHED
    if basemap == "none":
        allowed.add("https://intranet.example.gov.cn/screening/2024/map.html")
    urls = set(URL_RE.findall(html))
    assert urls <= allowed, urls - allowed
    assert tiles <= urls  # the templates are really there (the regex sees URLs)
    # and nothing is loaded by tag or stylesheet
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|@import|url\(\s*['\"]?(https?:)?//", html)


def test_offline_basemap_has_no_tile_layer(maps):
    config = blocks(maps["none"].read_text(encoding="utf-8"))["sm-config"]
    assert config["basemap"] == []
    assert "tile.openstreetmap.org" not in maps["none"].read_text(encoding="utf-8")


def test_assets_inlined_and_pinned():
    """Every vendored file is listed with its checksum, each package with its version and
    licence; the page carries the banner of each."""
    sums = {}
    for line in (ASSETS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name] = digest
    for name, digest in sums.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    versions = webmap.asset_versions()
    assert versions["leaflet"]["version"] == "1.9.4"
    for folder in versions:
        assert any((ASSETS / folder).glob("LICENSE*")), folder
        assert any(name.startswith(folder + "/") for name in sums), folder
    html = webmap._inline_assets()
    for info in versions.values():
        assert f"{info['package']} {info['version']}" in html


def test_tianditu_key_from_option_or_environment(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(SpatialError, match="TIANDITU_KEY"):
        tile_templates("tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    assert all(t["url"].endswith("&tk=abc123") for t in tile_templates("tianditu"))
    assert tile_templates("tianditu", "def456")[0]["url"].endswith("&tk=def456")
    with pytest.raises(SpatialError, match="letters and digits"):
        tile_templates("tianditu", "abc&callback=x")
    with pytest.raises(SpatialError, match="unknown basemap"):
        tile_templates("google")


def test_text_from_the_data_never_reaches_html_unescaped(maps):
    html = maps["none"].read_text(encoding="utf-8")
    for hostile in ("<img src=x", "</script><script>window.__xss", "<svg onload", "<b>粗体"):
        assert hostile not in html
    # ... and the data still hold the exact text, for the runtime to escape when it shows it
    table = layer_data(html, "enterprises")["columns"]
    assert XSS_NAME in table["name"] and XSS_SCRIPT in table["name"]
    zone_areas = [
        f["properties"].get("area_name")
        for ident, data in blocks(html).items()
        if isinstance(data, dict) and data.get("type") == "FeatureCollection"
        for f in data["features"]
    ]
    assert XSS_AREA in zone_areas


def test_text_is_not_a_template(tmp_path):
    """Folium renders through Jinja: the data must never be parsed as a template."""
    enterprises, _ = sample()
    enterprises.loc[0, "name"] = "{{ 7*7 }}{% if x %}{# c #}"
    html = write_map(tmp_path / "m.html", enterprises, {}, basemap="none").read_text("utf-8")
    assert layer_data(html, "enterprises")["columns"]["name"][0] == "{{ 7*7 }}{% if x %}{# c #}"


def test_popup_fields_and_categories(maps):
    html = maps["osm"].read_text(encoding="utf-8")
    config = blocks(html)["sm-config"]
    spec = next(s for s in config["layers"] if s["id"] == "enterprises")
    assert [c["key"] for c in spec["categories"]] == [
        "shutdown",
        "review",  # an open question is drawn above the curtailments (engine's severity)
        "curtail",
        "rotate",
        "exempt",
        "(blank)",
    ]
    fields = [col for _, col, _ in spec["popup"]["fields"]]
    assert fields[:2] == ["id", "industry"]
    assert {"dist_builtup_m", "action", "curtail_pct", "stop_days", "rule_ref", "reason_zh"} <= set(
        fields
    )
    table = layer_data(html, "enterprises")["columns"]
    assert table["industry"][0] == "铸造" and table["industry"][5] == "mystery"
    assert table["dist_builtup_m"][:2] == [2973, 0]
    assert table["action"][0] == label(
        "action", "curtail"
    )  # the words an official reads, not the code
    labels = [s["label"] for s in config["layers"]]
    assert labels[0] == "企业" and "第一阶段" in labels and "第二阶段" in labels
    groups = {s["group"] for s in config["layers"]}
    assert {"企业：管控措施", "范围", "热源", "定襄分区（按阶段）"} <= groups


def test_without_action_colours_by_near_city(tmp_path):
    enterprises, _ = sample()
    enterprises = enterprises.drop(columns=["action", "curtail_pct", "stop_days"])
    html = write_map(tmp_path / "m.html", enterprises, {}, basemap="none").read_text("utf-8")
    spec = next(s for s in blocks(html)["sm-config"]["layers"] if s["id"] == "enterprises")
    assert [c["key"] for c in spec["categories"]] == ["near", "far", "unknown"]
    assert "near_city" in [col for _, col, _ in spec["popup"]["fields"]]


def test_amap_shifts_every_layer_to_gcj02(maps):
    """Amap tiles are GCJ-02: every coordinate moves by 100-700 m (here ~ 300-600 m)."""
    geod = pyproj.Geod(ellps="WGS84")

    def shift_m(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
        return geod.inv(*(np.asarray(v, dtype=float) for v in (lon_a, lat_a, lon_b, lat_b)))[2]

    wgs = maps["osm"].read_text(encoding="utf-8")
    gcj = maps["amap"].read_text(encoding="utf-8")
    a, b = layer_data(wgs, "enterprises")["columns"], layer_data(gcj, "enterprises")["columns"]
    shift = shift_m(a["lon"], a["lat"], b["lon"], b["lat"])
    assert np.all((shift > 100) & (shift < 700)), shift
    for layer_id in ("builtup", "near_city_10km", "heat_radius_30km", "zones_0"):
        ring_a = layer_data(wgs, layer_id)["features"][0]["geometry"]["coordinates"][0]
        ring_b = layer_data(gcj, layer_id)["features"][0]["geometry"]["coordinates"][0]
        (lon_a, lat_a), (lon_b, lat_b) = np.array(ring_a).T, np.array(ring_b).T
        shift = shift_m(lon_a, lat_a, lon_b, lat_b)
        assert np.all((shift > 100) & (shift < 700)), layer_id
    heat_a, heat_b = layer_data(wgs, "heat_sources"), layer_data(gcj, "heat_sources")
    shift = shift_m(
        heat_a["columns"]["lon"],
        heat_a["columns"]["lat"],
        heat_b["columns"]["lon"],
        heat_b["columns"]["lat"],
    )
    assert np.all((shift > 100) & (shift < 700))
    # the OSM map is not shifted: its coordinates are the data's (CGCS2000 = WGS84 here)
    assert a["lon"][0] == 112.30 and a["lat"][0] == 37.35


def test_map_url_link_and_qr(maps, tmp_path):
    config = blocks(maps["none"].read_text(encoding="utf-8"))["sm-config"]
    assert config["link"]["url"] == "https://intranet.example.gov.cn/screening/2024/map.html"
    assert config["link"]["qr"].startswith("data:image/png;base64,")
    enterprises, layers = sample()
    for bad in ("javascript:alert(1)", "intranet/map.html", "https://a b"):
        with pytest.raises(SpatialError, match="map_url"):
            write_map(tmp_path / "m.html", enterprises, layers, basemap="none", map_url=bad)
    assert not (tmp_path / "m.html").exists()


def test_written_atomically_and_replaced(tmp_path):
    enterprises, layers = sample()
    target = tmp_path / "map.html"
    target.write_text("old", encoding="utf-8")
    assert write_map(target, enterprises, layers, basemap="none") == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


def test_many_plants_stay_compact(tmp_path):
    """Repeated texts are stored once (dictionary-encoded): 3000 plants, well under 300 B each."""
    enterprises, _ = sample()
    many = enterprises.iloc[np.arange(3000) % 6].reset_index(drop=True)
    many["id"] = [f"P{i:05d}" for i in range(3000)]
    many = many.set_geometry(
        gpd.points_from_xy(112 + np.arange(3000) * 1e-4, 37 + np.arange(3000) * 1e-4),
        crs="EPSG:4490",
    )
    path = write_map(tmp_path / "m.html", many, {}, basemap="none")
    table = layer_data(path.read_text(encoding="utf-8"), "enterprises")["columns"]
    assert set(table["reason_zh"]) == {"dict", "codes"}
    assert isinstance(table["id"], list)
    assert path.stat().st_size - len(webmap._inline_assets().encode()) < 3000 * 300


# --------------------------------------------------------------------------------------------
# Orientation, heat sources, information box


def test_county_outlines_simplified_in_metres_keep_shared_border(maps):
    html = maps["none"].read_text(encoding="utf-8")
    features = layer_data(html, "counties")["features"]
    assert [f["properties"]["name"] for f in features] == ["祁县", "太谷区"]
    lines = [shapely.geometry.shape(f["geometry"]) for f in features]
    # the 601-vertex wiggly border is gone (4 m wiggles, under the 60 m tolerance) ...
    assert all(shapely.get_num_coordinates(line) < 60 for line in lines)
    # ... and both counties still draw the same border: no sliver, no gap
    shared = lines[0].intersection(lines[1])
    assert shared.length > 0.29  # degrees of latitude: the whole 0.30 border
    # ... within the tolerance of the true outline, measured in metres (UTM 49N)
    boundaries, _ = counties()
    true = boundaries.to_crs(32649).geometry.boundary
    drawn = gpd.GeoSeries(lines, crs="EPSG:4326").to_crs(32649)
    for a, b in zip(true, drawn, strict=True):
        assert a.hausdorff_distance(b) <= webmap.COUNTY_SIMPLIFY_M + 1
    style = next(s for s in blocks(html)["sm-config"]["layers"] if s["id"] == "counties")
    assert style["popup"] is None and style["z"] == 0  # below everything, never takes a click


def test_place_labels_from_counties_seats_and_builtup(maps, tmp_path):
    labels = layer_data(maps["none"].read_text(encoding="utf-8"), "labels")["columns"]
    texts = labels["text"]
    # seats carry the county name once: no second label at the county's centre, and the
    # built-up areas of the same name are not labelled again
    assert sorted(texts) == ["太谷区", "祁县"]
    assert labels["cls"] == [1, 1]
    # without counties, built-up area names are the labels (county level: seat style)
    enterprises, layers = sample()
    html = write_map(tmp_path / "m.html", enterprises, layers, basemap="none").read_text("utf-8")
    labels = layer_data(html, "labels")["columns"]
    assert sorted(labels["text"]) == ["太谷区", "祁县"] and labels["cls"] == [1, 1]


def test_counties_without_a_name_column_are_refused(tmp_path):
    enterprises, layers = sample()
    boundaries, _ = counties()
    with pytest.raises(SpatialError, match=r"counties: a name column is needed.*found code"):
        write_map(
            tmp_path / "m.html",
            enterprises,
            layers,
            basemap="none",
            counties=boundaries.rename(columns={"name": "x"}),
        )
    assert not (tmp_path / "m.html").exists()


def test_counties_around_the_plants_from_the_shipped_boundaries():
    enterprises, _ = sample()
    outlines, seats = webmap.counties_around(enterprises)
    assert {"祁县", "太谷区", "平遥县"} <= set(outlines["name"])  # neighbours too (margin)
    assert "祁县" in set(seats["name"])
    west, south, east, north = seats.total_bounds  # seats inside the extent and its margin
    assert west >= 112.2 and east <= 112.7 and south >= 37.25 and north <= 37.5
    assert webmap.counties_around(enterprises.iloc[:0]) == (None, None)


@pytest.mark.parametrize(
    ("kind", "capacity", "qualifies", "words"),
    [
        ("chp", 350.0, True, ["符合", "装机容量350 MW ≥ 300 MW", "计入30公里供热半径"]),
        ("chp", 300.0, True, ["装机容量300 MW ≥ 300 MW"]),
        ("chp", 299.5, False, ["不符合", "装机容量299.5 MW < 300 MW"]),
        ("chp", None, False, ["不符合", "装机容量空缺，无法判定"]),
        ("industrial", 40.0, True, ["符合", "类型为工业供热"]),
    ],
)
def test_heat_qualification_says_why(kind, capacity, qualifies, words):
    heat = pd.DataFrame({"kind": [kind], "capacity_mw": [capacity]})
    ok, why = webmap.heat_qualification(heat, HEAT_RULE, webmap._cite_full)
    assert ok == [qualifies]
    for word in words:
        assert word in why[0]
    # cited by title, number and clause, never by file name
    assert (
        "《忻州市落实〈空气质量持续改善行动计划〉实施方案》（忻政发〔2024〕7号）三（二）8" in why[0]
    )
    assert ".txt" not in why[0]


def test_heat_popup_data_and_colours(maps):
    html = maps["none"].read_text(encoding="utf-8")
    table = layer_data(html, "heat_sources")["columns"]
    assert table["qualifies"] == [True, True]
    assert table["color"] == ["#b2182b", "#b2182b"]
    spec = next(s for s in blocks(html)["sm-config"]["layers"] if s["id"] == "heat_sources")
    assert ["计入30公里供热半径", "qualifies", "yesno"] in spec["popup"]["fields"]
    weak = sample()[1]["heat_sources"].assign(capacity_mw=[100.0, 40.0])
    layer = webmap.heat_sources_layer(weak, HEAT_RULE)
    assert json.loads(layer.data)["columns"]["color"] == ["#7f7f7f", "#b2182b"]
    assert {item["label"] for item in layer.legend} == {
        "热电联产热源（不计入30公里半径）",
        "工业供热热源（计入30公里半径）",
    }


def test_info_box_as_of_and_documents(maps):
    config = blocks(maps["none"].read_text(encoding="utf-8"))["sm-config"]
    assert config["asOf"] == "2024年11月15日"
    # the table's own document, then the one its rules cite (the built-up definition)
    assert config["documents"] == [
        "《忻州市落实〈空气质量持续改善行动计划〉实施方案》（忻政发〔2024〕7号，忻州市人民政府，"
        "2024年4月9日）",
        "《晋中市2019-2020年秋冬季工业企业错峰生产行动方案》（市工信产发〔2019〕79号，"
        "晋中市工业和信息化局，2019年8月21日）",
    ]
    assert set(config["countyBounds"]) == {"祁县", "太谷区"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", "  ", "甲", "乙 ", "<b>", "1", "2024-10-31"]),
            st.floats(allow_nan=True, allow_infinity=False, width=32),
            st.integers(-5, 5),
        ),
        min_size=0,
        max_size=40,
    )
)
def test_fast_columns_decode_to_the_plain_values(values):
    """The encoded columns of large layers read back as the plain per-row values."""
    series = pd.Series(values, dtype=object)
    decoded = json.loads(webmap_encode._column_json(series))
    if isinstance(decoded, dict):
        decoded = [None if c < 0 else decoded["dict"][c] for c in decoded["codes"]]
    assert decoded == webmap_encode._values(series)
    numbers = pd.to_numeric(series, errors="coerce")
    for digits in (0, 2):
        got = json.loads(webmap_encode._column_json(series, "metres", digits))
        assert got == webmap_encode._values(numbers, "metres", digits)


# --------------------------------------------------------------------------------------------
# In a browser

CHROMIUM = find_chromium()
NO_BROWSER = browser_missing()
needs_chromium = pytest.mark.skipif(NO_BROWSER is not None, reason=str(NO_BROWSER))


@pytest.fixture(scope="module")
def browser():
    with Browser(CHROMIUM, width=1366, height=768) as b:  # a common office laptop screen
        yield b


def _xy(page, lat: float, lon: float) -> tuple[float, float]:
    """Centre the map on a point at zoom 14 (no animation), wait until it is drawn (two
    frames); return its viewport position."""
    return tuple(
        page.evaluate(
            f"""(async () => {{
            const map = spatialMap.map, ll = [{lat}, {lon}];
            map.closePopup();
            map.setView(ll, 14, {{animate: false}});
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            const p = map.latLngToContainerPoint(ll);
            const r = map.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top];
        }})()"""
        )
    )


def _plant_xy(page, row: int) -> tuple[float, float]:
    lat, lon = page.evaluate(
        f"(() => {{ const t = spatialMap.enterprises.table;"
        f" return [t.cols.lat[{row}], t.cols.lon[{row}]]; }})()"
    )
    return _xy(page, lat, lon)


def _popup_text(page) -> str:
    """Text of the popup open now (a closed one fades out for 200 ms: not that one)."""
    return page.wait_for(
        "spatialMap.popup && spatialMap.popup.getElement()"
        " .querySelector('.leaflet-popup-content').innerText",
        timeout=5,
    )


def _key(page, key: str, code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        page.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code},
        )


@needs_chromium
def test_browser_offline_map(maps, browser):
    browser.proxy.requests.clear()
    page = browser.open(maps["none"])
    ready_ms = page.wait_for("window.spatialMap && spatialMap.ready && spatialMap.readyAt")
    assert ready_ms < 10_000

    # the layers exist, with every plant
    keys = page.evaluate("Object.keys(spatialMap.layers)")
    assert {"builtup", "near_city_10km", "heat_radius_30km", "heat_sources"} <= set(keys)
    assert {"enterprises:curtail", "enterprises:shutdown", "zones_0", "zones_1"} <= set(keys)
    counts = page.evaluate("Object.fromEntries(spatialMap.entries.map(e => [e.key, e.count]))")
    assert sum(v for k, v in counts.items() if k.startswith("enterprises:")) == 8
    assert counts["heat_sources"] == 2 and counts["zones_1"] == 2
    labels = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays span'))"
        ".map(s => s.textContent.trim())"
    )
    for text in ("企业：管控措施", "错峰生产（1）", "定襄分区（按阶段）", "第二阶段", "建成区"):
        assert text in labels
    legend = page.evaluate("document.querySelector('.sm-legend').innerText")
    assert "错峰生产" in legend and "测地线" in legend
    assert page.evaluate("!!document.querySelector('.leaflet-control-measure')")
    assert page.evaluate("!!document.querySelector('.leaflet-control-zoom-fullscreen')")
    assert page.evaluate("document.querySelector('.sm-info a').href").startswith("https://intranet")

    # a real click on a plant opens its popup, in Chinese
    page.click(*_plant_xy(page, 0))
    text = _popup_text(page)
    for expected in (CURTAIL_NAME, "行业", "铸造", "距建成区", "2,973 米", "管控措施\t错峰生产"):
        assert expected in text
    assert "curtail" not in text  # no machine code in what a person reads
    for expected in (
        "限产比例",
        "30%",
        "市工信产发〔2019〕79号 三（一）4",
        "铸造企业，位于建成区周边10公里内",
    ):
        assert expected in text

    # hostile names show as text, in the popup, the tooltip and the search list
    page.click(*_plant_xy(page, 1))
    text = _popup_text(page)
    assert XSS_NAME in text and "<b>粗体</b>" in text
    x, y = _plant_xy(page, 2)
    for dx in (120, 0):  # away, then onto the plant (Leaflet throttles hover tests to 32 ms)
        time.sleep(0.05)
        page.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + dx, "y": y + dx})
    tooltip = page.wait_for(
        "spatialMap.tooltip && spatialMap.tooltip._smRow === 2"
        " && spatialMap.tooltip.getElement().innerText",
        5,
    )
    assert tooltip == XSS_SCRIPT
    page.click(*_xy(page, 37.315, 112.565))  # the zone named XSS_AREA
    text = _popup_text(page)
    assert XSS_AREA in text and "集群" in text and "第二阶段" in text

    # a category switched off in the layer control is neither drawn nor clickable
    toggle = (
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".find(l => l.textContent.trim() === '停产治理（1）').querySelector('input').click()"
    )
    page.evaluate(toggle)
    assert page.evaluate("spatialMap.enterprises.plants._visible[0]") is False
    page.click(*_plant_xy(page, 1))
    time.sleep(0.3)
    assert page.evaluate("spatialMap.popup") is None
    page.evaluate(toggle)
    page.click(*_plant_xy(page, 1))
    assert XSS_NAME in _popup_text(page)

    # search by name: type, wait for the list, press Enter → the plant's popup
    page.evaluate("document.querySelector('.sm-search-input').focus()")
    page.send("Input.insertText", {"text": "onerror"})
    hits = page.wait_for(
        "Array.from(document.querySelectorAll('.sm-search-hit')).map(li => li.textContent)", 5
    )
    assert hits == [XSS_NAME + " · 祁县"]
    page.evaluate("document.querySelector('.sm-search-input').value = ''")
    page.send("Input.insertText", {"text": "昌源"})
    page.wait_for("document.querySelectorAll('.sm-search-hit').length === 1", 5)
    _key(page, "Enter", 13)
    assert CURTAIL_NAME in _popup_text(page)

    # measure a line in metres and kilometres (Chinese UI)
    page.evaluate("spatialMap.map.closePopup(); document.querySelector('.js-start').click()")
    cx, cy = page.evaluate(
        "(() => { const r = spatialMap.map.getContainer().getBoundingClientRect();"
        " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    page.click(cx - 150, cy)
    page.click(cx + 150, cy)
    page.evaluate("document.querySelector('.js-finish').click()")
    measured = _popup_text(page)
    assert "米" in measured and "公里" in measured, measured

    # nothing ran, nothing failed, nothing left the machine
    assert page.evaluate("window.__xss === undefined")
    assert page.evaluate("document.querySelectorAll('[onerror], [onload]').length") == 0
    assert page.dialogs() == []
    assert page.errors() == []
    assert page.external_requests() == []
    assert browser.proxy.page_hosts() == []
    assert all(url.startswith(("file:", "data:")) for url in page.requests())

    page.evaluate(
        "spatialMap.map.closePopup();"
        " spatialMap.map.fitBounds(spatialMap.config.bounds, {animate: false, padding: [20, 20]});"
        " new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))"
    )
    page.screenshot(ROOT / "outputs" / "map_browser_test.png")


@needs_chromium
def test_browser_only_tile_requests_with_a_basemap(maps, browser):
    """With OpenStreetMap the page asks for tiles and for nothing else; the recorder sees them
    (which also shows that the offline test would have seen a request)."""
    browser.proxy.requests.clear()
    page = browser.open(maps["osm"])
    page.wait_for("window.spatialMap && spatialMap.ready")
    page.wait_for("document.querySelectorAll('img.leaflet-tile').length > 0", 5)
    external = page.external_requests()
    assert external
    assert all(url.startswith("https://tile.openstreetmap.org/") for url in external), external
    deadline = time.monotonic() + 5
    while not browser.proxy.page_hosts() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(browser.proxy.page_hosts()) == {"tile.openstreetmap.org"}
    assert page.errors() == []


def _open(browser, path: Path):
    page = browser.open(path)
    page.wait_for("window.spatialMap && spatialMap.ready")
    return page


def _rows_at(page, row: int) -> list[int]:
    return page.evaluate(
        f"""(() => {{ const t = spatialMap.enterprises.table, P = spatialMap.enterprises.plants;
        const p = spatialMap.map.latLngToLayerPoint([t.cols.lat[{row}], t.cols.lon[{row}]]);
        return P.hitAll(p); }})()"""
    )


@needs_chromium
def test_browser_stacked_plants_all_reachable(maps, browser):
    """A click on three plants at one spot lists all three; a pick opens that plant."""
    page = _open(browser, maps["none"])
    page.click(*_plant_xy(page, 4))
    items = page.wait_for(
        "spatialMap.popup && Array.from(spatialMap.popup.getElement()"
        ".querySelectorAll('.sm-pick-item')).map(li => li.textContent)",
        5,
    )
    # most severe (on top) first: review (row 6) above rotate (row 4) above exempt (row 7)
    assert [item.split(" · ")[0] for item in items] == [STACKED[1], STACKED[0], STACKED[2]]
    assert "此处有 3 家企业" in _popup_text(page)
    page.evaluate(
        "Array.from(document.querySelectorAll('.sm-pick-item'))"
        ".find(li => li.textContent.startsWith('同址<i>乙</i>厂')).click()"
    )
    page.wait_for("spatialMap.popup && spatialMap.popup._smRow === 7", 5)
    assert "QX-008" in _popup_text(page) and "同址<i>乙</i>厂" in _popup_text(page)
    assert page.evaluate("document.querySelectorAll('.leaflet-popup i').length") == 0
    assert page.errors() == []


@needs_chromium
def test_browser_county_filter_hides_other_counties(maps, browser):
    page = _open(browser, maps["none"])
    options = page.evaluate(
        "Array.from(document.querySelectorAll('.sm-filter-county option')).map(o => o.textContent)"
    )
    # in pinyin order (祁 qí before 太 tài), blanks last, markup shown as text
    assert options == [
        "全部（8）",
        "<b>太谷区</b>（1）",
        "祁县（3）",
        "太谷区（3）",
        "（未填县）（1）",
    ]
    page.evaluate(
        "(() => { const s = document.querySelector('.sm-filter-county'); s.value = '祁县';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    # counts follow the county; the view is the county's outline
    measures = page.evaluate(
        "Array.from(document.querySelectorAll('.sm-filter-label')).map(s => s.textContent)"
    )
    assert measures == [
        "停产治理（1）",
        "待研判（0）",
        "错峰生产（1）",
        "轮流错峰生产（0）",
        "豁免（1）",
        "未判定（0）",
    ]
    assert page.evaluate(
        "spatialMap.map.getBounds().contains(L.latLngBounds(spatialMap.countyBounds['祁县']))"
    )
    # a plant of another county is neither drawn nor clickable; one of the county is both
    for row, shown in ((4, False), (5, False), (0, True), (1, True)):
        x, y = _plant_xy(page, row)
        alpha = page.evaluate(
            f"""(() => {{ const c = spatialMap.enterprises.plants._container;
            const r = c.getBoundingClientRect();
            const g = c.getContext('2d');
            return g.getImageData({x} - r.left, {y} - r.top, 1, 1).data[3]; }})()"""
        )
        assert (alpha > 0) is shown, row
        assert bool(_rows_at(page, row)) is shown, row
    page.click(*_plant_xy(page, 4))
    time.sleep(0.3)
    assert page.evaluate("spatialMap.popup") is None
    # back to every county: the stacked spot answers again
    page.evaluate(
        "(() => { const s = document.querySelector('.sm-filter-county'); s.value = '*';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    assert _rows_at(page, 4) == [6, 4, 7]  # most severe first: review, rotate, exempt
    # a measure unticked in the filter is unticked in the layer control too, and hidden
    page.evaluate(
        "Array.from(document.querySelectorAll('.sm-filter-measure'))"
        ".find(l => l.textContent.startsWith('轮流错峰生产')).querySelector('input').click()"
    )
    assert _rows_at(page, 4) == [6, 7]
    assert (
        page.evaluate("spatialMap.map.hasLayer(spatialMap.layers['enterprises:rotate'])") is False
    )
    assert page.errors() == []


@needs_chromium
def test_browser_popups_heat_source_builtup_zone(maps, browser):
    page = _open(browser, maps["none"])
    x, y = _xy(page, 37.45, 112.45)  # HS-1: CHP, 350 MW
    page.click(x, y)
    text = _popup_text(page)
    for words in (
        "祁县热电厂",
        "计入30公里供热半径",
        "是",
        "装机容量350 MW ≥ 300 MW",
        "忻政发〔2024〕7号",
    ):
        assert words in text
    page.click(*_xy(page, 37.355, 112.325))  # inside the built-up area of Qixian
    text = _popup_text(page)
    assert "祁县" in text and "级别" in text and "县" in text
    page.click(*_xy(page, 37.315, 112.42))  # the phase-1 zone
    text = _popup_text(page)
    assert "晋昌镇环路" in text and "第一阶段" in text and "环路" in text
    assert page.errors() == []


@needs_chromium
def test_browser_search_list_closes_after_a_pick(maps, browser):
    page = _open(browser, maps["none"])
    page.evaluate("document.querySelector('.sm-search-input').focus()")
    page.send("Input.insertText", {"text": "同址"})
    page.wait_for("document.querySelectorAll('.sm-search-hit').length === 2", 5)
    page.evaluate("document.querySelectorAll('.sm-search-hit')[1].click()")
    assert "同址<i>乙</i>厂" in _popup_text(page)
    assert page.evaluate("document.querySelectorAll('.sm-search-results li').length") == 0
    assert page.evaluate("document.querySelector('.sm-search-input').value") == "同址"


@needs_chromium
def test_browser_controls_fit_1366x768_without_overlap(maps, browser):
    """Layer control expanded, filter and legend open, information box: all on screen, none
    over another."""
    page = _open(browser, maps["none"])
    page.evaluate(
        "spatialMap.control._expand();"
        " document.querySelectorAll('.sm-filter details, .sm-legend details, .sm-info details')"
        ".forEach(d => d.open = true)"
    )
    boxes = page.evaluate(
        """(() => { const out = {};
        for (const sel of ['.leaflet-control-layers', '.sm-filter', '.sm-legend', '.sm-search',
                           '.sm-info', '.leaflet-control-zoom', '.leaflet-control-measure',
                           '.leaflet-control-attribution', '.leaflet-control-scale']) {
          const r = document.querySelector(sel).getBoundingClientRect();
          out[sel] = [r.left, r.top, r.right, r.bottom]; }
        return out; })()"""
    )
    for name, (left, top, right, bottom) in boxes.items():
        assert 0 <= left < right <= 1366 and 0 <= top < bottom <= 768, (name, boxes[name])
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = boxes[a], boxes[b]
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, (a, b, boxes[a], boxes[b])
    # the legend and the information box fold
    page.evaluate("document.querySelector('.sm-legend summary').click()")
    assert page.evaluate("document.querySelector('.sm-legend details').open") is False
    # folded at 1366 x 768, the title and the date still show; unfolded, the documents
    page.evaluate("document.querySelector('.sm-info details').open = false")
    info = page.evaluate("document.querySelector('.sm-info').innerText")
    assert "筛查基准日：2024年11月15日" in info and "忻政发" not in info
    page.evaluate("document.querySelector('.sm-info summary').click()")
    info = page.evaluate("document.querySelector('.sm-info').innerText")
    assert "忻政发〔2024〕7号" in info
    assert "底图：无（离线空白底图）" in info and "县界仅供示意" in info
    page.screenshot(ROOT / "outputs" / "map_1366x768.png")


@needs_chromium
def test_browser_place_labels_do_not_overlap(maps, browser):
    page = _open(browser, maps["none"])
    page.evaluate("spatialMap.map.setView([37.38, 112.45], 10, {animate: false}); null")
    shown = page.evaluate("spatialMap.labels.shown().map(l => l.text)")
    assert sorted(shown) == ["太谷区", "祁县"]
    rects = page.evaluate(
        "Array.from(document.querySelectorAll('.sm-label')).map(e => {"
        " const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"
    )
    for i, (l1, t1, r1, b1) in enumerate(rects):
        for l2, t2, r2, b2 in rects[i + 1 :]:
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1
    # labels sit above the plants and the heat sources, and never take a click
    assert page.evaluate("getComputedStyle(spatialMap.map.getPane('smLabels')).zIndex") == "640"
    assert page.evaluate("getComputedStyle(document.querySelector('.sm-label')).pointerEvents") == (
        "none"
    )


@needs_chromium
def test_browser_print_fits_the_region_on_one_a4_landscape_page(maps, browser):
    page = _open(browser, maps["none"])
    page.evaluate("spatialMap.map.setView([37.35, 112.30], 16, {animate: false}); null")
    page.evaluate("spatialMap.beforePrint()")
    assert page.evaluate("spatialMap.map.getSize().x") == 1046
    assert page.evaluate(
        "spatialMap.map.getBounds().contains(L.latLngBounds(spatialMap.config.bounds))"
    )
    page.evaluate("spatialMap.afterPrint()")
    assert page.evaluate("spatialMap.map.getZoom()") == 16
    pdf = base64.b64decode(
        page.send("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})["data"]
    )
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    width, height = float(box.group(1)), float(box.group(2))
    assert abs(width - 841.9) < 2 and abs(height - 595.3) < 2  # A4 landscape, in points

"""Static figures: PNG and PDF per county and overview, Chinese in a CJK font (no tofu) embedded
as TrueType, a geodesic scale bar, a true-north arrow, names never hidden under symbols, county
borders and a locator, a footer with unit, dates, sources, documents and CGCS2000 wording, and
bounded file names."""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.image import AxesImage
from matplotlib.patches import PathPatch
from PIL import Image
from shapely.geometry import Point, box

from spatial.errors import SpatialError
from spatial.export import figures
from spatial.export.figures import (
    LABEL_GID,
    SYMBOL_GID,
    cjk_font,
    document_phrases,
    footer_lines,
    gauss_kruger_crs,
    geodesic_bar_length,
    nice_length,
    render_figure,
    safe_stem,
    source_phrases,
    write_figures,
)
from spatial.policy import load_policies
from spatial.vocabulary import label
from tests.helpers import sample

URL = "https://intranet.example.gov.cn/screening/2024/map.html"
GK114 = pyproj.CRS.from_epsg(4547)


def axes(fig, label):
    return next(a for a in fig.axes if a.get_label() == label)


def counties_layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["祁县", "太谷区"]},
        geometry=[box(112.20, 37.20, 112.45, 37.50), box(112.45, 37.20, 112.70, 37.50)],
        crs="EPSG:4490",
    )


@pytest.mark.slow
def test_png_and_pdf_per_county_and_overview(tmp_path):
    enterprises, layers = sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (a tofu box) would be a warning
        paths = write_figures(tmp_path / "figures", enterprises, layers, map_url=URL, dpi=100)
    names = [p.name for p in paths]
    assert names == [
        "overview.png",
        "overview.pdf",
        "county_b_太谷区_b.png",
        "county_b_太谷区_b.pdf",
        "county_太谷区.png",
        "county_太谷区.pdf",
        "county_祁县.png",
        "county_祁县.pdf",
    ]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(names)  # no temps
    with Image.open(tmp_path / "figures" / "overview.png") as png:
        assert png.size == (1169, 827)  # A4 landscape at 100 dpi
    pdf = (tmp_path / "figures" / "county_祁县.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"NotoSansCJK" in pdf  # the font of the noto-cjk-sans-otc dependency
    # the plants are a raster image in the PDF, not thousands of vector markers
    assert b"/Subtype /Image" in pdf


def test_pdf_fonts_are_truetype_never_type3(tmp_path):
    enterprises, layers = sample()
    [pdf] = write_figures(tmp_path, enterprises, layers, formats=("pdf",), counties=False)
    data = pdf.read_bytes()
    assert b"/Type3" not in data and b"/Subtype /Type3" not in data
    assert b"/FontFile2" in data  # TrueType programs
    assert b"/FontFile3" not in data  # no CFF (CID Type 0C) left
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
        rows = listing.stdout.splitlines()[2:]
        assert rows and all("TrueType" in row for row in rows), listing.stdout
        assert "Mismatch" not in listing.stderr
        assert any("NotoSansCJK" in row for row in rows)


def test_chinese_in_noto_sans_cjk_without_missing_glyphs():
    assert cjk_font() == "Noto Sans CJK SC"
    enterprises, layers = sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = render_figure(enterprises, layers, county="祁县", map_url=URL)
        fig.savefig(io.BytesIO(), format="png", dpi=60)
    texts = [t.get_text() for t in fig.texts]
    assert any("祁县" in t for t in texts) and "扫码打开在线地图" in texts
    legend = axes(fig, "legend").get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert f"{label('action', 'curtail')}（1）" in labels
    assert f"{label('action', 'shutdown')}（1）" in labels
    assert legend.get_title().get_text() == "图例"
    moved = enterprises.copy()
    moved.loc[5, "geometry"] = Point(112.55, 37.36)  # a plant of no county beside 太谷区's
    taigu = render_figure(moved, layers, county="太谷区")
    labels = [t.get_text() for t in axes(taigu, "legend").get_legend().get_texts()]
    assert "其他县企业" in labels


@pytest.mark.parametrize(
    ("lon_min", "lon_max", "epsg", "meridian"),
    [
        (111.6, 113.9, 4547, 114),  # Xinzhou-Jinzhong: middle 112.75 → 114°E
        (110.2, 111.0, 4546, 111),
        (73.5, 74.0, 4534, 75),  # westmost zone
        (134.0, 134.8, 4554, 135),  # eastmost zone
        (105.1, 105.4, 4544, 105),
    ],
)
def test_gauss_kruger_zone_by_central_longitude(lon_min, lon_max, epsg, meridian):
    crs = gauss_kruger_crs(lon_min, lon_max)
    assert crs.to_epsg() == epsg
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {meridian}E"
    assert crs.geodetic_crs.name == "China Geodetic Coordinate System 2000"


@given(st.floats(76.5, 133.5), st.floats(0, 2.0))
def test_gauss_kruger_zone_is_the_nearest_meridian(lon, span):
    crs = gauss_kruger_crs(lon - span / 2, lon + span / 2)
    meridian = int(re.search(r"CM (\d+)E", crs.name).group(1))
    assert abs(meridian - lon) <= 1.5 + 1e-9


def test_scale_bar_is_geodesic():
    """Far from the central meridian Gauss-Krüger stretches distances: the bar follows."""
    to_map = pyproj.Transformer.from_crs("EPSG:4326", GK114, always_xy=True)
    to_geo = pyproj.Transformer.from_crs(GK114, "EPSG:4326", always_xy=True)
    geod = pyproj.Geod(ellps="GRS80")
    x, y = to_map.transform(112.6, 38.0)  # 1.4° west of 114°E
    length = geodesic_bar_length(GK114, x, y, 10_000)
    mid_lon, mid_lat = to_geo.transform(x + length / 2, y)
    k = pyproj.Proj(GK114).get_factors(mid_lon, mid_lat).meridional_scale  # conformal
    assert length == pytest.approx(10_000 * k, rel=1e-6)
    assert length - 10_000 > 1.5  # a naive bar would be 1.5+ m (0.015 %) off
    lon2, lat2 = to_geo.transform(x + length, y)
    assert geod.inv(112.6, 38.0, lon2, lat2)[2] == pytest.approx(10_000, abs=1.0)
    assert [nice_length(v) for v in (12_345, 999, 5_000)] == [10_000, 500, 5_000]
    with pytest.raises(ValueError):
        nice_length(0)


def test_north_arrow_points_to_true_north():
    to_map = pyproj.Transformer.from_crs("EPSG:4326", GK114, always_xy=True)
    x, y = to_map.transform(112.6, 38.0)
    ux, uy = figures._true_north(GK114, x, y)
    angle = math.degrees(math.atan2(-ux, uy))  # anticlockwise from grid north
    convergence = pyproj.Proj(GK114).get_factors(112.6, 38.0).meridian_convergence
    assert angle == pytest.approx(convergence, abs=0.01)
    assert 0.7 < abs(angle) < 1.0  # ~ Δλ sin φ = 1.4° × sin 38°


def test_qr_code_only_with_a_map_url():
    enterprises, layers = sample()

    def images(fig) -> list:
        return [
            a
            for ax in fig.axes
            if ax.get_label() not in ("locator", "map")
            for a in ax.get_children()
            if isinstance(a, AxesImage)
        ]

    with_url = render_figure(enterprises, layers, map_url=URL)
    qr = images(with_url)
    assert len(qr) == 1
    modules = np.asarray(qr[0].get_array())
    assert set(np.unique(modules)) == {0, 255}
    assert images(render_figure(enterprises, layers)) == []
    with pytest.raises(SpatialError, match="map_url"):
        render_figure(enterprises, layers, map_url="ftp://x/map.html")


def test_enterprises_without_county_or_action(tmp_path):
    enterprises, layers = sample()
    enterprises = enterprises.drop(columns=["county", "action"])
    paths = write_figures(tmp_path, enterprises, {"builtup": layers["builtup"]}, formats=("png",))
    assert [p.name for p in paths] == ["overview.png"]


# --- labels ------------------------------------------------------------------------------------


def crowded() -> tuple[gpd.GeoDataFrame, dict]:
    """A heat source on the very spot where a town's name would go (繁峙县 in the demo), a
    county seat beside it and two more towns close by."""
    enterprises, layers = sample()
    towns = gpd.GeoDataFrame(
        {"name": ["繁峙县", "代县", "五台县"], "level": ["county"] * 3},
        geometry=[
            box(112.30, 37.34, 112.34, 37.37),
            box(112.35, 37.34, 112.39, 37.37),
            box(112.30, 37.38, 112.34, 37.41),
        ],
        crs="EPSG:4490",
    )
    centre = towns.geometry.iloc[0].representative_point()
    heat = gpd.GeoDataFrame(
        {
            "id": ["HS-7", "HS-8"],
            "name": ["繁峙县滹源煤电", "代县雁门热电"],
            "kind": ["chp", "chp"],
        },
        geometry=[centre, towns.geometry.iloc[1].representative_point()],
        crs="EPSG:4490",
    )
    seats = gpd.GeoDataFrame(
        {"name": ["祁县"]}, geometry=[Point(centre.x + 0.005, centre.y)], crs="EPSG:4490"
    )
    return enterprises, {
        **layers,
        "builtup": towns,
        "heat_sources": heat,
        "county_seats": seats,
        "counties": counties_layer(),
    }


def drawn_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = axes(fig, "map")
    labels = {
        t.get_text(): t.get_window_extent(renderer) for t in ax.texts if t.get_gid() == LABEL_GID
    }
    symbols = []
    for collection in ax.collections:
        if collection.get_gid() == SYMBOL_GID:
            half = math.sqrt(collection.get_sizes()[0]) / 2 * fig.dpi / 72
            for x, y in ax.transData.transform(collection.get_offsets()):
                symbols.append((x - half, y - half, x + half, y + half))
    return labels, symbols


def overlap(a, b) -> bool:
    return a.x0 < b[2] and a.x1 > b[0] and a.y0 < b[3] and a.y1 > b[1]


@pytest.mark.parametrize("county", [None, "祁县"])
def test_names_are_placed_off_the_symbols_and_each_other(county):
    enterprises, layers = crowded()
    fig = render_figure(enterprises, layers, county=county)
    labels, symbols = drawn_boxes(fig)
    assert {"繁峙县", "代县", "五台县", "祁县"} <= set(labels)
    if county:
        assert {"繁峙县滹源煤电", "代县雁门热电"} <= set(labels)  # heat sources named
    assert len(symbols) == 2
    # the town's own anchor is under the star: a centred name would have been hidden
    ax = axes(fig, "map")
    anchor = ax.transData.transform(
        figures._project(enterprises, layers)
        .layers["builtup"]
        .geometry.iloc[0]
        .representative_point()
        .coords[0]
    )
    assert symbols[0][0] < anchor[0] < symbols[0][2]
    for name, extent in labels.items():
        assert not any(overlap(extent, s) for s in symbols), name
    boxes = list(labels.items())
    for i, (a, ea) in enumerate(boxes):
        for b, eb in boxes[i + 1 :]:
            assert not overlap(ea, (eb.x0, eb.y0, eb.x1, eb.y1)), (a, b)
    # names are drawn above every symbol
    top = max(c.get_zorder() for c in ax.collections)
    assert all(t.get_zorder() > top for t in ax.texts if t.get_gid() == LABEL_GID)


def test_dingxiang_zones_named_where_they_overlap():
    enterprises, layers = sample()
    ring = gpd.GeoDataFrame(
        {"phase": [2, 1], "area_name": ["宏道镇", "三环路"]},
        geometry=[Point(112.45, 37.37).buffer(0.05), Point(112.45, 37.37).buffer(0.01)],
        crs="EPSG:4490",
    )
    layers = {**layers, "dingxiang_zones": ring}
    fig = render_figure(enterprises, layers)
    labels, _ = drawn_boxes(fig)
    assert {"宏道镇", "三环路"} <= set(labels)
    ax = axes(fig, "map")
    inner = figures._project(enterprises, layers).layers["dingxiang_zones"].geometry.iloc[1]
    to_data = ax.transData.inverted()

    def centre(extent):
        return Point(to_data.transform(((extent.x0 + extent.x1) / 2, (extent.y0 + extent.y1) / 2)))

    # the town's name sits in its own part of the ring, not on the inner zone drawn over it
    assert not inner.contains(centre(labels["宏道镇"]))
    legend = [t.get_text() for t in axes(fig, "legend").get_legend().get_texts()]
    assert legend.index("第一阶段") < legend.index("第二阶段")


def test_real_county_borders_and_seats_by_default():
    enterprises, layers = sample()
    fig = render_figure(enterprises, layers, county="祁县")
    labels, _ = drawn_boxes(fig)
    assert "祁县" in labels  # the seat of the real county (spatial.counties)
    legend = [t.get_text() for t in axes(fig, "legend").get_legend().get_texts()]
    assert "县级行政区界" in legend


def test_county_borders_and_locator():
    enterprises, layers = sample()
    with_counties = render_figure(enterprises, {**layers, "counties": counties_layer()})
    legend = [t.get_text() for t in axes(with_counties, "legend").get_legend().get_texts()]
    assert "县级行政区界" in legend
    border = [
        p
        for p in axes(with_counties, "map").patches
        if isinstance(p, PathPatch) and p.get_facecolor()[3] == 0
    ]
    assert border and len(border[0].get_path().vertices) >= 10  # both county outlines
    locator = axes(with_counties, "locator")
    assert locator.patches  # the county outlines and the view's frame
    county = render_figure(enterprises, {**layers, "counties": counties_layer()}, county="祁县")
    frame = [p for p in axes(county, "locator").patches if p.get_edgecolor()[0] > 0.8]
    assert frame and frame[-1].get_width() < locator.get_xlim()[1] - locator.get_xlim()[0]
    without = render_figure(enterprises, layers, county_borders=False)
    legend = [t.get_text() for t in axes(without, "legend").get_legend().get_texts()]
    assert "县级行政区界" not in legend


# --- footer ------------------------------------------------------------------------------------


def test_footer_names_unit_dates_sources_documents_and_cgcs2000():
    enterprises, layers = sample()

    documents = document_phrases(load_policies(["xinzhou-2024"]))
    assert documents[0] == (
        "《忻州市落实〈空气质量持续改善行动计划〉实施方案》"
        "（忻政发〔2024〕7号，忻州市人民政府，2024年4月9日）"
    )
    sources = source_phrases({"enterprises": "/x/企业.csv", "builtup": "b.gpkg"})
    assert sources == ["企业清单：企业.csv", "建成区：b.gpkg"]
    fig = render_figure(
        enterprises,
        layers,
        as_of="2024-12-01",
        mapping_unit="忻州市生态环境局",
        sources=sources,
        documents=documents,
    )
    text = "\n".join(t.get_text() for t in fig.texts)
    for expected in (
        "制图单位：忻州市生态环境局",
        "评估日期（数据截至）：2024年12月1日",
        "企业清单：企业.csv",
        "忻政发〔2024〕7号",
        "CGCS2000",
        "高斯-克吕格投影3度带，中央经线东经111°",  # the plants lie at 112.3-112.6°E
        "EPSG:4546",
    ):
        assert expected in text, expected
    assert "WGS 84" not in text and "UTM" not in text
    blank = footer_lines(GK114)
    assert blank[0].startswith("制图单位：____") and "未注明" in blank[0]


# --- file names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("祁县", "祁县"),
        ("../../etc/passwd", "etc_passwd"),
        ("a\x01b\u200bc", "a_b_c"),
        ("CON", "county_CON"),
        (" . ", "county"),
        ("县" * 80, "县" * 30),  # 90 bytes of UTF-8
    ],
)
def test_safe_stem(name, expected):
    assert safe_stem(name) == expected


@given(st.text(min_size=1, max_size=200))
def test_safe_stem_is_always_a_short_plain_file_name(name):
    stem = safe_stem(name)
    assert 0 < len(stem.encode()) <= 90
    assert not set(stem) & set('/\\:*?"<>|\x00') and not stem.startswith(".")
    assert all(ch.isprintable() for ch in stem)


def test_a_county_of_many_cjk_characters_gets_a_bounded_unique_file(tmp_path):
    enterprises, layers = sample()
    long_a, long_b = "长" * 77 + "甲县", "长" * 77 + "乙县"  # the same first 30 characters
    enterprises["county"] = [long_a, long_a, long_b, long_b, "祁县"] + [None] * (
        len(enterprises) - 5
    )
    paths = write_figures(tmp_path, enterprises, layers, formats=("png",), dpi=40)
    names = [p.name for p in paths]
    assert names == [
        "overview.png",
        "county_祁县.png",
        f"county_{'长' * 30}.png",
        f"county_{'长' * 30}_2.png",
    ]
    assert all(len(n.encode()) < 120 for n in names)
    assert all(p.exists() for p in paths)


def test_figures_are_saved_and_released_a_batch_at_a_time(tmp_path, monkeypatch):
    # issue 19: every figure was held until the last was drawn (6.5 GB at 118 counties)
    import gc
    import weakref

    from spatial.export import figures

    drawn: list[weakref.ref] = []
    alive_at_draw: list[int] = []
    render = figures.render_figure

    def counting_render(*args, **kwargs):
        gc.collect()
        alive_at_draw.append(sum(ref() is not None for ref in drawn))
        fig = render(*args, **kwargs)
        drawn.append(weakref.ref(fig))
        return fig

    monkeypatch.setattr(figures, "render_figure", counting_render)
    monkeypatch.setattr(figures, "FIGURE_BATCH", 2)
    enterprises, layers = sample()
    paths = write_figures(tmp_path, enterprises, layers, formats=("png", "pdf"), dpi=40, workers=1)
    assert len(drawn) == 4 and max(alive_at_draw) <= 1  # a batch of 2: its first is the only one
    assert [p.name for p in paths][:4] == [
        "overview.png",
        "overview.pdf",
        "county_b_太谷区_b.png",
        "county_b_太谷区_b.pdf",
    ]
    assert len(paths) == 8 and all(p.stat().st_size > 0 for p in paths)


def _batch_in_a_recorded_process(batch):
    """A figure worker that notes its process id (a module-level function: sent by name)."""
    with open(os.environ["FIGURE_PIDS"], "a") as handle:
        handle.write(f"{os.getpid()}\n")
    return _worker_batch(batch)


_worker_batch = figures._worker_batch


@pytest.mark.skipif(figures._worker_count(2) < 2, reason="one usable core, or no fork here")
def test_figures_drawn_by_two_processes_are_those_of_one(tmp_path, monkeypatch):
    # issue 19: the figures' batches go to one process per core; the files must not change
    enterprises, layers = sample()
    monkeypatch.setattr(figures, "FIGURE_BATCH", 1)  # a batch per figure: overview, 3 counties
    one = write_figures(tmp_path / "one", enterprises, layers, dpi=40, workers=1)
    monkeypatch.setenv("FIGURE_PIDS", str(tmp_path / "pids.txt"))
    monkeypatch.setattr(figures, "_worker_batch", _batch_in_a_recorded_process)
    two = write_figures(tmp_path / "two", enterprises, layers, dpi=40, workers=2)
    pids = (tmp_path / "pids.txt").read_text().split()
    assert len(pids) == 4 and len(set(pids)) == 2 and str(os.getpid()) not in pids
    assert [p.name for p in one] == [p.name for p in two] and len(one) == 8
    for a, b in zip(one, two, strict=True):
        if a.suffix == ".png":
            assert a.read_bytes() == b.read_bytes(), a.name
        else:  # a PDF: its fonts may be cut at other points, its text and pages the same
            assert b.read_bytes().startswith(b"%PDF") and b.stat().st_size > 0.5 * a.stat().st_size


def test_outlines_are_drawn_simplified_within_a_quarter_pixel(tmp_path):
    # issue 19: 5,000 10 km buffers (3.2 million vertices) were written whole into each PDF
    import shapely

    from spatial.geodesic import geodesic_buffer

    enterprises, layers = sample()
    ring = geodesic_buffer(Point(112.45, 37.35), 10_000.0)
    layers = {**layers, "near_city_10km": gpd.GeoDataFrame(geometry=[ring], crs="EPSG:4326")}
    dpi = 100
    fig = render_figure(enterprises, layers, dpi=dpi, county_borders=False)
    ax = axes(fig, "map")
    (x0, x1), width_in = ax.get_xlim(), ax.get_position().width * fig.get_figwidth()
    pixel = (x1 - x0) / (width_in * dpi)
    crs = figures._project(enterprises, layers, False).crs
    data = gpd.GeoSeries([ring], crs="EPSG:4326").to_crs(crs).iloc[0]
    patch = next(
        p
        for p in ax.patches
        if isinstance(p, PathPatch)
        and len(p.get_path().vertices) > 4
        and abs(shapely.Polygon(p.get_path().vertices).area - data.area) < 0.01 * data.area
    )
    drawn = shapely.Polygon(patch.get_path().vertices)
    assert len(drawn.exterior.coords) < 0.5 * len(data.exterior.coords)
    assert shapely.hausdorff_distance(drawn.exterior, data.exterior) <= pixel / 4 + 1e-6


def test_one_font_subset_serves_the_batches_until_a_character_is_new():
    # issue 19: the CJK font was cut (1.5 s) once per batch of figures; now once per new text
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    def figure(text):
        fig = Figure()
        fig.text(0.1, 0.5, text, fontfamily=cjk_font())
        return fig

    def subset_of(fig):
        (text,) = [t for t in fig.texts]
        family = text.get_fontfamily()[0]
        path = font_manager.findfont(font_manager.FontProperties(family=family))
        return family, {chr(c) for c in TTFont(path).getBestCmap()}

    covered: dict = {}
    first, second, again = figure("祁县"), figure("太谷区"), figure("祁县")
    figures._truetype_fonts([first], "榆次", covered)
    family_1, glyphs_1 = subset_of(first)
    assert set("祁县榆次") <= glyphs_1 and "太" not in glyphs_1
    figures._truetype_fonts([second], "榆次", covered)
    family_2, glyphs_2 = subset_of(second)
    assert family_2 != family_1 and set("祁县太谷区榆次") <= glyphs_2  # cut again, with the old
    figures._truetype_fonts([again], "榆次", covered)
    assert subset_of(again)[0] == family_2  # nothing new: the same subset

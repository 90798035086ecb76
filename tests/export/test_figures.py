"""Static figures: PNG and PDF per county and overview, Chinese in a CJK font (no tofu), a
geodesic scale bar, a true-north arrow and the QR code of the map link."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pyproj
import pytest
from matplotlib.image import AxesImage
from PIL import Image

from spatial.errors import SpatialError
from spatial.export import figures
from spatial.export.figures import (
    cjk_font,
    geodesic_bar_length,
    nice_length,
    render_figure,
    write_figures,
)
from tests.export.test_webmap import sample

URL = "https://intranet.example.gov.cn/screening/2024/map.html"
UTM49N = pyproj.CRS.from_epsg(32649)


def test_png_and_pdf_per_county_and_overview(tmp_path):
    enterprises, layers = sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (a tofu box) would be a warning
        paths = write_figures(tmp_path / "figures", enterprises, layers, map_url=URL, dpi=100)
    names = sorted(p.name for p in paths)
    assert names == [
        "county_b_太谷区_b.pdf",
        "county_b_太谷区_b.png",
        "county_太谷区.pdf",
        "county_太谷区.png",
        "county_祁县.pdf",
        "county_祁县.png",
        "overview.pdf",
        "overview.png",
    ]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == names  # no temp files
    with Image.open(tmp_path / "figures" / "overview.png") as png:
        assert png.size == (1169, 827)  # A4 landscape at 100 dpi
    pdf = (tmp_path / "figures" / "county_祁县.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"NotoSansCJK" in pdf  # the font of the noto-cjk-sans-otc dependency


def test_chinese_in_noto_sans_cjk_without_missing_glyphs():
    assert cjk_font() == "Noto Sans CJK SC"
    enterprises, layers = sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = render_figure(enterprises, layers, county="祁县", map_url=URL)
        fig.savefig(io.BytesIO(), format="png", dpi=60)
    texts = [t.get_text() for t in fig.texts]
    assert any("祁县" in t for t in texts) and "扫码打开在线地图" in texts
    legend = fig.axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert "限产（1）" in labels and "停产（1）" in labels and "其他县企业" in labels
    assert legend.get_title().get_text() == "图例"


def test_scale_bar_is_geodesic():
    """Far from the central meridian (111°E) UTM stretches distances: the bar follows."""
    to_map = pyproj.Transformer.from_crs("EPSG:4326", UTM49N, always_xy=True)
    to_geo = pyproj.Transformer.from_crs(UTM49N, "EPSG:4326", always_xy=True)
    geod = pyproj.Geod(ellps="WGS84")
    x, y = to_map.transform(113.9, 38.0)
    length = geodesic_bar_length(UTM49N, x, y, 10_000)
    mid_lon, mid_lat = to_geo.transform(x + length / 2, y)
    k = pyproj.Proj(UTM49N).get_factors(mid_lon, mid_lat).meridional_scale  # conformal: any way
    assert length == pytest.approx(10_000 * k, rel=1e-6)
    assert length - 10_000 > 4  # a degree-free but naive bar would be 4+ m (0.04 %) off
    lon2, lat2 = to_geo.transform(x + length, y)
    assert geod.inv(113.9, 38.0, lon2, lat2)[2] == pytest.approx(10_000, abs=1.0)
    assert [nice_length(v) for v in (12_345, 999, 5_000)] == [10_000, 500, 5_000]
    with pytest.raises(ValueError):
        nice_length(0)


def test_north_arrow_points_to_true_north():
    to_map = pyproj.Transformer.from_crs("EPSG:4326", UTM49N, always_xy=True)
    x, y = to_map.transform(113.9, 38.0)
    ux, uy = figures._true_north(UTM49N, x, y)
    angle = math.degrees(math.atan2(-ux, uy))  # anticlockwise from grid north
    convergence = pyproj.Proj(UTM49N).get_factors(113.9, 38.0).meridian_convergence
    assert angle == pytest.approx(convergence, abs=0.01)
    assert 1.5 < abs(angle) < 2.0  # ~ Δλ sin φ = 2.9° × sin 38°


def test_qr_code_only_with_a_map_url():
    enterprises, layers = sample()

    def images(fig) -> list:
        return [a for ax in fig.axes for a in ax.get_children() if isinstance(a, AxesImage)]

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

"""The CJK font comes with the Python dependencies, registered with matplotlib; one warning
(never one per glyph) when it cannot be had."""

from __future__ import annotations

import io
import warnings

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from spatial import fonts
from spatial.fonts import CJK_FONT, cjk_font, packaged_font_file


@pytest.fixture
def fresh_cache():
    cjk_font.cache_clear()
    yield
    cjk_font.cache_clear()


def test_the_font_file_comes_from_the_python_package():
    path = packaged_font_file()
    assert path is not None and "site-packages" in path.parts
    assert path.name == "NotoSansCJK-Regular.ttc" and path.stat().st_size > 10_000_000


def test_the_packaged_font_is_registered_under_its_chinese_face(fresh_cache):
    assert cjk_font() == CJK_FONT == "Noto Sans CJK SC"
    packaged = str(packaged_font_file())
    faces = {f.name for f in font_manager.fontManager.ttflist if f.fname == packaged}
    assert {"Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK JP"} <= faces


def test_chinese_is_drawn_without_a_missing_glyph(fresh_cache):
    fig = Figure(figsize=(3, 1))
    fig.text(0.1, 0.5, "定襄县 建成区 10 km 限产", family=[cjk_font(), "DejaVu Sans"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (a tofu box) is a UserWarning
        fig.savefig(io.BytesIO(), format="png")
    prop = font_manager.FontProperties(family=CJK_FONT)
    assert font_manager.findfont(prop, fallback_to_default=False).endswith(".ttc")


def test_without_a_system_bold_bold_text_uses_the_packaged_face_quietly(
    fresh_cache, monkeypatch, caplog
):
    manager = font_manager.fontManager  # as on a machine without Debian's fonts-noto-cjk
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if "CJK" not in f.name])
    monkeypatch.setattr(fonts, "_SYSTEM_FILES", ())
    assert cjk_font() == CJK_FONT
    fig = Figure(figsize=(3, 1))
    fig.text(0.1, 0.5, "晋中市错峰生产清单", family=[CJK_FONT], fontweight="bold")
    with caplog.at_level("WARNING", logger="matplotlib.font_manager"):
        fig.savefig(io.BytesIO(), format="png")
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    bold = font_manager.FontProperties(family=CJK_FONT, weight="bold")
    assert font_manager.findfont(bold, fallback_to_default=False) == str(packaged_font_file())


@pytest.fixture
def no_cjk_font(monkeypatch, fresh_cache):
    monkeypatch.setattr(fonts, "CJK_FONT", "No Such Font SC")
    monkeypatch.setattr(fonts, "packaged_font_file", lambda: None)
    monkeypatch.setattr(fonts, "_SYSTEM_FILES", ())
    monkeypatch.setattr(fonts, "_CJK_FALLBACKS", ("Also Missing",))


def test_without_any_cjk_font_one_warning_and_no_glyph_warnings(no_cjk_font):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cjk_font() is None
        assert cjk_font() is None
        fig = Figure(figsize=(3, 1))
        fig.text(0.1, 0.5, "定襄县建成区以内的企业", family=["DejaVu Sans"])
        fig.savefig(io.BytesIO(), format="png")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "no CJK font found" in messages[0] and "pip install noto-cjk-sans-otc" in messages[0]


def test_another_cjk_font_is_used_with_a_warning(no_cjk_font, monkeypatch):
    monkeypatch.setattr(fonts, "_CJK_FALLBACKS", ("Also Missing", "DejaVu Sans"))
    with pytest.warns(UserWarning, match="the figures use DejaVu Sans") as caught:
        assert cjk_font() == "DejaVu Sans"
    assert len(caught) == 1


def test_pdf_subsets_of_bold_text_need_no_system_bold(fresh_cache, monkeypatch, caplog):
    # the fresh-machine demo logged "Failed to find font weight bold for SpatialSubset…" once per
    # figure: the PDF's TrueType subset of a bold title is a family of one (regular) face
    from spatial.export import figures

    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if "CJK" not in f.name])
    monkeypatch.setattr(fonts, "_SYSTEM_FILES", ())
    assert cjk_font() == CJK_FONT
    fig = Figure(figsize=(3, 1))
    title = fig.text(0.1, 0.5, "忻州市关停清单", family=[CJK_FONT], fontweight="bold")
    with caplog.at_level("WARNING", logger="matplotlib.font_manager"):
        figures._truetype_fonts([fig])
        fig.savefig(io.BytesIO(), format="pdf")
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert title.get_fontfamily()[0].startswith("SpatialSubset")

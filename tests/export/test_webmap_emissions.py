"""The per-county emission panel of map.html: escaped, offline, placed before </body>."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from spatial.emissions import county_panel, emission_table
from spatial.export.webmap_emissions import PANEL_ID, add_emission_panel, panel_html
from spatial.policy import load_policies
from tests.helpers import decision, plant

POLICIES = load_policies()
REMOTE = re.compile(r"<script\b|<link\b|@import\b|url\(", re.I)


def panel_of(plants: list[dict], decisions: list[dict]) -> dict:
    frame = emission_table(pd.DataFrame(plants), pd.DataFrame(decisions), POLICIES)
    return county_panel(frame)


def test_panel_shows_hand_computed_tonnes_and_escapes_names():
    hostile = '<img src=x onerror="alert(1)">县'
    panel = panel_of(
        [plant("A", county=hostile, nox_t=365.0), plant("B", county=hostile)],
        [
            decision("A", "jinzhong-2019", "curtail", curtail_pct=50),
            decision("B", "jinzhong-2019", "curtail", curtail_pct=50),
        ],
    )
    text = panel_html(panel)
    assert "<img" not in text and "&lt;img" in text
    assert text.index("颗粒物") < text.index("二氧化硫") < text.index("氮氧化物")
    assert not REMOTE.search(text)  # no script, no resource from any host
    # 365 t × 50 % × 152/365 = 76.0 t in the season; B lacks the figure: 1 plant
    row = re.search(r"<tr><td>&lt;img.*?</tr>", text.split("氮氧化物")[1]).group(0)
    assert re.findall(r"<td>([^<]*)</td>", row)[1:] == ["76.0", "0.0", "0.0", "1"]


def test_panel_says_when_the_inventory_has_no_emissions():
    panel = panel_of([plant("A")], [decision("A", "jinzhong-2019", "curtail", curtail_pct=30)])
    assert "企业清单未提供年排放量数据" in panel_html(panel)


def test_panel_inserted_before_body_end(tmp_path):
    page = tmp_path / "map.html"
    page.write_text("<html><body><div id='map'></div></body></html>", encoding="utf-8")
    panel = panel_of([plant("A", pm_t=10.0)], [decision("A", "jinzhong-2019", "exempt")])
    add_emission_panel(page, panel)
    text = page.read_text(encoding="utf-8")
    assert text.index(PANEL_ID) < text.index("</body>")
    assert text.count(PANEL_ID) >= 1 and text.startswith("<html><body><div id='map'>")
    add_emission_panel(page, None)  # nothing to add: the page is unchanged
    assert page.read_text(encoding="utf-8") == text


def test_a_page_without_body_end_is_refused(tmp_path):
    page = tmp_path / "map.html"
    page.write_text("<html>", encoding="utf-8")
    with pytest.raises(RuntimeError, match="</body>"):
        add_emission_panel(page, {})


@pytest.mark.parametrize("block", [5, 8, 13, 1 << 20])
@pytest.mark.parametrize("after", [0, 3, 40, 5000])
def test_panel_goes_before_the_last_body_end_however_the_file_is_read(
    tmp_path, monkeypatch, block, after
):
    # issue 19: the map is copied through by blocks (a million plants: ~130 MB), never read
    # whole; the tag may straddle two blocks and lie far from the end
    from spatial.export import webmap_emissions

    monkeypatch.setattr(webmap_emissions, "_BLOCK", block)
    head = "<html><body><p>县 </body> 在文中</p>" + "地图" * 50
    tail = "<script>" + "x" * after + "</script></html>"
    page = tmp_path / "map.html"
    page.write_text(head + "</body>" + tail, encoding="utf-8")
    panel = panel_of([plant("A", pm_t=10.0)], [decision("A", "jinzhong-2019", "exempt")])
    add_emission_panel(page, panel)
    expected = head + panel_html(panel) + "\n" + "</body>" + tail
    assert page.read_text(encoding="utf-8") == expected

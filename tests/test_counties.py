"""County from place: real boundaries, the planner's county text normalised and checked."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial import counties
from spatial.counties import assign_counties, boundaries, locate, resolve_county, seats

# Points well inside counties (km from any county edge), WGS84
DINGXIANG = (112.957, 38.4735)  # 定襄县城
YUCI = (112.74, 37.69)  # 榆次区城区
JINCHENG_CHENGQU = (112.853, 35.50)  # 晋城市城区
LUZHOU = (113.12, 36.20)  # 长治市潞州区
TAIGU = (112.55, 37.42)  # 晋中市太谷区
SEA = (125.0, 30.0)  # East China Sea


def plants(rows) -> gpd.GeoDataFrame:
    """rows: (id, county text, (lon, lat))."""
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "county": [r[1] for r in rows]},
        geometry=gpd.points_from_xy([r[2][0] for r in rows], [r[2][1] for r in rows]),
        crs="EPSG:4326",
    )


@pytest.mark.parametrize(
    ("point", "name", "city"),
    [
        (DINGXIANG, "定襄县", "忻州市"),
        (YUCI, "榆次区", "晋中市"),
        (JINCHENG_CHENGQU, "城区", "晋城市"),
        (LUZHOU, "潞州区", "长治市"),
        (TAIGU, "太谷区", "晋中市"),
        ((116.40, 39.91), "东城区", "北京市"),
        ((105.19, 37.51), "沙坡头区", "中卫市"),
    ],
)
def test_a_point_gets_the_county_it_lies_in(point, name, city):
    row = locate([point[0]], [point[1]]).iloc[0]
    assert (row["name"], row["city"], row["n_hits"]) == (name, city, 1)


def test_points_outside_every_county_or_without_coordinates_get_none():
    got = locate([SEA[0], np.nan], [SEA[1], 38.0])
    assert got["code"].isna().all() and got["n_hits"].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("忻府区", "忻府区"),
        ("忻府", "忻府区"),
        ("定襄", "定襄县"),
        ("原平", "原平市"),
        ("五台", "五台县"),
        ("忻州市忻府区", "忻府区"),
        ("忻州忻府", "忻府区"),
        ("山西省忻州市定襄县", "定襄县"),
        ("忻州市\u3000定襄县", "定襄县"),
        ("　定襄县　", "定襄县"),
        ("定\u200b襄县", "定襄县"),
        ("ＡＢ", None),
        ("太谷县", "太谷区"),
        ("长治县", "上党区"),
        ("屯留县", "屯留区"),
        ("祁县", "祁县"),
        ("晋中市祁县", "祁县"),
        ("沙坡头", "沙坡头区"),
    ],
)
def test_county_text_is_normalised(text, expected):
    codes = resolve_county(text)
    if expected is None:
        assert codes == ()
    else:
        names = {counties._counties_by_code()[c][0] for c in codes}
        assert names == {expected}


@pytest.mark.parametrize(
    ("zone", "hosts"),
    [
        ("晋中开发区", {"榆次区"}),
        ("忻州经济开发区", {"忻府区"}),
        ("长治高新区", {"潞州区"}),
        ("长治经开区", {"潞州区", "上党区"}),
        ("清徐经济开发区", {"清徐县"}),
        ("介休经济技术开发区", {"介休市"}),
    ],
)
def test_a_development_zone_resolves_to_its_host_counties(zone, hosts):
    assert {counties._counties_by_code()[c][0] for c in resolve_county(zone)} == hosts


def test_ambiguous_names_and_a_city_alone_do_not_resolve_to_one_county():
    assert len(resolve_county("城区")) > 1  # 阳泉、晋城、汕尾 …
    assert resolve_county("忻州市") == ()
    assert resolve_county("") == () and resolve_county(None) == ()


def test_disagreement_is_flagged_and_scope_follows_the_location():
    got = assign_counties(
        plants(
            [
                ("A", "榆次区", DINGXIANG),
                ("B", "定襄", DINGXIANG),
                ("C", "火星县", DINGXIANG),
                ("D", None, DINGXIANG),
                ("E", "忻州市　定襄", SEA),
                ("F", "晋中开发区", YUCI),
                ("G", "晋中开发区", DINGXIANG),
                ("H", "城区", JINCHENG_CHENGQU),
                ("I", "太谷县", TAIGU),
            ]
        )
    ).set_index("id")
    assert got.loc["A", "county"] == "定襄县" and got.loc["A", "county_input"] == "榆次区"
    assert got.loc["A", "county_flag"] == "county_mismatch"
    assert got.loc["A", "county_note_zh"] == "清单填写县区为榆次区，坐标位于定襄县，请核实。"
    assert (got.loc["B", "county"], got.loc["B", "county_flag"]) == ("定襄县", "")
    assert (got.loc["C", "county"], got.loc["C", "county_flag"]) == ("定襄县", "county_unknown")
    assert "火星县" in got.loc["C", "county_note_zh"] and "定襄县" in got.loc["C", "county_note_zh"]
    assert (got.loc["D", "county"], got.loc["D", "county_flag"]) == ("定襄县", "county_blank")
    # outside every county: the planner's normalised name is kept, flagged
    assert (got.loc["E", "county"], got.loc["E", "county_flag"]) == ("定襄县", "county_outside")
    assert pd.isna(got.loc["E", "county_located"])
    assert (got.loc["F", "county"], got.loc["F", "county_flag"]) == ("榆次区", "")
    assert (got.loc["G", "county"], got.loc["G", "county_flag"]) == ("定襄县", "county_mismatch")
    assert got.loc["G", "county_input"] == "晋中开发区"
    assert (got.loc["H", "county"], got.loc["H", "county_flag"]) == ("城区", "")
    assert got.loc["H", "county_city"] == "晋城市"
    assert (got.loc["I", "county"], got.loc["I", "county_flag"]) == ("太谷区", "")
    assert set(counties.COUNTY_COLUMNS) <= set(got.columns)


def test_every_row_is_kept_in_order_and_other_columns_untouched():
    frame = plants([("A", "榆次区", DINGXIANG), ("B", "定襄", SEA), ("C", "", YUCI)])
    frame["industry"] = ["coking", "steel", "cement"]
    got = assign_counties(frame)
    assert got["id"].tolist() == ["A", "B", "C"] and got.index.equals(frame.index)
    assert got["industry"].tolist() == frame["industry"].tolist()


def test_an_enterprise_without_a_point_is_flagged_not_dropped():
    frame = plants([("A", "定襄县", DINGXIANG)])
    frame.loc[0, "geometry"] = None
    got = assign_counties(frame)
    assert len(got) == 1 and got["county_flag"].iloc[0] == "county_outside"
    assert got["county"].iloc[0] == "定襄县"


SHANXI = [
    (name, city)
    for name, city in counties._counties_by_code().values()
    if city in {"忻州市", "晋中市", "长治市", "太原市"}
]


def _decorate(name: str, city: str, style: int) -> str:
    short = counties._short(name)
    return [
        name,
        short,
        city + name,
        city.removesuffix("市") + short,
        "山西省" + city + name,
        "　" + city + "\u3000" + name + " ",
        name.replace(name[0], name[0] + "\u200b", 1),
    ][style]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SHANXI), st.integers(0, 6))
def test_short_and_prefixed_names_decide_as_the_full_name(county, style):
    name, city = county
    full = resolve_county(name)
    assert resolve_county(_decorate(name, city, style)) == full
    seat = seats().query("name == @name and city == @city")
    if len(seat):
        point = seat.geometry.iloc[0]
        rows = [
            ("full", name, (point.x, point.y)),
            ("x", _decorate(name, city, style), (point.x, point.y)),
        ]
        got = assign_counties(plants(rows))
        assert got["county"].iloc[0] == got["county"].iloc[1]
        assert got["county_flag"].iloc[0] == got["county_flag"].iloc[1]


def test_boundaries_and_seats_of_a_box():
    box = (112.5, 38.2, 113.3, 38.8)
    b = boundaries(box)
    assert list(b.columns) == ["code", "name", "city", "province", "geometry"]
    assert {"定襄县", "忻府区", "原平市"} <= set(b["name"]) and str(b.crs) == "EPSG:4326"
    assert "榆次区" not in set(b["name"])
    s = seats(box)
    assert set(s.geom_type) == {"Point"}
    x, y = s.geometry.x.to_numpy(), s.geometry.y.to_numpy()
    assert ((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).all()
    assert len(boundaries()) > 2800


@pytest.mark.parametrize("bad", [(1, 2, 3), (113, 38, 112, 39), (float("nan"), 1, 2, 3)])
def test_a_bad_box_is_refused(bad):
    with pytest.raises(ValueError, match="bbox"):
        boundaries(bad)


def test_seats_lie_in_their_own_county_almost_always():
    """Two independent sources (Amap seats converted from GCJ-02, Tianditu polygons)."""
    s = seats()
    got = locate(s.geometry.x, s.geometry.y)
    assert (got["code"].to_numpy() == s["code"].to_numpy()).mean() > 0.99

"""Readings of the policy texts (issue 15 item 4), each typed from the original text it cites.

The texts are ``shared/seeds/00N_….txt``; where the project's digest and a text disagree, the
text stands. Expected outcomes are written here from the texts, not copied from the tables.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial.decisions import evaluate, evaluate_policy, summarize
from spatial.facts import add_facts, same_plant
from spatial.policy import fact_specs, load_policies, load_policy, status_on

JINZHONG = {"id": "E1", "county": "榆次区", "compliant": "yes"}
HEAD_HEAT = "id,name,kind,capacity_mw,lon,lat\n"


def decide(policy: str, **fields) -> pd.DataFrame:
    frame = pd.DataFrame([{"id": "E1", **fields}])
    return evaluate_policy(frame, load_policy(policy))


def jinzhong(near: bool, **fields) -> pd.Series:
    place = {"near_city": near, "dist_builtup_m": 9_999.0 if near else 10_001.0}
    got = decide("jinzhong-2019", **{**JINZHONG, **place, **fields})
    assert len(got) == 1, got
    return got.iloc[0]


# 004 §三(一)14: 砖瓦、石材、铝矾土、岩棉等建筑材料制造达到环保治理要求的，生产设施在市、县
# 建成区及周边10公里范围内的企业，……限制类限产50%；生产设施不在……范围内的企业，……限制类限产40%。
@pytest.mark.parametrize("industry", ["brick_kiln", "building_materials"])
@pytest.mark.parametrize(("near", "pct"), [(True, 50), (False, 40)])
def test_restricted_bricks_and_building_materials_50_near_a_city_40_away(industry, near, pct):
    decision = jinzhong(near, industry=industry, policy_class="restricted")
    assert decision.action == "curtail", decision.reason_zh
    assert decision.curtail_pct == pct
    assert decision.rule_ref == "004_8ff93025e2acb35e.txt §三(一)14"
    assert "may_stop_instead_if_safe" in decision["flags"]  # §二4 限制类: 可采取停产错峰


CUPOLA_7T = {
    "industry": "foundry",
    "subtype": "cupola",
    "online_monitoring": "yes",
    "furnace_t": 7.0,
    "nox_mg": 70.0,
    "pm_mg": 15.0,
    "policy_class": "permitted",
}


# 004 §三(一)4: 冲天炉……二氧化硫60毫克/立方米……以下的企业，……5吨—10吨的生产设施在市、县建成区
# 及周边10公里范围内的企业限产50%. A cupola over SO2 60 has no percent in the text: never the
# lower §二4 one.
@pytest.mark.parametrize("near", [True, False])
def test_a_cupola_over_its_so2_limit_is_reviewed_never_given_a_lower_percent(near):
    twin = jinzhong(near, **CUPOLA_7T, so2_mg=50.0)
    assert twin.action == "curtail" and twin.curtail_pct == (50 if near else 40)
    over = jinzhong(near, **CUPOLA_7T, so2_mg=80.0)
    assert over.action == "review", over.reason_zh
    assert "§三(一)4" in over.rule_ref
    assert "二氧化硫80" in over.reason_zh and "60" in over.reason_zh
    assert pd.isna(over.curtail_pct)


@pytest.mark.parametrize(
    "plant",
    [
        {"industry": "steel", "ultra_low": "no", "online_monitoring": "yes"},  # §三(一)1
        {
            "industry": "foundry",
            "subtype": "electric",
            "so2_mg": 90.0,
            "nox_mg": 70.0,
            "pm_mg": 15.0,
        },  # §三(一)4
        {"industry": "nonferrous", "online_monitoring": "yes", "special_limits": "no"},  # §三(一)6
        {
            "industry": "refractory",
            "online_monitoring": "yes",
            "nox_mg": 350.0,
            "so2_mg": 100.0,
            "pm_mg": 20.0,
            "clean_energy": "yes",
        },  # §三(一)12
    ],
)
def test_failing_an_industry_clause_is_reviewed_in_every_policy_class(plant):
    for policy_class in ("encouraged", "permitted", "restricted"):
        decision = jinzhong(True, **plant, policy_class=policy_class)
        assert decision.action == "review", (policy_class, decision.reason_zh)
        assert "§二4" in decision.rule_ref


# 004 §三(一)4: 5吨（含5吨）以下的（冲天炉）采暖季停产. A foundry whose furnace type is blank
# and whose furnace is <= 5 t may be such a cupola: review, naming the blank column.
def test_a_foundry_with_blank_subtype_and_a_small_furnace_is_reviewed():
    decision = jinzhong(
        True,
        industry="foundry",
        subtype=None,
        furnace_t=4.0,
        policy_class="permitted",
        online_monitoring="yes",
        so2_mg=50.0,
        nox_mg=70.0,
        pm_mg=15.0,
    )
    assert decision.action == "review", decision.reason_zh
    assert decision.rule_ref == "004_8ff93025e2acb35e.txt §三(一)4"
    assert "blank:subtype" in decision["flags"]
    assert "采暖季停产" in decision.reason_zh  # the outcome the blank may hide
    bigger = jinzhong(
        True, industry="foundry", subtype=None, furnace_t=8.0, policy_class="permitted"
    )
    assert bigger.action == "review"  # no row of §三(一)4 fits without the type either


# 004 §三(一)3: 对承担供气、供热任务的焦化企业……涉及居民供暖的焦化企业，应提前做好热源替代方案……
# 实现达标排放但未达到特别排放限值的焦化企业实行停产.
@pytest.mark.parametrize("compliant", ["yes", "no"])
def test_a_shut_down_coking_plant_that_supplies_heat_keeps_the_heat_supply_flag(compliant):
    decision = jinzhong(
        True,
        industry="coking",
        special_limits="no",
        policy_class="permitted",
        supplies_heat="yes",
        **({"compliant": compliant} if compliant == "no" else {}),
    )
    assert decision.action == "shutdown"
    assert "heat-supply-when-stopped" in decision["flags"]
    assert "§三(一)3" in decision.rule_ref
    assert "热源替代" in decision.flags_zh and "热源替代" in decision.reason_zh
    plain = jinzhong(True, industry="coking", special_limits="no", policy_class="permitted")
    assert plain.action == "shutdown" and "heat-supply" not in plain["flags"]


# 001 §三(二)8: 对其（30万千瓦及以上热电联产电厂）供热半径30公里范围内的燃煤锅炉和落后燃煤小热电机组
# （含自备电厂）进行关停或整合 — the source's own units are not merged into themselves.
def test_the_heat_suppliers_own_units_are_not_told_to_close_into_themselves():
    source = (111.20, 39.40)
    heat = gpd.GeoDataFrame(
        {"id": ["H1"], "name": ["国能河曲电厂"], "kind": ["chp"], "capacity_mw": [1200.0]},
        geometry=[Point(*source)],
        crs="EPSG:4326",
    )
    plants = gpd.GeoDataFrame(
        {
            "id": ["own", "other", "unit"],
            "name": [
                "国能河曲发电有限公司1号锅炉",
                "河曲县某供暖公司",
                "国能河曲发电有限公司2号机组",
            ],
            "county": ["河曲县"] * 3,
            "industry": ["boiler", "boiler", "power"],
            "fuel": ["coal"] * 3,
            "boiler_tph": [220.0, 20.0, None],
            "boiler_mw": [None, None, 200.0],
        },
        geometry=[Point(111.2005, 39.4003), Point(111.25, 39.43), Point(111.2008, 39.3995)],
        crs="EPSG:4326",
    )
    policies = [load_policy("xinzhou-2024")]
    facts = add_facts(plants, {"heat_sources": heat, "builtup": None}, fact_specs(policies))
    assert facts["heat_source_own"].tolist() == [True, False, True]
    decisions = evaluate(pd.DataFrame(facts.drop(columns="geometry")), policies)
    radius = decisions[decisions["rule_ref"].str.contains("§三\\(二\\)8")].set_index("id")
    radius = radius[
        radius["rule_id"].isin(
            [
                "heat-source-own-units",
                "coal-boiler-in-heat-radius",
                "small-coal-power-in-heat-radius",
            ]
        )
    ]
    assert radius.loc["own", "action"] == "exempt"
    assert radius.loc["own", "curtail_pct"] == 0
    assert "国能河曲电厂" in radius.loc["own", "reason_zh"]
    assert radius.loc["unit", "action"] == "exempt"
    assert radius.loc["other", "action"] == "close_or_merge"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("国能河曲发电有限公司1号锅炉", "国能河曲电厂", True),
        ("忻州广宇煤电有限公司", "忻州广宇热电厂", True),
        ("河曲县某供暖公司", "国能河曲电厂", False),
        ("电厂", "电厂", False),
    ],
)
def test_same_plant_by_name(a, b, same):
    assert same_plant(a, b) is same


XINZHOU = [
    *("忻府区", "原平市", "定襄县", "五台县", "代县", "繁峙县", "宁武县"),
    *("静乐县", "神池县", "五寨县", "岢岚县", "河曲县", "保德县", "偏关县"),
]


# 000 §二(一): 2025年底前独立球团竖炉生产工艺退出我市球团生产企业（不包括长流程钢铁企业、
# 有烧结<球团>或高炉铸造企业）. 我市 is all of Xinzhou, not only the Fanshi and Dai cluster.
@pytest.mark.parametrize("county", XINZHOU)
def test_independent_pellet_shaft_furnaces_of_all_xinzhou_exit_by_end_2025(county):
    got = decide(
        "xinzhou-cluster-2024",
        county=county,
        industry="pellet",
        subtype="shaft_furnace",
        ultra_low="yes",
        sintering="no",
    )
    assert got["action"].tolist() == ["exit_by"]
    assert got["deadline"].iloc[0] == "2025-12-31"
    assert "不包括" in got["reason_zh"].iloc[0]


def test_the_pellet_exemption_keeps_the_meaning_of_not_including():
    got = decide(
        "xinzhou-cluster-2024",
        county="原平市",
        industry="pellet",
        subtype="shaft_furnace",
        ultra_low="yes",
        sintering="yes",
    ).iloc[0]
    assert got.action == "exempt" and got.curtail_pct == 0
    assert "不包括长流程钢铁企业、有烧结<球团>或高炉铸造企业" in got.reason_zh
    assert (
        "除外" not in got.reason_zh
    )  # 除外 would say these plants are excepted from the exemption
    assert decide("xinzhou-cluster-2024", county="榆次区", industry="pellet",
                  subtype="shaft_furnace", ultra_low="yes", sintering="no").empty  # fmt: skip


SHAPOTOU_BOILER = {"industry": "boiler", "fuel": "coal", "boiler_tph": 8.0}


# 002 图1-1: 中卫市沙坡头区产业位置示意图（本规划不含中卫工业园区）.
@pytest.mark.parametrize(
    "where",
    [
        {"county": "中卫工业园区"},
        {"county": "沙坡头区", "address": "宁夏中卫市中卫工业园区纬三路"},
        {"county": "沙坡头区", "township": "中卫工业园区"},
        {"county": "沙坡头区", "county_input": "中卫工业园区"},
    ],
)
def test_plants_of_the_zhongwei_industrial_park_are_outside_the_shapotou_plan(where):
    policy = load_policy("shapotou-2025")
    frame = pd.DataFrame([{"id": "P", **SHAPOTOU_BOILER, **where}])
    assert evaluate_policy(frame, policy).empty
    summary = summarize(frame, evaluate(frame, [policy]), [policy], dt.date(2025, 9, 1))
    assert summary["action"].iloc[0] == "none"
    assert summary["none_kind"].iloc[0] == "excluded"
    assert "中卫工业园区" in summary["reason_zh"].iloc[0]
    assert "图1-1" in summary["reason_zh"].iloc[0]
    outside = pd.DataFrame(
        [{"id": "Q", **SHAPOTOU_BOILER, "county": "沙坡头区", "address": "镇罗镇"}]
    )
    assert evaluate_policy(outside, policy)["action"].tolist() == ["exit_by"]


# 002 ch.3 §一(一): layout against ecological zones, urban function areas and trunk roads. Without
# those layers no plant is sent to review for them; the run says once that each layer is missing.
def test_layout_rows_without_their_layers_review_no_plant_and_are_reported_once():
    policy = load_policy("shapotou-2025")
    frame = pd.DataFrame(
        [
            {
                "id": f"S{i}",
                "county": "沙坡头区",
                "industry": "boiler",
                "fuel": "gas",
                "boiler_tph": 4.0,
                "nox_mg": 30.0,
            }
            for i in range(5)
        ]
    )
    assert evaluate_policy(frame, policy).empty
    missing = [s for s in status_on([policy], dt.date(2025, 9, 1), {"builtup"})
               if s.status == "layer_missing"]  # fmt: skip
    assert len(missing) == 3
    assert all("图层" in s.reason_zh for s in missing)


# 004 §二2: ……的企业不予限产 — not curtailed is 0 %, not blank.
def test_an_exempt_plant_curtails_0_percent():
    decision = jinzhong(True, industry="steel", green_factory="yes")
    assert decision.action == "exempt"
    assert decision.curtail_pct == 0 and decision.stop_days == 0
    frame = pd.DataFrame([{**JINZHONG, "industry": "steel", "green_factory": "yes",
                           "near_city": True, "dist_builtup_m": 10.0}])  # fmt: skip
    policies = load_policies(["jinzhong-2019"])
    summary = summarize(frame, evaluate(frame, policies), policies)
    assert summary["curtail_pct"].iloc[0] == 0


# Issue 15 item 1: a sheet with short county names decides as one with full names.
SHORT = {"忻府区": "忻府", "定襄县": "定襄", "原平市": "原平", "五台县": "五台"}
PLANTS = [
    ("忻府区", {"industry": "boiler", "fuel": "coal", "boiler_tph": 20.0, "in_heat_radius": True,
             "dist_heat_m": 12_000.0, "heat_source_id": "H1", "heat_source_own": False}),
    ("定襄县", {"industry": "flange", "zone_phase": 1, "zone_status": "due",
             "zone_end": "2024-10-01", "zone_start": "2024-05-01", "pm_mg": 8.0, "so2_mg": 20.0,
             "nox_mg": 100.0, "o2_pct": 8.0}),
    ("原平市", {"industry": "pellet", "subtype": "shaft_furnace", "ultra_low": "yes",
             "sintering": "no"}),
    ("五台县", {"industry": "power", "fuel": "coal", "boiler_mw": 135.0, "in_heat_radius": False,
             "dist_heat_m": 45_000.0, "heat_source_id": "H1", "heat_source_own": False}),
    ("忻府区", {"industry": "boiler", "fuel": "coal", "boiler_tph": 50.0, "ultra_low": "no",
             "in_heat_radius": False, "dist_heat_m": 31_000.0, "heat_source_id": "H1",
             "heat_source_own": False}),
]  # fmt: skip
COLUMNS = ["id", "policy", "rule_id", "action", "curtail_pct", "deadline", "rule_ref"]


@pytest.mark.parametrize("style", ["short", "city+full", "city+short", "spaced"], ids=lambda s: s)
def test_short_county_names_decide_as_the_full_names(style):
    def named(full: str) -> str:
        return {
            "short": SHORT[full],
            "city+full": "忻州市" + full,
            "city+short": "忻州" + SHORT[full],
            "spaced": "　忻州市 " + full + " ",
        }[style]

    rows = [
        {"id": f"E{i}", "county": county, "compliant": "yes", **fields}
        for i, (county, fields) in enumerate(PLANTS)
    ]
    full = pd.DataFrame(rows)
    written = full.assign(county=[named(c) for c in full["county"]])
    policies = load_policies()
    as_of = dt.date(2025, 6, 1)
    want = evaluate(full, policies, as_of=as_of)
    got = evaluate(written, policies, as_of=as_of)
    assert len(want) >= len(PLANTS)  # every plant is decided by at least one Xinzhou table
    pd.testing.assert_frame_equal(got[COLUMNS], want[COLUMNS])
    summary_full = summarize(full, want, policies, as_of)
    summary_written = summarize(written, got, policies, as_of)
    assert (summary_written["action"] == summary_full["action"]).all()
    assert "none" not in set(summary_written["action"])


# 003 §一(四): 各县区、长治高新区、长治经开区 — the development zones the notice names are in
# its area.
@pytest.mark.parametrize("county", ["长治高新区", "长治经开区", "潞州区", "长治市潞州区"])
def test_changzhi_clinker_window_covers_its_development_zones(county):
    frame = pd.DataFrame(
        [{"id": "C", "county": county, "industry": "cement", "subtype": "clinker", "bulk_10kt": 20}]
    )
    got = evaluate_policy(frame, load_policy("changzhi-2024"), as_of=dt.date(2024, 1, 10))
    assert got["action"].tolist() == ["stop_season"]


def _xinzhou_sheet(path, named) -> None:
    """Coal boilers and a coal unit at the seats of four Xinzhou counties, county as ``named``."""
    from spatial.counties import seats

    at = seats().query("city == '忻州市'").set_index("name").geometry
    rows = [
        ("B1", "甲供暖锅炉", "boiler", "忻府区", "coal", 20, "", "no", at["忻府区"]),
        ("B2", "乙锅炉", "boiler", "定襄县", "coal", 50, "", "no", at["定襄县"]),
        ("B3", "丙锅炉", "boiler", "原平市", "coal", 8, "", "yes", at["原平市"]),
        ("U1", "丁电厂", "power", "五台县", "coal", "", 135, "yes", at["五台县"]),
        ("B4", "戊锅炉", "boiler", "忻府区", "coal", 30, "", "yes", at["忻府区"]),
    ]
    lines = ["id,name,industry,county,fuel,boiler_tph,boiler_mw,ultra_low,compliant,lon,lat"]
    for pid, name, industry, county, fuel, tph, mw, ultra, point in rows:
        lines.append(
            f"{pid},{name},{industry},{named(county)},{fuel},{tph},{mw},{ultra},yes,"
            f"{point.x + 0.01:.6f},{point.y + 0.01:.6f}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_run_on_short_county_names_gives_the_decisions_of_full_names(tmp_path, builtup_file):
    """Issue 15 item 1, through the whole run: 忻府, 定襄, 原平, 五台, 忻州市忻府区."""
    from spatial.config import RunConfig
    from spatial.pipeline import run

    heat = tmp_path / "heat.csv"
    heat.write_text(HEAD_HEAT + "H1,忻州热电厂,chp,600,112.75,38.43\n", encoding="utf-8")
    short = {"忻府区": "忻府", "定襄县": "定襄", "原平市": "原平", "五台县": "五台"}
    styles = {
        "full": lambda c: c,
        "short": lambda c: short[c],
        "city": lambda c: "忻州市" + c,
    }
    results = {}
    for style, named in styles.items():
        sheet = tmp_path / f"{style}.csv"
        _xinzhou_sheet(sheet, named)
        config = RunConfig(
            enterprises=sheet,
            builtup=builtup_file,
            heat_sources=heat,
            out=tmp_path / f"out-{style}",
            figures=False,
            as_of=dt.date(2024, 6, 1),
        )
        results[style] = run(config)
    want = results["full"]
    assert set(want.decisions["action"]) >= {"close_or_merge", "clear", "rectify", "exit_by"}
    for style in ("short", "city"):
        got = results[style]
        pd.testing.assert_frame_equal(got.decisions[COLUMNS], want.decisions[COLUMNS])
        assert got.enterprises["action"].tolist() == want.enterprises["action"].tolist()
        assert got.enterprises["county"].tolist() == want.enterprises["county"].tolist()
        assert set(got.enterprises["county_flag"].fillna("")) == {""}  # the names agree

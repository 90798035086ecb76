"""The emission effect: every line of the method computed by hand from the documents' own days,
percents and limits, blanks as "no data", and the Shapotou targets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.decisions import evaluate
from spatial.emissions import (
    POLLUTANTS,
    RETROFIT_LIMITS,
    county_panel,
    county_summary,
    county_totals,
    emission_table,
    load_targets,
    run_summary,
    season_days,
    target_check,
    window_days,
)
from spatial.errors import PolicyTableError
from spatial.inventory import load_enterprises
from spatial.policy import load_policies, load_policy
from spatial.schema import canonical_column
from tests.helpers import HEADER, decision, plant

POLICIES = load_policies()
JINZHONG = "jinzhong-2019"
FLANGE_REF = "000_76214740fd4dcd9a.txt §三(二)3"
GAS_BOILER_REF = "002_44512477227ed7b1.txt ch.3 §二(四)2"


def table_for(plants: list[dict], decisions: list[dict]) -> pd.DataFrame:
    return emission_table(pd.DataFrame(plants), pd.DataFrame(decisions), POLICIES)


def row(table: pd.DataFrame, id_: str, pollutant: str, action: str | None = None) -> pd.Series:
    hit = table[(table["id"] == id_) & (table["pollutant"] == pollutant)]
    if action:
        hit = hit[hit["action"] == action]
    assert len(hit) == 1, hit
    return hit.iloc[0]


# --------------------------------------------------------------------------------------------
# Days


def test_jinzhong_season_is_152_days():
    # 004 §二13: 2019-11-01 to 2020-03-31 = 30 + 31 + 31 + 29 (2020 leap) + 31
    assert season_days(load_policy(JINZHONG)) == 152


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2023-11-15", "2024-03-15", 16 + 31 + 31 + 29 + 15),  # Changzhi 003 §一(三): 122
        ("2019-11-01", "2020-03-31", 152),
        ("2024-01-09", "2024-01-09", 1),
    ],
)
def test_window_days_count_both_ends(start, end, days):
    assert window_days(start, end) == days


def test_window_days_of_a_missing_date_is_nan():
    assert math.isnan(window_days(None, "2024-03-15"))


# --------------------------------------------------------------------------------------------
# Each line of the method, by hand


def test_seasonal_curtailment_jinzhong_30_pct():
    # 004 §二4 permitted, outside 10 km: 30 %; 100 t PM a year × 30 % × 152/365
    t = table_for(
        [plant("A", pm_t=100.0)],
        [decision("A", JINZHONG, "curtail", curtail_pct=30)],
    )
    r = row(t, "A", "pm")
    assert r["avoided_t"] == pytest.approx(100 * 0.30 * 152 / 365)  # 12.4932 t
    assert round(r["avoided_t"], 4) == 12.4932
    assert (r["period"], r["days"], r["status"]) == ("season", 152, "avoided")
    assert "30%" in r["basis_zh"] and "152" in r["basis_zh"]


def test_changzhi_stop_window_counts_its_exact_days():
    # 003 §一(三): clinker stopped 2023-11-15 .. 2024-03-15 = 122 days; 365 t NOx → 122 t
    t = table_for(
        [plant("C", county="潞州区", nox_t=365.0)],
        [
            decision(
                "C",
                "changzhi-2024",
                "stop_season",
                window_start="2023-11-15",
                window_end="2024-03-15",
            )
        ],
    )
    r = row(t, "C", "nox")
    assert r["avoided_t"] == pytest.approx(122.0)
    assert (r["period"], r["days"]) == ("season", 122)


def test_shutdown_in_a_season_counts_the_season():
    # 004 §二1 停产治理 for the 152-day season: 73 t SO2 × 152/365 = 30.4 t
    t = table_for([plant("S", so2_t=73.0)], [decision("S", JINZHONG, "shutdown")])
    assert row(t, "S", "so2")["avoided_t"] == pytest.approx(30.4)
    assert row(t, "S", "so2")["period"] == "season"


@pytest.mark.parametrize("action", ["close_or_merge", "clear", "exit_by"])
def test_permanent_measures_avoid_the_whole_year_from_the_deadline(action):
    # 002 ch.3 §二(四)1: coal boilers <= 10 t/h eliminated by 2026-06-30
    t = table_for(
        [plant("B", county="沙坡头区", pm_t=12.5)],
        [decision("B", "shapotou-2025", action, deadline="2026-06-30")],
    )
    r = row(t, "B", "pm")
    assert r["avoided_t"] == 12.5
    assert (r["period"], r["from_date"]) == ("year", "2026-06-30")


def test_permanent_measure_without_deadline_says_so():
    t = table_for(
        [plant("P", county="忻府区", so2_t=40.0)],
        [decision("P", "xinzhou-2024", "exit_by")],
    )
    r = row(t, "P", "so2")
    assert r["avoided_t"] == 40.0 and r["from_date"] is None
    assert "未给出时限" in r["basis_zh"]


def test_flange_retrofit_to_the_limits_at_8_pct_oxygen():
    # 000 §三(二)3: PM 10, SO2 50, NOx 200 mg/m³ at 8 % O2; measured at 13 % O2 the factor is
    # (21 − 8) / (21 − 13) = 1.625: PM 20 → 32.5 (over 10), SO2 24 → 39 (under 50), NOx 160 → 260
    t = table_for(
        [
            plant(
                "F",
                county="定襄县",
                pm_t=2.0,
                so2_t=3.0,
                nox_t=5.0,
                vocs_t=1.0,
                pm_mg=20.0,
                so2_mg=24.0,
                nox_mg=160.0,
                o2_pct=13.0,
            )
        ],
        [decision("F", "xinzhou-cluster-2024", "rectify", rule_ref=FLANGE_REF)],
    )
    assert row(t, "F", "pm")["avoided_t"] == pytest.approx(2.0 * (1 - 10 / 32.5))
    assert row(t, "F", "so2")["avoided_t"] == 0.0
    assert row(t, "F", "so2")["status"] == "avoided"  # computed: under the limit
    assert row(t, "F", "nox")["avoided_t"] == pytest.approx(5.0 * (1 - 200 / 260))
    assert row(t, "F", "vocs")["avoided_t"] == 0.0  # the limits name no VOCs
    assert row(t, "F", "vocs")["status"] == "zero"
    assert "32.5" in row(t, "F", "pm")["basis_zh"]


def test_gas_boiler_low_nox_retrofit():
    # 002 ch.3 §二(四)2: NOx below 50; measured 80 → 8 t × (1 − 50/80) = 3 t; PM untouched
    t = table_for(
        [plant("G", county="沙坡头区", nox_t=8.0, pm_t=1.0, nox_mg=80.0, o2_pct=10.0)],
        [decision("G", "shapotou-2025", "rectify", rule_ref=GAS_BOILER_REF)],
    )
    assert row(t, "G", "nox")["avoided_t"] == pytest.approx(3.0)
    assert row(t, "G", "pm")["avoided_t"] == 0.0


def test_retrofit_without_measured_oxygen_is_not_computed():
    t = table_for(
        [plant("F", county="定襄县", pm_t=2.0, pm_mg=20.0)],
        [decision("F", "xinzhou-cluster-2024", "rectify", rule_ref=FLANGE_REF)],
    )
    r = row(t, "F", "pm")
    assert r["status"] == "not_quantified" and math.isnan(r["avoided_t"])


@pytest.mark.parametrize(
    ("action", "ref"),
    [
        ("rectify", "003_598ea2f0f9e2d118.txt §四(二)"),  # clean-transport share: no tonnes
        ("rectify", "001_522351a5754bb1d1.txt §三(五)20"),  # ultra-low: no limits in the text
        ("rotate", "004_8ff93025e2acb35e.txt §三(一)10"),
    ],
)
def test_measures_without_numbers_are_not_computed_never_zero(action, ref):
    t = table_for([plant("R", pm_t=10.0)], [decision("R", JINZHONG, action, rule_ref=ref)])
    r = row(t, "R", "pm")
    assert r["status"] == "not_quantified"
    assert math.isnan(r["avoided_t"])
    assert not r["counted"]


@pytest.mark.parametrize("action", ["review", "heat_determined"])
def test_undecided_plants_avoid_nothing_and_are_reported_under_review(action):
    t = table_for([plant("U", nox_t=10.0)], [decision("U", JINZHONG, action)])
    r = row(t, "U", "nox")
    assert (r["avoided_t"], r["status"]) == (0.0, "review")
    totals = county_totals(t)
    nox = totals[totals["pollutant"] == "nox"].iloc[0]
    assert (nox["review_t"], nox["avoided_t"]) == (10.0, 0.0)
    summary = county_summary(t)
    assert summary.loc[summary["pollutant"] == "nox", "review_t"].item() == 10.0


@pytest.mark.parametrize("action", ["exempt", "none"])
def test_exempt_and_none_avoid_nothing(action):
    t = table_for([plant("E", pm_t=10.0)], [decision("E", JINZHONG, action)])
    r = row(t, "E", "pm")
    assert (r["avoided_t"], r["status"]) == (0.0, "zero")


# --------------------------------------------------------------------------------------------
# Blanks are "no data", never 0 t


def test_blank_emissions_are_no_data_with_the_number_of_plants():
    t = table_for(
        [plant("A", pm_t=100.0), plant("B", pm_t=np.nan), plant("C")],
        [decision(i, JINZHONG, "curtail", curtail_pct=40) for i in "ABC"],
    )
    blank = row(t, "B", "pm")
    assert blank["status"] == "no_data"
    assert math.isnan(blank["annual_t"]) and math.isnan(blank["avoided_t"])
    assert "缺少颗粒物年排放量数据" in blank["basis_zh"]
    totals = county_totals(t)
    pm = totals[totals["pollutant"] == "pm"].iloc[0]
    assert pm["avoided_t"] == pytest.approx(100 * 0.40 * 152 / 365)
    assert (pm["plants"], pm["no_data_plants"]) == (3, 2)
    summary = run_summary(t)["by_pollutant"]
    assert summary["pm"]["no_data_plants"] == 2 and summary["pm"]["plants_with_data"] == 1
    assert summary["so2"]["plants_with_data"] == 0 and summary["so2"]["no_data_plants"] == 3


def test_a_plant_is_counted_once_per_pollutant_and_period():
    # a boiler both closed (heat radius) and cleared (<= 35 t/h): 30 t once, not 60
    t = table_for(
        [plant("D", county="忻府区", so2_t=30.0)],
        [
            decision("D", "xinzhou-2024", "close_or_merge"),
            decision("D", "xinzhou-2024", "clear"),
        ],
    )
    so2 = t[t["pollutant"] == "so2"]
    assert so2["counted"].sum() == 1
    assert county_summary(t).set_index("pollutant").loc["so2", "avoided_year_t"] == 30.0


def test_the_larger_measure_is_the_one_counted():
    t = table_for(
        [plant("F", county="定襄县", pm_t=2.0, pm_mg=20.0, o2_pct=13.0)],
        [
            decision("F", "xinzhou-cluster-2024", "rectify", rule_ref=FLANGE_REF),
            decision("F", "xinzhou-cluster-2024", "exit_by", deadline="2025-12-31"),
        ],
    )
    counted = t[(t["pollutant"] == "pm") & t["counted"]]
    assert counted["action"].tolist() == ["exit_by"]


# --------------------------------------------------------------------------------------------
# Through the real rule table


def test_jinzhong_table_end_to_end():
    frame = pd.DataFrame(
        {
            "id": ["Y1", "Y2"],
            "county": ["榆次区", "榆次区"],
            "industry": ["foundry", "coking"],
            "policy_class": ["permitted", "permitted"],
            "compliant": ["yes", "no"],
            "subtype": ["electric", None],
            "online_monitoring": ["yes", "yes"],
            "special_limits": ["yes", "yes"],
            "near_city": [False, False],
            "dist_builtup_m": [25_000.0, 25_000.0],
            "nearest_builtup": ["榆次区", "榆次区"],
            "pm_t": [36.5, 10.0],
        }
    )
    decisions = evaluate(frame, [load_policy(JINZHONG)])
    t = emission_table(frame, decisions, POLICIES)
    y1 = row(t, "Y1", "pm")
    # 004 §三(一)4: electric foundry outside 10 km, 30 %: 36.5 × 0.3 × 152/365 = 4.56 t
    assert y1["action"] == "curtail"
    assert y1["avoided_t"] == pytest.approx(4.56)
    y2 = row(t, "Y2", "pm")  # 004 §二1 non-compliant: shutdown for the season
    assert y2["action"] == "shutdown"
    assert y2["avoided_t"] == pytest.approx(10.0 * 152 / 365)


def test_every_retrofit_clause_is_a_rectify_row_of_a_shipped_table():
    refs = {
        row_["ref"]
        for policy in POLICIES
        for group in policy.raw.get("rules", [])
        for row_ in group["rows"]
        if row_["action"] == "rectify"
    }
    assert set(RETROFIT_LIMITS) <= refs


@settings(max_examples=60, deadline=None)
@given(
    annual=st.floats(0, 1e5, allow_nan=False),
    pct=st.integers(0, 100),
    measured=st.floats(1, 2000, allow_nan=False),
    o2=st.floats(0, 20.5, allow_nan=False),
    action=st.sampled_from(["curtail", "shutdown", "clear", "rectify", "review", "exempt"]),
)
def test_avoided_is_between_zero_and_the_annual_emissions(annual, pct, measured, o2, action):
    t = table_for(
        [plant("H", pm_t=annual, nox_mg=measured, pm_mg=measured, o2_pct=o2)],
        [decision("H", JINZHONG, action, curtail_pct=pct, rule_ref=FLANGE_REF)],
    )
    r = row(t, "H", "pm")
    assert 0.0 <= r["avoided_t"] <= annual * (1 + 1e-12)


# --------------------------------------------------------------------------------------------
# Targets


def shapotou(targets: object, tmp_path) -> object:
    raw = yaml.safe_load(load_policy("shapotou-2025").path.read_text(encoding="utf-8"))
    raw["targets"] = targets
    path = tmp_path / "shapotou.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_policy(path)


TARGETS = {
    "ref": "002_44512477227ed7b1.txt ch.2 §二 表2-1",
    "base_year": 2024,
    "target_year": 2027,
    "scope": {"county": ["沙坡头区"]},
    "reduction_pct": {"pm": 6.5, "nox": 8, "so2": 2.2},
}


def test_target_check_required_against_avoided(tmp_path):
    policy = shapotou(TARGETS, tmp_path)
    plants = pd.DataFrame(
        [
            plant("B1", county="沙坡头区", pm_t=20.0, nox_t=50.0, so2_t=100.0),
            plant("B2", county="沙坡头区", pm_t=180.0, nox_t=50.0, so2_t=100.0),
            plant("X", county="中宁县", pm_t=1000.0, nox_t=1000.0, so2_t=1000.0),
        ]
    )
    decisions = pd.DataFrame(
        [
            decision("B1", policy.id, "exit_by", deadline="2026-06-30"),
            decision("X", policy.id, "exit_by", deadline="2026-06-30"),
        ]
    )
    t = emission_table(plants, decisions, [policy])
    check = target_check(t, plants, [policy]).set_index("pollutant")
    # base = the scope's 2 plants: PM 200 t × 6.5 % = 13 t required; B1's exit avoids 20 t
    assert check.loc["pm", "base_t"] == 200.0
    assert check.loc["pm", "required_t"] == pytest.approx(13.0)
    assert check.loc["pm", "avoided_t"] == 20.0
    assert bool(check.loc["pm", "met"]) is True
    # NOx 100 t × 8 % = 8 t, 50 t avoided; SO2 200 t × 2.2 % = 4.4 t, 100 t avoided
    assert check.loc["nox", "required_t"] == pytest.approx(8.0)
    assert check.loc["so2", "required_t"] == pytest.approx(4.4)
    assert check.loc["so2", "gap_t"] == pytest.approx(4.4 - 100.0)


def test_target_not_met_when_the_deadline_is_after_the_target_year(tmp_path):
    policy = shapotou(TARGETS, tmp_path)
    plants = pd.DataFrame([plant("B", county="沙坡头区", pm_t=100.0, nox_t=1, so2_t=1)])
    decisions = pd.DataFrame([decision("B", policy.id, "exit_by", deadline="2028-06-30")])
    t = emission_table(plants, decisions, [policy])
    pm = target_check(t, plants, [policy]).set_index("pollutant").loc["pm"]
    assert pm["avoided_t"] == 0.0 and bool(pm["met"]) is False


def test_target_with_plants_lacking_data_is_undetermined(tmp_path):
    policy = shapotou(TARGETS, tmp_path)
    plants = pd.DataFrame(
        [plant("B", county="沙坡头区", pm_t=100.0), plant("C", county="沙坡头区")]
    )
    decisions = pd.DataFrame([decision("B", policy.id, "exit_by", deadline="2026-06-30")])
    t = emission_table(plants, decisions, [policy])
    pm = target_check(t, plants, [policy]).set_index("pollutant").loc["pm"]
    assert pm["no_data_plants"] == 1 and pm["met"] is None
    assert run_summary(t, target_check(t, plants, [policy]))["targets"][0]["policy"] == policy.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reduction_pct": {"pm": -6.5}}, "reduction_pct.pm"),
        ({"reduction_pct": {"co2": 5}}, "co2"),
        ({"target_year": 2020}, "not after base_year"),
        ({"base_year": "2024年"}, "base_year"),
        ({"ref": ""}, "'ref'"),
        ({"extra": 1}, "unknown keys"),
    ],
)
def test_bad_targets_are_refused_with_the_key(tmp_path, change, message):
    with pytest.raises(PolicyTableError, match=message):
        load_targets(shapotou({**TARGETS, **change}, tmp_path))


def test_tables_without_targets_give_none():
    assert load_targets(load_policy(JINZHONG)) is None


# --------------------------------------------------------------------------------------------
# The inventory columns


def test_inventory_reads_emission_columns_and_rejects_negative(csv_file):
    path = csv_file(
        [
            HEADER + ",颗粒物年排放量（吨）,二氧化硫排放量(吨),氮氧化物年排放量,VOCs年排放量",
            "A1,甲,foundry,榆次区,permitted,yes,112.75,37.69,12.5,3,,0.4",
            "A2,乙,foundry,榆次区,permitted,yes,112.76,37.69,-1,3,4,0.4",
        ]
    )
    inv = load_enterprises(path)
    a1 = inv.enterprises.set_index("id").loc["A1"]
    assert (a1["pm_t"], a1["so2_t"], a1["vocs_t"]) == (12.5, 3.0, 0.4)
    assert math.isnan(a1["nox_t"])  # blank stays blank, never 0
    assert len(inv.rejected) == 1
    reason = inv.rejected.iloc[0]["reason"]
    assert "pm_t" in reason and "negative" in reason


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("颗粒物（吨）", "pm_t"),
        ("颗粒物(t/a)", "pm_t"),
        ("颗粒物年排放量（吨）", "pm_t"),
        ("颗粒物", "pm_mg"),  # the concentration, as before
        ("颗粒物（mg/m3）", "pm_mg"),
        ("二氧化硫（吨/年）", "so2_t"),
        ("氮氧化物(吨)", "nox_t"),
        ("挥发性有机物年排放量", "vocs_t"),
        ("VOCs（t）", "vocs_t"),
    ],
)
def test_tonnes_headers_never_fall_through_to_concentrations(header, column):
    assert canonical_column(header) == column


def test_county_panel_gives_chinese_keys_per_county():
    t = table_for(
        [plant("A", pm_t=100.0), plant("B", county="太谷区")],
        [decision("A", JINZHONG, "curtail", curtail_pct=30), decision("B", JINZHONG, "review")],
    )
    panel = county_panel(t)
    assert set(panel) == {"榆次区", "太谷区"}
    assert panel["榆次区"]["颗粒物"]["采暖季减排量（吨）"] == round(100 * 0.3 * 152 / 365, 3)
    assert list(panel["太谷区"]) == ["颗粒物", "二氧化硫", "氮氧化物", "挥发性有机物"]
    assert len(POLLUTANTS) == 4


def test_shipped_shapotou_table_states_its_targets():
    # 002 ch.2 §二 表2-1: 颗粒物 6.5 %, 氮氧化物 8 %, 二氧化硫 2.2 % by 2027 against 2024
    targets = load_targets(load_policy("shapotou-2025"))
    assert targets.reduction_pct == {"pm": 6.5, "nox": 8.0, "so2": 2.2}
    assert (targets.base_year, targets.target_year) == (2024, 2027)
    assert targets.ref.startswith("002_44512477227ed7b1.txt")

"""A blank on the path of any rule gives review naming the planner's column, never ``none``
(issue 15 item 3). The four cases of the issue, then a sweep: every field of plants that get a
decision blanked in turn never turns the plant into ``none``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from spatial.decisions import evaluate, summarize
from spatial.policy import load_policies, load_policy

HEADERS = {
    "fuel": "燃料种类",
    "bulk_10kt": "年运输量（万吨）",
    "boiler_tph": "额定蒸发量",
    "boiler_mw": "额定热功率",
    "pm_mg": "颗粒物浓度",
}


def decide(policy: str, **plant) -> pd.DataFrame:
    frame = pd.DataFrame([{"id": "E1", **plant}])
    return evaluate(frame, [load_policy(policy)], headers=HEADERS)


def test_coal_district_boiler_with_blank_fuel_goes_to_review():
    """001 §三(二)8: a boiler in a heat radius whose fuel is blank may be a coal boiler."""
    decisions = decide(
        "xinzhou-2024",
        county="忻府区",
        industry="boiler",
        boiler_tph=20,
        in_heat_radius=True,
        dist_heat_m=12_000.0,
        dist_builtup_m=5_000.0,
        ultra_low="yes",
    )
    assert not decisions.empty and set(decisions["action"]) == {"review"}
    assert decisions["reason_zh"].str.contains("「燃料种类」为空").all()
    assert decisions["flags"].str.contains("blank:fuel").all()


def test_changzhi_blank_bulk_tonnage_goes_to_review():
    """003 §四(二): 150万吨以上大宗物料运输企业 — a blank tonnage cannot be read as small."""
    decisions = decide("changzhi-2024", county="潞州区", industry="coking", clean_transport_pct=60)
    assert decisions["action"].tolist() == ["review"]
    assert "「年运输量（万吨）」为空" in decisions["reason_zh"].iloc[0]
    assert "四（二）" in decisions["reason_zh"].iloc[0]


def test_shapotou_gas_boiler_with_blank_size_and_nox_120_goes_to_review():
    """002 ch.3 §二(四)2: gas boilers >= 1 t/h or >= 0.7 MW to NOx < 50; size unknown."""
    decisions = decide(
        "shapotou-2025",
        county="沙坡头区",
        industry="boiler",
        fuel="gas",
        nox_mg=120,
        dist_builtup_m=4_000.0,
    )
    review = decisions[decisions["action"] == "review"]
    assert len(review) == 1
    reason = review["reason_zh"].iloc[0]
    assert "「额定蒸发量」" in reason and "「额定热功率」" in reason and "征求意见稿" in reason


def test_shapotou_gas_boiler_with_one_size_given_is_decided():
    decisions = decide(
        "shapotou-2025",
        county="沙坡头区",
        industry="boiler",
        fuel="gas",
        boiler_mw=1.4,
        nox_mg=120,
        dist_builtup_m=4_000.0,
    )
    assert "rectify" in set(decisions["action"]) and "review" not in set(decisions["action"])


FLANGE = {"county": "定襄县", "industry": "flange", "o2_pct": 8.0, "zone_status": "in_progress"}


def test_flange_with_blank_pm_is_reviewed_not_passed_on_the_other_values():
    """000 §三(二)3 limits PM 10, SO2 50, NOx 200 at 8 % O2: with PM blank and the others under
    their limits, the plant is not known to comply (the old max skipped the blank)."""
    decisions = decide("xinzhou-cluster-2024", **FLANGE, so2_mg=30.0, nox_mg=150.0)
    limits = decisions[decisions["rule_ref"].str.contains("§三(二)3", regex=False)]
    assert limits["action"].tolist() == ["review"]
    assert "「颗粒物浓度」为空" in limits["reason_zh"].iloc[0]


def test_flange_with_blank_pm_and_so2_over_the_limit_is_rectified():
    decisions = decide("xinzhou-cluster-2024", **FLANGE, so2_mg=80.0, nox_mg=150.0)
    limits = decisions[decisions["rule_ref"].str.contains("§三(二)3", regex=False)]
    assert limits["action"].tolist() == ["rectify"]
    assert "二氧化硫80毫克/立方米" in limits["reason_zh"].iloc[0]


DECIDED = [
    {
        "county": "榆次区",
        "compliant": "yes",
        "industry": "foundry",
        "subtype": "cupola",
        "online_monitoring": "yes",
        "so2_mg": 50.0,
        "nox_mg": 70.0,
        "pm_mg": 15.0,
        "furnace_t": 8.0,
        "policy_class": "permitted",
        "near_city": True,
        "dist_builtup_m": 0.0,
    },
    {
        "county": "忻府区",
        "industry": "boiler",
        "fuel": "coal",
        "boiler_tph": 20.0,
        "ultra_low": "no",
        "in_heat_radius": True,
        "dist_heat_m": 12_000.0,
        "dist_builtup_m": 5_000.0,
    },
    {"county": "襄垣县", "industry": "coking", "bulk_10kt": 200.0, "clean_transport_pct": 60.0},
    {
        "county": "沙坡头区",
        "industry": "boiler",
        "fuel": "coal",
        "boiler_tph": 8.0,
        "dist_builtup_m": 3_000.0,
    },
    {"county": "定襄县", "industry": "flange", "pm_mg": 30.0, "so2_mg": 30.0, "nox_mg": 100.0,
     "o2_pct": 12.0, "zone_status": "in_progress", "zone_phase": 2},
]  # fmt: skip


@pytest.mark.parametrize("plant", DECIDED, ids=lambda p: f"{p['county']}-{p['industry']}")
def test_blanking_any_field_of_a_decided_plant_never_gives_none(plant):
    policies = load_policies()
    for column in [c for c in plant if c != "county"]:
        blanked = dict(plant, id="E1", **{column: None})
        frame = pd.DataFrame([blanked])
        decisions = evaluate(frame, policies)
        summary = summarize(frame, decisions, policies)
        assert summary["action"].iloc[0] != "none", (column, summary["reason_zh"].iloc[0])

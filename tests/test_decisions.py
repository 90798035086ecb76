"""Decisions checked against the policy documents themselves.

The expected outcomes below are typed in from the original texts (004_8ff93025e2acb35e.txt for
Jinzhong), not copied from the YAML tables, so a wrong table row fails here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from spatial.decisions import column_label, evaluate, evaluate_policy, stop_days, summarize
from spatial.errors import PolicyTableError
from spatial.policy import load_policy

CASES = Path(__file__).parent / "cases"
BASE = {"id": "E1", "county": "榆次区", "compliant": "yes"}


def decide(policy: str = "jinzhong-2019", as_of=None, **fields) -> pd.DataFrame:
    frame = pd.DataFrame([{**BASE, **fields}])
    return evaluate_policy(frame, load_policy(policy), as_of=as_of)


def one(policy: str = "jinzhong-2019", **fields) -> pd.Series:
    decisions = decide(policy, **fields)
    assert len(decisions) == 1, decisions
    return decisions.iloc[0]


def at(near: bool) -> dict:
    return {"near_city": near, "dist_builtup_m": 9_999.0 if near else 10_001.0}


OK_FOUNDRY = {"so2_mg": 50.0, "nox_mg": 70.0, "pm_mg": 15.0}
OK_GLASS = {"so2_mg": 150.0, "nox_mg": 300.0, "pm_mg": 25.0}
# (clause, enterprise, percent near a city, percent outside) — from 004 §三(一) and §二4
MATRIX = [
    (
        "三(一)1 steel",
        {"industry": "steel", "online_monitoring": "yes", "ultra_low": "yes"},
        40,
        40,
    ),
    (
        "三(一)2 ferroalloy+sintering",
        {"industry": "ferroalloy", "online_monitoring": "yes", "sintering": "yes"},
        50,
        40,
    ),
    (
        "三(一)2 ferroalloy",
        {"industry": "ferroalloy", "online_monitoring": "yes", "sintering": "no"},
        48,
        38,
    ),
    (
        "三(一)3 coking encouraged",
        {"industry": "coking", "special_limits": "yes", "policy_class": "encouraged"},
        30,
        20,
    ),
    (
        "三(一)3 coking permitted",
        {"industry": "coking", "special_limits": "yes", "policy_class": "permitted"},
        40,
        30,
    ),
    (
        "三(一)3 coking restricted",
        {"industry": "coking", "special_limits": "yes", "policy_class": "restricted"},
        50,
        40,
    ),
    (
        "三(一)4 foundry electric",
        {"industry": "foundry", "subtype": "electric", **OK_FOUNDRY},
        40,
        30,
    ),
    ("三(一)4 foundry gas", {"industry": "foundry", "subtype": "gas", **OK_FOUNDRY}, 40, 30),
    (
        "三(一)4 cupola 12 t",
        {
            "industry": "foundry",
            "subtype": "cupola",
            "online_monitoring": "yes",
            "furnace_t": 12.0,
            **OK_FOUNDRY,
        },
        40,
        30,
    ),
    (
        "三(一)4 cupola 10 t (含)",
        {
            "industry": "foundry",
            "subtype": "cupola",
            "online_monitoring": "yes",
            "furnace_t": 10.0,
            **OK_FOUNDRY,
        },
        40,
        30,
    ),
    (
        "三(一)4 cupola 7 t",
        {
            "industry": "foundry",
            "subtype": "cupola",
            "online_monitoring": "yes",
            "furnace_t": 7.0,
            **OK_FOUNDRY,
        },
        50,
        40,
    ),
    (
        "三(一)5 brick encouraged",
        {
            "industry": "brick_kiln",
            "policy_class": "encouraged",
            "online_monitoring": "yes",
            "pm_mg": 8.0,
            "so2_mg": 30.0,
        },
        30,
        20,
    ),
    (
        "三(一)5 brick permitted",
        {
            "industry": "brick_kiln",
            "policy_class": "permitted",
            "online_monitoring": "yes",
            "pm_mg": 10.0,
            "so2_mg": 35.0,
        },
        40,
        30,
    ),
    (
        "三(一)6 nonferrous",
        {"industry": "nonferrous", "online_monitoring": "yes", "special_limits": "yes"},
        40,
        30,
    ),
    (
        "三(一)7 clinker",
        {
            "industry": "cement",
            "subtype": "clinker",
            "online_monitoring": "yes",
            "special_limits": "yes",
        },
        40,
        30,
    ),
    (
        "三(一)7 grinding",
        {"industry": "cement", "subtype": "grinding", "special_limits": "yes"},
        40,
        30,
    ),
    (
        "三(一)7 products",
        {
            "industry": "cement",
            "subtype": "products",
            "clean_energy": "yes",
            "special_limits": "yes",
        },
        40,
        30,
    ),
    (
        "三(一)8 chemical",
        {"industry": "chemical", "online_monitoring": "yes", "special_limits": "yes"},
        40,
        30,
    ),
    ("三(一)9 coatings", {"industry": "coating_ink"}, 40, 30),
    (
        "三(一)11 carbon crane",
        {
            "industry": "carbon",
            "online_monitoring": "yes",
            "special_limits": "yes",
            "suction_crane": "yes",
            "policy_class": "permitted",
        },
        40,
        30,
    ),
    (
        "三(一)11 carbon no crane",
        {
            "industry": "carbon",
            "online_monitoring": "yes",
            "special_limits": "yes",
            "suction_crane": "no",
            "policy_class": "permitted",
        },
        50,
        40,
    ),
    (
        "三(一)11 carbon crane restricted +10",
        {
            "industry": "carbon",
            "online_monitoring": "yes",
            "special_limits": "yes",
            "suction_crane": "yes",
            "policy_class": "restricted",
        },
        50,
        40,
    ),
    (
        "三(一)11 carbon no crane restricted +10",
        {
            "industry": "carbon",
            "online_monitoring": "yes",
            "special_limits": "yes",
            "suction_crane": "no",
            "policy_class": "restricted",
        },
        60,
        50,
    ),
    (
        "三(一)12 refractory",
        {
            "industry": "refractory",
            "online_monitoring": "yes",
            "nox_mg": 250.0,
            "so2_mg": 150.0,
            "pm_mg": 20.0,
            "clean_energy": "yes",
        },
        40,
        30,
    ),
    (
        "三(一)13 glass electric",
        {"industry": "glassware", "subtype": "electric", **OK_GLASS},
        40,
        30,
    ),
    (
        "三(一)13 glass gas producer",
        {
            "industry": "glassware",
            "subtype": "gas_producer",
            "online_monitoring": "yes",
            **OK_GLASS,
        },
        50,
        40,
    ),
    (
        "三(一)14 materials encouraged",
        {"industry": "building_materials", "policy_class": "encouraged"},
        30,
        20,
    ),
    (
        "三(一)14 materials permitted",
        {"industry": "building_materials", "policy_class": "permitted"},
        40,
        30,
    ),
    (
        "三(一)14 materials restricted",
        {"industry": "building_materials", "policy_class": "restricted"},
        50,
        40,
    ),
]


@pytest.mark.parametrize("near", [True, False], ids=["9999m", "10001m"])
@pytest.mark.parametrize(
    ("clause", "plant", "pct_near", "pct_far"), MATRIX, ids=[m[0] for m in MATRIX]
)
def test_jinzhong_matrix_on_both_sides_of_10km(clause, plant, pct_near, pct_far, near):
    decision = one(**plant, **at(near))
    expected = pct_near if near else pct_far
    assert decision.action == "curtail", (clause, decision.reason_zh)
    assert decision.curtail_pct == expected
    assert decision.stop_days == stop_days(expected, 152)
    assert decision.rule_ref.startswith("004_8ff93025e2acb35e.txt §")
    assert f"限产{expected}%" in decision.reason_zh


@pytest.mark.parametrize(
    ("pct", "days"), [(20, 31), (30, 46), (38, 58), (40, 61), (48, 73), (50, 76), (60, 92)]
)
def test_stop_days_are_rounded_up_over_152_days(pct, days):
    """§二10 and §二13: 2019-11-01 to 2020-03-31 is 152 days; 30 % is 45.6 → 46 days."""
    assert stop_days(pct, 152) == days


@pytest.mark.parametrize(
    ("plant", "action", "clause"),
    [
        ({"compliant": "no", "green_factory": "yes", "industry": "foundry"}, "shutdown", "§二1"),
        (
            {"green_factory": "yes", "industry": "coking", "special_limits": "no"},
            "exempt",
            "§二2(1)",
        ),
        ({"ultra_low": "yes", "clean_transport": "yes", "industry": "steel"}, "exempt", "§二2(2)"),
        (
            {"industry": "coking", "special_limits": "no", "policy_class": "permitted"},
            "shutdown",
            "§三(一)3",
        ),
        ({"industry": "foundry", "subtype": "cupola", "furnace_t": 5.0}, "stop_season", "§三(一)4"),
        ({"industry": "foundry", "subtype": "cupola", "furnace_t": 3.0}, "stop_season", "§三(一)4"),
        ({"industry": "rubber"}, "rotate", "§三(一)10"),
    ],
)
def test_precedence_and_fixed_outcomes(plant, action, clause):
    decision = one(**plant, **at(True))
    assert decision.action == action
    assert decision.rule_ref.endswith(clause)
    if action == "exempt":
        assert decision.stop_days == 0
    if action == "stop_season":
        assert decision.stop_days == 152


def test_exemption_needs_its_conditions_shown():
    """Ultra-low with clean transport blank is not exempt: it falls to the industry row."""
    decision = one(
        industry="steel", online_monitoring="yes", ultra_low="yes", clean_transport=None, **at(True)
    )
    assert decision.action == "curtail" and decision.curtail_pct == 40


@pytest.mark.parametrize(
    ("plant", "blank"),
    [
        ({"compliant": None, "industry": "foundry"}, "compliant"),
        (
            {"industry": "coking", "special_limits": None, "policy_class": "permitted"},
            "special_limits",
        ),
        (
            {
                "industry": "foundry",
                "subtype": "cupola",
                "online_monitoring": "yes",
                "furnace_t": None,
            },
            "furnace_t",
        ),
        ({"industry": "ferroalloy", "online_monitoring": "yes", "sintering": None}, "sintering"),
        (
            {
                "industry": "carbon",
                "online_monitoring": "yes",
                "special_limits": "yes",
                "suction_crane": None,
                "policy_class": "permitted",
            },
            "suction_crane",
        ),
        ({"industry": "building_materials", "policy_class": None}, "policy_class"),
    ],
)
def test_blanks_where_failing_has_its_own_outcome_give_review(plant, blank):
    decision = one(**plant, **at(True))
    assert decision.action == "review"
    assert f"blank:{blank}" in decision["flags"]
    assert f"「{column_label(blank)}」" in decision.reason_zh


def test_blank_measurement_does_not_block_a_compliant_plant_but_is_flagged():
    decision = one(
        industry="foundry", subtype="electric", so2_mg=None, nox_mg=70.0, pm_mg=15.0, **at(False)
    )
    assert decision.action == "curtail" and decision.curtail_pct == 30
    assert "unverified:so2_mg" in decision["flags"]


@pytest.mark.parametrize(
    "plant",
    [
        {"industry": "other"},
        {"industry": "steel", "ultra_low": "no", "policy_class": "encouraged"},
        {"industry": "ferroalloy", "online_monitoring": "no", "sintering": "yes"},
    ],
)
def test_cases_the_text_does_not_cover_go_to_review(plant):
    decision = one(**plant, **at(True))
    assert decision.action == "review" and decision.reason_zh


def test_unknown_distance_gives_review_not_a_guess():
    decision = one(industry="coating_ink", near_city=None, dist_builtup_m=float("nan"))
    assert decision.action == "review" and "与建成区的距离未知" in decision.reason_zh


def test_heat_supply_gives_heat_determined_with_the_percent_as_upper_bound():
    """§二6 / §三(一)3: enterprises supplying heat or gas set their load by the heat demand."""
    decision = one(
        industry="coking",
        special_limits="yes",
        policy_class="permitted",
        supplies_heat="yes",
        **at(True),
    )
    assert decision.action == "heat_determined"
    assert decision.curtail_pct == 40
    assert "§二6" in decision.rule_ref and "heat-supply:upper_bound" in decision["flags"]


def test_restricted_near_city_may_stop_instead():
    decision = one(industry="building_materials", policy_class="restricted", **at(True))
    assert decision.curtail_pct == 50 and "may_stop_instead_if_safe" in decision["flags"]


def test_outside_jinzhong_the_table_does_not_apply():
    assert decide(industry="coating_ink", county="忻府区", **at(True)).empty


def table_with(tmp_path, extra: str) -> Path:
    text = Path(load_policy("jinzhong-2019").path).read_text(encoding="utf-8")
    text = text.replace("county_overrides: []", "county_overrides:\n" + extra)
    path = tmp_path / "jinzhong-mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_county_raise_from_the_planners_own_table(tmp_path):
    """§二6 / §二12: a county may raise the percent. No code change: a YAML row."""
    path = table_with(
        tmp_path, "- {county: 榆次区, industry: coating_ink, min_pct: 50, ref: 榆次区方案 §1}\n"
    )
    frame = pd.DataFrame([{**BASE, "industry": "coating_ink", **at(True)}])
    decision = evaluate_policy(frame, load_policy(path)).iloc[0]
    assert decision.curtail_pct == 50 and decision.stop_days == 76
    assert "county_raise:40->50" in decision["flags"] and "榆次区方案 §1" in decision.rule_ref


def test_a_county_override_never_cuts(tmp_path):
    path = table_with(tmp_path, "- {county: 榆次区, min_pct: 10, ref: x}\n")
    frame = pd.DataFrame([{**BASE, "industry": "coating_ink", **at(True)}])
    assert evaluate_policy(frame, load_policy(path)).iloc[0].curtail_pct == 40


def test_broken_override_is_a_clear_error(tmp_path):
    path = table_with(tmp_path, "- {county: 榆次区, min_pct: 150, ref: x}\n")
    with pytest.raises(PolicyTableError, match="min_pct"):
        load_policy(path)


def test_summary_is_the_most_severe_decision():
    frame = pd.DataFrame(
        [
            {**BASE, "id": "A", "industry": "coating_ink", **at(True)},
            {**BASE, "id": "B", "county": "北京", "industry": "steel"},
        ]
    )
    decisions = evaluate(frame, [load_policy("jinzhong-2019")])
    extra = decisions.iloc[[0]].assign(action="shutdown", curtail_pct=None, rule_ref="x")
    summary = summarize(frame, pd.concat([decisions, extra], ignore_index=True)).set_index("id")
    assert summary.loc["A", "action"] == "shutdown" and summary.loc["A", "decision_count"] == 2
    assert summary.loc["B", "action"] == "none" and summary.loc["B", "decision_count"] == 0


def _yaml_cases() -> list:
    cases = []
    for path in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            cases.append(pytest.param(doc["policy"], case, id=f"{path.stem}: {case['name']}"))
    return cases


@pytest.mark.parametrize(("policy", "case"), _yaml_cases())
def test_yaml_cases(policy, case):
    """tests/cases/*.yaml: cases a planner can extend without writing Python."""
    decisions = decide(policy, as_of=case.get("as_of"), **case["enterprise"])
    expected = case["expect"]
    if expected == "none":
        assert decisions.empty, decisions[["rule_id", "action"]]
        return
    expected = expected if isinstance(expected, list) else [expected]
    got = decisions.to_dict("records")
    assert len(got) == len(expected), [(d["rule_id"], d["action"]) for d in got]
    for want, have in zip(expected, got, strict=True):
        for key, value in want.items():
            if key == "flags":
                for flag in value:
                    assert flag in have["flags"], (flag, have["flags"])
            elif key == "rule_ref":
                assert value in have["rule_ref"], (value, have["rule_ref"])
            else:
                assert have[key] == value, (key, have[key], value, have["reason_zh"])

"""Rules in force on the run's date (issue 15 item 2), typed from the texts' own dates:

- 004 §二13 错峰生产时间：2019年11月1日—2020年3月31日;
- 003 §一(三) 水泥熟料企业 … 在2023年11月15日-2024年3月15日期间保持停产状态;
- 001 §三(五)20 35蒸吨以上燃煤锅炉 … 2024年10月底前完成超低排放改造;
- 000 §二(一) 2025年底前独立球团竖炉生产工艺退出我市球团生产企业;
- 002 is a 征求意见稿 for 2025-2027 (ch.2 §二 本次规划期限为2025年至2027年).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from spatial.decisions import evaluate, evaluate_policy, summarize
from spatial.errors import PolicyTableError
from spatial.policy import load_policies, load_policy, status_on

FOUNDRY = {
    "id": "F1",
    "county": "榆次区",
    "compliant": "yes",
    "industry": "foundry",
    "subtype": "electric",
    "so2_mg": 50.0,
    "nox_mg": 70.0,
    "pm_mg": 15.0,
    "near_city": True,
    "dist_builtup_m": 0.0,
    "nearest_builtup": "榆次区",
}


def decide(policy: str, as_of, **plant) -> pd.DataFrame:
    return evaluate_policy(pd.DataFrame([plant]), load_policy(policy), as_of=as_of)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2019-11-01", "curtail"),  # first day of the season
        ("2020-01-15", "curtail"),
        ("2020-03-31", "curtail"),  # last day
        ("2020-04-01", None),
        ("2019-10-31", None),
        ("2025-12-01", None),  # the run: no Jinzhong 2019-2020 curtailment today
    ],
)
def test_jinzhong_applies_only_in_its_season(as_of, expected):
    decisions = decide("jinzhong-2019", as_of, **FOUNDRY)
    if expected is None:
        assert decisions.empty
    else:
        assert decisions["action"].tolist() == [expected]
        assert decisions["curtail_pct"].tolist() == [40]


def test_the_run_says_which_tables_are_out_of_force():
    status = {s.part: s for s in status_on(load_policies(), dt.date(2025, 12, 1))}
    jinzhong = status["jinzhong-2019"]
    assert jinzhong.status == "expired" and not jinzhong.applies
    assert "2019年11月1日至2020年3月31日" in jinzhong.reason_zh
    assert "市工信产发〔2019〕79号" in jinzhong.reason_zh
    assert status["changzhi-2024/cement-clinker"].status == "expired"
    assert status["changzhi-2024"].status == "in_force"  # §四(二) has no end
    assert (
        status["shapotou-2025"].status == "draft"
        and "征求意见稿" in status["shapotou-2025"].reason_zh
    )
    assert status["xinzhou-2024"].applies
    early = {s.part: s for s in status_on(load_policies(), dt.date(2019, 1, 1))}
    assert early["jinzhong-2019"].status == "not_yet"


def test_changzhi_clinker_window():
    clinker = {"id": "C1", "county": "潞城区", "industry": "cement", "subtype": "clinker"}
    clinker["bulk_10kt"] = 10
    assert decide("changzhi-2024", "2024-03-15", **clinker)["action"].tolist() == ["stop_season"]
    assert decide("changzhi-2024", "2024-03-16", **clinker).empty


@pytest.mark.parametrize(
    ("as_of", "status", "days"),
    [("2024-06-01", "open", None), ("2024-10-31", "open", None), ("2025-01-01", "overdue", 62)],
)
def test_a_past_deadline_is_overdue_not_due(as_of, status, days):
    boiler = {
        "id": "B1",
        "county": "原平市",
        "industry": "boiler",
        "fuel": "coal",
        "boiler_tph": 50,
        "ultra_low": "no",
        "in_heat_radius": False,
        "dist_heat_m": 45_000.0,
        "dist_builtup_m": 3_000.0,
    }
    decision = (
        decide("xinzhou-2024", as_of, **boiler)
        .set_index("rule_id")
        .loc["coal-boiler-35-65t-ultra-low"]
    )
    assert decision["deadline"] == "2024-10-31" and decision["deadline_status"] == status
    if days:
        assert f"已逾期{days}天" in decision["reason_zh"]
    else:
        assert "逾期" not in decision["reason_zh"]


def test_the_pellet_exit_is_overdue_after_2025():
    pellet = {"id": "P1", "county": "代县", "industry": "pellet", "subtype": "shaft_furnace"}
    pellet |= {"ultra_low": "yes", "sintering": "no"}
    decision = decide("xinzhou-cluster-2024", "2026-12-07", **pellet).iloc[0]
    assert decision["action"] == "exit_by" and decision["deadline_status"] == "overdue"
    assert "2025年12月31日" in decision["reason_zh"] and "已逾期" in decision["reason_zh"]


def test_none_says_which_of_its_kinds_it_is():
    plants = pd.DataFrame(
        [
            FOUNDRY,  # Jinzhong, out of force on the date
            {"id": "X", "county": "北京市", "industry": "steel"},
            {"id": "G", "county": "忻府区", "industry": "boiler", "fuel": "gas", "boiler_tph": 4},
        ]
    )
    policies = load_policies()
    day = dt.date(2025, 12, 1)
    summary = summarize(plants, evaluate(plants, policies, as_of=day), policies, day)
    summary = summary.set_index("id")
    assert (summary["action"] == "none").all()
    assert summary.loc["F1", "none_kind"] == "not_in_force"
    assert "不在执行期内" in summary.loc["F1", "reason_zh"]
    assert summary.loc["X", "none_kind"] == "outside_area"
    assert "北京市" in summary.loc["X", "reason_zh"]
    assert summary.loc["G", "none_kind"] == "no_clause"
    assert (
        "锅炉" in summary.loc["G", "reason_zh"]
        and "忻政发〔2024〕7号" in summary.loc["G", "reason_zh"]
    )


def write(tmp_path, text: str):
    path = tmp_path / "dated.yaml"
    path.write_text(
        "id: dated\ntitle: t\nsource: s.txt\nissued: 2024-01-01\nversion: 1\n" + text,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "in_force:\n- {from: 2024-01-01, to: 2024-06-30, ref: s.txt §1}\n"
            "- {from: 2024-06-01, to: 2024-12-31, ref: s.txt §1}\n",
            "in_force[2]: overlaps in_force[1]",
        ),
        ("in_force: {from: 2024-12-31, to: 2024-01-01, ref: s.txt §1}\n", "in_force: ends"),
        ("in_force: {from: soon, ref: s.txt §1}\n", "in_force.from"),
        (
            "in_force: {from: 2024-01-01, to: 2024-12-31, ref: s.txt §1}\nrules:\n- id: g\n"
            "  in_force: {from: 2023-11-15, to: 2024-03-15, ref: s.txt §2}\n"
            "  rows: [{id: r, action: clear, ref: s.txt §2}]\n",
            "rules[1] (g).in_force: lies outside the table's in_force period",
        ),
    ],
)
def test_overlapping_or_malformed_dates_are_refused(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(PolicyTableError) as info:
        load_policy(path)
    assert expected in str(info.value) and str(path) in str(info.value)

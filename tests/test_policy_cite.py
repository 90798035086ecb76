"""Citations a person reads: documents by title and number, clauses in their own numbering.

The expected strings are typed from the first pages of the original texts in shared/seeds/
(title line, 文号 line, issuer and date), not copied from the YAML tables.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spatial.decisions import distance_zh, evaluate, fact_text
from spatial.policy import (
    FactSpec,
    cite,
    cite_ref,
    clause_zh,
    document,
    documents,
    documents_table,
    load_policies,
    load_policy,
)

JINZHONG = "004_8ff93025e2acb35e.txt"


@pytest.mark.parametrize(
    ("source", "clause", "form", "expected"),
    [
        (
            JINZHONG,
            "§二4",
            "full",
            "《晋中市2019-2020年秋冬季工业企业错峰生产行动方案》（市工信产发〔2019〕79号）二、4",
        ),
        (JINZHONG, "§二4", "short", "市工信产发〔2019〕79号 二、4"),
        (JINZHONG, "§三(一)4", "short", "市工信产发〔2019〕79号 三（一）4"),
        ("001_522351a5754bb1d1.txt", "§三(二)8", "short", "忻政发〔2024〕7号 三（二）8"),
        (
            "001_522351a5754bb1d1.txt",
            "§三(二)8",
            "full",
            "《忻州市落实〈空气质量持续改善行动计划〉实施方案》（忻政发〔2024〕7号）三（二）8",
        ),
        ("000_76214740fd4dcd9a.txt", "§二(一)", "short", "忻政办函〔2024〕34号 二（一）"),
        (
            "002_44512477227ed7b1.txt",
            "ch.3 §二(四)1",
            "full",
            "《中卫市沙坡头区涉气产业集群发展规划（2025-2027年）（征求意见稿）》第三章二（四）1",
        ),
    ],
)
def test_cite_by_title_number_and_clause(source, clause, form, expected):
    assert cite(source, clause, form=form) == expected


def test_a_policy_object_and_its_id_cite_the_same():
    policy = load_policy("jinzhong-2019")
    assert (
        cite(policy, "§二13") == cite("jinzhong-2019", "§二13") == "市工信产发〔2019〕79号 二、13"
    )


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("§二1", "二、1"),
        ("§二2(1)", "二、2（1）"),
        ("§二13", "二、13"),
        ("§三(一)14", "三（一）14"),
        ("§一(三)", "一（三）"),
        ("§四(二)", "四（二）"),
        ("ch.3 §一(一)", "第三章一（一）"),
        ("ch.12 §二", "第十二章二"),
    ],
)
def test_clauses_in_the_documents_own_numbering(clause, expected):
    assert clause_zh(clause) == expected


def test_the_draft_says_so_wherever_it_is_cited():
    """002 is a 征求意见稿 (its title line): the short form, the full form, the documents sheet
    and every decision of the Shapotou table say so."""
    assert "（征求意见稿）" in cite("shapotou-2025", "ch.3 §二(四)1")
    assert document("shapotou-2025").draft
    table = documents_table([load_policy("shapotou-2025")])
    row = table[table["文件名称"].str.contains("沙坡头")].iloc[0]
    assert row["文件状态"] == "征求意见稿" and "（征求意见稿）" in row["文件名称"]
    frame = pd.DataFrame(
        [{"id": "S1", "county": "沙坡头区", "industry": "boiler", "fuel": "coal", "boiler_tph": 8}]
    )
    decisions = evaluate(frame, [load_policy("shapotou-2025")])
    assert len(decisions) and decisions["reason_zh"].str.contains("征求意见稿").all()


def test_several_references_group_by_document():
    ref = f"{JINZHONG} §三(一)3; {JINZHONG} §二6"
    assert cite_ref(ref) == "市工信产发〔2019〕79号 三（一）3，二、6"
    assert cite_ref(ref, "full").startswith("《晋中市2019-2020年秋冬季")


def test_unknown_source_is_cited_as_written():
    assert cite_ref("榆次区错峰生产方案 §1") == "榆次区错峰生产方案 1"


def test_documents_of_a_run_include_documents_cited_by_other_tables():
    """The Xinzhou table borrows Jinzhong's built-up definition (004 §二4): both documents."""
    found = documents([load_policy("xinzhou-2024")])
    assert [d.number for d in found] == ["忻政发〔2024〕7号", "市工信产发〔2019〕79号"]
    table = documents_table(load_policies())
    assert len(table) == 5
    assert "（原文无文号）" in set(table["文号"])  # Changzhi and Shapotou carry none
    assert not table.apply(lambda c: c.astype(str).str.contains(r"\.txt|_[0-9a-f]{8}")).any().any()


@given(
    metres=st.floats(0, 100_000, allow_nan=False),
    threshold=st.sampled_from([0.0, 200.0, 1000.0, 10_000.0, 30_000.0]),
)
def test_a_distance_in_words_keeps_its_comparison(metres, threshold):
    text = distance_zh(metres, threshold)
    number = float(re.match(r"[\d.]+", text).group())
    shown = number * (1000 if text.endswith("公里") else 1)
    assert np.sign(round(shown - threshold, 6)) == np.sign(round(metres - threshold, 6)) or (
        metres == threshold
    ), (metres, threshold, text)


def test_distance_examples_from_the_issue():
    assert distance_zh(29_996, 30_000) == "29.996公里"  # not 30.00公里
    spec = load_policy("jinzhong-2019").facts[0]
    assert fact_text(spec, 0.0, "榆次区") == "位于榆次区建成区内"
    far = fact_text(spec, 10_000.4, "榆次区")
    assert far.startswith("距榆次区建成区10.0004公里") and "不在" in far


def _plants() -> pd.DataFrame:
    rows = []
    for county in ("榆次区", "忻府区", "定襄县", "繁峙县", "潞州区", "沙坡头区"):
        for industry in ("foundry", "coking", "boiler", "power", "flange", "pellet", "cement"):
            rows.append(
                {
                    "id": f"{county}-{industry}",
                    "county": county,
                    "industry": industry,
                    "compliant": "yes",
                    "policy_class": "permitted",
                    "fuel": "coal" if industry in ("boiler", "power") else None,
                    "boiler_tph": 20.0 if industry == "boiler" else None,
                    "subtype": {"pellet": "shaft_furnace", "cement": "clinker"}.get(industry),
                    "so2_mg": 55.0,
                    "supplies_heat": "yes" if industry == "coking" else None,
                    "near_city": True,
                    "dist_builtup_m": 0.0,
                    "nearest_builtup": county,
                    "in_heat_radius": True,
                    "dist_heat_m": 12_000.0,
                    "heat_source_id": "HS-01",
                    "heat_source_name": "忻州广宇煤电有限公司",
                }
            )
    return pd.DataFrame(rows)


def test_no_raw_code_in_any_text_a_person_reads():
    decisions = evaluate(_plants(), load_policies())
    assert len(decisions) > 20
    text = decisions["reason_zh"] + " " + decisions["flags_zh"]
    for pattern in (r"\.txt", "§", r"[0-9a-f]{16}", r"\b[a-z]+_[a-z_]+\b", r"\bHS-\d", "{", "nan"):
        bad = text[text.str.contains(pattern)]
        assert bad.empty, (pattern, bad.head(3).tolist())
    english = text.str.findall(r"[A-Za-z]{3,}").explode().dropna()
    assert set(english) <= {"NOx", "VOCs", "YB"}, set(english)


def test_a_review_names_the_planners_own_header():
    frame = pd.DataFrame(
        [
            {
                "id": "B1",
                "county": "忻府区",
                "industry": "boiler",
                "fuel": "coal",
                "dist_builtup_m": 9e3,
            }
        ]
    )
    decisions = evaluate(frame, [load_policy("xinzhou-2024")], headers={"boiler_tph": "锅炉规模"})
    review = decisions[decisions["rule_id"] == "coal-boiler-35t-or-less"].iloc[0]
    assert review["action"] == "review"
    assert (
        "「锅炉规模」为空" in review["reason_zh"]
        and "忻政发〔2024〕7号 三（二）8" in review["reason_zh"]
    )


def test_fact_text_says_unknown_without_a_layer():
    spec = FactSpec("x", "eco_zones", 0.0, "d", "n", "r", "p", label_zh="生态保护区{name}")
    assert fact_text(spec, float("nan"), None).startswith("与生态保护区的距离未知")

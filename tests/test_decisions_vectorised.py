"""The policy engine's once-per-distinct-value shortcuts against the plain per-row reading.

Each shortcut (blank masks, text matches, county matches, reason values read only when a
template names them, the sentence of a ``none``) is compared with the straightforward
computation it replaces, on tiny frames built here with every kind of value: text, numbers,
nullable integers, booleans, mixed objects, blanks of every spelling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial import decisions
from spatial.decisions import (
    _blank,
    _factorizable,
    _Rows,
    _template_values,
    _text_isin,
    _Values,
    county_matches,
    none_reasons,
)
from spatial.policy import load_policies

TEXTS = ["yes", "no", "", " ", "nan", "None", "<NA>", "榆次区", "榆次", " 定襄县 ", "1", "1.0"]
SERIES = {
    "str": pd.Series([*TEXTS, None, np.nan], dtype="str"),
    "object": pd.Series([*TEXTS, None, np.nan, 1, 1.0, True, pd.NA], dtype=object),
    "float": pd.Series([1.0, 0.5, np.nan, 35.0, -0.0, 1e-5, 1e20]),
    "Int64": pd.Series([1, None, 35, 0], dtype="Int64"),
    "bool": pd.Series([True, False, True]),
    "int": pd.Series([1, 2, 35]),
}


def old_blank(values: pd.Series) -> np.ndarray:
    text = values.astype(object)
    return (text.isna() | text.astype(str).str.strip().isin(["", "nan", "None", "<NA>"])).to_numpy()


@pytest.mark.parametrize("name", sorted(SERIES))
def test_blank_masks_like_reading_every_value(name):
    values = SERIES[name]
    assert _blank(values).tolist() == old_blank(values).tolist()


@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize(
    "options", [["yes"], ["1"], ["1.0", "35"], ["True"], ["nan"], ["榆次区", "no"], []]
)
def test_text_matches_like_astype_str(name, options):
    values = SERIES[name]
    want = values.astype(str).isin(options).to_numpy() & ~old_blank(values)
    got = _text_isin(values, options) & ~_blank(values)
    assert got.tolist() == want.tolist()


def test_object_columns_are_not_read_per_distinct_value():
    # 1 and 1.0 hash alike but read differently ("1" / "1.0"): never factorized together
    assert not _factorizable(SERIES["object"])
    assert _factorizable(SERIES["str"]) and _factorizable(SERIES["Int64"])


@pytest.mark.parametrize("name", ["str", "object"])
def test_county_matches_every_spelling(name):
    values = pd.Series(["榆次", "晋中市榆次区", "太谷县", "祁县", None, "", "城区"], dtype=name)
    got = county_matches(values, ["榆次区", "太谷区"]).tolist()
    assert got == [True, True, True, False, False, False, False]


# --- reason values ----------------------------------------------------------------------------

SPECS = load_policies(("jinzhong-2019",))[0].facts
ROWS = pd.DataFrame(
    {
        "industry": pd.Series(["foundry", None, "coking"], dtype="str"),
        "fuel": pd.Series(["coal", "", None], dtype=object),
        "compliant": pd.Series(["yes", "no", None], dtype="str"),
        "boiler_tph": [35.0, np.nan, 0.75],
        "furnace_t": pd.Series([3, None, 10], dtype="Int64"),
        "name": ["甲", "乙", None],
        "dist_builtup_m": [9_999.6, np.nan, 0.0],
        "nearest_builtup": ["榆次区", None, "太谷区"],
        "zone_status": ["due", None, "in_progress"],
        "zone_days_left": pd.Series([-3, None, 20], dtype="Int64"),
    }
)
KEYS = [
    *ROWS.columns,
    "near_city_text",
    "near_city_place",
    "zone_status_zh",
    "curtail_pct",
    "action",
    "rule_ref",
    "not_a_column",
]
OUTCOMES = [
    {"action": "curtail", "curtail_pct": 30.0, "rule_ref": "jinzhong-2019 §二4", "x": [1]},
    {"action": "review", "curtail_pct": None, "rule_ref": None, "deadline": np.nan},
    {"action": "exempt", "curtail_pct": 0.0, "industry": "steel"},
]


@pytest.mark.parametrize("p", range(len(ROWS)))
@pytest.mark.parametrize("outcome", range(len(OUTCOMES)))
def test_reason_values_like_the_whole_row(p, outcome):
    row = ROWS.iloc[[p]].to_dict("records")[0]
    want = _template_values(row, OUTCOMES[outcome], SPECS)
    got = _Values(_Rows(ROWS, np.array([2, p, 0])), p, OUTCOMES[outcome], SPECS)
    for key in KEYS:
        assert repr(got[key]) == repr(want[key]), key


# --- the sentence of a none ---------------------------------------------------------------------


def old_none_reasons(enterprises, policies, as_of):
    """The per-enterprise reading (before the enterprises were grouped)."""
    day = decisions.as_date(as_of)
    frame = enterprises.reset_index(drop=True)
    n = len(frame)
    covered, asleep = np.zeros(n, bool), np.zeros(n, bool)
    covered_by, asleep_by, left_out = ([[] for _ in range(n)] for _ in range(3))
    for policy in policies:
        facts = {s.name for s in policy.facts}
        table_on = decisions.in_force_on(policy.raw, day)
        out, why = decisions.excluded(frame, policy, facts)
        for group in policy.raw.get("rules") or []:
            scope = decisions._scope_mask(frame, group.get("scope"), facts)
            for p in np.flatnonzero(scope & out):
                if why[p] not in left_out[p]:
                    left_out[p].append(why[p])
            mask = scope & ~out
            on = table_on and decisions.in_force_on(group, day)
            target, names = (covered, covered_by) if on else (asleep, asleep_by)
            target |= mask
            label = policy.document.short_zh
            if not on:
                found = decisions.periods(group) or decisions.periods(policy.raw)
                label = (
                    f"{policy.document.title_zh}（执行期{'、'.join(x.text_zh() for x in found)}）"
                )
            for p in np.flatnonzero(mask):
                if label not in names[p]:
                    names[p].append(label)
    decisions._forget(frame)
    titles = "、".join(dict.fromkeys(p.document.short_zh for p in policies)) or "无"
    day_zh = decisions.date_zh(day.isoformat()) if day else ""
    kinds, reasons = [], []
    for p in range(n):
        if covered[p]:
            label = decisions.code_label("industry", frame["industry"].iloc[p]) or "未填"
            kinds.append("no_clause")
            reasons.append(
                f"位于{'、'.join(covered_by[p])}的适用范围内，但其条款均不涉及该企业"
                f"（行业：{label}），无管控措施。"
            )
        elif left_out[p]:
            kinds.append("excluded")
            reasons.append("".join(left_out[p]))
        elif asleep[p]:
            kinds.append("not_in_force")
            reasons.append(
                f"适用{'、'.join(asleep_by[p])}，评估日{day_zh}不在执行期内，本次无当期管控结论。"
            )
        else:
            place = frame["county"].iloc[p]
            place = "（未填）" if place is None or pd.isna(place) or place == "" else place
            kinds.append("outside_area")
            reasons.append(f"所在县（区）{place}不在所选政策文件（{titles}）的适用地区内。")
    return kinds, reasons


POLICIES = load_policies(())
COUNTIES = ["榆次区", "忻府区", "潞州区", "沙坡头区", "某县", "", None, "太谷县"]
INDUSTRIES = ["foundry", "boiler", "flange", "power", "", None, "unknown_thing"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(COUNTIES),
            st.sampled_from(INDUSTRIES),
            st.sampled_from(["中卫工业园区", "", None]),
            st.sampled_from(["2019-12-01", "2024-12-01", "2026-12-01", "2031-01-01"]),
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_none_sentences_like_reading_each_enterprise(rows):
    frame = pd.DataFrame(
        {
            "id": [f"E{i}" for i in range(len(rows))],
            "county": pd.Series([r[0] for r in rows], dtype=object),
            "industry": pd.Series([r[1] for r in rows], dtype=object),
            "county_input": pd.Series([r[2] for r in rows], dtype=object),
        }
    )
    as_of = rows[0][3]
    kinds, reasons = none_reasons(frame, POLICIES, as_of)
    want_kinds, want_reasons = old_none_reasons(frame, POLICIES, as_of)
    assert kinds.tolist() == want_kinds
    assert reasons.tolist() == want_reasons

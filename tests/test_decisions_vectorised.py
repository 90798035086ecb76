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


# --- the summary: most severe decision per enterprise, the texts as pandas infers them ----------


def old_best(decisions_frame, ids):
    """The plain reading: sort by severity then order, first per id, ``map`` per column."""
    ranked = decisions_frame.assign(_rank=decisions_frame["action"].map(decisions.SEVERITY))
    ranked = ranked.reset_index().sort_values(["_rank", "index"], kind="stable")
    best = ranked.drop_duplicates("id").set_index("id")
    counts = decisions_frame.groupby("id").size()
    return {c: ids.map(best[c]) for c in decisions.SUMMARY_COLUMNS}, ids.map(counts)


ACTIONS = ["curtail", "exempt", "review", "stop_season", "heat_determined", "made_up"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["E0", "E1", "E2", "E3", None]),
            st.sampled_from(ACTIONS),
            st.sampled_from([30.0, None, 0.0, 50]),
            st.sampled_from(["理由甲", "理由乙", None]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["str", "object"]),
    st.sampled_from(["str", "object"]),
)
def test_most_severe_decision_like_sorting_and_mapping(rows, id_type, text_type):
    frame = pd.DataFrame(
        {
            "id": pd.Series([r[0] for r in rows], dtype=id_type),
            "action": pd.Series([r[1] for r in rows], dtype=text_type),
            "curtail_pct": pd.Series([r[2] for r in rows], dtype=object),
            "stop_days": pd.Series([len(r[1]) for r in rows], dtype=object),
            "deadline": pd.Series([None] * len(rows), dtype=object),
            "rule_ref": pd.Series([r[1] + "§1" for r in rows], dtype=text_type),
            "reason_zh": pd.Series([r[3] for r in rows], dtype=text_type),
        }
    )
    ids = pd.Series(["E0", "E1", "E2", "E3", "E4", "E0"], dtype=id_type)
    got, got_counts, reason = decisions._best_decisions(frame, ids)
    got["reason_zh"] = reason()
    want, want_counts = old_best(frame, ids)
    for column in decisions.SUMMARY_COLUMNS:
        pd.testing.assert_series_equal(got[column], want[column], check_exact=True)
    pd.testing.assert_series_equal(got_counts, want_counts, check_exact=True)
    # the nones' sentences put in at once, as np.where puts them in the mapped reasons
    none = (want["action"].astype(object).fillna("none") == "none").to_numpy()
    groups = np.arange(len(ids)) % 2
    texts = ["无甲", "无乙"]
    at_once = reason(none, groups, texts)
    if at_once is not None:
        plain = np.where(
            none, np.asarray(texts, dtype=object)[groups], want["reason_zh"].to_numpy(object)
        )
        pd.testing.assert_series_equal(pd.Series(at_once), pd.Series(plain), check_exact=True)
    else:  # only for ids not typed as text, or reasons blank or not a column of texts
        assert (
            isinstance(ids.dtype, np.dtype)
            or frame["reason_zh"].dtype != decisions._TEXT_DTYPE
            or want["reason_zh"][~none].isna().any()
        )
    # an index out of order breaks ties by label: the plain reading is kept for it
    shuffled = frame.set_axis(np.arange(len(frame))[::-1])
    got, _, reason = decisions._best_decisions(shuffled, ids)
    got["reason_zh"] = reason()
    want, _ = old_best(shuffled, ids)
    for column in decisions.SUMMARY_COLUMNS:
        pd.testing.assert_series_equal(got[column], want[column], check_exact=True)


TEXT_LISTS = [["甲", "乙"], ["甲", None], [None], [], ["甲", 1], ["", "nan"]]


@pytest.mark.parametrize("texts", TEXT_LISTS)
@pytest.mark.parametrize("codes", [[0, 1, -1, 0], [-1, -1], [0, 0, 0], []])
def test_texts_like_an_object_column(texts, codes):
    codes = np.array([c for c in codes if c < len(texts)], dtype=np.int64)
    want = pd.Series(np.asarray([*texts, None], dtype=object)[codes])
    got = pd.Series(decisions._texts(codes, texts))
    pd.testing.assert_series_equal(got, want, check_exact=True)


@pytest.mark.parametrize("other_type", ["str", "object"])
@pytest.mark.parametrize("other", [["原因", "原因二", "原因三"], ["原因", None, "原因三"]])
@pytest.mark.parametrize("mask", [[True, False, True], [False, False, False], [True] * 3])
@pytest.mark.parametrize("texts", [["无甲", "无乙"], ["无甲", None], [None, None]])
def test_texts_where_like_numpy_where(other_type, other, mask, texts):
    mask = np.array(mask)
    codes = np.array([1, 0, 1])
    theirs = pd.Series(other, dtype=other_type)
    want = pd.Series(
        np.where(mask, np.asarray(texts, dtype=object)[codes], theirs.to_numpy(dtype=object))
    )
    got = pd.Series(decisions._texts_where(mask, codes, texts, theirs))
    pd.testing.assert_series_equal(got, want, check_exact=True)


@pytest.mark.parametrize("name", sorted(SERIES))
def test_object_codes_like_factorizing_objects(name):
    values = SERIES[name]
    codes, distinct = decisions.object_codes(values)
    want_codes, want_distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
    assert codes.tolist() == want_codes.tolist()
    assert [repr(v) for v in distinct] == [repr(v) for v in want_distinct]


def test_excluded_reasons_as_codes_like_the_list():
    policy = load_policies(("shapotou-2025",))[0]
    frame = pd.DataFrame(
        {
            "county": pd.Series(["沙坡头区", "沙坡头区", None, "中宁县"], dtype=object),
            "county_input": pd.Series(["中卫工业园区", "", "中卫工业园区", None], dtype=object),
        }
    )
    out, reasons = decisions.excluded(frame, policy, set())
    assert out.tolist() == [True, False, True, False]  # the park, read in the planner's text
    assert reasons[0] and reasons[0] == reasons[2] and reasons[1] is None and reasons[3] is None
    assert "依据" in reasons[0]


# --- the words of a table decided once per distinct combination of what they read -------------

READ_SERIES = {
    **SERIES,
    "float_signed": pd.Series([0.0, -0.0, np.nan, 0.0, -0.0, 1.5]),
    "object_text": pd.Series(["甲", None, np.nan, pd.NA, "甲", "", None], dtype=object),
    "object_blank": pd.Series([None, np.nan, None, pd.NA], dtype=object),
    "boolean": pd.Series([True, None, False, True], dtype="boolean"),
}


@pytest.mark.parametrize("name", sorted(READ_SERIES))
def test_read_codes_equal_only_where_the_values_read_the_same(name):
    values = READ_SERIES[name]
    codes = decisions.read_codes(values)
    read = pd.DataFrame({"v": values}).to_dict("list")["v"]  # as a reason reads a value
    for i in range(len(values)):
        for j in range(len(values)):
            if codes[i] == codes[j]:  # one reading for the code (a blank may split: harmless)
                assert repr(read[i]) == repr(read[j]), (i, j)
                assert type(read[i]) is type(read[j]), (i, j)
    distinct = {(type(v), repr(v)) for v in read}
    assert len(set(codes.tolist())) <= len(distinct) + 3  # split only by the kind of blank


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 3), min_size=6, max_size=6), min_size=1, max_size=4))
def test_distinct_combinations_like_tuples(keys):
    keys = [np.array(k) for k in keys]
    inverse, first = decisions._distinct(keys, 6)
    rows = list(zip(*(k.tolist() for k in keys), strict=True))
    for i in range(6):
        assert rows[first[inverse[i]]] == rows[i]  # the first row of its combination ...
        for j in range(6):
            assert (inverse[i] == inverse[j]) == (rows[i] == rows[j])  # ... and no other
    assert sorted(first.tolist()) == sorted({rows.index(r) for r in rows})


def test_combinations_of_many_keys_stay_exact():
    rng = np.random.default_rng(3)
    keys = [rng.integers(0, 2, 500) for _ in range(90)]  # 2**90: re-coded on the way
    combined = decisions._combine(keys, 500)
    rows = [tuple(int(k[i]) for k in keys) for i in range(500)]
    for i in range(0, 500, 7):
        for j in range(0, 500, 11):
            assert (combined[i] == combined[j]) == (rows[i] == rows[j])


@pytest.mark.parametrize(
    "template",
    [
        "距{near_city_text}，{industry:>4}限产{curtail_pct}%",
        "{name.upper}与{zone_status_zh}{{字面}}{pm_ref:.1f}",
        "未闭合{industry",
        "{0}{}{a[1]}",
    ],
)
def test_template_names_hold_every_value_a_template_reads(template):
    read: list[str] = []

    class Spy(dict):
        def __missing__(self, key):
            read.append(key)
            return "值"

    decisions._fill(template, Spy())
    assert set(read) <= decisions._template_names(template)


def test_selectors_like_the_dictionaries_per_enterprise():
    rng = np.random.default_rng(5)
    events = [
        (ref, action, column, rng.random(30) < 0.3)
        for ref, action, column in [
            ("二、1", "curtail", "industry"),
            ("二、2", "exempt", "subtype"),
            ("二、1", "stop_season", "fuel"),  # a reference again: its action replaced
            ("二、3", "curtail", "industry"),
        ]
    ]
    selectors = decisions._Selectors(events, 30)
    for p in range(30):
        blank_selectors: set[str] = set()
        missed_rows: dict[str, str] = {}
        for ref, action, column, mask in events:
            if mask[p]:
                blank_selectors.add(column)
                missed_rows[ref] = action
        columns, missed = selectors.at(p)
        assert columns == sorted(blank_selectors)
        assert list(missed.items()) == list(missed_rows.items())
        assert selectors.any[p] == bool(blank_selectors)
    for p in range(30):
        for q in range(30):
            if selectors.code[p] == selectors.code[q]:
                assert selectors.at(p) == selectors.at(q)


def _context(frame):
    policy = load_policies(("jinzhong-2019",))[0]
    return decisions._Context(policy, frame, set())


def test_flag_codes_like_listing_each_enterprise():
    rng = np.random.default_rng(8)
    context = _context(pd.DataFrame({"x": range(40)}))
    labels = [(f"unverified:c{k}", rng.random(40) < 0.4) for k in range(3)]
    positions = np.flatnonzero(rng.random(40) < 0.7)
    codes = context.flag_codes(positions, labels, ["fixed"])
    for code, p in zip(codes, positions, strict=True):
        want = ["fixed", *(label for label, mask in labels if mask[p])]
        assert list(context.flag_sets.values[code]) == want
    flags = codes.copy()
    rows = np.arange(0, len(flags), 3)
    pct = np.array([30.0, 50, -0.0, 30] * 20)[: len(flags)]
    context.add_flag(
        flags, rows, lambda i: f"raise:{pct[i]:g}", [decisions.read_codes(pd.Series(pct[rows]))]
    )
    for i, (before, after) in enumerate(zip(codes, flags, strict=True)):
        extra = (f"raise:{pct[i]:g}",) if i in set(rows) else ()
        assert context.flag_sets.values[after] == context.flag_sets.values[before] + extra


def test_blank_words_once_per_pattern_like_each_enterprise():
    frame = pd.DataFrame(
        {
            "boiler_tph": [35.0, np.nan, np.nan, 10.0, np.nan],
            "fuel": pd.Series(["coal", None, "", "gas", None], dtype=object),
            "industry": pd.Series([None, "boiler", None, "", "boiler"], dtype="str"),
        }
    )
    context = _context(frame)
    reviewed = [(c, decisions.column_blank(frame, c)) for c in ("boiler_tph", "fuel")]
    positions = np.array([0, 1, 2, 4])
    row_spec = {"action": "curtail", "ref": "jinzhong-2019 §二4"}
    got = decisions._review_templates(positions, reviewed, row_spec, context)
    for code, p in zip(got, positions, strict=True):
        want = (
            context.blank_labels([c for c, blank in reviewed if blank[p]], int(p))
            + f"，无法判断是否适用{context.cite(row_spec['ref'])}"
            + f"（适用则{decisions.ACTION_ZH['curtail']}），请县级核实后补填。"
        )
        assert context.texts.values[code] == want


@pytest.mark.parametrize("kind", ["str", "object"])
def test_contains_folds_text_columns_like_each_value(kind):
    frame = pd.DataFrame(
        {
            "county": pd.Series(["沙坡头区", "沙坡头区", None, "中宁县", "沙坡头区"], dtype=kind),
            "county_input": pd.Series(
                ["中卫 工业园区", None, "ｘ中卫工业园区", np.nan, ""], dtype=kind
            ),
        }
    )
    blank = decisions.column_blank(frame, "county")
    ok, left = decisions._contains(frame, "county", "中卫工业园区", frame["county"], blank.copy())
    folded = frame["county_input"].map(
        lambda v: "" if v is None or pd.isna(v) else decisions.schema.normalize_text(v)
    )
    want = folded.str.contains("中卫工业园区", regex=False).to_numpy(dtype=bool)
    assert ok.tolist() == want.tolist()
    assert left.tolist() == (blank & ~want).tolist()


@pytest.mark.parametrize("kind", ["str", "object"])
def test_positions_of_ids_like_get_indexer(kind):
    keys = pd.Index(pd.Series(["E1", "E0", None, "E3"], dtype=kind))
    ids = pd.Series(["E0", "E9", None, "E3", "E1", "E0", ""], dtype=kind)
    got = decisions._positions_in(keys, ids)
    assert got.tolist() == keys.get_indexer(ids).tolist()


@pytest.mark.parametrize(
    "wanted",
    [{"min": 3}, {"contains": "园区"}, {"contains": ""}, "yes", ["None", "x"], True, [False]],
)
@pytest.mark.parametrize("facts", [set(), {"absent"}])
def test_a_missing_column_reads_as_a_blank_in_every_row(wanted, facts):
    frame = pd.DataFrame({"other": [1, 2, 3]})
    got = decisions.condition_masks(frame, "absent", wanted, facts)
    decisions._forget(frame)
    # the per-row reading: the column as a row of blanks
    full = frame.assign(absent=pd.Series([None] * 3, dtype=object))
    want = decisions._condition_masks(full, "absent", wanted, facts)
    decisions._forget(full)
    assert got[0].tolist() == want[0].tolist()
    assert got[1].tolist() == want[1].tolist()
    assert got[2] == want[2]

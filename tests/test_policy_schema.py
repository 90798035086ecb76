"""Rule tables checked against the schema before any input is read (issue 14 item 1).

Each broken table below was run against the toolkit before this check existed and either applied
its rule to every enterprise (a typo in a key or column) or ended in a traceback.
"""

from __future__ import annotations

import pytest

from spatial.config import RunConfig
from spatial.errors import PolicyTableError
from spatial.pipeline import run
from spatial.policy import load_policy
from spatial.policy_schema import MAX_ALIASES

HEADER = "id: mine\ntitle: t\nsource: s.txt\nissued: 2024-01-01\nversion: 1\n"
GROUP = "rules:\n- id: g1\n  rows:\n"


def table(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "mine.yaml"
    path.write_text(header + body, encoding="utf-8")
    return path


def refused(path) -> str:
    with pytest.raises(PolicyTableError) as info:
        load_policy(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # the examples: each applied the rule to all 209 enterprises
        (
            "  - {id: r1, wehn: {industry: coking}, action: shutdown, ref: s.txt §1}",
            "row 1 (r1): unknown key 'wehn' — did you mean 'when'?",
        ),
        (
            "  - {id: r1, when: {industy: steel}, action: curtail, curtail_pct: 30, ref: s.txt §1}",
            "row 1 (r1).when: unknown column 'industy'",
        ),
        (
            "  - {id: r1, when: {smoke_colour: grey}, action: shutdown, ref: s.txt §1}",
            "unknown column 'smoke_colour'",
        ),
        (
            "  - {id: r1, when: {industry: stel}, action: shutdown, ref: s.txt §1}",
            "unknown code 'stel' — did you mean 'steel'?",
        ),
        (
            "  - {id: r1, when: {near_cty: true}, action: shutdown, ref: s.txt §1}",
            "unknown fact 'near_cty'",
        ),
        (
            "  - {id: r1, when: {furnace_t: {min: ten}}, action: shutdown, ref: s.txt §1}",
            "row 1 (r1).when.furnace_t.min: expected a number, got 'ten'",
        ),
        (
            "  - {id: r1, when: {furnace_t: {atleast: 5}}, action: shutdown, ref: s.txt §1}",
            "row 1 (r1).when.furnace_t",
        ),
        (
            "  - {id: r1, action: stop_season, window: {start: soon, end: 2024-03-15}, "
            "ref: s.txt §1}",
            "row 1 (r1).window.start: expected a date YYYY-MM-DD, got 'soon'",
        ),
        (
            "  - {id: r1, action: stop_season, window: {start: 2024-03-15, end: 2023-11-15}, "
            "ref: s.txt §1}",
            "ends (2023-11-15) before it starts (2024-03-15)",
        ),
        (
            "  - {id: r1, action: exit_by, deadline: 2025-02-30, ref: s.txt §1}",
            "deadline: not a real date: '2025-02-30'",
        ),
        (
            "  - {id: r1, action: shutdwn, ref: s.txt §1}",
            "unknown action 'shutdwn' — did you mean 'shutdown'?",
        ),
        (
            "  - {id: r1, action: curtail, curtail_pct: 130, ref: s.txt §1}",
            "curtail_pct",
        ),
        ("  - {id: r1, action: exempt, curtail_pct: 20, ref: s.txt §1}", "curtails 0 %"),
        (
            "  - {id: r1, action: curtail, curtail_pct: 30, flags: [call_mayor], ref: s.txt §1}",
            "'call_mayor' has no Chinese text",
        ),
        (
            "  - {id: r1, when: {compliant: true}, action: shutdown, ref: s.txt §1}",
            "a yes/no column is written 'yes' or 'no'",
        ),
        (
            "  - {id: r1, when: {fuel: coal}, on_blank: {boiler_tph: review}, action: clear,"
            " ref: s.txt §1}",
            "'boiler_tph' is not a condition of this row",
        ),
    ],
)
def test_broken_rows_are_refused_naming_row_and_key(tmp_path, rows, expected):
    assert expected in refused(table(tmp_path, GROUP + rows + "\n"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("county_overrides: [5]\n", "override 1: expected an override {county, industry"),
        (
            "county_overrides:\n- {county: 祁县, industry: foundri, min_pct: 50, ref: s.txt §1}\n",
            "unknown code 'foundri' — did you mean 'foundry'?",
        ),
        (
            GROUP.replace("  rows:", "  scope: 祁县\n  rows:")
            + "  - {id: r, action: clear, ref: r}\n",
            "rules[1] (g1).scope: expected a mapping of column to condition",
        ),
        ("seasn: {start: 2019-11-01, end: 2020-03-31}\n", "unknown key 'seasn' — did you mean"),
        ("season: {start: 2020-03-31, end: 2019-11-01}\n", "season: ends"),
        ("derived: {x: 'pm_mgg * 2'}\n", "derived.x: unknown column 'pm_mgg'"),
        (
            "facts:\n  f: {layer: builtup, within_m: 10, distance_column: d, nearest_column: n,"
            " ref: r, lable_zh: x}\n",
            "facts.f: unknown key 'lable_zh' — did you mean 'label_zh'?",
        ),
        ("in_force: {from: 2024-13-01, ref: s.txt §1}\n", "in_force.from"),
    ],
)
def test_broken_tables_are_refused_naming_the_key(tmp_path, body, expected):
    assert expected in refused(table(tmp_path, body))


def test_every_problem_is_listed_at_once(tmp_path):
    rows = (
        "  - {id: r1, wehn: {industry: coking}, action: shutdown, ref: s.txt §1}\n"
        "  - {id: r2, when: {industy: steel}, action: shutdwn, ref: s.txt §1}\n"
    )
    message = refused(table(tmp_path, GROUP + rows))
    # the shape error of r1 is reported first; names are checked once the shape is right
    assert "wehn" in message
    fixed = rows.replace("wehn", "when")
    message = refused(table(tmp_path, GROUP + fixed))
    assert "2 problems" in message and "industy" in message and "shutdwn" in message


def test_a_non_utf8_table_is_refused_with_the_line(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_bytes((HEADER + "# 晋中市错峰生产\n").encode("gb18030"))
    assert "not UTF-8 text" in refused(path) and "line 6" in refused(path)


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    message = refused(table(tmp_path, "\n".join(lines) + "\n"))
    assert "expands to more than" in message


def test_too_many_aliases_are_refused(tmp_path):
    body = "x: &x 1\ny: [" + ",".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    assert "aliases" in refused(table(tmp_path, body))


def test_a_broken_table_stops_the_run_before_any_input_is_read(tmp_path):
    bad = table(
        tmp_path,
        GROUP + "  - {id: r1, wehn: {industry: coking}, action: shutdown, ref: s.txt §1}\n",
    )
    config = RunConfig(
        enterprises=tmp_path / "does-not-exist.csv", policies=(str(bad),), out=tmp_path / "out"
    )
    with pytest.raises(PolicyTableError, match="wehn"):
        run(config)
    assert not (tmp_path / "out" / "run.json").exists()


def test_a_good_own_table_loads(tmp_path):
    rows = (
        "  - {id: r1, when: {industry: coking, compliant: 'no'}, action: shutdown, ref: s.txt §1}\n"
    )
    policy = load_policy(table(tmp_path, GROUP + rows))
    assert policy.raw["rules"][0]["rows"][0]["when"]["industry"] == "coking"

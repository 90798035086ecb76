"""Loading rule tables: shipped ids, planners' own files, and clear errors for broken tables."""

from __future__ import annotations

import pytest

from spatial.errors import PolicyTableError
from spatial.policy import fact_specs, load_policies, load_policy, shipped_policies

SOURCES = {
    "000_76214740fd4dcd9a.txt",
    "001_522351a5754bb1d1.txt",
    "002_44512477227ed7b1.txt",
    "003_598ea2f0f9e2d118.txt",
    "004_8ff93025e2acb35e.txt",
}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_shipped_policies_load_and_cite_their_clauses():
    assert {"jinzhong-2019", "xinzhou-2024", "changzhi-2024", "shapotou-2025"} <= set(
        shipped_policies()
    )
    for policy in load_policies():
        assert policy.source in SOURCES
        for rule in policy.raw.get("rules") or []:
            for row in rule["rows"]:
                assert row["ref"].startswith(policy.source + " §") or row["ref"].startswith(
                    policy.source + " ch."
                ), row["ref"]
        for ref in _refs(policy.raw):
            assert ref.split(" ")[0] in SOURCES, (policy.id, ref)


def test_thresholds_are_in_the_tables():
    specs = fact_specs(load_policies())
    assert specs["near_city"].within_m == 10_000
    assert specs["in_heat_radius"].within_m == 30_000
    assert specs["in_heat_radius"].where[0] == {"kind": "chp", "capacity_mw": {"min": 300}}


def test_unknown_policy_lists_the_shipped_ones():
    with pytest.raises(PolicyTableError, match="jinzhong-2019"):
        load_policy("beijing-2030")


def write(tmp_path, text: str):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "id: mine\ntitle: t\nsource: s.txt\nissued: 2024-01-01\nversion: 1\n"


def test_own_table_changes_the_threshold(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + """facts:
  near_city:
    layer: builtup
    within_m: 5000
    distance_column: dist_builtup_m
    nearest_column: nearest_builtup
    ref: s.txt §1
""",
    )
    assert fact_specs([load_policy(path)])["near_city"].within_m == 5000


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        (
            "  x: {layer: 7, within_m: 1, distance_column: d, nearest_column: n, ref: r}",
            "facts.x.layer",
        ),
        (
            "  x: {layer: builtup, within_m: -1, distance_column: d, nearest_column: n, ref: r}",
            "facts.x.within_m",
        ),
        (
            "  x: {layer: builtup, within_m: 1, nearest_column: n, ref: r}",
            "facts.x: .distance_column. is missing",
        ),
        (
            "  x: {layer: builtup, within_m: 1, distance_column: d, nearest_column: n, ref: r,"
            " y: 1}",
            "unknown key .y.",
        ),
    ],
)
def test_broken_tables_name_file_and_key(tmp_path, facts, message):
    path = write(tmp_path, HEADER + "facts:\n" + facts + "\n")
    with pytest.raises(PolicyTableError, match=message) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_missing_header_and_bad_yaml(tmp_path):
    with pytest.raises(PolicyTableError, match="'version' is missing"):
        load_policy(write(tmp_path, "id: a\ntitle: t\nsource: s\nissued: x\n"))
    with pytest.raises(PolicyTableError, match="not valid YAML"):
        load_policy(write(tmp_path, "id: [unclosed\n"))


def test_yaml_is_loaded_safely(tmp_path):
    path = write(tmp_path, HEADER + "facts: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(PolicyTableError, match="not valid YAML"):
        load_policy(path)


def test_conflicting_definitions_of_one_fact(tmp_path):
    a = write(
        tmp_path,
        HEADER
        + """facts:
  near_city: {layer: builtup, within_m: 5000, distance_column: d, nearest_column: n, ref: r}
""",
    )
    with pytest.raises(PolicyTableError, match="differently"):
        fact_specs([load_policy("jinzhong-2019"), load_policy(a)])

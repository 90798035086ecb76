"""The one vocabulary: every code a person could read has one label, used by every writer."""

from __future__ import annotations

import pandas as pd
import pytest

from spatial import schema, vocabulary
from spatial.export import styles, webmap
from spatial.export.excel import list_rows
from spatial.policy import ACTION_ZH, ACTIONS, load_policies


def test_every_action_the_rule_schema_allows_has_exactly_one_label():
    allowed = set(ACTIONS)
    assert {a.code for a in vocabulary.ACTIONS} == allowed
    assert len(vocabulary.ACTIONS) == len(allowed)  # no code twice
    labels = [a.label for a in vocabulary.ACTIONS]
    assert len(set(labels)) == len(labels)  # no two decisions read the same
    assert all(label and not label.isascii() for label in labels)


def test_the_action_order_is_the_engines_severity_order():
    assert [a.code for a in vocabulary.ACTIONS] == list(ACTIONS)


@pytest.mark.parametrize("code", ACTIONS)
def test_styles_webmap_excel_and_policy_use_the_same_label(code):
    word = vocabulary.label("action", code)
    assert ACTION_ZH[code] == word
    assert styles.ACTION_LABELS[code] == word
    assert dict((c, z) for c, z, _ in styles.ACTIONS)[code] == word
    assert webmap.ACTION_STYLES[code][0] == word
    colour = {a.code: a.colour for a in vocabulary.ACTIONS}[code]
    assert webmap.ACTION_STYLES[code][1] == colour
    assert dict((c, col) for c, _, col in styles.ACTIONS)[code] == colour
    rows = list_rows(
        pd.DataFrame({"id": ["A"], "industry": ["power"], "lon": [112.7], "lat": [37.7]}),
        pd.DataFrame({"id": ["A"], "action": [code]}),
    )
    assert rows.loc[0, "action_zh"] == word
    assert rows.loc[0, "industry_zh"] == "电力"


def test_qgis_legend_shows_labels_not_codes():
    frame = pd.DataFrame({"name": ["甲"], "action": ["curtail"]})
    style = styles.layer_style("enterprises", frame)
    for value, text in style.categories:
        assert value not in text or not value
        assert not any(ch.isascii() and ch.isalpha() for ch in text)


def test_qgis_value_maps_show_labels_for_coded_columns():
    frame = pd.DataFrame(
        {"name": ["甲"], "action": ["curtail"], "industry": ["power"], "fuel": ["coal"]}
    )
    style = styles.layer_style("enterprises", frame)
    assert 'name="错峰生产" value="curtail"' in style.qml
    assert 'name="电力" value="power"' in style.qml
    assert 'name="煤" value="coal"' in style.qml
    assert '<editWidget type="ValueMap">' in style.qml


def test_qgis_value_map_cites_the_clause_by_document():
    frame = pd.DataFrame({"name": ["甲"], "rule_ref": ["004_8ff93025e2acb35e.txt §二4"]})
    maps = styles.value_maps("enterprises", ["fid", "name", "rule_ref"], frame)
    text = maps["rule_ref"]["004_8ff93025e2acb35e.txt §二4"]
    assert ".txt" not in text and "§" not in text and "〔2019〕79号" in text


@pytest.mark.parametrize("kind", ["industry", "subtype", "fuel", "policy_class"])
def test_coded_inventory_labels_are_spellings_the_inventory_accepts(kind):
    accepted = schema.codes(kind)
    assert set(vocabulary.labels(kind)) == set(accepted)
    for code, text in vocabulary.labels(kind).items():
        assert schema.code_value(kind, text) == code  # reading the label back gives the code


def test_distance_labels_follow_the_rule_tables():
    specs = {s.name: s for p in load_policies() for s in p.facts}
    assert specs["near_city"].within_m == 10_000
    assert vocabulary.column_label("near_city") == "建成区周边10公里内"
    assert vocabulary.layer_title("heat_radius_30km") == "热源30公里供热半径"
    # another table, another distance: the words follow it
    assert vocabulary.column_label("near_city", within={"near_city": 5_000}) == "建成区周边5公里内"
    assert styles.LAYER_TITLES["near_city_10km"] == "建成区周边10公里"


def test_unknown_values_and_blanks():
    assert vocabulary.label("industry", None) == ""
    assert vocabulary.label("industry", float("nan")) == ""
    assert vocabulary.label("yesno", True) == "是"
    assert vocabulary.label("zone_phase", 2.0) == "第二阶段"
    assert vocabulary.label("industry", "spaceship", default="其他") == "其他"
    with pytest.raises(KeyError, match="no vocabulary kind"):
        vocabulary.labels("colour_of_sky")


def test_every_column_header_is_chinese_and_unique_per_layer():
    for column in vocabulary.column_names():
        assert not vocabulary.column_label(column).isascii(), column
        assert vocabulary.column_description(column), column
    aliases = styles.field_aliases("enterprises", list(vocabulary.column_names()))
    assert len(set(aliases.values())) == len(aliases)

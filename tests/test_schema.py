"""The alias table: every contract column and code is reachable, and no alias is ambiguous."""

from __future__ import annotations

import pytest

from spatial import schema

CONTRACT_COLUMNS = [
    "id",
    "name",
    "lon",
    "lat",
    "industry",
    "county",
    "township",
    "village",
    "policy_class",
    "compliant",
    "ultra_low",
    "clean_transport",
    "green_factory",
    "online_monitoring",
    "special_limits",
    "supplies_heat",
    "sintering",
    "suction_crane",
    "clean_energy",
    "subtype",
    "furnace_t",
    "fuel",
    "boiler_tph",
    "boiler_mw",
    "pm_mg",
    "so2_mg",
    "nox_mg",
    "o2_pct",
]
INDUSTRIES = [
    "steel",
    "ferroalloy",
    "coking",
    "foundry",
    "brick_kiln",
    "nonferrous",
    "cement",
    "chemical",
    "coating_ink",
    "rubber",
    "carbon",
    "refractory",
    "glassware",
    "building_materials",
    "flange",
    "pellet",
    "boiler",
    "power",
    "other",
]


def test_every_contract_column_is_in_the_table():
    assert set(CONTRACT_COLUMNS) <= set(schema.columns())


def test_every_contract_industry_code_is_in_the_table():
    assert list(schema.codes("industry")) == INDUSTRIES


def test_no_alias_means_two_columns():
    seen: dict[str, str] = {}
    for col in schema.columns().values():
        for alias in (col.name, *col.aliases):
            key = schema.normalize_text(alias)
            assert seen.setdefault(key, col.name) == col.name, alias


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("企业名称", "name"),
        ("经度", "lon"),
        ("纬度（°）", "lat"),
        ("Longitude", "lon"),
        ("所在县", "county"),
        ("区县", "county"),
        ("乡镇", "township"),
        ("村", "village"),
        ("产业政策类别", "policy_class"),
        ("行业", "industry"),
        ("  ID ", "id"),
        ("备注", None),
    ],
)
def test_headers(header, name):
    assert schema.canonical_column(header) == name


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("policy_class", "鼓励类", "encouraged"),
        ("policy_class", "允许类", "permitted"),
        ("policy_class", "限制类", "restricted"),
        ("compliant", "是", "yes"),
        ("green_factory", "否", "no"),
        ("industry", "钢铁", "steel"),
        ("industry", "铁合金", "ferroalloy"),
        ("industry", "焦化", "coking"),
        ("industry", "铸造", "foundry"),
        ("industry", "Steel", "steel"),
        ("subtype", "冲天炉", "cupola"),
        ("fuel", "燃煤", "coal"),
        ("industry", "飞船", None),
    ],
)
def test_code_values(column, value, code):
    assert schema.code_value(column, value) == code

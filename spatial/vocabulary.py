"""The words a person reads: one vocabulary for every output.

Every label of a coded value (actions, industries, subtypes, fuels, statuses ...), every column
header and every layer title is defined once, in ``spatial/data/vocabulary.yaml``, and read
through this module by the Excel lists, the web map, the GeoPackage's QGIS styles and value
maps, the figures, ``spatial check`` and the notebooks. Machine codes stay in the data; only
what a person reads comes from here.

The names chosen are the policy documents' own words where they have one:

=================  ============  =====================================================
code               label         why
=================  ============  =====================================================
shutdown           停产治理      晋中方案 "予以停产治理"
stop_season        采暖季停产    "采暖季停产" (冲天炉、水泥熟料)
close_or_merge     关停或整合    "进行关停或整合"
clear              淘汰清零      "动态清零", "逐步淘汰"
exit_by            限期退出      "2025年底前……退出", "完成淘汰改造"
review             待研判        the county must decide (a blank or an open question)
rectify            限期整改      "限期整改"
heat_determined    以热定产      "以热定产"
curtail            错峰生产      "错峰生产……限产比例" (the percentage is its own column)
rotate             轮流错峰生产  "秋冬季采取轮流错峰生产"
exempt             豁免          "豁免" / "不予限产"
none               无管控措施    no clause of the selected documents applies
=================  ============  =====================================================

Labels that depend on a rule (建成区周边10公里, 热源30公里供热半径) hold a placeholder such as
``{near_city}`` filled with the distance the rule tables give that fact
(``spatial/policies/*.yaml``, ``facts:``), so they follow the table, not this file.

Examples
--------
>>> label("action", "curtail"), label("industry", "power"), label("fuel", "coal")
('错峰生产', '电力', '煤')
>>> label("industry", "spaceship")  # a value outside the vocabulary is shown as given
'spaceship'
>>> [a.code for a in ACTIONS][:3], ACTIONS[0].label, ACTIONS[0].colour
(['shutdown', 'stop_season', 'close_or_merge'], '停产治理', '#d7191c')
>>> column_label("dist_builtup_m"), column_label("dist_builtup_m", short=True)
('距建成区距离(米)', '距建成区')
>>> column_label("near_city"), column_label("id", layer="heat_sources")
('建成区周边10公里内', '热源编号')
>>> layer_title("heat_radius_30km"), layer_title("near_city_10km", within={"near_city": 5000})
('热源30公里供热半径', '建成区周边5公里')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

import pandas as pd
import yaml

from spatial import schema

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "KINDS",
    "Action",
    "column_description",
    "column_label",
    "column_names",
    "fact_distance",
    "fact_metres",
    "label",
    "labels",
    "layer_column_labels",
    "layer_names",
    "layer_title",
    "table",
]


@functools.cache
def _data() -> dict:
    text = (files("spatial") / "data" / "vocabulary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Action:
    """One decision: its code (data contract), the label a person reads and its colour."""

    code: str
    label: str
    colour: str


ACTIONS: tuple[Action, ...] = tuple(
    Action(code, entry["label"], entry["colour"]) for code, entry in _data()["actions"].items()
)
"""Every decision, most severe first (the order of the legend and of an enterprise's summary)."""
ACTION_LABELS: dict[str, str] = {a.code: a.label for a in ACTIONS}
"""Decision code → label."""
KINDS: tuple[str, ...] = tuple(
    k for k in _data() if k not in ("columns", "layer_columns", "layers")
)
"""The kinds of coded value :func:`label` knows (``action``/``actions`` are the same)."""


def labels(kind: str) -> dict[str, str]:
    """Code → label for every code of ``kind`` (``action``, ``industry``, ``zone_status`` ...)."""
    if kind in ("action", "actions"):
        return dict(ACTION_LABELS)
    try:
        table = _data()[kind]
    except KeyError:
        raise KeyError(f"no vocabulary kind {kind!r}; known: {', '.join(KINDS)}") from None
    return {str(code): str(text) for code, text in table.items()}


def label(kind: str, code: object, default: str | None = None) -> str:
    """The label of ``code`` (a value of ``kind``); a value outside the vocabulary is returned
    as given (or ``default``), a blank as ``""``."""
    if code is None or (isinstance(code, float) and code != code):
        return ""
    if isinstance(code, bool):
        code = "true" if code else "false"
    key = str(code)
    if isinstance(code, float) and code.is_integer():
        key = str(int(code))
    found = labels(kind).get(key)
    if found is not None:
        return found
    return key if default is None else default


@functools.cache
def _shipped_distances() -> dict[str, float]:
    """Fact name → distance in metres, from the shipped rule tables (one distance per fact)."""
    from spatial.policy import fact_specs, load_policies

    return {name: spec.within_m for name, spec in fact_specs(load_policies()).items()}


def fact_metres(fact: str, within: Mapping[str, float] | None = None) -> float | None:
    """The distance of a spatial fact in metres, from ``within`` or the shipped rule tables.

    >>> fact_metres("near_city"), fact_metres("in_heat_radius"), fact_metres("x")
    (10000.0, 30000.0, None)
    """
    metres = (within or {}).get(fact)
    if metres is None:
        metres = _shipped_distances().get(fact)
    return None if metres is None else float(metres)


def fact_distance(fact: str, within: Mapping[str, float] | None = None) -> str:
    """The distance of a spatial fact in words (``10公里``), from ``within`` (fact → metres,
    e.g. the run's own tables) or else the shipped rule tables.

    >>> fact_distance("near_city"), fact_distance("near_trunk_road"), fact_distance("x")
    ('10公里', '200米', '')
    """
    from spatial.decisions import distance_zh

    metres = fact_metres(fact, within)
    return "" if metres is None else distance_zh(metres)


def _fill(text: str, within: Mapping[str, float] | None) -> str:
    if "{" not in text:
        return text
    return text.format_map(_Distances(within))


class _Distances(dict):
    def __init__(self, within):
        super().__init__()
        self.within = within

    def __missing__(self, fact: str) -> str:
        return fact_distance(fact, self.within)


def column_label(
    column: str,
    layer: str | None = None,
    *,
    short: bool = False,
    within: Mapping[str, float] | None = None,
) -> str:
    """The header of ``column`` (with its unit; ``short``: without, for a popup row whose
    value carries the unit); the column's own name when the vocabulary has none."""
    override = (_data().get("layer_columns") or {}).get(layer or "", {}).get(column)
    entry = _data()["columns"].get(column)
    if override is not None:
        text = override
    elif entry is None:
        return column
    else:
        text = entry.get("short", entry["label"]) if short else entry["label"]
    return _fill(str(text), within)


def column_description(column: str) -> str | None:
    """The English meaning of a column (``gpkg_data_columns.description``), None if unknown."""
    entry = _data()["columns"].get(column)
    return None if entry is None else entry.get("description")


def layer_title(layer: str, within: Mapping[str, float] | None = None) -> str:
    """The Chinese title of a layer (its name when it has none)."""
    text = (_data().get("layers") or {}).get(layer)
    return layer if text is None else _fill(str(text), within)


def column_names() -> tuple[str, ...]:
    """Every column the vocabulary has a header for."""
    return tuple(_data()["columns"])


def layer_names() -> tuple[str, ...]:
    """Every layer the vocabulary has a title for."""
    return tuple(_data().get("layers") or {})


def layer_column_labels() -> dict[str, dict[str, str]]:
    """Layer → {column: header} where a layer heads a column its own way."""
    return {k: dict(v) for k, v in (_data().get("layer_columns") or {}).items()}


CODED_COLUMNS: dict[str, str] = {
    "action": "action",
    "industry": "industry",
    "subtype": "subtype",
    "fuel": "fuel",
    "policy_class": "policy_class",
    "zone_status": "zone_status",
    "zone_phase": "zone_phase",
    "phase": "zone_phase",
    "deadline_status": "deadline_status",
    "none_kind": "none_kind",
    "pollutant": "pollutant",
    "period": "period",
    "status": "emission_status",
    "level": "builtup_level",
    "coord_sys": "coord_sys",
    # the inventory's yes/no columns as the contract types them, and the yes/no facts
    **dict.fromkeys(schema.columns_of_type(schema.YESNO), "yesno"),
    **dict.fromkeys(
        (
            "near_city", "in_heat_radius", "in_eco_zone", "near_urban_area", "near_trunk_road",
            "counted", "counts_for_radius",
        ),
        "yesno",
    ),
}  # fmt: skip
"""Column → the kind of its codes: the notebooks' tables (:func:`table`) and QGIS's value maps
(:data:`spatial.export.styles.VALUE_MAPS`) read the same list."""


def table(
    frame: pd.DataFrame, columns: list[str] | None = None, layer: str | None = None
) -> pd.DataFrame:
    """A table as a person reads it (a notebook's display): coded values as their labels, the
    clause cited by document, headers in Chinese; the data passed in are not changed.

    >>> table(pd.DataFrame({"id": ["A1"], "action": ["curtail"], "near_city": [True]}))
    ... # doctest: +NORMALIZE_WHITESPACE
       编号  管控措施 建成区周边10公里内
    0  A1  错峰生产          是
    """
    out = pd.DataFrame(frame[list(columns)] if columns else frame).copy()
    out = out.drop(columns=[c for c in ("geometry", "geom") if c in out])
    for column in out.columns:
        kind = CODED_COLUMNS.get(column)
        if kind is not None:
            out[column] = [label(kind, v) if not _blank(v) else "" for v in out[column]]
    if "rule_ref" in out:
        from spatial.policy import cite_ref

        out["rule_ref"] = [
            "" if _blank(r) else (cite_ref(str(r)) or str(r)) for r in out["rule_ref"]
        ]
    return out.rename(columns={c: column_label(c, layer) for c in out.columns})


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)

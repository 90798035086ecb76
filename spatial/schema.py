"""The enterprise inventory's columns, their Chinese aliases and the accepted code values.

Everything here is read from one table, ``spatial/data/columns.yaml``, so a new alias is a
line of YAML, not code.

Examples
--------
>>> canonical_column("企业名称")
'name'
>>> canonical_column(" 经度（°） ")
'lon'
>>> code_value("policy_class", "限制类")
'restricted'
>>> code_value("compliant", "是")
'yes'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml

YESNO = "yesno"


@dataclass(frozen=True)
class Column:
    """One column of the inventory contract."""

    name: str
    type: str
    aliases: tuple[str, ...]


def normalize_text(value: str) -> str:
    """Fold a header or code value for matching: NFKC, trimmed, lower case, no inner spaces.

    >>> normalize_text("  Ｌｏｎ ")
    'lon'
    """
    folded = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"\s+", "", folded)


def _strip_brackets(text: str) -> str:
    return re.sub(r"[(\[【].*?[)\]】]", "", text)


@cache
def _table() -> dict:
    text = (files("spatial") / "data" / "columns.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def columns() -> dict[str, Column]:
    """All contract columns by name, in contract order."""
    return {
        name: Column(name, spec["type"], tuple(str(a) for a in spec.get("aliases", [])))
        for name, spec in _table()["columns"].items()
    }


@cache
def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for col in columns().values():
        for alias in (col.name, *col.aliases):
            key = normalize_text(alias)
            lookup.setdefault(key, col.name)
            lookup.setdefault(_strip_brackets(key), col.name)
    return lookup


_UNIT = re.compile(r"[a-z/%‰°³²]|吨|克|斤|瓦|米|升|度")
"""Bracket text that names a unit (mg/m3, 吨/年, %, MW ...), not a qualifier (街道, 东经)."""


def _bracket_units(text: str) -> set[str]:
    return {u for u in re.findall(r"[(\[【](.*?)[)\]】]", text) if _UNIT.search(u)}


def unit_conflict(header: object) -> tuple[str, tuple[str, ...]] | None:
    """(column, the units its headers give) when ``header`` names a contract column by its
    words but in another unit (``颗粒物(g/m3)`` for ``pm_mg``, read in mg/m³); else None.

    >>> unit_conflict("颗粒物(g/m3)"), unit_conflict("颗粒物(mg/m³)"), unit_conflict("颗粒物")
    (('pm_mg', ('mg/m3',)), None, None)
    """
    key = normalize_text(str(header))
    if key in _header_lookup():
        return None
    name = _header_lookup().get(_strip_brackets(key))
    given = _bracket_units(key)
    if name is None or not given:
        return None
    known = sorted({u for a in columns()[name].aliases for u in _bracket_units(normalize_text(a))})
    if not known or given <= set(known):
        return None
    return name, tuple(known)


def canonical_column(header: object) -> str | None:
    """The contract name of a header (English or Chinese alias), or None if unknown; a header in
    another unit than the column's (:func:`unit_conflict`) is not taken for it."""
    key = normalize_text(str(header))
    lookup = _header_lookup()
    if key in lookup:
        return lookup[key]
    if unit_conflict(header) is not None:
        return None
    return lookup.get(_strip_brackets(key)) or None


def columns_of_type(kind: str) -> list[str]:
    """Names of the contract columns of one type (``yesno``, ``code``, ``number`` ...)."""
    return [c.name for c in columns().values() if c.type == kind]


@cache
def codes(column: str) -> dict[str, tuple[str, ...]]:
    """The codes of a coded column (or ``yesno``) with their accepted spellings."""
    table = _table()["codes"]
    key = YESNO if columns().get(column, Column(column, "", ())).type == YESNO else column
    if key not in table:
        raise KeyError(f"'column' should be a coded column, got {column!r}")
    return {str(code): tuple(str(v) for v in values) for code, values in table[key].items()}


@cache
def _code_lookup(column: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, spellings in codes(column).items():
        for spelling in (code, *spellings):
            lookup[normalize_text(spelling)] = code
    return lookup


def code_value(column: str, value: object) -> str | None:
    """The code for a value of a coded column, or None if the value is not recognised."""
    return _code_lookup(column).get(normalize_text(str(value)))


def code_lookup(column: str) -> dict[str, str]:
    """Normalised spelling → code, for vectorised mapping (see :func:`normalize_text`)."""
    return dict(_code_lookup(column))

"""The rule-table schema: every key, type and name of a policy table checked before any input
is read.

Two passes, both collecting every problem before raising one :class:`PolicyTableError`:

1. **Shape** — a JSON Schema (checked with the ``jsonschema`` library): which keys each part of a
   table may have, and their types (``scope: 祁县`` is not a mapping, ``{min: ten}`` is not a
   number, ``window: {start: soon}`` is not a date). Unknown keys are refused with the nearest
   known key suggested (``wehn`` → ``when``, :mod:`difflib`).
2. **Names** — every column a condition or a derived value reads must be a column of the data
   contract (``spatial/data/columns.yaml``), a fact the table declares (its name, distance,
   nearest and name columns), a derived value or a declared ``fact_columns`` entry; actions,
   blank modes and flags must be known; dates must be real and periods in order.

Problems name the file, the group and row (by position and id) and the key.

The YAML itself is read with limits: at most :data:`MAX_BYTES` bytes, UTF-8 only, at most
:data:`MAX_ALIASES` aliases and :data:`MAX_NODES` nodes once aliases are expanded (a "billion
laughs" alias bomb is refused in milliseconds, before anything walks it).
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import itertools
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from spatial import schema
from spatial.errors import PolicyTableError

MAX_BYTES = 2_000_000
MAX_ALIASES = 200
MAX_NODES = 200_000

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "a date YYYY-MM-DD"}
_OPEN_DATE = {"anyOf": [_DATE, {"type": "null"}], "description": "a date YYYY-MM-DD or null"}
_REF = {"type": "string", "minLength": 1, "description": "a reference 'file §clause'"}
_TEXT = {"type": "string", "description": "text"}
_SCALAR = {"type": ["string", "number", "boolean"]}
_NUMBER = {"type": "number", "description": "a number"}
_BOUNDS = {
    "type": "object",
    "description": "a mapping of min/max/lt/gt to numbers",
    "properties": {k: _NUMBER for k in ("min", "max", "lt", "gt")},
    "additionalProperties": False,
    "minProperties": 1,
}
_CONTAINS = {
    "type": "object",
    "description": "{contains: text} (the value contains the text)",
    "properties": {"contains": {"type": "string", "minLength": 1}},
    "required": ["contains"],
    "additionalProperties": False,
}
_CONDITION = {
    "anyOf": [
        _SCALAR,
        {"type": "array", "items": _SCALAR, "minItems": 1},
        _BOUNDS,
        _CONTAINS,
    ],
    "description": "a value, a list of values, {min/max/lt/gt: number} or {contains: text}",
}
_CONDITIONS = {
    "type": "object",
    "description": "a mapping of column to condition, e.g. {industry: boiler}",
    "additionalProperties": _CONDITION,
}
_PERIOD = {
    "type": "object",
    "description": "a period {from: date, to: date or null, ref: 'file §clause'}",
    "properties": {"from": _DATE, "to": _OPEN_DATE, "ref": _REF, "note_zh": _TEXT},
    "required": ["from", "ref"],
    "additionalProperties": False,
}
_IN_FORCE = {
    "anyOf": [_PERIOD, {"type": "array", "items": _PERIOD, "minItems": 1}],
    "description": "a period {from, to, ref} or a list of them",
}
_ON_BLANK = {
    "anyOf": [
        {"enum": ["flag", "fail", "review"]},
        {"type": "object", "additionalProperties": {"enum": ["flag", "fail", "review"]}},
    ],
    "description": "flag, fail or review (or a mapping of column to one of them)",
}
_ROW_PROPERTIES = {
    "id": {"type": "string", "minLength": 1},
    "when": _CONDITIONS,
    "action": {"type": "string"},
    "curtail_pct": {"type": "number", "minimum": 0, "maximum": 100, "description": "0-100"},
    "ref": _REF,
    "reason_zh": _TEXT,
    "on_blank": _ON_BLANK,
    "flags": {"type": "array", "items": {"type": "string"}},
    "deadline": _DATE,
    "deadline_from": {"type": "string"},
    "window": {
        "type": "object",
        "description": "a window {start: date, end: date}",
        "properties": {"start": _DATE, "end": _DATE},
        "required": ["start", "end"],
        "additionalProperties": False,
    },
    "in_force": _IN_FORCE,
}
_ROW = {
    "type": "object",
    "description": "a rule row (a mapping with id, when, action, ref ...)",
    "properties": _ROW_PROPERTIES,
    "required": ["id", "action", "ref"],
    "additionalProperties": False,
}
_OTHERWISE = dict(_ROW, required=["action", "ref"])
_MODIFIER = {
    "type": "object",
    "description": "a modifier {id, when, action, ref, ...}",
    "properties": {
        "id": {"type": "string"},
        "when": _CONDITIONS,
        "action": {"type": "string"},
        "on_actions": {"type": "array", "items": {"type": "string"}},
        "ref": _REF,
        "reason_zh": _TEXT,
        "flag_zh": _TEXT,
    },
    "required": ["id", "when", "action", "ref"],
    "additionalProperties": False,
}
_FACT = {
    "type": "object",
    "description": "a fact {layer, within_m, distance_column, nearest_column, ref, ...}",
    "properties": {
        "layer": {"type": "string", "minLength": 1},
        "within_m": {"type": "number", "minimum": 0, "description": "metres (a number >= 0)"},
        "where": {
            "anyOf": [
                {"type": "array", "items": _CONDITIONS},
                _CONDITIONS,
            ]
        },
        "distance_column": {"type": "string", "minLength": 1},
        "nearest_column": {"type": "string", "minLength": 1},
        "name_column": {"type": "string", "minLength": 1},
        "buffer_layer": {"type": "string", "minLength": 1},
        "ref": _REF,
        "label_zh": _TEXT,
        "area_zh": _TEXT,
        "optional": {"type": "boolean"},
        "own_column": {"type": "string", "minLength": 1},
        "own_within_m": {"type": "number", "minimum": 0, "description": "metres (a number >= 0)"},
    },
    "required": ["layer", "within_m", "distance_column", "nearest_column", "ref"],
    "additionalProperties": False,
}
_GROUP = {
    "type": "object",
    "description": "a group {id, scope, rows, otherwise, modifiers}",
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "scope": _CONDITIONS,
        "rows": {"type": "array", "items": _ROW},
        "otherwise": _OTHERWISE,
        "modifiers": {"type": "array", "items": _MODIFIER},
        "in_force": _IN_FORCE,
        "title_zh": _TEXT,
    },
    "required": ["id", "rows"],
    "additionalProperties": False,
}
TABLE_SCHEMA = {
    "type": "object",
    "description": "a policy table (a mapping with id, title, source, ...)",
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "title": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "issued": {
            "anyOf": [
                {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
                {"type": "null"},
            ],
            "description": "a date YYYY-MM-DD (or YYYY-MM), or null when the text has none",
        },
        "version": {"type": ["string", "integer", "number"]},
        "number": {"type": ["string", "null"]},
        "issuer": {"type": ["string", "null"]},
        "draft": {"type": "boolean"},
        "short_title": {"type": ["string", "null"]},
        "season": {
            "type": "object",
            "description": "a season {start: date, end: date, ref}",
            "properties": {"start": _DATE, "end": _DATE, "ref": _REF},
            "required": ["start", "end"],
            "additionalProperties": False,
        },
        "in_force": _IN_FORCE,
        "facts": {"type": "object", "additionalProperties": _FACT},
        "county_overrides": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "an override {county, industry, min_pct, ref}",
                "properties": {
                    "county": {"type": "string", "minLength": 1},
                    "industry": {
                        "anyOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"type": "string"}},
                        ]
                    },
                    "min_pct": {"type": "number", "minimum": 0, "maximum": 100},
                    "ref": _REF,
                },
                "required": ["county", "min_pct", "ref"],
                "additionalProperties": False,
            },
        },
        "derived": {"type": "object", "additionalProperties": {"type": "string"}},
        "fact_columns": {"type": "array", "items": {"type": "string"}},
        "exclude": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "an exclusion {id, when: conditions (or a list), ref, reason_zh}",
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "when": {"anyOf": [_CONDITIONS, {"type": "array", "items": _CONDITIONS}]},
                    "ref": _REF,
                    "reason_zh": _TEXT,
                },
                "required": ["id", "when", "ref", "reason_zh"],
                "additionalProperties": False,
            },
        },
        "fact_labels_zh": {"type": "object", "additionalProperties": {"type": "string"}},
        "flags_zh": {"type": "object", "additionalProperties": {"type": "string"}},
        "zones": {"type": "object", "description": "the zone table (checked by spatial.zones)"},
        "targets": {"type": "object", "description": "targets (checked by spatial.emissions)"},
        "rules": {"type": "array", "items": _GROUP},
    },
    "required": ["id", "title", "source", "issued", "version"],
    "additionalProperties": False,
}
_VALIDATOR = Draft202012Validator(TABLE_SCHEMA)

# --------------------------------------------------------------------------------------------
# Reading the YAML with limits


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps dates as text (checked by the schema) and counts aliases."""

    aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise PolicyTableError(f"more than {MAX_ALIASES} YAML aliases (*name)")
        return super().compose_node(parent, index)


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle counts once (and is refused later as a bad shape)
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(n, memo) for n in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = min(size, MAX_NODES + 1)
    return memo[key]


def read_table(path: Path) -> object:
    """The YAML of a rule table, read within the limits; errors name the file."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise PolicyTableError(
            f"{path}: {size:,} bytes; a rule table may have at most {MAX_BYTES:,} bytes"
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyTableError(
            f"{path}: not UTF-8 text (byte {exc.start}, line {line}); save the table as UTF-8"
        ) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise PolicyTableError(
                f"{path}: the YAML expands to more than {MAX_NODES:,} values through its "
                "aliases (*name); write the table out without nested aliases"
            )
        return loader.construct_document(node)
    except PolicyTableError as exc:
        message = str(exc)
        text = message if message.startswith(str(path)) else f"{path}: {message}"
        raise PolicyTableError(text) from None
    except yaml.YAMLError as exc:
        raise PolicyTableError(f"{path}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------------
# Locations and suggestions


def suggest(name: str, known) -> str:
    """`` — did you mean 'when'?`` for a near miss, else empty."""
    close = difflib.get_close_matches(str(name), sorted(set(map(str, known))), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def _where(raw: object, path: list) -> str:
    """``rules[1] (jinzhong-main) row 3 (steel).when`` for a path into the table."""
    out = ""
    node = raw
    i = 0
    while i < len(path):
        key = path[i]
        if key == "rules" and i + 1 < len(path) and isinstance(path[i + 1], int):
            group = node["rules"][path[i + 1]] if isinstance(node, dict) else None
            gid = group.get("id") if isinstance(group, dict) else None
            out += f"rules[{path[i + 1] + 1}]" + (f" ({gid})" if gid else "")
            node, i = group, i + 2
            continue
        if key in ("rows", "modifiers", "county_overrides") and i + 1 < len(path):
            items = node.get(key) if isinstance(node, dict) else None
            item = items[path[i + 1]] if isinstance(items, list) else None
            rid = item.get("id") if isinstance(item, dict) else None
            word = {"rows": "row", "modifiers": "modifier", "county_overrides": "override"}[key]
            out += f"{' ' if out else ''}{word} {path[i + 1] + 1}" + (f" ({rid})" if rid else "")
            node, i = item, i + 2
            continue
        out += f".{key}" if out else str(key)
        node = node.get(key) if isinstance(node, dict) else None
        i += 1
    return out or "the table"


def _shape_problems(raw: object) -> list[str]:
    problems = []
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path])
    reported: set[str] = set()
    for error in errors:
        path = list(error.absolute_path)
        where = _where(raw, path)
        if error.validator == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - allowed, key=str):
                problems.append(f"{where}: unknown key {key!r}{suggest(key, allowed)}")
            continue
        if error.validator == "required":
            problems.append(f"{where}: {error.message.split(' is ')[0]} is missing")
            continue
        if error.validator == "anyOf" and isinstance(error.instance, dict | list):
            deeper_errors = [e for e in error.context if e.relative_path]
            inner = best_match(deeper_errors) if deeper_errors else None
            if inner is not None:
                deeper = _where(raw, path + list(inner.relative_path))
                if deeper not in reported:
                    reported.add(deeper)
                    expected = inner.schema.get("description") or inner.message
                    problems.append(f"{deeper}: expected {expected}, got {inner.instance!r}")
                continue
        if where in reported:
            continue
        reported.add(where)
        expected = error.schema.get("description") or error.message
        if error.validator in ("minimum", "maximum"):
            expected = error.message
        problems.append(f"{where}: expected {expected}, got {error.instance!r}")
    return problems


# --------------------------------------------------------------------------------------------
# Names: columns, actions, flags, dates


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _name_problems(raw: dict, actions: tuple[str, ...]) -> list[str]:
    from spatial.policy import compile_expression  # at call time: policy imports this module

    problems: list[str] = []
    facts = raw.get("facts") or {}
    derived = raw.get("derived") or {}
    known = set(schema.columns())
    for name, spec in facts.items():
        known |= {name, spec.get("distance_column"), spec.get("nearest_column")}
        for key in ("name_column", "own_column"):
            if spec.get(key):
                known.add(spec[key])
    known |= set(derived) | set(raw.get("fact_columns") or [])
    known.discard(None)
    fact_names = set(facts)

    def check_columns(conditions: dict, where: str) -> None:
        for column, wanted in (conditions or {}).items():
            if column not in known:
                kind = "fact" if isinstance(wanted, bool) else "column"
                problems.append(
                    f"{where}: unknown {kind} {column!r}{suggest(column, known)} (the "
                    "contract columns of spatial/data/columns.yaml, the table's facts and "
                    "derived values)"
                )
            elif (
                isinstance(wanted, bool)
                and column not in fact_names
                and column in set(schema.columns())
            ):
                spec = schema.columns()[column]
                if spec.type == schema.YESNO:
                    problems.append(
                        f"{where}.{column}: a yes/no column is written 'yes' or 'no' (quoted), "
                        f"got {wanted!r}"
                    )
            coded = column in schema.columns() and schema.columns()[column].type == "code"
            if coded and not isinstance(wanted, dict):
                codes = set(schema.codes(column))
                for value in wanted if isinstance(wanted, list) else [wanted]:
                    if str(value) not in codes:
                        problems.append(
                            f"{where}.{column}: unknown code {value!r}{suggest(value, codes)}"
                        )

    for name, expression in derived.items():
        try:
            tree = compile_expression(str(expression), f"derived.{name}")
        except PolicyTableError as exc:
            problems.append(str(exc))
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in known | {"max", "min"}:
                problems.append(
                    f"derived.{name}: unknown column {node.id!r}{suggest(node.id, known)}"
                )
    flags_zh = set((raw.get("flags_zh") or {}).keys())
    for e, exclusion in enumerate(raw.get("exclude") or []):
        when = exclusion.get("when")
        for k, conditions in enumerate(when if isinstance(when, list) else [when]):
            check_columns(conditions, f"exclude[{e + 1}] ({exclusion.get('id')}).when[{k + 1}]")
    seen: set[str] = set()
    for g, group in enumerate(raw.get("rules") or []):
        gwhere = _where(raw, ["rules", g])
        check_columns(group.get("scope"), f"{gwhere}.scope")
        rows = list(enumerate(group.get("rows") or []))
        entries = [(["rules", g, "rows", r], row) for r, row in rows]
        if group.get("otherwise"):
            entries.append((["rules", g, "otherwise"], group["otherwise"]))
        for m, modifier in enumerate(group.get("modifiers") or []):
            entries.append((["rules", g, "modifiers", m], modifier))
        for path, row in entries:
            where = _where(raw, path)
            check_columns(row.get("when"), f"{where}.when")
            action = row.get("action")
            if action not in actions:
                problems.append(
                    f"{where}.action: unknown action {action!r}{suggest(action, actions)}"
                )
            for modifier_action in row.get("on_actions") or []:
                if modifier_action not in actions:
                    problems.append(f"{where}.on_actions: unknown action {modifier_action!r}")
            if path[-2] == "rows":
                if row.get("id") in seen:
                    problems.append(f"{where}: duplicate rule id {row.get('id')!r}")
                seen.add(row.get("id"))
            if action == "curtail" and row.get("curtail_pct") is None:
                problems.append(f"{where}: a curtail row needs curtail_pct")
            if action == "exempt" and row.get("curtail_pct") not in (None, 0):
                problems.append(f"{where}.curtail_pct: an exemption curtails 0 %")
            on_blank = row.get("on_blank")
            if isinstance(on_blank, dict):
                for column in on_blank:
                    if column != "default" and column not in (row.get("when") or {}):
                        problems.append(
                            f"{where}.on_blank: {column!r} is not a condition of this row"
                            f"{suggest(column, row.get('when') or {})}"
                        )
            if row.get("deadline_from") and row["deadline_from"] not in known:
                problems.append(
                    f"{where}.deadline_from: unknown column {row['deadline_from']!r}"
                    f"{suggest(row['deadline_from'], known)}"
                )
            for flag in row.get("flags") or []:
                if flag not in flags_zh:
                    problems.append(
                        f"{where}.flags: {flag!r} has no Chinese text; add it under flags_zh"
                        f"{suggest(flag, flags_zh)}"
                    )
            if row.get("deadline") and _date(row["deadline"]) is None:
                problems.append(f"{where}.deadline: not a real date: {row['deadline']!r}")
            window = row.get("window")
            if isinstance(window, dict):
                problems += _period_problems(
                    window.get("start"), window.get("end"), where + ".window"
                )
            if row.get("in_force"):
                problems += _in_force_problems(
                    row["in_force"],
                    f"{where}.in_force",
                    group.get("in_force") or raw.get("in_force"),
                )
        if group.get("in_force"):
            problems += _in_force_problems(
                group["in_force"], f"{gwhere}.in_force", raw.get("in_force")
            )
    for o, override in enumerate(raw.get("county_overrides") or []):
        industries = override.get("industry") or []
        for value in industries if isinstance(industries, list) else [industries]:
            if str(value) not in schema.codes("industry"):
                problems.append(
                    f"county_overrides[{o + 1}].industry: unknown code {value!r}"
                    f"{suggest(value, schema.codes('industry'))}"
                )
    season = raw.get("season")
    if isinstance(season, dict):
        problems += _period_problems(season.get("start"), season.get("end"), "season")
    if raw.get("in_force"):
        problems += _in_force_problems(raw["in_force"], "in_force")
    return problems


def _period_problems(
    start: object, end: object, where: str, names: tuple[str, str] = ("start", "end")
) -> list[str]:
    problems = []
    first, last = _date(start), _date(end)
    if start is not None and first is None:
        problems.append(f"{where}.{names[0]}: not a real date: {start!r}")
    if end is not None and last is None:
        problems.append(f"{where}.{names[1]}: not a real date: {end!r}")
    if first and last and last < first:
        problems.append(f"{where}: ends ({last}) before it starts ({first})")
    return problems


def _in_force_problems(raw: object, where: str, within: object = None) -> list[str]:
    """Real dates, each period in order, no two periods overlapping, and (for a group) every
    period inside one of the table's periods."""
    items = raw if isinstance(raw, list) else [raw]
    problems: list[str] = []
    spans = []
    for k, period in enumerate(items):
        at = where if len(items) == 1 else f"{where}[{k + 1}]"
        found = _period_problems(period.get("from"), period.get("to"), at, ("from", "to"))
        problems += found
        first, last = _date(period.get("from")), _date(period.get("to"))
        if first and not found:
            spans.append((first, last or dt.date.max, at))
    spans.sort()
    for (_, end_a, at_a), (start_b, _, at_b) in itertools.pairwise(spans):
        if start_b <= end_a:
            problems.append(f"{at_b}: overlaps {at_a}; give periods that do not overlap")
    outer = []
    for period in (within if isinstance(within, list) else [within]) if within else []:
        first, last = _date(period.get("from")), _date(period.get("to"))
        if first:
            outer.append((first, last or dt.date.max))
    for start, end, at in spans:
        if outer and not any(a <= start and end <= b for a, b in outer):
            problems.append(f"{at}: lies outside the table's in_force period")
    return problems


def validate_table(raw: object, path: Path | str, actions: tuple[str, ...]) -> None:
    """Raise one :class:`PolicyTableError` listing every problem of a table, or return."""
    problems = _shape_problems(raw)
    if not problems and isinstance(raw, dict):
        problems = _name_problems(raw, actions)
    if problems:
        listed = "\n  - ".join(dict.fromkeys(problems))
        count = len(dict.fromkeys(problems))
        raise PolicyTableError(
            f"{path}: {count} problem{'s' if count > 1 else ''} in the rule table:\n  - {listed}"
        )


__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_NODES", "TABLE_SCHEMA", "read_table", "suggest"]

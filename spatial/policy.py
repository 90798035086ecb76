"""Policy rule tables: YAML files, one per policy document, loaded safely and validated.

A table has a header (``id``, ``title``, ``source``, ``issued``, ``version``) and ``facts``: the
spatial facts its rules read, each "enterprise within ``within_m`` metres of a feature of
``layer`` (optionally only the features matching ``where``)". The engine knows no policy by
name: a planner's own YAML is loaded the same way as a shipped one.

Examples
--------
>>> [p.id for p in load_policies(["jinzhong-2019"])]
['jinzhong-2019']
>>> spec = fact_specs(load_policies(["jinzhong-2019"]))["near_city"]
>>> spec.layer, spec.within_m, spec.ref
('builtup', 10000.0, '004_8ff93025e2acb35e.txt §二4')
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spatial.errors import PolicyTableError

ACTIONS = (
    "shutdown",
    "stop_season",
    "close_or_merge",
    "clear",
    "exit_by",
    "review",
    "rectify",
    "heat_determined",
    "curtail",
    "rotate",
    "exempt",
    "none",
)
"""Every action of the data contract, most severe first: an enterprise's summary is its most
severe decision. ``review`` ranks above the curtailment actions so that an open question is
never hidden behind a percentage."""
ACTION_ZH = {
    "shutdown": "停产治理",
    "stop_season": "采暖季停产",
    "close_or_merge": "关停或整合",
    "clear": "清零淘汰",
    "exit_by": "限期退出",
    "review": "待研判",
    "rectify": "限期整改",
    "heat_determined": "以热定产",
    "curtail": "限产",
    "rotate": "轮流错峰",
    "exempt": "豁免",
    "none": "无适用条款",
}
"""The Chinese name of each action, for reasons, lists and the map."""
ON_BLANK = ("flag", "fail", "review")
FUNCTIONS = ("max", "min")
OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
HEADER_KEYS = ("id", "title", "source", "issued", "version")
FACT_KEYS = {
    "layer",
    "within_m",
    "where",
    "distance_column",
    "nearest_column",
    "buffer_layer",
    "ref",
}


@dataclass(frozen=True)
class FactSpec:
    """One spatial fact: ``name`` is true where the distance to ``layer`` is <= ``within_m``."""

    name: str
    layer: str
    within_m: float
    distance_column: str
    nearest_column: str
    ref: str
    policy: str
    where: tuple[dict, ...] = ()
    buffer_layer: str = ""

    def select(self, features: pd.DataFrame) -> np.ndarray:
        """Which features of the layer qualify (all when there is no ``where``)."""
        if not self.where:
            return np.ones(len(features), dtype=bool)
        return np.logical_or.reduce([_match(features, cond) for cond in self.where])


def _match(features: pd.DataFrame, condition: dict) -> np.ndarray:
    mask = np.ones(len(features), dtype=bool)
    for column, wanted in condition.items():
        values = features[column] if column in features else pd.Series([None] * len(features))
        if isinstance(wanted, dict):
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            if "min" in wanted:
                mask &= numbers >= float(wanted["min"])
            if "max" in wanted:
                mask &= numbers <= float(wanted["max"])
        else:
            allowed = wanted if isinstance(wanted, list) else [wanted]
            mask &= values.astype(str).isin([str(a) for a in allowed]).to_numpy()
    return mask


@dataclass(frozen=True)
class Policy:
    """A loaded rule table."""

    id: str
    title: str
    source: str
    issued: str
    version: str
    facts: tuple[FactSpec, ...]
    path: Path
    raw: dict


def shipped_policies() -> list[str]:
    """Ids of the policy tables shipped with the package."""
    folder = files("spatial") / "policies"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _resolve(id_or_path: str | Path) -> Path:
    path = Path(id_or_path)
    if path.suffix.lower() in {".yaml", ".yml"}:
        if not path.exists():
            raise PolicyTableError(f"{path}: no such policy file")
        return path
    shipped = Path(str(files("spatial") / "policies" / f"{id_or_path}.yaml"))
    if not shipped.exists():
        raise PolicyTableError(
            f"unknown policy {str(id_or_path)!r}; shipped policies are "
            f"{', '.join(shipped_policies())}, or give the path of your own .yaml table"
        )
    return shipped


def _parse_facts(raw: object, path: Path, policy_id: str, problems: list[str]) -> list[FactSpec]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append("'facts' should be a mapping of fact name to its definition")
        return []
    specs = []
    for name, spec in raw.items():
        where = f"facts.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: should be a mapping, got {type(spec).__name__}")
            continue
        unknown = set(spec) - FACT_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(spec.get("layer"), str) or not spec.get("layer"):
            problems.append(f"{where}.layer: the name of a context layer is missing")
        within = spec.get("within_m")
        if not isinstance(within, int | float) or isinstance(within, bool) or within < 0:
            problems.append(f"{where}.within_m: should be metres (a number >= 0), got {within!r}")
        for key in ("distance_column", "nearest_column", "ref"):
            if not isinstance(spec.get(key), str) or not spec.get(key):
                problems.append(f"{where}.{key}: missing")
        conditions = spec.get("where", [])
        if isinstance(conditions, dict):
            conditions = [conditions]
        if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
            problems.append(f"{where}.where: should be a list of column conditions")
            conditions = []
        if not problems:
            specs.append(
                FactSpec(
                    name=str(name),
                    layer=spec["layer"],
                    within_m=float(within),
                    distance_column=spec["distance_column"],
                    nearest_column=spec["nearest_column"],
                    ref=spec["ref"],
                    policy=policy_id,
                    where=tuple(conditions),
                    buffer_layer=str(spec.get("buffer_layer") or f"{name}_{within / 1000:g}km"),
                )
            )
    return specs


def load_policy(id_or_path: str | Path) -> Policy:
    """Load one rule table by shipped id or by path, validated; problems name file and key."""
    path = _resolve(id_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyTableError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise PolicyTableError(f"{path}: should be a YAML mapping with id, title, source, ...")
    problems = [f"'{key}' is missing" for key in HEADER_KEYS if key not in raw]
    facts = _parse_facts(raw.get("facts"), path, str(raw.get("id")), problems)
    problems += validate_rules(raw)
    if problems:
        raise PolicyTableError(f"{path}: " + "; ".join(problems))
    return Policy(
        id=str(raw["id"]),
        title=str(raw["title"]),
        source=str(raw["source"]),
        issued=str(raw["issued"]),
        version=str(raw["version"]),
        facts=tuple(facts),
        path=path,
        raw=raw,
    )


def load_policies(ids: list[str] | tuple[str, ...] = ()) -> list[Policy]:
    """Load the given policies, or every shipped one when ``ids`` is empty."""
    return [load_policy(i) for i in (ids or shipped_policies())]


def fact_specs(policies: list[Policy]) -> dict[str, FactSpec]:
    """Every fact the policies need, by name; two different definitions of one name clash."""
    specs: dict[str, FactSpec] = {}
    for policy in policies:
        for spec in policy.facts:
            other = specs.setdefault(spec.name, spec)
            same = (other.layer, other.within_m, other.where) == (
                spec.layer,
                spec.within_m,
                spec.where,
            )
            if not same:
                raise PolicyTableError(
                    f"policies {other.policy} and {spec.policy} define the fact {spec.name!r} "
                    "differently; rename one of them"
                )
    return specs


def compile_expression(expression: str, where: str) -> ast.Expression:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise PolicyTableError(f"{where}: cannot parse the expression {expression!r}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and node.args
        ):
            raise PolicyTableError(
                f"{where}: only the functions {', '.join(FUNCTIONS)} may be called in "
                f"{expression!r}"
            )
        allowed = (
            ast.Call,
            ast.Expression,
            ast.BinOp,
            ast.UnaryOp,
            ast.USub,
            ast.Name,
            ast.Load,
            ast.Constant,
            *OPERATORS,
        )
        if not isinstance(node, allowed):
            raise PolicyTableError(
                f"{where}: only + - * / numbers and column names are allowed, got "
                f"{type(node).__name__} in {expression!r}"
            )
    return tree


def validate_rules(raw: dict) -> list[str]:
    """Every problem in a table's rules (empty when valid); row numbers are 1-based."""
    problems = []
    for name, expression in (raw.get("derived") or {}).items():
        try:
            compile_expression(str(expression), f"derived.{name}")
        except PolicyTableError as exc:
            problems.append(str(exc))
    groups = raw.get("rules") or []
    if not isinstance(groups, list):
        return ["'rules' should be a list of groups"]
    seen_ids: set[str] = set()
    for g, group in enumerate(groups, 1):
        where = f"rules[{g}]"
        if (
            not isinstance(group, dict)
            or "id" not in group
            or not isinstance(group.get("rows"), list)
        ):
            problems.append(f"{where}: a group needs 'id' and a list of 'rows'")
            continue
        for r, row in enumerate(group["rows"], 1):
            label = f"{where} ({group['id']}) row {r}"
            if isinstance(row, dict) and row.get("id"):
                label += f" ({row['id']})"
            problems += _row_problems(row, label, seen_ids)
        if group.get("otherwise"):
            problems += _row_problems(
                dict(group["otherwise"], id=f"{group['id']}:otherwise"),
                f"{where} ({group['id']}) otherwise",
                seen_ids,
            )
        for m, modifier in enumerate(group.get("modifiers") or [], 1):
            for key in ("id", "when", "action", "ref"):
                if key not in modifier:
                    problems.append(f"{where} modifier {m}: '{key}' is missing")
    for o, override in enumerate(raw.get("county_overrides") or [], 1):
        pct = override.get("min_pct")
        if "county" not in override or "ref" not in override:
            problems.append(f"county_overrides[{o}]: 'county' and 'ref' are required")
        if not isinstance(pct, int | float) or not 0 <= pct <= 100:
            problems.append(f"county_overrides[{o}].min_pct: a percent 0-100, got {pct!r}")
    return problems


def _row_problems(row: object, where: str, seen_ids: set[str]) -> list[str]:
    if not isinstance(row, dict):
        return [f"{where}: should be a mapping"]
    problems = []
    for key in ("id", "action", "ref"):
        if not row.get(key):
            problems.append(f"{where}: '{key}' is missing")
    if row.get("id") in seen_ids:
        problems.append(f"{where}: duplicate rule id {row.get('id')!r}")
    seen_ids.add(row.get("id"))
    if row.get("action") and row["action"] not in ACTIONS:
        problems.append(f"{where}: action {row['action']!r} is not one of {', '.join(ACTIONS)}")
    pct = row.get("curtail_pct")
    if pct is not None and (not isinstance(pct, int | float) or not 0 <= pct <= 100):
        problems.append(f"{where}: curtail_pct should be a percent 0-100, got {pct!r}")
    if row.get("action") == "curtail" and pct is None:
        problems.append(f"{where}: a curtail row needs curtail_pct")
    on_blank = row.get("on_blank", "flag")
    modes = on_blank.values() if isinstance(on_blank, dict) else [on_blank]
    if not all(mode in ON_BLANK for mode in modes):
        problems.append(
            f"{where}: on_blank should be one of {', '.join(ON_BLANK)} (or a mapping "
            f"of column to one of them), got {on_blank!r}"
        )
    when = row.get("when", {})
    if not isinstance(when, dict):
        problems.append(f"{where}: 'when' should map columns to conditions")
    else:
        for column, wanted in when.items():
            if isinstance(wanted, dict) and not set(wanted) <= {"min", "max", "lt", "gt"}:
                problems.append(
                    f"{where}: condition on {column} uses {sorted(wanted)}; use min, max, lt, gt"
                )
    for key in ("deadline",):
        if row.get(key):
            try:
                dt.date.fromisoformat(str(row[key]))
            except ValueError:
                problems.append(f"{where}: {key} should be a date YYYY-MM-DD, got {row[key]!r}")
    return problems

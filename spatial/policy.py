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

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from spatial.errors import PolicyTableError

LAYERS = ("builtup", "heat_sources", "zones")
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
        if spec.get("layer") not in LAYERS:
            problems.append(
                f"{where}.layer: should be one of {', '.join(LAYERS)}, got {spec.get('layer')!r}"
            )
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

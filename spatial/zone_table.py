"""The Dingxiang phase table: phases, dates and named areas, read from a policy table.

The Xinzhou 2024 cluster plan (``000_76214740fd4dcd9a.txt`` §二(二)) rectifies the Dingxiang
flange cluster in three phases defined by named places, not polygons. The phase table (phase,
dates, named areas and their kind) lives in ``spatial/policies/xinzhou-cluster-2024.yaml`` under
``zones:``; this module validates it (:func:`parse_zone_table`, :func:`load_zone_table`) and
matches a layer's area names to it (:func:`area_key`, :func:`match_area`). It also holds the
names the other zone modules share (:data:`KINDS`, :data:`SOURCE_LAYERS`, :data:`ZONE_COLUMNS`,
:data:`READY_COLUMNS`, :data:`ZONE_LAYER`).

Examples
--------
>>> table = load_zone_table()
>>> [(p.phase, str(p.start), str(p.end), len(p.areas)) for p in table.phases[:2]]
[(1, '2024-05-01', '2024-10-01', 6), (2, '2024-10-01', '2025-04-01', 4)]
>>> phase, area = match_area(table, "三环路范围以内")[0]
>>> (phase.phase, area.name, area.kind)
(1, '三环路', 'ring_road')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spatial import schema
from spatial.errors import LayerError, PolicyTableError
from spatial.policy import load_policy

DEFAULT_TABLE = "xinzhou-cluster-2024"
ZONE_LAYER = "dingxiang_zones"
KINDS = ("ring_road", "cluster", "village", "corridor", "township")
SOURCE_LAYERS: dict[str, tuple[str, ...]] = {
    "ring_road": ("ring_road",),
    "cluster": ("cluster",),
    "village": ("village_areas", "villages"),
    "corridor": ("airport_avenue",),
    "township": ("townships",),
}
"""Layers of the zone sources each kind is built from, in order of preference."""
ZONE_COLUMNS = (
    "phase",
    "start",
    "end",
    "area_name",
    "kind",
    "built_from",
    "width_m",
    "area_km2",
    "ref",
)
READY_COLUMNS = ("phase", "start", "end", "area_name", "kind")
"""The columns of the ready zone layer `spatial zones build` writes (data contract)."""
# words around an area's name in the text or in a hand-drawn layer, left out when names are
# compared: 三环路范围以内企业 / 三环路以内 → 三环路; 机场大道两侧企业 → 机场大道;
# 定襄县神山乡 → 神山乡
_AREA_AFFIXES = re.compile(
    r"^(山西省)?(忻州市)?(定襄县|定襄)"
    r"|(范围以内|范围内|以内|之内|内侧|两侧|沿线|一带|周边|区域|范围|企业|片区)+$"
)


# --------------------------------------------------------------------------------------------
# The phase table


@dataclass(frozen=True)
class ZoneArea:
    """One named area of a phase: ``name`` is the feature name in the source layers."""

    name: str
    kind: str
    ref: str
    text: str = ""


@dataclass(frozen=True)
class Phase:
    """One phase: its dates (``[start, end)``, ``end`` = deadline) and its areas."""

    phase: int
    start: dt.date
    end: dt.date
    ref: str
    areas: tuple[ZoneArea, ...]


@dataclass(frozen=True)
class ZoneOptions:
    """Build defaults (geodesic metres); the table's ``zones.defaults`` documents each."""

    corridor_half_width_m: float = 200.0
    village_radius_m: float = 500.0
    ring_snap_tolerance_m: float = 50.0

    def replace(self, **changes: float | None) -> ZoneOptions:
        """A copy with the given (non-None) values changed, validated."""
        given = {k: float(v) for k, v in changes.items() if v is not None}
        for key, value in given.items():
            if not np.isfinite(value) or value <= 0:
                raise LayerError(f"zone option {key}: should be metres > 0, got {value:g}")
        return dataclasses.replace(self, **given)


@dataclass(frozen=True)
class ZoneTable:
    """The validated ``zones:`` section of a policy table."""

    policy: str
    version: str
    ref: str
    phases: tuple[Phase, ...]
    defaults: ZoneOptions
    industry: str
    counties: tuple[str, ...]
    path: Path | None = None

    def areas(self) -> list[tuple[Phase, ZoneArea]]:
        """Every (phase, area) in table order."""
        return [(p, a) for p in self.phases for a in p.areas]

    def area(self, name: str) -> tuple[Phase, ZoneArea] | None:
        """The (phase, area) of an area name (NFKC, trimmed), or None."""
        wanted = _norm(name)
        for phase, area in self.areas():
            if _norm(area.name) == wanted:
                return phase, area
        return None


def zone_row(
    phase: Phase, area: ZoneArea, built_from: str, width_m: float, area_km2: float, geometry
) -> dict:
    """One zone of the layer (:data:`ZONE_COLUMNS` and its geometry), built or read."""
    return {
        "phase": phase.phase,
        "start": phase.start.isoformat(),
        "end": phase.end.isoformat(),
        "area_name": area.name,
        "kind": area.kind,
        "built_from": built_from,
        "width_m": width_m,
        "area_km2": area_km2,
        "ref": area.ref,
        "geometry": geometry,
    }


def _norm(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return schema.normalize_text(value)


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if np.isfinite(value) and value > 0 else None


def parse_zone_table(raw: dict, where: str = "zones") -> ZoneTable:
    """Validate a policy table's ``zones:`` section; every problem is reported at once.

    Parameters
    ----------
    raw
        The whole policy mapping (``Policy.raw``), with ``id``, ``version`` and ``zones``.
    where
        The file, named in messages.
    """
    zones = raw.get("zones")
    if not isinstance(zones, dict):
        raise PolicyTableError(
            f"{where}: no 'zones:' mapping (phases with their areas); see "
            f"spatial/policies/{DEFAULT_TABLE}.yaml for the layout"
        )
    problems: list[str] = []
    defaults_raw = zones.get("defaults") or {}
    options = {}
    for key in ("corridor_half_width_m", "village_radius_m", "ring_snap_tolerance_m"):
        value = _number(defaults_raw.get(key))
        if value is None:
            problems.append(
                f"zones.defaults.{key}: should be metres > 0, got {defaults_raw.get(key)!r}"
            )
        options[key] = value or 1.0
    scope = zones.get("scope") or {}
    counties = scope.get("county")
    counties = [counties] if isinstance(counties, str) else counties
    if not isinstance(scope.get("industry"), str) or not isinstance(counties, list) or not counties:
        problems.append("zones.scope: needs 'industry' (e.g. flange) and 'county' (e.g. 定襄县)")
        counties = []
    phases: list[Phase] = []
    seen: Counter = Counter()
    raw_phases = zones.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        problems.append("zones.phases: should be a list of phases")
        raw_phases = []
    for i, item in enumerate(raw_phases):
        at = f"zones.phases[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: should be a mapping with phase, start, end, ref, areas")
            continue
        number = item.get("phase")
        start, end = _as_date(item.get("start")), _as_date(item.get("end"))
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            problems.append(f"{at}.phase: should be a whole number >= 1, got {number!r}")
        if start is None or end is None:
            problems.append(f"{at}: start and end should be dates (YYYY-MM-DD)")
        elif end <= start:
            problems.append(f"{at}: end {end} is not after start {start}")
        if not isinstance(item.get("ref"), str) or not item.get("ref"):
            problems.append(f"{at}.ref: missing (file §clause)")
        areas = []
        for j, area in enumerate(item.get("areas") or []):
            here = f"{at}.areas[{j}]"
            if not isinstance(area, dict):
                problems.append(f"{here}: should be a mapping with name, kind, ref")
                continue
            name, kind, ref = area.get("name"), area.get("kind"), area.get("ref")
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{here}.name: missing")
                continue
            if kind not in KINDS:
                problems.append(f"{here}.kind: should be one of {', '.join(KINDS)}, got {kind!r}")
            if not isinstance(ref, str) or not ref:
                problems.append(f"{here}.ref: missing (file §clause)")
            seen[_norm(name)] += 1
            areas.append(ZoneArea(name.strip(), str(kind), str(ref), str(area.get("text") or "")))
        if not areas:
            problems.append(f"{at}.areas: no areas")
        if not problems:
            phases.append(Phase(number, start, end, item["ref"], tuple(areas)))
    numbers = Counter(p.phase for p in phases)
    if any(n > 1 for n in numbers.values()):
        problems.append(f"zones.phases: phase numbers repeat: {sorted(numbers)}")
    twice = sorted(name for name, n in seen.items() if n > 1)
    if twice:
        problems.append(f"zones: areas named in more than one row: {', '.join(twice)}")
    if problems:
        raise PolicyTableError(f"{where}: " + "; ".join(problems))
    return ZoneTable(
        policy=str(raw.get("id")),
        version=str(raw.get("version")),
        ref=str(zones.get("ref") or phases[0].ref),
        phases=tuple(sorted(phases, key=lambda p: p.phase)),
        defaults=ZoneOptions(**options),
        industry=str(scope["industry"]),
        counties=tuple(str(c) for c in counties),
    )


def load_zone_table(id_or_path: str | Path = DEFAULT_TABLE) -> ZoneTable:
    """The zone table of a policy (shipped id or YAML path), validated."""
    policy = load_policy(id_or_path)
    table = parse_zone_table(policy.raw, str(policy.path))
    return dataclasses.replace(table, path=policy.path)


def _table(table: ZoneTable | str | Path | None) -> ZoneTable:
    return table if isinstance(table, ZoneTable) else load_zone_table(table or DEFAULT_TABLE)


def area_key(text: object) -> str:
    """An area's name as compared between the text and a layer (NFKC, no spaces or
    punctuation, without the words around it).

    >>> area_key("三环路以内"), area_key("三环路范围以内企业"), area_key("机场大道两侧")
    ('三环路', '三环路', '机场大道')
    >>> area_key("定襄县 神山乡"), area_key("（庄力产业集聚区）")
    ('神山乡', '庄力产业集聚区')
    """
    folded = re.sub(r"[\s\W_]+", "", _norm(text))
    return _AREA_AFFIXES.sub("", folded) or folded


def match_area(table: ZoneTable, name: object) -> tuple[tuple[Phase, ZoneArea] | None, list[str]]:
    """The table's area a layer's name means, loosely: the same name or text once the words
    around it are left out, else the one area whose name contains it or is contained in it
    (``神山`` → 神山乡). Returns (match or None, the candidate names when several fit)."""
    key = area_key(name)
    if not key:
        return None, []
    exact = [(p, a) for p, a in table.areas() if key in (area_key(a.name), area_key(a.text))]
    if len(exact) == 1:
        return exact[0], []
    loose = exact or [
        (p, a)
        for p, a in table.areas()
        if len(key) >= 2 and (key in area_key(a.name) or area_key(a.name) in key)
    ]
    if len(loose) == 1:
        return loose[0], []
    return None, [a.name for _, a in loose]

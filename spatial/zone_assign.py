"""Which Dingxiang zone each flange plant is in (vectorised), and its status as of a date.

Status as of a date ``d`` (the text makes the phases contiguous, so ``end`` is the deadline and
a day belongs to one phase only): ``d < start`` → ``not_started``; ``start <= d < end`` →
``in_progress``; ``d >= end`` → ``due``. ``zone_days_left = end - d`` (0 on the end day,
negative = overdue).

Examples
--------
>>> import datetime as dt
>>> zone_status(dt.date(2024, 5, 1), dt.date(2024, 10, 1), dt.date(2024, 10, 1))
('due', 0)
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import vocabulary
from spatial.errors import LayerError
from spatial.geodesic import WGS84
from spatial.measure import densify_geodesic
from spatial.zone_table import READY_COLUMNS, ZoneTable, _as_date, _norm, _table

ASSIGN_COLUMNS = (
    "zone_phase",
    "zone_area",
    "zone_start",
    "zone_end",
    "zone_status",
    "zone_days_left",
    "zone_flags",
)
STATUSES = ("not_started", "in_progress", "due", "unassigned")


def zone_status(start: dt.date, end: dt.date, as_of: dt.date) -> tuple[str, int]:
    """(status, days left until ``end``) as of a date; see the module doc for the semantics.

    >>> d = dt.date
    >>> [zone_status(d(2024, 5, 1), d(2024, 10, 1), x)[0] for x in (d(2024, 4, 30), d(2024, 5, 1))]
    ['not_started', 'in_progress']
    >>> zone_status(d(2024, 5, 1), d(2024, 10, 1), d(2024, 10, 2))
    ('due', -1)
    """
    days_left = (end - as_of).days
    if as_of < start:
        return "not_started", days_left
    if as_of < end:
        return "in_progress", days_left
    return "due", days_left


def in_scope(enterprises: pd.DataFrame, table: ZoneTable | str | Path | None = None) -> np.ndarray:
    """Which enterprises the zones apply to (flange plants in Dingxiang, per the table)."""
    table = _table(table)
    industry = enterprises.get("industry", pd.Series("", index=enterprises.index)).map(_norm)
    county = enterprises.get("county", pd.Series("", index=enterprises.index))
    # counties compared as counties (定襄, 忻州市定襄县 → 定襄县), as the policy tables compare them
    from spatial.decisions import county_matches

    return (industry == _norm(table.industry)).to_numpy() & county_matches(
        county, list(table.counties)
    )


def _hit_pairs(points: gpd.GeoSeries, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(point, zone) positions of every zone containing a point (boundary counts as inside),
    sorted by point then zone; one STRtree query for all points."""
    geoms = np.asarray([densify_geodesic(g) for g in zones.geometry], dtype=object)
    tree = shapely.STRtree(geoms)
    pts = np.asarray(points.to_numpy(), dtype=object)
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    if not ok.any():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    p, z = tree.query(pts[ok], predicate="intersects")
    p = np.flatnonzero(ok)[p]
    order = np.lexsort((z, p))
    return p[order].astype(np.int64), z[order].astype(np.int64)


def _hit_sets(p: np.ndarray, z: np.ndarray, n_points: int, n_zones: int) -> np.ndarray:
    """Each point's set of zones as a row of bits (``uint64`` words, zone ``i`` is bit
    ``i % 64`` of word ``i // 64``): equal rows, equal sets."""
    words = np.zeros((n_points, max(1, -(-n_zones // 64))), dtype=np.uint64)
    np.bitwise_or.at(words, (p, z // 64), np.left_shift(np.uint64(1), (z % 64).astype(np.uint64)))
    return words


_FLAG_PART = re.compile(r"(.+?)\((\d+)\)(?:,|$)")


def _header(column: str, headers: dict[str, str] | None) -> str:
    """The planner's header of ``column`` (``village``/``township``), else its Chinese name."""
    if headers and headers.get(column):
        return str(headers[column])
    return vocabulary.column_label(column)


def zone_flags_zh(flags: object, headers: dict[str, str] | None = None) -> str:
    """The zone flags of one plant (``zone_flags``) as sentences saying what the county must
    check, naming the planner's columns as headed in their sheet (``headers``: contract name →
    header); ``""`` without flags.

    >>> print(zone_flags_zh("columns_disagree:township=神山乡;overlap:张村(1),宏道镇(2)",
    ...     {"township": "所属乡镇"}))
    「所属乡镇」填写为“神山乡”，与企业坐标所在的整治区域不一致，请核实坐标或「所属乡镇」；企业坐标同时落在张村（第一阶段）、宏道镇（第二阶段）整治区域内，已按最早的第一阶段（张村）确定整治期限，请核实。
    >>> print(zone_flags_zh("unassigned"))
    企业坐标不在任何整治区域内，「村」「乡镇」也未对应到整治区域，整治阶段未定，请县级核实所属区域。
    """
    if flags is None or (isinstance(flags, float) and np.isnan(flags)) or not str(flags).strip():
        return ""
    sentences = []
    for flag in str(flags).split(";"):
        code, _, rest = flag.partition(":")
        column, _, value = rest.partition("=")
        if code == "columns_disagree":
            head = _header(column, headers)
            sentences.append(
                f"「{head}」填写为“{value}”，与企业坐标所在的整治区域不一致，请核实坐标或「{head}」"
            )
        elif code == "overlap":
            areas = [(m.group(1), m.group(2)) for m in _FLAG_PART.finditer(rest)]
            listed = "、".join(
                f"{name}（{vocabulary.label('zone_phase', phase)}）" for name, phase in areas
            )
            first = (
                f"{vocabulary.label('zone_phase', areas[0][1])}（{areas[0][0]}）" if areas else ""
            )
            sentences.append(
                f"企业坐标同时落在{listed}整治区域内，已按最早的{first}确定整治期限，请核实"
            )
        elif code == "attribute_fallback":
            head = _header(column, headers)
            sentences.append(
                f"企业坐标不在任何整治区域内，已按「{head}」填写的“{value}”归入该整治区域，"
                "请核实坐标"
            )
        elif code == "no_location":
            sentences.append("缺少企业坐标，无法按位置判断所在整治区域，请补填经纬度")
        elif code == "unassigned":
            sentences.append(
                f"企业坐标不在任何整治区域内，「{_header('village', headers)}」"
                f"「{_header('township', headers)}」也未对应到整治区域，整治阶段未定，"
                "请县级核实所属区域"
            )
        else:
            sentences.append(f"分区标记“{flag}”，请核实")
    return "；".join(sentences) + "。"


def assign_zones(
    enterprises: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    as_of: dt.date,
    table: ZoneTable | str | Path | None = None,
) -> pd.DataFrame:
    """Zone columns for every enterprise (empty outside the table's scope).

    For a flange plant in Dingxiang: the zones containing its point; on overlap the earliest
    phase wins (then table order) and every area hit is recorded. With no zone at its point,
    its ``village`` then ``township`` column is tried (flagged ``attribute_fallback``); with
    neither, ``zone_status`` is ``unassigned``. Columns that name a zone area the point is not
    in, or another area of the same kind than the one the point is in, are flagged.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``enterprises``: ``zone_phase`` (Int64), ``zone_area``, ``zone_start``,
        ``zone_end`` (ISO dates), ``zone_status`` (not_started / in_progress / due /
        unassigned), ``zone_days_left`` (Int64, ``end - as_of``; negative = overdue) and
        ``zone_flags`` (``;``-separated: ``overlap:A(1),B(3)``, ``attribute_fallback:village=X``,
        ``columns_disagree:township=X``, ``no_location``, ``unassigned``).
    """
    table = _table(table)
    out = pd.DataFrame(
        {
            "zone_phase": pd.array([pd.NA] * len(enterprises), dtype="Int64"),
            "zone_area": pd.Series([None] * len(enterprises), dtype=object),
            "zone_start": pd.Series([None] * len(enterprises), dtype=object),
            "zone_end": pd.Series([None] * len(enterprises), dtype=object),
            "zone_status": pd.Series([None] * len(enterprises), dtype=object),
            "zone_days_left": pd.array([pd.NA] * len(enterprises), dtype="Int64"),
            "zone_flags": pd.Series([None] * len(enterprises), dtype=object),
        }
    )
    out.index = enterprises.index
    scope = np.flatnonzero(in_scope(enterprises, table))
    if scope.size == 0:
        return out
    missing = [c for c in READY_COLUMNS if c not in zones]
    if missing:
        raise LayerError(f"zone layer lacks the columns {', '.join(missing)}")
    zones = zones.to_crs(WGS84) if zones.crs is not None else zones.set_crs(WGS84)
    order = sorted(range(len(zones)), key=lambda i: (int(zones["phase"].iloc[i]), i))
    zones = zones.iloc[order].reset_index(drop=True)
    names = [str(n) for n in zones["area_name"]]
    kinds = [str(k) for k in zones["kind"]]
    by_name = {_norm(n): i for i, n in enumerate(names)}
    subset = enterprises.iloc[scope]
    points = subset.geometry.to_crs(WGS84) if subset.crs is not None else subset.geometry
    n = len(subset)
    p, z = _hit_pairs(points, zones)
    # the outcome of a plant depends only on the set of zones at its point, its village and
    # township texts and whether it has a location: decide once per distinct combination
    geoms = np.asarray(points.to_numpy(), dtype=object)
    located = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    words = _hit_sets(p, z, n, len(zones))
    raw_columns = {
        col: subset[col].to_numpy() if col in subset else np.full(n, "")
        for col in ("village", "township")
    }
    keys = pd.DataFrame({f"w{i}": words[:, i] for i in range(words.shape[1])})
    keys["located"] = located
    for col, values in raw_columns.items():
        keys[col] = pd.Series(values, dtype=object).map(repr).to_numpy()
    codes = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)  # a plant of each combination
    own = first[codes[p]] == p  # the hits of those plants (pairs sorted: priority order)
    sets: dict[int, list[int]] = {}
    for a, b in zip(codes[p[own]].tolist(), z[own].tolist(), strict=True):
        sets.setdefault(a, []).append(b)
    phases = [int(v) for v in zones["phase"]]
    starts = [_as_date(v) for v in zones["start"]]
    ends = [_as_date(v) for v in zones["end"]]
    decided = [
        _zone_row(
            sets.get(code, []),
            bool(located[k]),
            {col: raw_columns[col][k] for col in raw_columns},
            names,
            kinds,
            by_name,
            phases,
            starts,
            ends,
            as_of,
        )
        for code, k in enumerate(first.tolist())
    ]
    filled = pd.DataFrame(
        {
            col: np.array([row[i] for row in decided] or [], dtype=object)[codes]
            for i, col in enumerate(ASSIGN_COLUMNS)
        },
        index=subset.index,
    )
    for col in ASSIGN_COLUMNS:
        values = filled[col].to_numpy(dtype=object)
        if out[col].dtype == object:  # a blank text is None whatever pandas inferred for rows
            values = np.array([None if pd.isna(v) else v for v in values], dtype=object)
        out.loc[filled.index, col] = values
    return out


def _zone_row(
    hit: list[int],
    located: bool,
    raw: dict[str, object],
    names: list[str],
    kinds: list[str],
    by_name: dict[str, int],
    phases: list[int],
    starts: list[dt.date | None],
    ends: list[dt.date | None],
    as_of: dt.date,
) -> tuple:
    """The zone columns of a plant whose point lies in the zones ``hit`` (positions in
    priority order), with its village and township texts ``raw``."""
    flags = []
    if not located:
        flags.append("no_location")
    for col, kind in (("village", "village"), ("township", "township")):
        value = _norm(raw[col])
        if not value:
            continue
        hit_same_kind = [names[i] for i in hit if kinds[i] == kind]
        named = by_name.get(value)
        if hit and (
            (named is not None and kinds[named] == kind and named not in hit)
            or (hit_same_kind and value not in {_norm(n) for n in hit_same_kind})
        ):
            flags.append(f"columns_disagree:{col}={raw[col]}")
    winner = hit[0] if hit else None
    if len(hit) > 1:
        flags.append("overlap:" + ",".join(f"{names[i]}({phases[i]})" for i in hit))
    if winner is None:
        for col in ("village", "township"):
            named = by_name.get(_norm(raw[col]))
            if named is not None and kinds[named] == col:
                winner = named
                flags.append(f"attribute_fallback:{col}={raw[col]}")
                break
    if winner is None:
        flags.append("unassigned")
        return (pd.NA, None, None, None, "unassigned", pd.NA, ";".join(flags))
    start, end = starts[winner], ends[winner]
    status, days = zone_status(start, end, as_of)
    return (
        phases[winner],
        names[winner],
        start.isoformat(),
        end.isoformat(),
        status,
        days,
        ";".join(flags) or None,
    )

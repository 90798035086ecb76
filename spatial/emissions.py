"""The emission effect of the decisions: tonnes avoided per plant, county and pollutant.

Pure functions on the ``enterprises`` and ``decisions`` frames (no files read or written). The
inventory may carry annual emissions in tonnes per year (``pm_t``, ``so2_t``, ``nox_t``,
``vocs_t``: 颗粒物 / 二氧化硫 / 氮氧化物 / VOCs 年排放量, as in 排污许可 execution reports);
each decision then avoids a share of them:

==================================  ==========================================  ==========
measure (``action``)                avoided                                     ``period``
==================================  ==========================================  ==========
``curtail`` p % over a season of    annual × p/100 × D/365                      season
D days
``stop_season`` (window of D days,  annual × D/365                              season
both ends included), ``shutdown``
(停产治理) in a table with a season
``close_or_merge``, ``clear``,      annual, every year from the deadline on     year
``exit_by``; ``shutdown`` in a
table without a season (关停)
``rectify`` to an emission limit    annual × (1 − limit / C) where C, the       year
(:data:`RETROFIT_LIMITS`)           measured value at the reference O2,
                                    exceeds the limit, else 0
``review``, ``heat_determined``     0, and the annual emissions reported as     as table
                                    under review (still undecided)
``exempt``, ``none``                0                                           as table
``rotate``, ``rectify`` without a   not computed (``not_quantified``), never 0  as table
limit, ``curtail`` without season
==================================  ==========================================  ==========

Emissions are assumed spread evenly over the year (D/365). A blank annual emission is never
0 t: the row has ``status`` ``no_data`` and the totals count such plants by number.

A plant with several decisions (two documents, or a phase and a limit retrofit) would be
counted twice; per plant, pollutant and period only the decision that avoids the most is
``counted`` in the totals.

Examples
--------
Jinzhong: a plant emitting 100 t of PM a year, curtailed 30 % over the 152-day season:

>>> round(100 * 30 / 100 * 152 / 365, 4)
12.4932
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spatial.decisions import excluded
from spatial.errors import PolicyTableError
from spatial.policy import ACTION_ZH, Policy, date_zh
from spatial.vocabulary import labels

POLLUTANTS = ("pm", "so2", "nox", "vocs")
"""The pollutants, in report order."""
POLLUTANT_ZH = labels("pollutant")
EMISSION_COLUMNS = {p: f"{p}_t" for p in POLLUTANTS}
"""Inventory column of each pollutant's annual emissions (tonnes per year)."""
CONCENTRATION_COLUMNS = {"pm": "pm_mg", "so2": "so2_mg", "nox": "nox_mg"}
PERIOD_ZH = labels("period")
STATUS_ZH = labels("emission_status")
TABLE_COLUMNS = [
    "id",
    "policy",
    "action",
    "county",
    "pollutant",
    "annual_t",
    "avoided_t",
    "period",
    "days",
    "from_date",
    "status",
    "counted",
    "rule_ref",
    "basis_zh",
]

PERMANENT = ("close_or_merge", "clear", "exit_by")
UNDECIDED = ("review", "heat_determined")
NO_COUNTY = "（未填县区）"
NO_EFFECT = ("exempt", "none")


@dataclass(frozen=True)
class Retrofit:
    """An emission limit a ``rectify`` decision retrofits to, with the clause stating it."""

    limits_mg: dict[str, float]
    o2_ref: float | None
    text_zh: str


RETROFIT_LIMITS: dict[str, Retrofit] = {
    # 忻政办函〔2024〕34号 §三(二)3: flange furnaces PM 10, SO2 50, NOx 200 mg/m³ at 8 % O2
    "000_76214740fd4dcd9a.txt §三(二)3": Retrofit(
        {"pm": 10.0, "so2": 50.0, "nox": 200.0}, 8.0, "法兰加热炉排放限值（基准含氧量8%）"
    ),
    # Shapotou draft ch.3 §二(四)2: gas boilers retrofitted to NOx below 50 mg/m³; the text names
    # no reference O2, and the rule compares the value as measured, so does this.
    "002_44512477227ed7b1.txt ch.3 §二(四)2": Retrofit(
        {"nox": 50.0}, None, "燃气锅炉低氮燃烧改造（氮氧化物50毫克/立方米）"
    ),
}
"""``rule_ref`` of a rectify row → the limits it retrofits to. A rectify decision under any other
clause (clean-transport share, ultra-low retrofit without limits in the text, the Dingxiang
phases) is ``not_quantified``."""


# --------------------------------------------------------------------------------------------
# Per decision


def season_days(policy: Policy) -> int | None:
    """Days of a table's ``season``, both ends included (Jinzhong 2019-11-01..2020-03-31: 152)."""
    season = policy.raw.get("season")
    if not season:
        return None
    start = dt.date.fromisoformat(str(season["start"]))
    end = dt.date.fromisoformat(str(season["end"]))
    return (end - start).days + 1


def window_days(start: object, end: object) -> float:
    """Days of a stop window, both ends included; NaN when a date is missing.

    >>> window_days("2023-11-15", "2024-03-15")
    122
    """
    if _missing(start) or _missing(end):
        return np.nan
    first, last = dt.date.fromisoformat(str(start)[:10]), dt.date.fromisoformat(str(end)[:10])
    return (last - first).days + 1


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _retrofit_of(rule_ref: object) -> Retrofit | None:
    if _missing(rule_ref):
        return None
    return RETROFIT_LIMITS.get(str(rule_ref).split("; ")[0].strip())


def _decision_terms(decisions: pd.DataFrame, policies: list[Policy]) -> pd.DataFrame:
    """Per decision: kind, share of the annual emissions avoided, period, days and basis."""
    seasons = {p.id: season_days(p) for p in policies}
    d = decisions.copy()
    for column in ("curtail_pct", "deadline", "window_start", "window_end"):
        if column not in d:
            d[column] = None
    n = len(d)
    action = d["action"].astype(str).to_numpy()
    season = d["policy"].map(seasons).astype(float).to_numpy()
    pct = pd.to_numeric(d.get("curtail_pct"), errors="coerce").to_numpy(dtype=float)
    window = np.array(
        [window_days(s, e) for s, e in zip(d["window_start"], d["window_end"], strict=True)],
        dtype=float,
    )
    deadline = d["deadline"].astype(object).where(d["deadline"].notna(), None).to_numpy()
    retrofit = np.array([_retrofit_of(r) for r in d["rule_ref"]], dtype=object)

    kind = np.full(n, "not_quantified", dtype=object)
    share = np.full(n, np.nan)
    days = np.full(n, np.nan)
    period = np.where(np.isnan(season), "year", "season").astype(object)
    from_date = np.full(n, None, dtype=object)
    basis = np.full(n, "", dtype=object)

    for i in range(n):
        a = action[i]
        if a == "curtail" and not np.isnan(pct[i]) and not np.isnan(season[i]):
            kind[i], days[i], share[i] = "seasonal", season[i], pct[i] / 100 * season[i] / 365
            basis[i] = (
                f"限产{pct[i]:g}%，采暖季{season[i]:g}天：年排放量×{pct[i]:g}%×{season[i]:g}/365"
            )
        elif a == "curtail":
            basis[i] = "政策表未给出采暖季起止日期或限产比例，减排量未测算"
        elif a == "stop_season" and not np.isnan(window[i]):
            kind[i], days[i], share[i], period[i] = "stop", window[i], window[i] / 365, "season"
            start, end = d["window_start"].iat[i], d["window_end"].iat[i]
            basis[i] = f"停产{window[i]:g}天（{start}至{end}）：年排放量×{window[i]:g}/365"
        elif a in ("stop_season", "shutdown") and not np.isnan(season[i]):
            kind[i], days[i], share[i] = "stop", season[i], season[i] / 365
            basis[i] = f"{ACTION_ZH[a]}，采暖季{season[i]:g}天：年排放量×{season[i]:g}/365"
        elif a == "stop_season":
            basis[i] = "停产起止日期未给出，减排量未测算"
        elif a in PERMANENT or a == "shutdown":
            kind[i], share[i], period[i] = "permanent", 1.0, "year"
            from_date[i] = None if _missing(deadline[i]) else str(deadline[i])[:10]
            basis[i] = (
                f"{ACTION_ZH[a]}：自{date_zh(from_date[i])}起每年减少全部年排放量"
                if from_date[i]
                else f"{ACTION_ZH[a]}（文件未给出时限）：每年减少全部年排放量"
            )
        elif a == "rectify" and retrofit[i] is not None:
            kind[i], period[i] = "retrofit", "year"
            from_date[i] = None if _missing(deadline[i]) else str(deadline[i])[:10]
            basis[i] = f"整改至{retrofit[i].text_zh}"
        elif a == "rectify":
            period[i] = "year"
            basis[i] = "整改要求未给出可量化的排放限值，减排量未测算"
        elif a == "rotate":
            basis[i] = "轮流错峰生产，批次与日期由县级确定，减排量未测算"
        elif a in UNDECIDED:
            kind[i], share[i] = "review", 0.0
            basis[i] = f"{ACTION_ZH[a]}：暂不计减排量，年排放量计入待研判排放量"
        elif a in NO_EFFECT:
            kind[i], share[i] = "zero", 0.0
            basis[i] = f"{ACTION_ZH.get(a, a)}：不计减排量"
    return pd.DataFrame(
        {
            "kind": kind,
            "share": share,
            "days": days,
            "period": period,
            "from_date": from_date,
            "basis": basis,
            "retrofit": retrofit,
        },
        index=d.index,
    )


TERM_KEYS = (
    "policy",
    "action",
    "curtail_pct",
    "deadline",
    "window_start",
    "window_end",
    "rule_ref",
)


def _terms_per_kind(decisions: pd.DataFrame, policies: list[Policy]) -> pd.DataFrame:
    """:func:`_decision_terms` computed once per distinct (policy, action, percent, dates,
    clause) — a few hundred for a million decisions — and spread back to every decision."""
    keys = [k for k in TERM_KEYS if k in decisions]
    frame = decisions[keys].astype(object).where(decisions[keys].notna(), None)
    codes = frame.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(frame))).groupby(codes).first().to_numpy()
    distinct = _decision_terms(decisions.iloc[first].reset_index(drop=True), policies)
    return distinct.iloc[codes].reset_index(drop=True)


def _retrofit_share(
    retrofit: Retrofit, pollutant: str, measured: float, o2: float
) -> tuple[float, str, str]:
    """(share avoided, status, basis) of one pollutant under a limit retrofit."""
    limit = retrofit.limits_mg.get(pollutant)
    if limit is None:
        return 0.0, "zero", f"{retrofit.text_zh}：不涉及{POLLUTANT_ZH[pollutant]}"
    if np.isnan(measured):
        return np.nan, "not_quantified", f"{retrofit.text_zh}：缺少实测浓度，减排量未测算"
    if retrofit.o2_ref is None:
        conc = measured
        shown = f"实测浓度{conc:.1f}毫克/立方米"
    elif np.isnan(o2) or o2 >= 21:
        return np.nan, "not_quantified", f"{retrofit.text_zh}：缺少有效实测含氧量，无法折算"
    else:
        conc = measured * (21 - retrofit.o2_ref) / (21 - o2)
        shown = f"折算至基准含氧量{retrofit.o2_ref:g}%后浓度{conc:.1f}毫克/立方米"
    if conc <= limit:
        return 0.0, "avoided", f"{shown}，未超过限值{limit:g}，不产生减排量"
    return 1 - limit / conc, "avoided", f"{shown}，限值{limit:g}：年排放量×(1−{limit:g}/{conc:.1f})"


def emission_table(
    enterprises: pd.DataFrame, decisions: pd.DataFrame, policies: list[Policy]
) -> pd.DataFrame:
    """One row per decision and pollutant: annual and avoided tonnes, with the basis.

    Parameters
    ----------
    enterprises
        The enterprises (``id``, ``county``, the ``*_t`` annual emissions where given, and the
        measured ``*_mg`` and ``o2_pct`` for limit retrofits).
    decisions
        The ``decisions`` table.
    policies
        The policies the decisions came from (for their seasons).

    Returns
    -------
    DataFrame
        :data:`TABLE_COLUMNS`: ``annual_t`` is NaN where the inventory has no figure,
        ``avoided_t`` is NaN where it cannot be computed (``status`` ``no_data`` or
        ``not_quantified``), 0 for undecided and exempt plants; ``counted`` marks the rows
        that enter totals (one per plant, pollutant and period).
    """
    wanted = ["id", "county", *EMISSION_COLUMNS.values(), *CONCENTRATION_COLUMNS.values()]
    info = pd.DataFrame(enterprises.drop(columns="geometry", errors="ignore"))
    info = info[[c for c in [*wanted, "o2_pct"] if c in info]].drop_duplicates("id")
    base = decisions[["id", "policy", "action", "rule_ref"]].merge(info, on="id", how="left")
    for column in (*wanted, "o2_pct"):
        if column not in base:
            base[column] = np.nan
    terms = _terms_per_kind(decisions.reset_index(drop=True), policies)
    base = base.reset_index(drop=True)
    o2 = pd.to_numeric(base["o2_pct"], errors="coerce").to_numpy(dtype=float)
    parts = []
    for pollutant in POLLUTANTS:
        annual = pd.to_numeric(base[EMISSION_COLUMNS[pollutant]], errors="coerce").to_numpy(
            dtype=float
        )
        share = terms["share"].to_numpy(dtype=float).copy()
        kind = terms["kind"].to_numpy()
        status = np.where(kind == "not_quantified", "not_quantified", "avoided").astype(object)
        status[kind == "review"] = "review"
        status[kind == "zero"] = "zero"
        basis = terms["basis"].to_numpy().copy()
        retro = np.flatnonzero(kind == "retrofit")
        if retro.size:
            column = CONCENTRATION_COLUMNS.get(pollutant)
            measured = (
                pd.to_numeric(base[column], errors="coerce").to_numpy(dtype=float)
                if column
                else np.full(len(base), np.nan)
            )
            for i in retro:
                share[i], status[i], basis[i] = _retrofit_share(
                    terms["retrofit"].iat[i], pollutant, measured[i], o2[i]
                )
        avoided = annual * share
        avoided[status == "zero"] = 0.0
        avoided[status == "review"] = 0.0
        lacking = np.isnan(annual) & (status == "avoided")
        status[lacking] = "no_data"
        basis[lacking] = [f"{b}；缺少{POLLUTANT_ZH[pollutant]}年排放量数据" for b in basis[lacking]]
        parts.append(
            pd.DataFrame(
                {
                    "id": base["id"],
                    "policy": base["policy"],
                    "action": base["action"],
                    "county": base["county"],
                    "pollutant": pollutant,
                    "annual_t": annual,
                    "avoided_t": avoided,
                    "period": terms["period"],
                    "days": terms["days"],
                    "from_date": terms["from_date"],
                    "status": status,
                    "rule_ref": base["rule_ref"],
                    "basis_zh": basis,
                }
            )
        )
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TABLE_COLUMNS)
    table["counted"] = _counted(table)
    return table[TABLE_COLUMNS]


def _counted(table: pd.DataFrame) -> np.ndarray:
    """One row per plant, pollutant and period enters the totals: the one avoiding the most."""
    counted = np.zeros(len(table), dtype=bool)
    ok = table["status"].eq("avoided").to_numpy()
    if not ok.any():
        return counted
    rows = table[ok].sort_values("avoided_t", ascending=False, kind="stable")
    first = ~rows.duplicated(["id", "pollutant", "period"])
    counted[table.index.get_indexer(rows.index[first.to_numpy()])] = True
    return counted


# --------------------------------------------------------------------------------------------
# Totals


def _plants(frame: pd.DataFrame) -> int:
    return int(frame["id"].nunique())


def county_totals(table: pd.DataFrame) -> pd.DataFrame:
    """Per county, measure and period, per pollutant: tonnes avoided and the plants lacking data.

    Columns: ``county``, ``action``, ``period``, ``pollutant``, ``plants`` (with the measure),
    ``avoided_t`` (sum of the counted rows), ``no_data_plants`` (plants whose avoided tonnes
    cannot be computed for want of an annual figure), ``not_quantified_plants``, ``review_t``
    (annual emissions of the plants under review or 以热定产, each plant once) and
    ``review_no_data_plants`` (of those, plants without an annual figure).
    """
    keys = ["county", "action", "period", "pollutant"]
    frame = table.assign(county=table["county"].fillna(NO_COUNTY))
    out = frame.groupby(keys, sort=True)["id"].nunique().rename("plants").to_frame()
    out["avoided_t"] = frame[frame["counted"]].groupby(keys)["avoided_t"].sum()
    for status, name in (
        ("no_data", "no_data_plants"),
        ("not_quantified", "not_quantified_plants"),
    ):
        out[name] = frame[frame["status"] == status].groupby(keys)["id"].nunique()
    review = frame[frame["status"] == "review"].drop_duplicates([*keys, "id"])
    out["review_t"] = review.groupby(keys)["annual_t"].sum()
    out["review_no_data_plants"] = review[review["annual_t"].isna()].groupby(keys)["id"].nunique()
    out = out.fillna(0)
    for name in ("plants", "no_data_plants", "not_quantified_plants", "review_no_data_plants"):
        out[name] = out[name].astype(int)
    return out.reset_index()


def county_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per county and pollutant, all measures together (each plant once).

    Columns: ``county``, ``pollutant``, ``plants`` (with any decision), ``with_data`` (plants
    with an annual figure), ``annual_t``, ``avoided_season_t``, ``avoided_year_t``,
    ``review_t``, ``review_plants``, ``no_data_plants`` (plants whose avoided tonnes need the
    missing figure) and ``not_quantified_plants``.
    """
    keys = ["county", "pollutant"]
    frame = table.assign(county=table["county"].fillna(NO_COUNTY))
    per_plant = frame.drop_duplicates(["id", "pollutant"])
    out = per_plant.groupby(keys, sort=True)["id"].nunique().rename("plants").to_frame()
    out["with_data"] = per_plant[per_plant["annual_t"].notna()].groupby(keys)["id"].nunique()
    out["annual_t"] = per_plant.groupby(keys)["annual_t"].sum()
    counted = frame[frame["counted"]]
    for period in PERIOD_ZH:
        mine = counted[counted["period"] == period]
        out[f"avoided_{period}_t"] = mine.groupby(keys)["avoided_t"].sum()
    review = frame[frame["status"] == "review"].drop_duplicates(["id", "pollutant"])
    out["review_t"] = review.groupby(keys)["annual_t"].sum()
    out["review_plants"] = review.groupby(keys)["id"].nunique()
    for status, name in (
        ("no_data", "no_data_plants"),
        ("not_quantified", "not_quantified_plants"),
    ):
        out[name] = frame[frame["status"] == status].groupby(keys)["id"].nunique()
    out = out.fillna(0)
    for name in ("plants", "with_data", "review_plants", "no_data_plants", "not_quantified_plants"):
        out[name] = out[name].astype(int)
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# Targets stated by a table (Shapotou: PM −6.5 %, NOx −8 %, SO2 −2.2 % by 2027 against 2024)


@dataclass(frozen=True)
class Targets:
    """A table's reduction targets: percent of the base-year emissions of its scope, by a year."""

    policy: str
    ref: str
    base_year: int
    target_year: int
    reduction_pct: dict[str, float]
    scope: dict


def load_targets(policy: Policy) -> Targets | None:
    """The ``targets`` block of a table, validated; None when it has none.

    The block::

        targets:
          ref: 002_44512477227ed7b1.txt ch.2 §二 表2-1
          base_year: 2024
          target_year: 2027
          scope: {county: [沙坡头区]}
          reduction_pct: {pm: 6.5, nox: 8, so2: 2.2}
    """
    raw = policy.raw.get("targets")
    if raw is None:
        return None
    where = f"{policy.path}: targets"
    if not isinstance(raw, dict):
        raise PolicyTableError(
            f"{where} should be a mapping with ref, base_year, target_year, "
            f"reduction_pct; got {type(raw).__name__}"
        )
    problems = []
    unknown = set(raw) - {"ref", "base_year", "target_year", "reduction_pct", "scope"}
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    if not isinstance(raw.get("ref"), str) or not raw.get("ref"):
        problems.append("'ref' (the clause stating the targets) is missing")
    years = {}
    for key in ("base_year", "target_year"):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1900 < value < 2200:
            problems.append(f"{key} should be a year such as 2024, got {value!r}")
        years[key] = value
    if not problems and years["target_year"] <= years["base_year"]:
        problems.append(
            f"target_year {years['target_year']} is not after base_year {years['base_year']}"
        )
    pct = raw.get("reduction_pct")
    if not isinstance(pct, dict) or not pct:
        problems.append(
            f"reduction_pct should map pollutants ({', '.join(POLLUTANTS)}) to "
            f"percents, got {pct!r}"
        )
        pct = {}
    for pollutant, value in pct.items():
        if pollutant not in POLLUTANTS:
            problems.append(f"reduction_pct.{pollutant}: not one of {', '.join(POLLUTANTS)}")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 100:
            problems.append(
                f"reduction_pct.{pollutant} should be a percent above 0 and at most "
                f"100, got {value!r}"
            )
    scope = raw.get("scope") or {}
    if not isinstance(scope, dict):
        problems.append(f"scope should map columns to values, got {scope!r}")
    if problems:
        raise PolicyTableError(f"{where}: " + "; ".join(problems))
    return Targets(
        policy=policy.id,
        ref=raw["ref"],
        base_year=raw["base_year"],
        target_year=raw["target_year"],
        reduction_pct={str(k): float(v) for k, v in pct.items()},
        scope=dict(scope),
    )


def _in_scope(enterprises: pd.DataFrame, scope: dict) -> np.ndarray:
    mask = np.ones(len(enterprises), dtype=bool)
    for column, wanted in scope.items():
        allowed = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
        values = enterprises[column] if column in enterprises else pd.Series([None] * len(mask))
        mask &= values.astype(str).str.strip().isin(allowed).to_numpy()
    return mask


def target_check(
    table: pd.DataFrame, enterprises: pd.DataFrame, policies: list[Policy]
) -> pd.DataFrame:
    """Required tonnes against the tonnes the decided measures avoid, per table and pollutant.

    The base is the annual emissions in the inventory of the plants in the target's scope (the
    inventory stands for the base year); required = base × percent. Avoided = the counted
    yearly (permanent, retrofit) tonnes of those plants with a deadline by the end of the target
    year; measures without a date in the text are shown apart (``undated_t``) and not added.
    Seasonal tonnes do not enter an annual target. ``met`` is None while plants of the scope
    lack an annual figure.
    """
    rows = []
    for policy in policies:
        targets = load_targets(policy)
        if targets is None:
            continue
        scoped = pd.DataFrame(enterprises.drop(columns="geometry", errors="ignore"))
        left_out, _ = excluded(  # the table's own exclusions (002: 中卫工业园区)
            scoped.reset_index(drop=True), policy, set()
        )
        scoped = scoped[_in_scope(scoped, targets.scope) & ~left_out]
        ids = set(scoped["id"])
        end = f"{targets.target_year}-12-31"
        mine = table[table["id"].isin(ids) & table["counted"] & (table["period"] == "year")]
        for pollutant, pct in targets.reduction_pct.items():
            column = EMISSION_COLUMNS[pollutant]
            annual = (
                pd.to_numeric(scoped[column], errors="coerce")
                if column in scoped
                else pd.Series(np.nan, index=scoped.index)
            )
            rows_p = mine[mine["pollutant"] == pollutant]
            dated = rows_p["from_date"].notna()
            by_end = rows_p[dated & (rows_p["from_date"].astype(str) <= end)]
            base = float(annual.sum())
            avoided = float(by_end["avoided_t"].sum())
            no_data = int(annual.isna().sum())
            required = base * pct / 100
            rows.append(
                {
                    "policy": policy.id,
                    "title": policy.title,
                    "ref": targets.ref,
                    "pollutant": pollutant,
                    "base_year": targets.base_year,
                    "target_year": targets.target_year,
                    "reduction_pct": pct,
                    "plants": len(scoped),
                    "no_data_plants": no_data,
                    "base_t": base,
                    "required_t": required,
                    "avoided_t": avoided,
                    "undated_t": float(rows_p.loc[~dated, "avoided_t"].sum()),
                    "gap_t": required - avoided,
                    "met": None if no_data or not len(scoped) else bool(avoided >= required),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# For run.json and the map


def _tonnes(value: float) -> float:
    return round(float(value), 3)


def run_summary(table: pd.DataFrame, targets: pd.DataFrame | None = None) -> dict:
    """The ``emissions`` entry of ``run.json``: per pollutant, totals and plants lacking data."""
    return summary_entry(county_summary(table), int(table["id"].nunique()), targets)


def summary_entry(summary: pd.DataFrame, plants: int, targets: pd.DataFrame | None = None) -> dict:
    """:func:`run_summary` from a :func:`county_summary` (e.g. added up over partitions by
    :func:`combine_county_summaries`) and the number of plants with a decision."""
    pollutants = {}
    for pollutant in POLLUTANTS:
        mine = summary[summary["pollutant"] == pollutant]
        pollutants[pollutant] = {
            "plants_with_data": int(mine["with_data"].sum()),
            "annual_t": _tonnes(mine["annual_t"].sum()),
            "avoided_season_t": _tonnes(mine["avoided_season_t"].sum()),
            "avoided_year_t": _tonnes(mine["avoided_year_t"].sum()),
            "review_t": _tonnes(mine["review_t"].sum()),
            "no_data_plants": int(mine["no_data_plants"].sum()),
            "not_quantified_plants": int(mine["not_quantified_plants"].sum()),
        }
    out = {"plants": int(plants), "by_pollutant": pollutants}
    if targets is not None and len(targets):
        out["targets"] = [
            {k: (_tonnes(v) if k.endswith("_t") else v) for k, v in row.items()}
            for row in targets.to_dict("records")
        ]
    return out


def combine_county_summaries(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The :func:`county_summary` of a table cut into parts with no plant in two parts (the
    Dask engine's partitions): every column is a sum or a count of distinct plants, so the
    parts add up."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return county_summary(pd.DataFrame(columns=TABLE_COLUMNS))
    keys = ["county", "pollutant"]
    return pd.concat(frames).groupby(keys, sort=True).sum().reset_index()


_TARGET_KEYS = ["policy", "title", "ref", "pollutant", "base_year", "target_year", "reduction_pct"]


def combine_target_checks(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The :func:`target_check` of a table cut into parts with no plant in two parts: plants,
    base and avoided tonnes add up; required, gap and ``met`` follow from the sums."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return pd.DataFrame()
    sums = ["plants", "no_data_plants", "base_t", "avoided_t", "undated_t"]
    out = pd.concat(frames).groupby(_TARGET_KEYS, sort=False)[sums].sum().reset_index()
    out["required_t"] = out["base_t"] * out["reduction_pct"] / 100
    out["gap_t"] = out["required_t"] - out["avoided_t"]
    out["met"] = [
        None if no_data or not plants else bool(avoided >= required)
        for no_data, plants, avoided, required in zip(
            out["no_data_plants"], out["plants"], out["avoided_t"], out["required_t"], strict=True
        )
    ]
    columns = [*_TARGET_KEYS[:7], "plants", "no_data_plants", "base_t", "required_t"]
    columns += ["avoided_t", "undated_t", "gap_t", "met"]
    return out[columns].astype({"plants": int, "no_data_plants": int})


def county_panel(table: pd.DataFrame) -> dict[str, dict]:
    """Per county, for a map panel: Chinese pollutant names → tonnes avoided (season, year),
    under review, and the number of plants lacking data."""
    summary = county_summary(table)
    summary = summary.sort_values(
        "pollutant", key=lambda p: p.map(POLLUTANTS.index), kind="stable"
    ).sort_values("county", kind="stable")
    panel: dict[str, dict] = {}
    for row in summary.to_dict("records"):
        county = panel.setdefault(str(row["county"]), {})
        county[POLLUTANT_ZH[row["pollutant"]]] = {
            "采暖季减排量（吨）": _tonnes(row["avoided_season_t"]),
            "年减排量（吨）": _tonnes(row["avoided_year_t"]),
            "待研判排放量（吨）": _tonnes(row["review_t"]),
            "缺少排放量数据（家）": int(row["no_data_plants"]),
            "有排放量数据（家）": int(row["with_data"]),
        }
    return panel

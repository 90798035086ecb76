"""The Dask engine's outputs for very large runs: enterprises (GeoParquet), decisions and the
emission table (Parquet), one file per input partition, written by the workers
(:func:`write_partitioned`); no worker holds more than a few partitions."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dask
import geopandas as gpd
import pandas as pd

from spatial.dask_partitions import (
    _DECISION_PARQUET_DTYPES,
    _STR,
    SEQ,
    _after_partition,
    _conform,
    _Context,
    _current_client,
    _join_partition,
)
from spatial.emissions import (
    combine_county_summaries,
    combine_target_checks,
    county_summary,
    emission_table,
    summary_entry,
    target_check,
)
from spatial.policy import Policy

if TYPE_CHECKING:
    from spatial.scale import Screening

# --------------------------------------------------------------------------------------------
# Outputs for very large runs


def _for_parquet(part: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """The enterprises in the output CRS, with text in every object column (ids, zone columns,
    the nearest id of a layer not given), so that every file has the same schema."""
    part = part.to_crs(crs)
    objects = {c: _STR for c, d in part.dtypes.items() if pd.api.types.is_object_dtype(d)}
    return _conform(part, None, objects)


def _typed_decisions(part: pd.DataFrame) -> pd.DataFrame:
    """Decisions with one Parquet type per column (object columns of None/float become float,
    text columns text), so every file of the dataset has the same schema."""
    out = part.drop(columns=SEQ, errors="ignore").copy()
    for column in ("curtail_pct", "stop_days"):
        out[column] = pd.to_numeric(out[column], errors="coerce")
    return _conform(out, None, _DECISION_PARQUET_DTYPES)


def _write_facts(facts: pd.DataFrame, path: Path) -> int:
    facts.to_parquet(path)
    return len(facts)


def _emission_parts(
    screened: pd.DataFrame, decisions: pd.DataFrame, policies: list[Policy]
) -> tuple[pd.DataFrame, dict]:
    """The emission table of one input partition (as the local engine's, for its plants) and
    the pieces of the run's summary that add up over partitions."""
    table = emission_table(screened, decisions, policies)
    pieces = {
        "county_summary": county_summary(table),
        "plants": int(table["id"].nunique()),
        "targets": target_check(table, screened, policies),
    }
    return table, pieces


def _screen_and_write(
    enterprises: pd.DataFrame,
    facts_path: Path,
    context: _Context,
    metas: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    output_crs: str,
    targets: tuple[Path, Path, Path],
) -> dict:
    """One input partition, start to finish: its facts (from disk), zones, policies, summary;
    its enterprises, decisions and emission table written at once, so nothing of it stays in
    memory after the task."""
    joined_meta, screened_meta, decisions_meta = metas
    facts = pd.read_parquet(facts_path)
    joined = _join_partition(enterprises, facts, joined_meta)
    screened, decisions = _after_partition(joined, context, screened_meta, decisions_meta)
    emissions, pieces = _emission_parts(screened, decisions.drop(columns=SEQ), context.policies)
    _for_parquet(screened, output_crs).reset_index(drop=True).to_parquet(targets[0])
    _typed_decisions(decisions).to_parquet(targets[1], index=False)
    _typed_emissions(emissions).to_parquet(targets[2], index=False)
    return {
        "enterprises": len(screened),
        "decisions": len(decisions),
        "actions": screened["action"].value_counts().to_dict(),
        **pieces,
    }


def _typed_emissions(table: pd.DataFrame) -> pd.DataFrame:
    """The emission table with one Parquet type per column in every file (text columns as
    text even where a partition has only blanks)."""
    dtypes = {c: _STR for c in ("id", "policy", "action", "county", "pollutant", "period")}
    dtypes.update({c: _STR for c in ("from_date", "status", "rule_ref", "basis_zh")})
    dtypes.update({"annual_t": "float64", "avoided_t": "float64", "days": "float64"})
    dtypes["counted"] = "bool"
    return _conform(table.reset_index(drop=True), None, dtypes)


@dataclass
class Written:
    """What :func:`write_partitioned` wrote: the folders by role and the counts."""

    paths: dict[str, Path]
    enterprises: int
    decisions: int
    actions: pd.Series
    emission_summary: dict = field(default_factory=dict)
    """The ``emissions`` entry of ``run.json`` (:func:`spatial.emissions.run_summary`),
    added up over the partitions."""


def write_partitioned(
    screening: Screening,
    out: str | Path,
    *,
    output_crs: str,
    client=None,
    work: str | Path | None = None,
) -> Written:
    """Write the enterprises (GeoParquet), decisions and emission table (Parquet), one file per
    input partition.

    Two phases keep every worker's memory to a few partitions whatever the input size:

    1. the points are measured on their spatial partitions and the fact columns, shuffled back
       to the input partitions, written to ``work`` (default ``out/.dask-work/facts``; deleted
       at the end);
    2. each input partition is then read, joined with its facts, zoned, decided and summarised
       and its three outputs written, in one task.

    Output: ``enterprises.parquet/part.NNNNN.parquet`` (in input order, in ``output_crs``),
    ``decisions.parquet/part.NNNNN.parquet`` (per input partition its decisions, policy by
    policy, in enterprise order) and ``emissions.parquet/part.NNNNN.parquet`` (the emission
    table of :func:`spatial.emissions.emission_table`, per input partition).
    """
    out = Path(out)
    paths = {
        "enterprises": out / "enterprises.parquet",
        "decisions": out / "decisions.parquet",
        "emissions": out / "emissions.parquet",
    }
    work = Path(work) if work is not None else out / ".dask-work" / "facts"
    for folder in (*paths.values(), work):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    client = client if client is not None else _current_client()

    def compute(tasks: list) -> list:
        with dask.config.set({"dataframe.convert-string": False}):
            if client is not None:
                return client.compute(tasks, sync=True)
            return list(dask.compute(*tasks))

    try:
        facts_paths = [work / f"part.{i:05d}.parquet" for i in range(screening.facts.npartitions)]
        compute(
            [
                dask.delayed(_write_facts, pure=False)(part, path)
                for part, path in zip(screening.facts.to_delayed(), facts_paths, strict=True)
            ]
        )
        names = [f"part.{i:05d}.parquet" for i in range(screening.wide.npartitions)]
        metas = (screening.joined_meta, screening.screened_meta, screening.decisions_meta)
        stats = compute(
            [
                dask.delayed(_screen_and_write, pure=False)(
                    part,
                    facts_path,
                    screening.context,
                    metas,
                    output_crs,
                    tuple(paths[role] / name for role in ("enterprises", "decisions", "emissions")),
                )
                for part, facts_path, name in zip(
                    screening.wide.to_delayed(), facts_paths, names, strict=True
                )
            ]
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    actions: Counter = Counter()
    for s in stats:
        actions.update(s["actions"])
    counts = pd.Series(actions, dtype="int64").sort_values(ascending=False, kind="stable")
    summary = combine_county_summaries([s["county_summary"] for s in stats])
    targets = combine_target_checks([s["targets"] for s in stats])
    return Written(
        paths,
        sum(s["enterprises"] for s in stats),
        sum(s["decisions"] for s in stats),
        counts[counts > 0],
        summary_entry(summary, sum(s["plants"] for s in stats), targets),
    )

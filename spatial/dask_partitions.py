"""What runs on each partition of the Dask engine (:mod:`spatial.scale`), and what every partition
must agree on: the index of the enterprises inside the engine (:data:`SEQ`), the columns and
dtypes each partition returns (explicit metas, the local engine's dtypes), and the context
broadcast to every worker. The steps themselves are the local engine's
(:func:`spatial.facts.add_facts`, :func:`spatial.pipeline.after_facts`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.decisions import DECISION_COLUMNS
from spatial.facts import add_facts
from spatial.geodesic import WGS84
from spatial.pipeline import after_facts
from spatial.policy import FactSpec, Policy

ZONES = "dingxiang_zones"
SEQ = "_seq"
"""Index of the enterprises inside the engine: their position in the input (0, 1, ...), or the
inventory's ``row`` for partitioned GeoParquet input."""
_STR = "str"
_SUMMARY_DTYPES = {
    "action": object,  # as decisions.summarize gives it
    "curtail_pct": "float64",
    "stop_days": "Int64",
    "deadline": _STR,
    "rule_ref": _STR,
    "reason_zh": _STR,
    "decision_count": "int64",
    "none_kind": _STR,
}
_DECISION_TEXT = {"id", "policy", "rule_id", "action", "rule_ref", "reason_zh", "flags", "flags_zh"}
_DECISION_DTYPES = {c: (_STR if c in _DECISION_TEXT else object) for c in DECISION_COLUMNS}
# Decisions as written to Parquet: one type per column in every file.
_DECISION_PARQUET_DTYPES = {
    **_DECISION_DTYPES,
    "curtail_pct": "float64",
    "stop_days": "Int64",
    "deadline": _STR,
    "deadline_status": _STR,
    "window_start": _STR,
    "window_end": _STR,
}


def _current_client():
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def _threads(client) -> int:
    if client is None:
        return max(1, os.cpu_count() or 1)
    return max(1, sum(client.nthreads().values()))


# --------------------------------------------------------------------------------------------
# Explicit meta: the columns and dtypes every partition returns


@dataclass(frozen=True)
class _Context:
    """What every partition needs, broadcast once to each worker."""

    layers: dict[str, gpd.GeoDataFrame | None]
    specs: dict[str, FactSpec]
    policies: list[Policy]
    as_of: dt.date


def _context_layers(
    layers: Mapping[str, gpd.GeoDataFrame | None], specs: Mapping[str, FactSpec]
) -> dict[str, gpd.GeoDataFrame | None]:
    """The layers the partitions use: the facts' layers in WGS84 (as
    :func:`~spatial.facts.measure_fact` takes them) and the Dingxiang zones."""
    needed = {spec.layer for spec in specs.values()}
    out = {
        name: (None if layer is None else layer.to_crs(WGS84))
        for name, layer in layers.items()
        if name in needed
    }
    if layers.get(ZONES) is not None:
        out[ZONES] = layers[ZONES]
    return out


def fact_meta(
    layers: Mapping[str, gpd.GeoDataFrame | None], specs: Mapping[str, FactSpec]
) -> pd.DataFrame:
    """The empty frame of the fact columns (``_seq`` first), with the local engine's dtypes.

    A distance is float64, a fact nullable boolean, a nearest id text when the layer has
    features to measure to (else every id is None: object).
    """
    columns: dict[str, pd.Series] = {SEQ: pd.Series(dtype="int64")}
    for spec in specs.values():
        layer = layers.get(spec.layer)
        found = layer is not None and bool(np.asarray(spec.select(layer)).any())
        columns[spec.distance_column] = pd.Series(dtype="float64")
        columns[spec.nearest_column] = pd.Series(dtype=_STR if found else object)
        columns[spec.name] = pd.Series(dtype="boolean")
        if spec.name_column:  # the nearest feature's name (facts._with_names)
            columns[spec.name_column] = pd.Series(dtype=_STR if found else object)
        if spec.own_column:  # the enterprise is that feature itself (facts._with_own)
            columns[spec.own_column] = pd.Series(dtype="boolean")
    return pd.DataFrame(columns)


def decision_meta() -> pd.DataFrame:
    """The empty frame of the decisions (and ``_seq``), with the local engine's dtypes."""
    columns = {c: pd.Series(dtype=d) for c, d in _DECISION_DTYPES.items()}
    columns[SEQ] = pd.Series(dtype="int64")
    return pd.DataFrame(columns)


def _joined_meta(enterprises_meta: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    out = enterprises_meta.copy()
    for column in facts.columns.drop(SEQ):
        out[column] = facts[column].astype(facts[column].dtype)
    return out


def _screened_meta(joined: pd.DataFrame, context: _Context) -> pd.DataFrame:
    """The columns :func:`after_facts` gives (run on no rows), with the local engine's dtypes."""
    screened, _ = after_facts(joined, context.layers, context.policies, context.as_of)
    return _conform(screened, None, _SUMMARY_DTYPES)


def _conform(
    frame: pd.DataFrame, meta: pd.DataFrame | None, dtypes: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """``frame`` with the columns and dtypes of ``meta`` (or just the given ``dtypes``).

    A partition where, say, no enterprise has a deadline would otherwise give an object column
    where the others give text; every partition has to match the meta.
    """
    wanted = dict(meta.dtypes.items()) if meta is not None else {}
    wanted.update(dtypes or {})
    out = frame if meta is None else frame[list(meta.columns)]
    changes = {
        c: d
        for c, d in wanted.items()
        if c in out and not isinstance(out[c].dtype, gpd.array.GeometryDtype) and out[c].dtype != d
    }
    if changes:
        out = out.copy()
        for column, dtype in changes.items():  # GeoDataFrame.astype(dict) trips on pandas 3.1
            out[column] = out[column].astype(dtype)
    return out


# --------------------------------------------------------------------------------------------
# What runs on each partition


def _facts_partition(points: pd.DataFrame, context: _Context, meta: pd.DataFrame) -> pd.DataFrame:
    """Facts of the points of one spatial partition: ``_seq`` + the fact columns."""
    if not len(points):
        return meta.iloc[:0].copy()
    geometry = gpd.GeoSeries(points.geometry.to_numpy(), crs=WGS84)
    carried = {c: points[c].to_numpy() for c in ("id", "name") if c in points}
    located = gpd.GeoDataFrame(carried, geometry=geometry)
    facts = add_facts(located, context.layers, context.specs).drop(columns=list(carried))
    out = pd.DataFrame(facts.drop(columns=facts.geometry.name))
    out.insert(0, SEQ, points[SEQ].to_numpy())
    return _conform(out, meta)


def _join_partition(
    enterprises: pd.DataFrame, facts: pd.DataFrame, meta: pd.DataFrame
) -> pd.DataFrame:
    """The input partition with its fact columns, set as :func:`add_facts` sets them."""
    if len(enterprises) != len(facts) or not enterprises.index.equals(facts.index):
        raise RuntimeError(
            "the facts came back for other enterprises than the partition holds "
            f"({len(facts)} for {len(enterprises)}); the input index must be unique"
        )
    out = enterprises.copy()
    for column in facts.columns:
        out[column] = facts[column].array
    return _conform(out, meta)


def _after_partition(
    enterprises: gpd.GeoDataFrame,
    context: _Context,
    screened_meta: pd.DataFrame,
    decisions_meta: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Zones, decisions and summary of one input partition; decisions carry their
    enterprise's ``_seq``."""
    screened, decisions = after_facts(enterprises, context.layers, context.policies, context.as_of)
    seq = pd.Series(enterprises.index.to_numpy(), index=enterprises["id"].to_numpy())
    decisions = decisions.reset_index(drop=True)
    decisions[SEQ] = decisions["id"].map(seq).to_numpy(dtype="int64")
    return _conform(screened, screened_meta), _conform(decisions, decisions_meta)

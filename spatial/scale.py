"""The same screening on a Dask cluster: a national inventory, partitioned spatially.

The local engine's steps (:func:`spatial.facts.add_facts`, Dingxiang zone assignment,
:func:`spatial.decisions.evaluate`, :func:`spatial.decisions.summarize`: what
:func:`spatial.pipeline.screen_local` does) run unchanged on every partition; this module only
decides what each partition sees and puts the pieces back in the input order.

How it works
------------
1. **Input partitions.** The enterprises are numbered in input order (``_seq``; the inventory's
   ``row`` for a partitioned GeoParquet input) and kept in their input partitions.
2. **Spatial partitions.** Only the points (``_seq`` + geometry) are shuffled along a Hilbert
   curve (dask-geopandas ``hilbert_distance`` + ``set_index``, as ``spatial_shuffle`` does, with
   the total bounds computed once), so each partition covers a compact area and the measurement
   builds its candidate index for one to three 6° zones instead of every zone of China.
3. **Facts.** :func:`~spatial.facts.add_facts` runs per spatial partition against the context
   layers, which are broadcast once to every worker (``client.scatter(..., broadcast=True)``):
   every partition sees every context feature. The search for a point's nearest feature depends
   only on that point and the whole layer (see :mod:`spatial.measure`: candidates per point, ties
   by layer order), so the distances, nearest ids and facts are the local engine's, bit for bit.
4. **Decisions.** The fact columns are shuffled back to the input partitions (by ``_seq``), and
   :func:`after_facts` (zones, :func:`~spatial.decisions.evaluate`,
   :func:`~spatial.decisions.summarize`) runs once per input partition: every step reads one
   enterprise's own row, so partitions are independent. Only the narrow frames (points out,
   fact columns back) ever cross the network; the enterprises' other columns stay where they
   were read.
5. **Order.** Enterprises come back in input order with the input's index; decisions in the local
   engine's order (policy, then enterprise, then rule group).

Very large runs read a directory of (Geo)Parquet files (:func:`read_partitioned_inventory`,
validated file by file with the inventory's own rules) and write partitioned GeoParquet
(:func:`write_partitioned`: the narrow facts to disk first, then one task per input partition
that screens it and writes both its outputs), so no worker holds more than a few partitions,
whatever the size of the inventory.

Examples
--------
>>> from spatial.scale import dask_client, screen_partitioned  # doctest: +SKIP
>>> with dask_client() as client:  # doctest: +SKIP
...     enterprises, decisions = screen_partitioned(gdf, layers, specs, policies, client=client)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dask
import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely
from dask.utils import natural_sort_key

from spatial import coords
from spatial.decisions import DECISION_COLUMNS
from spatial.emissions import (
    combine_county_summaries,
    combine_target_checks,
    county_summary,
    emission_table,
    summary_entry,
    target_check,
)
from spatial.errors import CoordinateSystemError, InputFileError
from spatial.facts import add_facts
from spatial.geodesic import WGS84
from spatial.inventory import Inventory, map_headers, validate
from spatial.pipeline import after_facts
from spatial.policy import FactSpec, Policy

SEQ = "_seq"
"""Index of the enterprises inside the engine: their position in the input (0, 1, ...), or the
inventory's ``row`` for partitioned GeoParquet input."""
PARTITION_ROWS = 200_000
"""Enterprises per partition by default: big enough that the per-partition set-up (densifying and
indexing the context layers) is small beside the measuring, small enough to stay well under a
gigabyte per task."""
PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}
ZONES = "dingxiang_zones"

Progress = Callable[[int, int, str], None]

# Columns whose dtype the local engine fixes (everything else keeps the input's dtype).
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


# --------------------------------------------------------------------------------------------
# The cluster


@contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
    memory_limit: str | int = "auto",
) -> Iterator:
    """A :class:`distributed.Client`: on the cluster at ``scheduler``, or on a local cluster.

    Parameters
    ----------
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``). Its workers need this package
        installed (the same version) and must see the input and output folders. ``None`` starts a
        :class:`distributed.LocalCluster` for the duration of the block.
    n_workers, threads_per_worker, processes, memory_limit
        The local cluster: by default one single-threaded worker process per CPU core sharing
        the machine's memory (the measurement runs its own threads inside each task).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    for name in ("distributed.shuffle", "distributed.shuffle._scheduler_plugin"):
        logging.getLogger(name).setLevel(logging.ERROR)
    workers = n_workers or max(1, os.cpu_count() or 1)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            memory_limit=memory_limit,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


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


# --------------------------------------------------------------------------------------------
# The engine


def _numbered(
    enterprises: gpd.GeoDataFrame | dask_geopandas.GeoDataFrame, npartitions: int
) -> dask_geopandas.GeoDataFrame:
    """The enterprises as a dask GeoDataFrame indexed by their input position, divisions known."""
    if isinstance(enterprises, gpd.GeoDataFrame):
        numbered = enterprises.set_axis(pd.RangeIndex(len(enterprises), name=SEQ))
        return dask_geopandas.from_geopandas(numbered, npartitions=npartitions, sort=True)
    if enterprises.known_divisions:
        index = enterprises.index
        if index.name is None or index.name != SEQ:
            enterprises = enterprises.map_partitions(
                lambda part: part.rename_axis(SEQ), meta=enterprises._meta.rename_axis(SEQ)
            )
        return enterprises
    lengths = enterprises.map_partitions(len).compute()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).tolist()
    parts = enterprises.to_delayed()
    renumbered = [
        dask.delayed(_renumber)(part, int(offset), int(n))
        for part, offset, n in zip(parts, offsets, lengths, strict=True)
    ]
    divisions = [*offsets, int(sum(lengths)) - 1] if sum(lengths) else None
    meta = enterprises._meta.set_axis(pd.RangeIndex(0, name=SEQ))
    return dd.from_delayed(renumbered, meta=meta, divisions=divisions, verify_meta=False)


def _renumber(part: pd.DataFrame, offset: int, n: int) -> pd.DataFrame:
    return part.set_axis(pd.RangeIndex(offset, offset + n, name=SEQ))


def _check_wgs84(crs) -> None:
    if crs is None:
        return
    from pyproj import CRS

    if not CRS.from_user_input(crs).equals(CRS.from_user_input(WGS84)):
        raise CoordinateSystemError(
            f"the enterprises should be WGS84 lon/lat (EPSG:4326), as load_enterprises gives "
            f"them; got {crs}. Convert them with .to_crs('EPSG:4326') first"
        )


@dataclass
class Screening:
    """The lazy result of :func:`screen_dask`: dask frames, nothing computed yet.

    Attributes
    ----------
    enterprises
        The enterprises in their input partitions and order, with the fact and summary columns;
        indexed by ``_seq``.
    decisions
        Per input partition, its decisions in the local engine's order, with ``_seq`` (the
        enterprise's position) so the global order can be restored.
    """

    enterprises: dask_geopandas.GeoDataFrame
    decisions: dd.DataFrame
    policy_order: dict[str, int] = field(default_factory=dict)
    # the pieces :func:`write_partitioned` runs in two bounded phases
    wide: dask_geopandas.GeoDataFrame | None = None
    facts: dd.DataFrame | None = None
    context: object = None
    joined_meta: pd.DataFrame | None = None
    screened_meta: pd.DataFrame | None = None
    decisions_meta: pd.DataFrame | None = None


def screen_dask(
    enterprises: gpd.GeoDataFrame | dask_geopandas.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    specs: Mapping[str, FactSpec],
    policies: list[Policy],
    *,
    as_of: dt.date | None = None,
    client=None,
    npartitions: int | None = None,
) -> Screening:
    """Build the dask graph of a screening (see the module docstring); compute nothing heavy.

    The Hilbert partitioning computes the points' total bounds and distance quantiles (a pass
    over the points only).
    """
    with dask.config.set({"dataframe.convert-string": False}):
        return _screen_dask(enterprises, layers, specs, policies, as_of, client, npartitions)


def _screen_dask(enterprises, layers, specs, policies, as_of, client, npartitions) -> Screening:
    client = client if client is not None else _current_client()
    _check_wgs84(enterprises.crs)
    threads = _threads(client)
    if isinstance(enterprises, gpd.GeoDataFrame):
        n = len(enterprises)
        parts = npartitions or max(threads, -(-n // PARTITION_ROWS))
        parts = max(1, min(parts, n))
        wide = _numbered(enterprises, parts)
    else:
        wide = _numbered(enterprises, 0)
        parts = npartitions or wide.npartitions
    specs = dict(specs)
    context = _Context(
        _context_layers(layers, specs), specs, list(policies), as_of or dt.date.today()
    )
    facts_meta = fact_meta(context.layers, specs)
    joined_meta = _joined_meta(wide._meta, facts_meta)
    screened_meta = _screened_meta(joined_meta, context)
    d_meta = decision_meta()
    shared = client.scatter(context, broadcast=True, hash=False) if client else context

    # points only (with id and name where a fact tells a feature's own units by them,
    # facts._with_own), along a Hilbert curve: compact spatial partitions for the measurement
    carried = [c for c in ("id", "name") if c in wide and any(s.own_column for s in specs.values())]
    points = wide[[*carried, wide.geometry.name]].reset_index()
    spatial = _spatial_shuffle(points, parts)
    facts = spatial.map_partitions(_facts_partition, shared, facts_meta, meta=facts_meta)
    # a barrier: the back-shuffle reads ``_seq`` and the columns from the same computed
    # partition (else the expression optimiser measures every partition twice)
    facts = dd.from_delayed(facts.to_delayed(), meta=facts_meta, verify_meta=False)
    # the fact columns back to the input partitions (same divisions: a partition-wise join)
    facts = facts.set_index(SEQ, divisions=wide.divisions)
    joined = dd.map_partitions(_join_partition, wide, facts, joined_meta, meta=joined_meta)
    # zones, policies and summary per input partition: one call, two outputs
    after = [
        dask.delayed(_after_partition, nout=2, pure=True)(part, shared, screened_meta, d_meta)
        for part in joined.to_delayed()
    ]
    screened = dd.from_delayed(
        [a[0] for a in after], meta=screened_meta, divisions=wide.divisions, verify_meta=False
    )
    decisions = dd.from_delayed([a[1] for a in after], meta=d_meta, verify_meta=False)
    return Screening(
        screened,
        decisions,
        {p.id: i for i, p in enumerate(policies)},
        wide=wide,
        facts=facts,
        context=shared,
        joined_meta=joined_meta,
        screened_meta=screened_meta,
        decisions_meta=d_meta,
    )


def _spatial_shuffle(points: dask_geopandas.GeoDataFrame, parts: int):
    """The points along a Hilbert curve (level 16) in ``parts`` partitions of about equal size.

    What :meth:`dask_geopandas.GeoDataFrame.spatial_shuffle` does, with the total bounds computed
    once (a pass over the points) instead of again inside every later graph.
    """
    bounds = np.asarray(points.total_bounds.compute(), dtype=float)
    distance = points.hilbert_distance(total_bounds=bounds, level=16)
    return points.set_index(distance, sorted=False, npartitions=parts)


def restore_decision_order(
    decisions: pd.DataFrame, policy_order: Mapping[str, int]
) -> pd.DataFrame:
    """Decisions gathered from the partitions, in the local engine's order (policy, then
    enterprise, then rule group) and without ``_seq``."""
    rank = decisions["policy"].map(policy_order).to_numpy()
    order = np.lexsort((decisions[SEQ].to_numpy(), rank))  # stable: groups keep their order
    return decisions.iloc[order].drop(columns=SEQ).reset_index(drop=True)


def screen_partitioned(
    enterprises: gpd.GeoDataFrame | dask_geopandas.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame | None],
    specs: Mapping[str, FactSpec],
    policies: list[Policy],
    *,
    as_of: dt.date | None = None,
    client=None,
    npartitions: int | None = None,
) -> tuple[gpd.GeoDataFrame | dask_geopandas.GeoDataFrame, pd.DataFrame | dd.DataFrame]:
    """The local engine's screening (facts, zones, decisions, summary), partitioned on Dask.

    Parameters
    ----------
    enterprises
        Accepted enterprises in WGS84 (:attr:`spatial.inventory.Inventory.enterprises`), in
        memory or as a dask GeoDataFrame (e.g. :func:`read_partitioned_inventory`), with a unique
        index.
    layers
        Context layers by name, as the local engine takes them; broadcast to every worker.
    specs, policies
        The fact specifications and the policy tables (:func:`spatial.policy.fact_specs`).
    as_of
        The date zone status is evaluated on (default today), as ``RunConfig.as_of``.
    client
        A :class:`distributed.Client`; default: the current one, else dask's local threads.
    npartitions
        Spatial partitions (and, for an in-memory frame, the partitions it is cut into).
        Default: one per :data:`PARTITION_ROWS` enterprises, at least one per worker thread.

    Returns
    -------
    enterprises, decisions
        For an in-memory input: what :func:`add_facts` then :func:`after_facts` (zones,
        :func:`evaluate`, :func:`summarize`) give, computed: same index, row order, columns and
        values (distances to the bit). For a dask input: lazy dask frames, the enterprises in
        their input partitions and order indexed by ``_seq``, the decisions per input partition
        (policy, then enterprise order inside each); write them with ``to_parquet``.
    """
    client = client if client is not None else _current_client()
    lazy = screen_dask(
        enterprises, layers, specs, policies, as_of=as_of, client=client, npartitions=npartitions
    )
    if not isinstance(enterprises, gpd.GeoDataFrame):
        return lazy.enterprises, lazy.decisions.drop(columns=SEQ)
    with dask.config.set({"dataframe.convert-string": False}):
        if client is not None:
            screened, decisions = client.compute([lazy.enterprises, lazy.decisions], sync=True)
        else:
            screened, decisions = dask.compute(lazy.enterprises, lazy.decisions)
    screened = screened.sort_index(kind="stable")
    screened = gpd.GeoDataFrame(screened, geometry=enterprises.geometry.name, crs=enterprises.crs)
    screened.index = enterprises.index
    return screened, restore_decision_order(decisions, lazy.policy_order)


# --------------------------------------------------------------------------------------------
# Partitioned GeoParquet inventories


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a partitioned dataset (a folder, searched recursively) or a file, in
    natural order (``part.2`` before ``part.10``)."""
    path = Path(path)
    if path.is_file():
        return [path]
    files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES]
    return sorted(files, key=lambda p: natural_sort_key(str(p.relative_to(path))))


def is_partitioned(path: str | Path) -> bool:
    """True for a Parquet file or a folder of Parquet files (the dask engine's large input)."""
    path = Path(path)
    if path.is_dir():
        return bool(parquet_files(path))
    return path.suffix.lower() in PARQUET_SUFFIXES


def _text_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """A (Geo)Parquet partition as the inventory reads a vector layer: cells as text, point
    coordinates in ``__x__``/``__y__`` (mirrors :func:`spatial.inventory.read_table`)."""
    crs = None
    geom = None
    if isinstance(frame, gpd.GeoDataFrame):
        crs = frame.crs.to_string() if frame.crs is not None else None
        geom = frame.geometry
        frame = pd.DataFrame(frame.drop(columns=geom.name))
    text = frame.astype(object)
    text = text.where(text.notna(), "").astype(str)
    if geom is not None:
        values = geom.values
        is_point = (geom.geom_type == "Point").to_numpy() & ~geom.is_empty.to_numpy()
        text["__x__"] = np.where(is_point, shapely.get_x(values), np.nan)
        text["__y__"] = np.where(is_point, shapely.get_y(values), np.nan)
        text["__geomtype__"] = geom.geom_type.fillna("missing").astype(str).to_numpy()
    text["__overlong__"] = False
    return text.reset_index(drop=True), crs


def _read_partition(path: Path) -> tuple[pd.DataFrame, str | None]:
    try:
        metadata = pq.read_schema(path).metadata or {}
        if b"geo" in metadata:
            return _text_table(gpd.read_parquet(path))
        return _text_table(pd.read_parquet(path))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot read the Parquet file ({exc})") from None


def _coord_sys(crs: str | None, layer_crs: str | None, path: Path) -> str:
    try:
        given = crs or layer_crs
        return coords.normalize_coord_sys(given) if given else "wgs84"
    except CoordinateSystemError as exc:
        raise InputFileError(f"{path}: {exc}") from None


def _validate_file(
    path: Path, offset: int, crs: str | None, accepted: Path, rejected: Path
) -> dict:
    """Validate one partition with the inventory's rules; write its accepted and rejected rows.

    Row numbers continue across files (``offset + 1`` ...), so ``row`` is the feature number in
    the whole dataset, as for a single vector file.
    """
    frame, layer_crs = _read_partition(path)
    frame, header_map = map_headers(frame, path)
    numbers = list(range(offset + 1, offset + len(frame) + 1))
    good, bad = validate(frame, numbers, path, coord_sys=_coord_sys(crs, layer_crs, path))
    good = good.set_axis(pd.Index(good["row"].to_numpy(), name=SEQ))
    good.to_parquet(accepted)
    if len(bad):
        bad.to_parquet(rejected, index=False)
    codes: Counter = Counter()
    for value in bad["reason_code"]:
        codes.update(str(value).split(";"))
    return {
        "rows": len(frame),
        "accepted": len(good),
        "rejected": len(bad),
        "codes": codes,
        "header_map": header_map,
    }


@dataclass
class PartitionedInventory:
    """A partitioned inventory, validated file by file; the rows stay on disk.

    Has the attributes :class:`~spatial.inventory.Inventory` reports with (``source``,
    ``n_input``, ``reject_counts()``, ``blank_rows``, ``summary()``, and ``enterprises`` /
    ``rejected`` that know their length) plus the dask frames of the rows.

    Attributes
    ----------
    accepted
        The accepted enterprises as a dask GeoDataFrame indexed by ``row`` (``_seq``), one
        partition per input file, in input order.
    rejected_rows
        The rejected rows (raw values as text, ``row``, ``reason``, ``reason_code``, ``source``:
        the file).
    """

    source: Path
    files: list[Path]
    n_accepted: int
    n_rejected: int
    codes: Counter
    accepted: dask_geopandas.GeoDataFrame
    rejected_rows: dd.DataFrame | None
    header_map: dict[str, str] = field(default_factory=dict)
    blank_rows: int = 0
    encoding: str = "parquet"
    warnings: list[str] = field(default_factory=list)

    @property
    def n_input(self) -> int:
        return self.n_accepted + self.n_rejected

    @property
    def enterprises(self) -> pd.DataFrame:
        """A column-less stand-in of the accepted rows (only its length is meaningful)."""
        return pd.DataFrame(index=pd.RangeIndex(self.n_accepted))

    @property
    def rejected(self) -> pd.DataFrame:
        """A column-less stand-in of the rejected rows (only its length is meaningful)."""
        return pd.DataFrame(index=pd.RangeIndex(self.n_rejected))

    def reject_counts(self) -> Counter:
        return Counter(self.codes)

    def summary(self) -> str:
        """The inventory's closing text (:meth:`spatial.inventory.Inventory.summary`)."""
        return Inventory.summary(self)  # type: ignore[arg-type]


def _drop_rows(part: pd.DataFrame, rows: frozenset) -> pd.DataFrame:
    return part[~part.index.isin(list(rows))] if rows else part


def _duplicates_across_files(accepted_dir: Path, rejected_dir: Path) -> pd.DataFrame:
    """Ids found in more than one file: the first row number of each (a small frame)."""
    frames = [dd.read_parquet(accepted_dir, columns=["id", "row"])]
    if rejected_dir.exists() and any(rejected_dir.iterdir()):
        raw = dd.read_parquet(rejected_dir, columns=["id", "row"])
        raw = raw.assign(id=raw["id"].astype(_STR).str.strip())
        frames.append(raw[raw["id"] != ""])
    ids = dd.concat(frames)
    stats = ids.groupby("id").row.agg(["count", "min"], split_out=True)
    return stats[stats["count"] > 1].compute()


def read_partitioned_inventory(
    path: str | Path,
    work_dir: str | Path,
    *,
    crs: str | None = None,
    client=None,
) -> PartitionedInventory:
    """Validate a partitioned (Geo)Parquet inventory file by file, on the cluster.

    Each file is read and validated with the inventory's own rules
    (:func:`spatial.inventory.validate`: Chinese headers, coordinate systems, China check,
    codes, numbers) as a vector layer would be; accepted rows go to ``work_dir/accepted``,
    rejected ones to ``work_dir/rejected``, one file per input file. An id that appears in
    several files is kept at its first row and rejected elsewhere (``duplicate_id``), as in one
    file.

    Parameters
    ----------
    path
        A folder of Parquet files (GeoParquet with point geometry, or plain Parquet with
        ``lon``/``lat`` or 经度/纬度 columns), read in natural file-name order; or one file.
    work_dir
        Where the validated partitions are written (created; must be visible to every worker).
    crs
        The coordinate system of the coordinates, as for :func:`load_enterprises`; default the
        GeoParquet CRS, else WGS84.
    """
    path = Path(path)
    files = parquet_files(path)
    if not files:
        raise InputFileError(f"{path}: no Parquet files (*.parquet) found")
    work = Path(work_dir)
    accepted_dir, rejected_dir = work / "accepted", work / "rejected"
    for folder in (accepted_dir, rejected_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    lengths = [pq.read_metadata(f).num_rows for f in files]
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    tasks = [
        dask.delayed(_validate_file, pure=False)(
            f,
            offset,
            crs,
            accepted_dir / f"part.{i:06d}.parquet",
            rejected_dir / f"part.{i:06d}.parquet",
        )
        for i, (f, offset) in enumerate(zip(files, offsets, strict=True))
    ]
    client = client if client is not None else _current_client()
    stats = client.compute(tasks, sync=True) if client is not None else dask.compute(*tasks)
    codes: Counter = Counter()
    for s in stats:
        codes.update(s["codes"])
    n_accepted = sum(s["accepted"] for s in stats)
    n_rejected = sum(s["rejected"] for s in stats)
    header_map = stats[0]["header_map"] if stats else {}

    accepted = dask_geopandas.read_parquet(accepted_dir, index=SEQ, calculate_divisions=True)
    dups = _duplicates_across_files(accepted_dir, rejected_dir)
    if len(dups):
        first = dups["min"]
        later = accepted[["id", "row"]]
        later = later[later["id"].isin(list(first.index))].compute()
        later = later[later["row"].to_numpy() != first.loc[later["id"]].to_numpy()]
        if len(later):
            _write_duplicates(accepted_dir, later.index, first, rejected_dir)
            rows = frozenset(later.index.tolist())
            accepted = accepted.map_partitions(_drop_rows, rows, meta=accepted._meta)
            n_accepted -= len(rows)
            n_rejected += len(rows)
            codes.update({"duplicate_id": len(rows)})
    rejected = dd.read_parquet(rejected_dir) if any(rejected_dir.iterdir()) else None
    return PartitionedInventory(
        source=path,
        files=files,
        n_accepted=n_accepted,
        n_rejected=n_rejected,
        codes=codes,
        accepted=accepted,
        rejected_rows=rejected,
        header_map=header_map,
    )


def _write_duplicates(
    accepted_dir: Path, rows: pd.Index, first: pd.Series, rejected_dir: Path
) -> None:
    """Rows accepted in their own file whose id an earlier file already has: rejected, with the
    inventory's message."""
    frames = []
    wanted = set(rows.tolist())
    for file in sorted(accepted_dir.glob("*.parquet")):
        part = gpd.read_parquet(file)
        hit = part[part.index.isin(wanted)]
        if len(hit):
            raw = pd.DataFrame(hit.drop(columns=hit.geometry.name)).astype(object)
            raw = raw.where(raw.notna(), "").astype(str)
            raw["row"] = hit["row"].to_numpy()
            raw["reason"] = [
                f"id: duplicate of row {first.loc[i]} ('{i}')" for i in hit["id"].astype(str)
            ]
            raw["reason_code"] = "duplicate_id"
            raw["source"] = file.name
            front = ["row", "reason", "reason_code", "source"]
            frames.append(raw[front + [c for c in raw.columns if c not in front]])
    if frames:
        pd.concat(frames).reset_index(drop=True).to_parquet(
            rejected_dir / "part.duplicates.parquet", index=False
        )


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


# --------------------------------------------------------------------------------------------
# The engine of a run

WORK = ".dask-work"
"""The engine's temporary folder, inside the run's staging folder (see
:mod:`spatial.export.transaction`): on a disk every worker sees, removed before ``run.json``
is written, and removed with the staging folder when a run fails or is killed."""
OUTPUTS = ("auto", "gpkg", "parquet")
DASK_OPTIONS = ("npartitions", "output")
"""The ``engine_options`` of :func:`spatial.pipeline.run` for the Dask engine."""


class DaskEngine:
    """The engine of ``RunConfig(engine="dask")`` for :func:`spatial.pipeline.run`: the same
    steps, per partition on a Dask cluster.

    Parameters
    ----------
    config
        The run's config (``config.scheduler``: the cluster; ``config.enterprises``: a Parquet
        folder or file is validated file by file on the cluster and never loaded whole).
    client
        An existing :class:`distributed.Client`; default: one on ``config.scheduler``, or a
        local cluster started for the run.
    output
        ``"gpkg"``: the local engine's outputs exactly (``screening.gpkg``, ``lists.xlsx``,
        ``map.html``, ``run.json`` ...), the results gathered on this machine.
        ``"parquet"``: ``enterprises.parquet/`` (GeoParquet), ``decisions.parquet/``,
        ``emissions.parquet/`` and ``rejected.parquet/`` written by the workers partition by
        partition, plus ``screening.gpkg`` with the context layers and their buffers, and
        ``run.json``. ``"auto"`` (default): ``parquet`` for a Parquet inventory, else ``gpkg``.
    npartitions
        Spatial partitions (default: see :func:`screen_partitioned`).
    """

    name = "dask"

    def __init__(
        self, config, client=None, *, output: str = "auto", npartitions: int | None = None
    ) -> None:
        from spatial.errors import SpatialError

        self.partitioned = is_partitioned(config.enterprises)
        if output not in OUTPUTS:
            raise SpatialError(f"output should be one of {', '.join(OUTPUTS)}, got {output!r}")
        if output == "auto":
            output = "parquet" if self.partitioned else "gpkg"
        if output == "gpkg" and self.partitioned:
            raise SpatialError(
                f"{config.enterprises}: a Parquet inventory is never loaded whole, so its "
                "outputs are Parquet; leave out output='gpkg' (or give output='parquet')"
            )
        if npartitions is not None and (not isinstance(npartitions, int) or npartitions < 1):
            raise SpatialError(f"npartitions should be a whole number ≥ 1, got {npartitions!r}")
        self.output = output
        self.npartitions = npartitions
        self.scheduler = getattr(config, "scheduler", None)
        self.client = client
        self.work: Path | None = None
        self._stack = ExitStack()

    def __enter__(self) -> DaskEngine:
        if self.client is None:
            self.client = self._stack.enter_context(dask_client(self.scheduler))
        return self

    def __exit__(self, *exc) -> None:
        self._remove_work()
        self._stack.close()

    def _remove_work(self) -> None:
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)

    def load_inventory(self, config, folder: Path):
        """A Parquet inventory validated file by file on the cluster
        (:func:`read_partitioned_inventory`, into ``folder/.dask-work``); any other read as
        the local engine reads it."""
        self.work = Path(folder) / WORK
        if not self.partitioned:
            from spatial.pipeline import read_inventory

            return read_inventory(config)
        return read_partitioned_inventory(
            config.enterprises, self.work, crs=config.crs, client=self.client
        )

    def screen(self, inventory, layers, specs, policies, as_of):
        """The screening of :func:`screen_partitioned`: gathered (``gpkg``), or the lazy
        :class:`Screening` that :meth:`write_tables` computes partition by partition."""
        options = {"as_of": as_of, "client": self.client, "npartitions": self.npartitions}
        if self.output == "gpkg":
            return screen_partitioned(inventory.enterprises, layers, specs, policies, **options)
        enterprises = inventory.accepted if self.partitioned else inventory.enterprises
        if isinstance(enterprises, gpd.GeoDataFrame):
            enterprises = dask_geopandas.from_geopandas(
                enterprises, npartitions=max(1, -(-len(enterprises) // PARTITION_ROWS))
            )
        return screen_dask(enterprises, layers, specs, policies, **options)

    def write_tables(self, config, screened, result, folder: Path):
        """``gpkg``: the gathered tables, as the local engine keeps them. ``parquet``: the
        enterprises, decisions, emissions and rejected rows written into ``folder`` partition
        by partition (:func:`write_partitioned`); ``result`` gets their paths and counts."""
        from spatial.pipeline import table_results

        if self.output == "gpkg":
            return table_results(result, *screened)
        out = Path(folder)
        try:
            written = write_partitioned(
                screened,
                out,
                output_crs=config.output_crs,
                client=self.client,
                work=self.work / "facts",
            )
            paths = dict(written.paths)
            rejected = _rejected_rows(result.inventory)
            rejected_path = out / "rejected.parquet"
            shutil.rmtree(rejected_path, ignore_errors=True)
            if rejected is not None:
                rejected.to_parquet(rejected_path, write_index=False)
                paths["rejected"] = rejected_path
        finally:
            self._remove_work()  # before run.json lists the staged files
        result.outputs.update(paths)
        result.action_counts = written.actions
        result.n_decisions = written.decisions
        result.emission_summary = written.emission_summary
        return result


def _rejected_rows(inventory) -> dd.DataFrame | None:
    if isinstance(inventory, PartitionedInventory):
        return inventory.rejected_rows
    return dd.from_pandas(inventory.rejected, npartitions=1)


def run_dask(
    config,
    progress: Progress | None = None,
    scheduler: str | None = None,
    *,
    output: str = "auto",
    npartitions: int | None = None,
    client=None,
    warn: Callable[[str], None] | None = None,
):
    """:func:`spatial.pipeline.run` on the Dask engine: ``config`` with ``engine="dask"``
    (and ``scheduler``, when given), ``output`` and ``npartitions`` as
    :class:`DaskEngine` takes them, ``client`` an existing :class:`distributed.Client`."""
    import dataclasses

    from spatial import pipeline

    changes = {"engine": "dask", **({"scheduler": scheduler} if scheduler else {})}
    config = dataclasses.replace(config, **changes)
    options = {"output": output, "npartitions": npartitions}
    return pipeline.run(config, progress, warn, client=client, engine_options=options)


__all__ = [
    "PARTITION_ROWS",
    "DaskEngine",
    "PartitionedInventory",
    "Screening",
    "Written",
    "after_facts",
    "dask_client",
    "decision_meta",
    "fact_meta",
    "is_partitioned",
    "parquet_files",
    "read_partitioned_inventory",
    "restore_decision_order",
    "run_dask",
    "screen_dask",
    "screen_partitioned",
    "write_partitioned",
]

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
that screens it and writes its outputs), so no worker holds more than a few partitions,
whatever the size of the inventory.

Modules: this one is the engine (the cluster, the graph of a screening, :class:`DaskEngine` for
:func:`spatial.pipeline.run`); :mod:`spatial.dask_partitions` what runs on each partition and the
metas every partition agrees on; :mod:`spatial.parquet_inventory` partitioned Parquet in;
:mod:`spatial.parquet_outputs` Parquet out. Their public names are importable from here too.

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

from spatial.dask_partitions import (
    SEQ,
    _after_partition,
    _Context,
    _context_layers,
    _current_client,
    _facts_partition,
    _join_partition,
    _joined_meta,
    _screened_meta,
    _threads,
    decision_meta,
    fact_meta,
)
from spatial.errors import CoordinateSystemError
from spatial.geodesic import WGS84
from spatial.parquet_inventory import (
    PartitionedInventory,
    is_partitioned,
    parquet_files,
    read_partitioned_inventory,
)
from spatial.parquet_outputs import Written, write_partitioned
from spatial.pipeline import after_facts
from spatial.policy import FactSpec, Policy

PARTITION_ROWS = 200_000
"""Enterprises per partition by default: big enough that the per-partition set-up (densifying and
indexing the context layers) is small beside the measuring, small enough to stay well under a
gigabyte per task."""

Progress = Callable[[int, int, str], None]


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

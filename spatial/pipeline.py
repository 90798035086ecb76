"""The one place that knows the order of the steps of ``spatial screen``.

inventory → context layers → measure → policy → export (:func:`_run`), whatever the engine:
:func:`run` dispatches on ``config.engine`` to :class:`LocalEngine` (this machine, everything in
memory) or :class:`spatial.scale.DaskEngine` (spatial partitions on a Dask cluster). An engine
supplies the work of the steps, never their order:

- ``with engine:`` holds what it needs for the run (a Dask client);
- ``engine.load_inventory(config, folder)`` reads and validates the enterprises (``folder``
  is the run's staging folder, for the Dask engine's temporary files);
- ``engine.screen(inventory, layers, specs, policies, as_of)`` gives the facts, zones,
  decisions and summary (in memory, or a lazy partitioned screening);
- ``engine.write_tables(config, screened, result, folder)`` puts the enterprises, decisions,
  emissions and rejected rows into ``result``: in memory for ``screening.gpkg`` and the lists,
  or written partition by partition as Parquet, with the counts.

Each step is a plain function on (Geo)DataFrames that notebooks can call one by one.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial import vocabulary
from spatial._version import __version__
from spatial.builtup import load_builtup
from spatial.config import RunConfig
from spatial.counties import assign_counties
from spatial.decisions import evaluate, summarize
from spatial.emissions import county_panel, emission_table, run_summary, target_check
from spatial.errors import InputWarning
from spatial.export.atomic import atomic_path
from spatial.export.excel import phase_lists, write_lists
from spatial.export.figures import document_phrases, source_phrases, write_figures
from spatial.export.gpkg import write_gpkg
from spatial.export.transaction import (
    OutputTransaction,
    estimate_output_bytes,
    output_transaction,
    staged_files,
)
from spatial.export.webmap import (
    check_map_url,
    counties_around,
    heat_qualification,
    tile_templates,
    write_map,
)
from spatial.export.webmap_emissions import add_emission_panel
from spatial.facts import add_facts, fact_buffers
from spatial.heat import attribution, load_heat_sources
from spatial.inventory import Inventory, load_enterprises, planner_headers
from spatial.layers import load_context_layer
from spatial.policy import Policy, cite_ref, fact_specs, load_policies, status_on
from spatial.progress import in_stage, reporting, stage
from spatial.zones import assign_zones, load_zones, zone_flags_zh

Progress = Callable[[int, int, str], None]
ENGINES = ("local", "dask")


@dataclass
class RunResult:
    """What a run produced: the loaded data, the files written and the counts."""

    inventory: Inventory
    enterprises: gpd.GeoDataFrame | None
    """The screened enterprises; None when the engine wrote them partition by partition
    (``outputs["enterprises"]``) without holding them in memory."""
    layers: dict[str, gpd.GeoDataFrame | None]
    policies: list[Policy]
    decisions: pd.DataFrame | None
    """The decisions; None when written partition by partition (``outputs["decisions"]``)."""
    outputs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # warnings about the context layers
    action_counts: pd.Series | None = None
    """Enterprises per action (most severe per enterprise), most frequent first."""
    n_decisions: int | None = None
    """Number of decisions."""
    emissions: pd.DataFrame | None = None
    """The emission table (:func:`spatial.emissions.emission_table`) when in memory."""
    emission_targets: pd.DataFrame | None = None
    """The check against the tables' own targets (:func:`spatial.emissions.target_check`)."""
    emission_summary: dict | None = None
    """The ``emissions`` entry of ``run.json`` (:func:`spatial.emissions.run_summary`)."""

    def __post_init__(self) -> None:
        in_memory = self.enterprises is not None and "action" in self.enterprises
        if self.action_counts is None and in_memory:
            self.action_counts = self.enterprises["action"].value_counts()
        if self.n_decisions is None and self.decisions is not None:
            self.n_decisions = len(self.decisions)

    def summary(self) -> str:
        """The closing summary the CLI prints."""
        lines = [
            self.inventory.summary(),
            "管控措施（每家企业取最严格的一项）decisions (most severe per enterprise):",
        ]
        counts = self.action_counts if self.action_counts is not None else pd.Series(dtype=int)
        lines += [f"  {vocabulary.label('action', action)}: {n}" for action, n in counts.items()]
        lines.append("outputs written:")
        lines += [f"  {role}: {path}" for role, path in self.outputs.items()]
        return "\n".join(lines)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, for ``run.json``; of a folder (partitioned Parquet), of every
    file in it in name order, each preceded by its relative name."""
    digest = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def run_record(config: RunConfig, result: RunResult) -> dict:
    """The content of ``run.json``: inputs with checksums, options and counts."""
    inv = result.inventory
    return {
        "tool": "spatial-screening",
        "version": __version__,
        "as_of": config.as_of.isoformat(),
        "engine": config.engine,
        "map_url": config.map_url,
        "output_crs": config.output_crs,
        "policies": [
            {"id": p.id, "version": p.version, "source": p.source, "issued": p.issued}
            for p in result.policies
        ],
        "policy_status": [
            asdict(s)
            for s in status_on(
                result.policies,
                config.as_of,
                {name for name, layer in result.layers.items() if layer is not None},
            )
        ],
        "facts": {
            spec.name: {"layer": spec.layer, "within_m": spec.within_m, "ref": spec.ref}
            for spec in fact_specs(result.policies).values()
        },
        "inputs": {
            role: {"path": str(path), "sha256": sha256(path)}
            | ({"attribution": attribution(path)} if attribution(path) else {})
            for role, path in config.inputs().items()
        },
        "counts": {
            "rows_read": inv.n_input,
            "accepted": len(inv.enterprises),
            "rejected": len(inv.rejected),
            "rejected_by_reason": dict(sorted(inv.reject_counts().items())),
            "blank_rows_skipped": inv.blank_rows,
            "input_warnings": list(getattr(inv, "warnings", [])),
            "layer_warnings": list(result.notes),
            "decisions": int(result.n_decisions or 0),
            "enterprises_by_action": {
                str(k): int(v)
                for k, v in (
                    result.action_counts if result.action_counts is not None else {}
                ).items()
            },
            **{
                f"{name}_features": len(layer)
                for name, layer in result.layers.items()
                if layer is not None
            },
        },
        "outputs": {role: path.name for role, path in result.outputs.items()},
    }


def write_json(data: dict, path: Path) -> Path:
    """Write JSON atomically (UTF-8, Chinese kept readable)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def run(
    config: RunConfig,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    *,
    client=None,
    engine_options: dict | None = None,
) -> RunResult:
    """Run a screening: load and validate the inputs, write the outputs to ``config.out``.

    The same call runs on this machine (``config.engine == "local"``) or on Dask
    (``"dask"``), from the CLI and from Python alike.

    Parameters
    ----------
    config
        The run's inputs and options; ``config.engine`` chooses the engine and
        ``config.scheduler`` the Dask cluster (none: a local cluster for the run).
    progress
        Called as ``progress(step, total, text)`` before each step. A
        :class:`spatial.progress.Reporter` (``spatial.progress.terminal()``, ``notebook()``)
        also shows a bar with counts and rates for each long stage inside the steps.
    warn
        Called with the text of each warning about the output folder (a stale lock taken
        over, temporary files of a killed run removed); default: :func:`warnings.warn`.
    client
        ``engine="dask"`` only: an existing :class:`distributed.Client` to run on instead of
        ``config.scheduler``.
    engine_options
        ``engine="dask"`` only: ``output`` (``"gpkg"``, ``"parquet"`` or ``"auto"``) and
        ``npartitions``, see :class:`spatial.scale.DaskEngine`.

    Raises
    ------
    SpatialError
        A bad option (before anything is read), a bad input, an output folder that cannot be
        written.
    """
    engine = make_engine(config, client=client, engine_options=engine_options)
    with reporting(progress) as reporter:  # stages inside show as the caller's reporter says
        return in_transaction(config, lambda tx: _run_on(engine, config, reporter, tx, warn), warn)


def make_engine(config: RunConfig, *, client=None, engine_options: dict | None = None):
    """The engine of ``config.engine``: a :class:`LocalEngine` or a
    :class:`spatial.scale.DaskEngine` with ``client`` and ``engine_options``.

    Raises
    ------
    SpatialError
        An unknown engine, or Dask's options for the local engine.
    """
    from spatial.errors import SpatialError

    if config.engine not in ENGINES:
        raise SpatialError(f"engine should be one of {', '.join(ENGINES)}, got {config.engine!r}")
    if config.engine != "dask":
        given = [name for name in (engine_options or {})]
        if client is not None:
            given.insert(0, "client")
        if given:
            raise SpatialError(
                f"{', '.join(given)}: only used by the Dask engine, but the run's engine is "
                f"{config.engine!r}; give RunConfig(engine='dask', ...) (--engine dask) or leave "
                "them out"
            )
        return LocalEngine()
    from spatial.scale import DASK_OPTIONS, DaskEngine

    for name in engine_options or {}:
        if name not in DASK_OPTIONS:
            raise SpatialError(
                f"engine_options: {name!r} is not one of {', '.join(DASK_OPTIONS)} (the options "
                "of the Dask engine)"
            )
    return DaskEngine(config, client=client, **dict(engine_options or {}))


def _run_on(engine, config, progress, tx, warn) -> RunResult:
    with engine:
        return _run(config, progress, engine, tx, warn)


RESERVED_LAYERS = ("builtup", "heat_sources", "dingxiang_zones")


def check_options(config: RunConfig) -> None:
    """Check every option that can be checked without reading the inputs, before any work:
    the map link, the basemap and its key, the engine's options and the
    ``--layer`` names.

    Raises
    ------
    SpatialError
        Naming the option, what came and what is expected.
    """
    from spatial.errors import SpatialError

    check_map_url(config.map_url)
    tile_templates(config.basemap, config.tianditu_key)
    if config.scheduler and config.engine != "dask":
        raise SpatialError(
            f"--scheduler {config.scheduler} is only used by --engine dask; add --engine dask "
            "or leave out --scheduler"
        )
    seen: set[str] = set()
    for name, _ in config.layers:
        if name in RESERVED_LAYERS:
            option = {"builtup": "--builtup", "heat_sources": "--heat-sources"}
            raise SpatialError(
                f"--layer {name}=...: '{name}' is the layer of "
                f"{option.get(name, '--zones')}; give that file there, or call this layer "
                "by another name"
            )
        if name in seen:
            raise SpatialError(
                f"--layer {name}=... is given twice; give each layer once, under its own name"
            )
        seen.add(name)


def in_transaction(
    config: RunConfig,
    body: Callable[[OutputTransaction], RunResult],
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """Check the options, then run ``body(tx)`` holding the output folder's lock
    (:func:`spatial.lock.output_lock`) and a staging folder
    (:mod:`spatial.export.transaction`); ``body`` writes into ``tx.folder`` (see
    :func:`write_outputs`), then the whole set is swapped in. Returns the result with the
    final paths of the outputs."""
    check_options(config)
    with output_transaction(config.out, warn=warn) as tx:
        result = body(tx)
        tx.commit()
    result.outputs = {role: tx.final(path) for role, path in result.outputs.items()}
    return result


def _layers_with_notes(config: RunConfig) -> tuple[dict[str, gpd.GeoDataFrame | None], list[str]]:
    """:func:`context_layers`, and the texts of the warnings of their loaders (unnamed
    built-up polygons ...); other warnings pass on as they are."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = context_layers(config)
    notes = []
    for item in caught:
        if issubclass(item.category, InputWarning):
            notes.append(str(item.message))
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return layers, notes


def context_layers(config: RunConfig) -> dict[str, gpd.GeoDataFrame | None]:
    """Every context layer of a run, in WGS84: built-up areas, heat sources, Dingxiang zones
    and the ``--layer`` ones (None where not given)."""
    layers = {
        "builtup": (
            load_builtup(config.builtup, config.builtup_options) if config.builtup else None
        ),
        "heat_sources": load_heat_sources(config.heat_sources) if config.heat_sources else None,
        "dingxiang_zones": (
            load_zones(config.zones, osm=config.zones_osm) if config.zones else None
        ),
    }
    for name, path in config.layers:
        layers[name] = load_context_layer(path, name)
    return layers


def after_facts(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    policies: list[Policy],
    as_of,
    headers: dict[str, str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The steps after the distance facts: the county from place, Dingxiang zones, the
    policies, the summary.

    Policy scope follows the location: ``county`` becomes the county the point lies in
    (:func:`spatial.counties.assign_counties`; the planner's text is kept in ``county_input``
    and a disagreement is flagged in ``county_flag`` / ``county_note_zh``).

    Each reads an enterprise's own row only, so :mod:`spatial.scale` runs them per partition.
    ``headers`` (contract column → the planner's header) lets a review or a zone flag name the
    column as headed in their sheet.
    """
    n = len(enterprises)
    enterprises = in_stage("county from place", n)(assign_counties)(enterprises)
    if layers.get("dingxiang_zones") is not None:
        zones = in_stage("Dingxiang zones", n)(assign_zones)
        enterprises = enterprises.join(zones(enterprises, layers["dingxiang_zones"], as_of))
        enterprises["zone_flags_zh"] = pd.Series(
            [zone_flags_zh(f, headers) or None for f in enterprises["zone_flags"]],
            index=enterprises.index,
            dtype=object,  # text also on no rows (the Dask engine's meta)
        )
    decisions = in_stage("applying policies", n)(evaluate)(
        enterprises, policies, as_of=as_of, headers=headers
    )
    summary = in_stage("summarising decisions", n)(summarize)(
        enterprises, decisions, policies, as_of
    )
    return summary, decisions


def screen_local(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    specs: dict,
    policies: list[Policy],
    as_of,
    headers: dict[str, str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Facts, zones, decisions and the summary for the enterprises, on this machine."""
    facts = in_stage("measuring geodesic distances", len(enterprises))(add_facts)
    return after_facts(facts(enterprises, layers, specs), layers, policies, as_of, headers)


def read_inventory(config: RunConfig) -> Inventory:
    """The enterprises of ``config``, read and validated on this machine."""
    with stage("reading enterprises") as bar:
        inventory = load_enterprises(config.enterprises, crs=config.crs)
        bar.set_total(inventory.n_input)
    return inventory


def table_results(
    result: RunResult, enterprises: gpd.GeoDataFrame, decisions: pd.DataFrame
) -> RunResult:
    """``result`` with the screened enterprises and decisions in memory, their counts, and the
    emission table and its summary computed from them (for ``screening.gpkg``, the lists, the
    map and ``run.json``)."""
    result.enterprises, result.decisions = enterprises, decisions
    result.action_counts = enterprises["action"].value_counts()
    result.n_decisions = len(decisions)
    emissions, targets = in_stage("emission table", len(decisions), "decisions")(emission_outputs)(
        result
    )
    result.emissions, result.emission_targets = emissions, targets
    result.emission_summary = run_summary(emissions, targets)
    return result


class LocalEngine:
    """The engine of ``engine="local"``: every step on this machine, in memory."""

    name = "local"

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def load_inventory(self, config: RunConfig, folder: Path) -> Inventory:
        """The validated inventory (:func:`spatial.inventory.load_enterprises`)."""
        return read_inventory(config)

    def screen(
        self,
        inventory: Inventory,
        layers: dict[str, gpd.GeoDataFrame | None],
        specs: dict,
        policies: list[Policy],
        as_of,
    ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
        """Facts, zones, decisions and the summary (:func:`screen_local`)."""
        headers = planner_headers(inventory.header_map)
        return screen_local(inventory.enterprises, layers, specs, policies, as_of, headers)

    def write_tables(
        self,
        config: RunConfig,
        screened: tuple[gpd.GeoDataFrame, pd.DataFrame],
        result: RunResult,
        folder: Path,
    ) -> RunResult:
        """The tables stay in memory: :func:`write_outputs` writes them into
        ``screening.gpkg`` with the context layers (:func:`table_results`)."""
        return table_results(result, *screened)


def _run(
    config: RunConfig,
    progress: Progress,
    engine,
    tx: OutputTransaction,
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """The order of the steps, for every engine (see the module notes)."""
    total = 5
    progress(1, total, f"reading enterprises from {config.enterprises}")
    policies = load_policies(config.policies)
    specs = fact_specs(policies)
    inventory = engine.load_inventory(config, tx.folder)

    progress(2, total, "reading context layers")
    layers, notes = in_stage("reading context layers", None, "layers")(_layers_with_notes)(config)
    for note in notes:
        (warn or warnings.warn)(note)

    accepted = inventory.enterprises
    n = len(accepted)
    where = "" if engine.name == "local" else f" on {engine.name.capitalize()}"
    progress(3, total, f"measuring geodesic distances and zones for {n} enterprises{where}")
    progress(4, total, f"applying policies: {', '.join(p.id for p in policies)}")
    screened = engine.screen(inventory, layers, specs, policies, config.as_of)

    progress(5, total, f"writing outputs to {config.out}")
    result = RunResult(inventory, None, layers, policies, None, notes=notes)
    counties = accepted["county"].nunique() if "county" in accepted else 0
    tx.needed_bytes = estimate_output_bytes(n, counties, config.figures)
    with tx.writing():
        engine.write_tables(config, screened, result, tx.folder)
        return write_outputs(config, result, specs, folder=tx.folder)


def heat_radius_columns(heat: gpd.GeoDataFrame, specs: dict) -> gpd.GeoDataFrame:
    """The heat sources with ``counts_for_radius`` (yes/no: the policy table's own selection
    of the sources that draw the heat-supply radius) and ``radius_basis_zh`` (why, citing the
    clause), so the QGIS style and the attribute table read a field, not a list of ids.
    Unchanged when no rule of the run is measured to heat sources."""
    rule = next(
        (s for s in specs.values() if s.layer == "heat_sources" and getattr(s, "within_m", None)),
        None,
    )
    if rule is None or heat.empty:
        return heat
    qualifies, reasons = heat_qualification(
        pd.DataFrame(heat), rule, lambda ref: cite_ref(ref, form="full")
    )
    out = heat.copy()
    out["counts_for_radius"] = pd.array(qualifies, dtype="boolean")
    out["radius_basis_zh"] = reasons
    return out


def write_outputs(
    config: RunConfig,
    result: RunResult,
    specs: dict,
    folder: Path | None = None,
) -> RunResult:
    """Write the run's outputs into ``folder``; returns ``result`` with their paths.

    ``run.json`` is written last and lists every file written (``files``): the record the
    swap of :mod:`spatial.export.transaction` and the next run's clean-up go by. A new output
    is one more ``result.outputs[role] = write_...(out / name, ...)`` line before it.

    Parameters
    ----------
    config
        The run's options (output folder, CRS, basemap, map link, figures).
    result
        What the run computed. When its enterprises are not in memory (written as
        partitioned GeoParquet by the Dask engine, in ``result.outputs``), only the context
        layers, their buffers and ``run.json`` are written.
    specs
        The facts of the policies (for the geodesic buffer layers).
    folder
        Where to write: the run's staging folder (see :func:`in_transaction`); default
        ``config.out`` itself.
    """
    out = Path(config.out if folder is None else folder)
    out.mkdir(parents=True, exist_ok=True)
    layers = result.layers
    context = {name: layer for name, layer in layers.items() if layer is not None}
    context.update(
        in_stage("geodesic display buffers", len(specs), "buffers")(fact_buffers)(layers, specs)
    )
    full = result.enterprises is not None
    n = len(result.enterprises) if full else 0
    emissions, targets = result.emissions, result.emission_targets
    gpkg_layers = (
        {
            "enterprises": result.enterprises,
            "decisions": result.decisions,
            "emissions": emissions,
            "rejected": result.inventory.rejected,
        }
        if full
        else {}
    )
    gpkg_layers.update(context)
    if gpkg_layers.get("heat_sources") is not None:
        gpkg_layers["heat_sources"] = heat_radius_columns(gpkg_layers["heat_sources"], specs)
    record = run_record(config, result)
    if result.emission_summary is not None:
        record["emissions"] = result.emission_summary
    rows = sum(len(frame) for frame in gpkg_layers.values() if frame is not None)
    result.outputs["screening"] = in_stage("writing screening.gpkg", rows, "rows")(write_gpkg)(
        gpkg_layers, out / "screening.gpkg", config.output_crs, metadata=record, counties=True
    )
    if full:
        enterprises, decisions = result.enterprises, result.decisions
        result.outputs["lists"] = in_stage("writing lists.xlsx", n)(write_lists)(
            out / "lists.xlsx",
            enterprises,
            decisions,
            phase_lists=phase_lists(enterprises, decisions, config.as_of),
            map_url=config.map_url,
            emissions=emissions,
            emission_targets=targets,
            policies=result.policies,
            as_of=config.as_of,
            policy_status=status_on(
                result.policies,
                config.as_of,
                {name for name, layer in result.layers.items() if layer is not None},
            ),
        )
        county_outlines, county_seats = counties_around(enterprises)
        result.outputs["map"] = in_stage("writing map.html", n)(write_map)(
            out / "map.html",
            enterprises,
            context,
            counties=county_outlines,
            county_seats=county_seats,
            basemap=config.basemap,
            tianditu_key=config.tianditu_key,
            map_url=config.map_url,
            as_of=config.as_of,
            policies=result.policies,
            facts=specs,
        )
        add_emission_panel(result.outputs["map"], county_panel(emissions))
        if config.figures:
            with stage("drawing figures", None, "figures") as bar:
                figures = write_figures(
                    out / "figures",
                    enterprises,
                    context,
                    map_url=config.map_url,
                    as_of=config.as_of,
                    mapping_unit=getattr(config, "mapping_unit", None),
                    sources=source_phrases(config.inputs()),
                    documents=document_phrases(result.policies),
                    progress=bar,
                )
            result.outputs["figures"] = figures[0].parent if figures else out / "figures"
    result.outputs["run"] = out / "run.json"
    record["outputs"] = {role: Path(path).name for role, path in result.outputs.items()}
    record["files"] = sorted({*_written_files(out, result.outputs, staged=folder), "run.json"})
    write_json(record, out / "run.json")
    return result


def _written_files(out: Path, outputs: dict[str, Path], staged: Path | None) -> list[str]:
    """The files of a run (relative to ``out``): everything in its staging folder, or the
    files (and files of the folders) of ``outputs`` that lie in ``out``."""
    if staged is not None:
        return staged_files(out)
    names = []
    for path in map(Path, outputs.values()):
        paths = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for file in paths:
            if file.is_file() and file.resolve().is_relative_to(out.resolve()):
                names.append(file.resolve().relative_to(out.resolve()).as_posix())
    return names


def emission_outputs(result: RunResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The emission table (tonnes avoided per decision and pollutant) and the check against the
    tables' own targets (:mod:`spatial.emissions`)."""
    table = emission_table(result.enterprises, result.decisions, result.policies)
    return table, target_check(table, result.enterprises, result.policies)


def demo_config(out: str | Path, **options) -> RunConfig:
    """The RunConfig of the demo region shipped in the package (:mod:`spatial.datasets`)."""
    from spatial.datasets import get_path

    return RunConfig(
        enterprises=get_path("enterprises.csv"),
        builtup=get_path("builtup.gpkg"),
        heat_sources=get_path("heat_sources.csv"),
        zones=get_path("dingxiang_sources.gpkg"),
        zones_osm=get_path("region.osm"),
        out=Path(out),
        **options,
    )

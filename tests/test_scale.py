"""The dask engine against the local engine, row by row: same ids, same order, the same
distances (to 1e-6 m; in practice to the bit), the same decisions.

One small local cluster (two single-threaded in-process workers) serves the whole module; the
local engine's run of the demo is the session's shared one (``demo_run`` in tests/conftest.py).
Marked slow: a cluster and a dozen runs (about 90 s on 2 cores).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from pathlib import Path

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from spatial import pipeline
from spatial.decisions import evaluate
from spatial.facts import add_facts
from spatial.inventory import load_enterprises, validate
from spatial.pipeline import demo_config
from spatial.policy import fact_specs, load_policies
from spatial.scale import (
    SEQ,
    dask_client,
    read_partitioned_inventory,
    screen_dask,
    screen_partitioned,
    write_partitioned,
)
from spatial.vocabulary import label
from tests.helpers import DEMO_AS_OF

GEOD = Geod(ellps="WGS84")
AS_OF = DEMO_AS_OF  # the date of the shared demo run
SEASON = dt.date(2019, 12, 1)  # inside the Jinzhong 2019-2020 season: its rules are in force
COUNTIES = ["榆次区", "太谷区", "祁县", "平遥县", "介休市", "忻府区", "原平市", "定襄县", "潞州区"]
INDUSTRIES = ["foundry", "coking", "cement", "brick_kiln", "chemical", "carbon", "steel"]
CLASSES = ["encouraged", "permitted", "restricted"]
YESNO = ["yes", "no", ""]
NO_FIGURES = {"figures": False}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    with dask_client(n_workers=2, threads_per_worker=1, processes=False) as c:
        yield c


# --------------------------------------------------------------------------------------------
# Comparing frames


def _nulls_as_none(values: pd.Series) -> list:
    return [None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v
            for v in values.astype(object)]  # fmt: skip


def assert_same_screening(local: pd.DataFrame, dask: pd.DataFrame, distance_columns) -> None:
    """Same index and order, same columns; distances within 1e-6 m; every other value equal."""
    assert list(dask.columns) == list(local.columns)
    assert dask.index.equals(local.index)
    assert dask["id"].tolist() == local["id"].tolist()
    for column in local.columns:
        if column in distance_columns:
            a, b = local[column].to_numpy(float), dask[column].to_numpy(float)
            assert np.array_equal(np.isnan(a), np.isnan(b)), column
            assert np.nanmax(np.abs(a - b), initial=0.0) <= 1e-6, column
        elif isinstance(local[column].dtype, gpd.array.GeometryDtype):
            assert shapely.equals_exact(local[column].values, dask[column].values, 0).all()
        else:
            assert _nulls_as_none(dask[column]) == _nulls_as_none(local[column]), column


def _blanks_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with None for every blank of its object columns (other dtypes untouched)."""
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = pd.Series(_nulls_as_none(out[column]), index=out.index, dtype=object)
    return out


def assert_same_decisions(local: pd.DataFrame, dask: pd.DataFrame) -> None:
    assert list(dask.columns) == list(local.columns)
    assert len(dask) == len(local)
    for column in local.columns:
        assert _nulls_as_none(dask[column]) == _nulls_as_none(local[column]), column


def _distances(specs) -> set[str]:
    return {spec.distance_column for spec in specs.values()}


# --------------------------------------------------------------------------------------------
# The demo region, against pipeline.run itself


@pytest.fixture(scope="module")
def demo(demo_run):
    """The shared local run of the demo region (tests/conftest.py), as of ``AS_OF``."""
    assert demo_run.config.as_of == AS_OF and not demo_run.config.figures
    return demo_run.config, demo_run.result


def test_demo_is_identical_to_the_local_engine(demo, client):
    config, local = demo
    specs = fact_specs(local.policies)
    enterprises, decisions = screen_partitioned(
        local.inventory.enterprises,
        local.layers,
        specs,
        local.policies,
        as_of=config.as_of,
        client=client,
        npartitions=3,
    )
    assert isinstance(enterprises, gpd.GeoDataFrame)
    assert enterprises.crs == local.enterprises.crs
    assert_same_screening(local.enterprises, enterprises, _distances(specs))
    assert_same_decisions(local.decisions, decisions)
    # bit for bit, with the local engine's dtypes; a blank in an object column may be None in
    # one engine and NaN in the other (zones.assign_zones gives either for ``zone_flags``,
    # depending on the other rows of its call): both are a blank, compared as one
    pd.testing.assert_frame_equal(
        _blanks_as_none(enterprises.drop(columns="geometry")),
        _blanks_as_none(local.enterprises.drop(columns="geometry")),
    )
    pd.testing.assert_frame_equal(decisions, local.decisions)
    assert local.enterprises["zone_phase"].notna().any()  # the zones step ran per partition


# --------------------------------------------------------------------------------------------
# A generated national inventory across several 6° zones


def _star(lon: float, lat: float, radius_m: float, rng: np.random.Generator) -> shapely.Polygon:
    n = int(rng.integers(8, 20))
    az = np.sort(rng.uniform(0, 360, n))
    r = radius_m * rng.uniform(0.6, 1.4, n)
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, r)
    return shapely.Polygon(np.column_stack([x, y]))


def national_rows(n: int, seed: int = 9) -> pd.DataFrame:
    """Inventory rows as text, as a planner's sheet has them: points from Xinjiang to the coast
    (seven 6° zones), half near a seat; a few bad rows."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(76.0, 128.0, n)
    lat = rng.uniform(24.0, 46.0, n)
    return pd.DataFrame(
        {
            "id": [f"N{i:06d}" for i in range(n)],
            "name": [f"企业{i}" for i in range(n)],
            "industry": rng.choice(INDUSTRIES, n),
            "county": rng.choice(COUNTIES, n),
            "policy_class": rng.choice(CLASSES, n),
            "compliant": rng.choice(YESNO, n, p=[0.7, 0.2, 0.1]),
            "ultra_low": rng.choice(YESNO, n),
            "clean_transport": rng.choice(YESNO, n),
            "lon": np.round(lon, 6).astype(str),
            "lat": np.round(lat, 6).astype(str),
        }
    )


@pytest.fixture(scope="module")
def national():
    """About 3,000 accepted enterprises, 300 built-up polygons and 60 heat sources."""
    rng = np.random.default_rng(3)
    seats = np.column_stack([rng.uniform(76.0, 128.0, 300), rng.uniform(24.0, 46.0, 300)])
    builtup = gpd.GeoDataFrame(
        {"name": [f"BU{i:03d}" for i in range(300)], "level": "county"},
        geometry=[_star(x, y, rng.uniform(2_000, 15_000), rng) for x, y in seats],
        crs="EPSG:4490",
    )
    heat = gpd.GeoDataFrame(
        {
            "id": [f"H{i:02d}" for i in range(60)],
            "name": [f"热源{i}" for i in range(60)],
            "kind": np.where(np.arange(60) % 3 == 0, "chp", "industrial"),
            "capacity_mw": np.where(np.arange(60) % 3 == 0, 350.0, 50.0),
        },
        geometry=gpd.points_from_xy(rng.uniform(76, 128, 60), rng.uniform(24, 46, 60)),
        crs="EPSG:4326",
    )
    rows = national_rows(4_000)
    near = rng.integers(0, 300, 2_000)  # half the points 0-40 km from a seat
    x, y, _ = GEOD.fwd(seats[near, 0], seats[near, 1], rng.uniform(0, 360, 2_000),
                       rng.uniform(0, 40_000, 2_000))  # fmt: skip
    rows.loc[:1_999, "lon"] = np.round(x, 6).astype(str)
    rows.loc[:1_999, "lat"] = np.round(y, 6).astype(str)
    rows = rows.sample(frac=1.0, random_state=1).reset_index(drop=True)
    rows.loc[5, "lat"] = "abc"  # rejected rows, so the accepted index has gaps
    rows.loc[17, "id"] = rows.loc[3, "id"]
    text = rows.assign(__overlong__=False)
    enterprises, rejected = validate(text, list(range(2, len(rows) + 2)), Path("national.csv"))
    layers = {"builtup": builtup, "heat_sources": heat}
    policies = load_policies(())
    return rows, enterprises, rejected, layers, policies


def test_national_inventory_spans_several_zones(national):
    _, enterprises, rejected, _, _ = national
    zones = np.unique(np.floor((enterprises.geometry.x + 180) / 6))
    assert zones.size >= 7
    assert len(enterprises) > 2_500
    assert len(rejected) >= 2


def test_national_inventory_is_identical_to_the_local_engine(national, client, monkeypatch):
    _, enterprises, _, layers, policies = national
    specs = fact_specs(policies)
    # the local engine's steps after the facts (county from the place, zones, decisions)
    local, decisions_local = pipeline.after_facts(
        add_facts(enterprises, layers, specs), layers, policies, SEASON
    )

    evaluated = []  # each input partition is evaluated once, though two frames come out of it

    def counting(frame, pols, **options):
        evaluated.append(len(frame))
        return evaluate(frame, pols, **options)

    monkeypatch.setattr(pipeline, "evaluate", counting)
    screened, decisions = screen_partitioned(
        enterprises, layers, specs, policies, as_of=SEASON, client=client, npartitions=7
    )
    assert sum(evaluated) == len(enterprises)
    assert_same_screening(local, screened, _distances(specs))
    assert_same_decisions(decisions_local, decisions)
    assert screened["near_city"].any() and (~screened["near_city"].astype(bool)).any()
    assert (decisions["action"] != "review").any()


def test_an_index_with_gaps_and_names_comes_back_as_given(national, client):
    _, enterprises, _, layers, policies = national
    specs = fact_specs(policies)
    subset = enterprises.iloc[::7].copy()
    subset.index = [f"k{i}" for i in range(len(subset))][::-1]
    subset = subset.iloc[::-1]  # a descending, non-numeric index
    # the local engine's steps after the facts (county from the place, zones, decisions)
    local, decisions_local = pipeline.after_facts(
        add_facts(subset, layers, specs), layers, policies, SEASON
    )
    screened, decisions = screen_partitioned(
        subset, layers, specs, policies, as_of=SEASON, client=client, npartitions=4
    )
    assert_same_screening(local, screened, _distances(specs))
    assert_same_decisions(decisions_local, decisions)


def test_spatial_partitions_are_compact(national, client):
    """The Hilbert shuffle the engine uses gives each partition a few 6° zones, not all."""
    enterprises = national[1]
    points = dask_geopandas.from_geopandas(enterprises[["geometry"]], npartitions=7)
    spatial = points.spatial_shuffle(by="hilbert", npartitions=7, calculate_partitions=False)
    spans = spatial.map_partitions(
        lambda p: pd.Series([np.unique(np.floor((p.geometry.x + 180) / 6)).size]),
        meta=pd.Series(dtype=int),
    ).compute()
    zones = np.unique(np.floor((enterprises.geometry.x + 180) / 6)).size
    assert spans.mean() <= zones / 2  # an unshuffled partition spans every zone


# --------------------------------------------------------------------------------------------
# Partitioned GeoParquet in, partitioned GeoParquet out


def _write_parts(rows: pd.DataFrame, folder: Path, cuts: list[int]) -> None:
    folder.mkdir(parents=True)
    bounds = [0, *cuts, len(rows)]
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        part = rows.iloc[a:b]
        lon = pd.to_numeric(part["lon"], errors="coerce")
        lat = pd.to_numeric(part["lat"], errors="coerce")
        geometry = [
            shapely.Point(x, y) if np.isfinite(x) and np.isfinite(y) else None
            for x, y in zip(lon, lat, strict=True)
        ]
        frame = gpd.GeoDataFrame(
            part.drop(columns=["lon", "lat"]), geometry=geometry, crs="EPSG:4326"
        )
        frame.to_parquet(folder / f"part.{i}.parquet")  # part.10 after part.9: natural order


@pytest.fixture(scope="module")
def parquet_inventory(national, tmp_path_factory):
    rows = national[0].copy()
    rows.loc[2_500, "id"] = rows.loc[100, "id"]  # the same id in two files
    folder = tmp_path_factory.mktemp("parquet") / "inventory"
    _write_parts(rows, folder, [300, 800, 1_200, 1_900, 2_100, 2_600, 2_700, 3_000, 3_100, 3_500])
    return rows, folder


@pytest.fixture(scope="module")
def read_inventory(parquet_inventory, client, tmp_path_factory):
    return read_partitioned_inventory(
        parquet_inventory[1], tmp_path_factory.mktemp("work"), client=client
    )


def test_partitioned_geoparquet_is_validated_as_one_layer(
    parquet_inventory, read_inventory, tmp_path
):
    rows, _ = parquet_inventory
    inventory = read_inventory
    assert len(inventory.files) == 11
    assert inventory.files[10].name == "part.10.parquet"

    # the same rows as one GeoPackage layer, through the local engine's loader
    whole = pd.concat([gpd.read_parquet(f) for f in inventory.files], ignore_index=True)
    gpkg = tmp_path / "whole.gpkg"
    whole.to_file(gpkg, layer="enterprises", engine="pyogrio")
    reference = load_enterprises(gpkg)
    expected, rejected = reference.enterprises, reference.rejected

    accepted = inventory.accepted.compute()
    assert accepted.index.name == SEQ
    assert accepted["row"].tolist() == expected["row"].tolist()
    assert accepted["id"].tolist() == expected["id"].tolist()
    for column in ("lon", "lat", "industry", "county", "compliant"):
        assert _nulls_as_none(accepted[column]) == _nulls_as_none(expected[column]), column
    assert inventory.n_input == len(rows)
    assert inventory.n_rejected == len(rejected)
    assert inventory.reject_counts() == _codes(rejected)
    duplicate = inventory.rejected_rows.compute()
    duplicate = duplicate[duplicate["reason_code"].str.contains("duplicate_id")].sort_values("row")
    assert (
        duplicate["row"].tolist()
        == rejected.loc[rejected["reason_code"].str.contains("duplicate_id"), "row"].tolist()
    )
    assert f"duplicate of row 101 ('{rows.loc[100, 'id']}')" in " ".join(duplicate["reason"])
    assert "rows read" in inventory.summary()


def _codes(rejected: pd.DataFrame):
    from collections import Counter

    counts: Counter = Counter()
    for value in rejected["reason_code"]:
        counts.update(str(value).split(";"))
    return counts


def test_partitioned_in_and_out_is_identical_to_the_local_engine(
    read_inventory, national, client, tmp_path
):
    _, _, _, layers, policies = national
    specs = fact_specs(policies)
    inventory = read_inventory
    assert isinstance(inventory.accepted, dask_geopandas.GeoDataFrame)
    lazy_e, lazy_d = screen_partitioned(
        inventory.accepted, layers, specs, policies, as_of=SEASON, client=client, npartitions=6
    )  # a dask input gives lazy frames, in the input partitions
    assert isinstance(lazy_e, dask_geopandas.GeoDataFrame) and lazy_e.npartitions == 11
    assert SEQ not in lazy_d.columns

    # the local engine on the same accepted rows, in memory
    accepted = inventory.accepted.compute()
    # the local engine's steps after the facts (county from the place, zones, decisions)
    local, decisions_local = pipeline.after_facts(
        add_facts(accepted, layers, specs), layers, policies, SEASON
    )

    lazy = screen_dask(
        inventory.accepted, layers, specs, policies, as_of=SEASON, client=client, npartitions=6
    )
    assert lazy.enterprises.npartitions == 11  # the input partitions, in input order
    written = write_partitioned(lazy, tmp_path / "out", output_crs="EPSG:4490", client=client)
    paths = written.paths
    assert written.enterprises == len(local)
    assert written.decisions == len(decisions_local)
    assert written.actions.to_dict() == local["action"].value_counts().to_dict()
    files = sorted(paths["enterprises"].glob("*.parquet"))
    assert len(files) == 11
    written = dask_geopandas.read_parquet(paths["enterprises"]).compute()
    assert written.crs.to_epsg() == 4490
    written = written.to_crs(local.crs).set_axis(local.index)
    assert_same_screening(local, written, _distances(specs))
    written_decisions = pd.read_parquet(paths["decisions"])
    assert len(written_decisions) == len(decisions_local)
    key = ["id", "policy", "rule_id"]
    assert sorted(map(tuple, written_decisions[key].to_numpy())) == sorted(
        map(tuple, decisions_local[key].to_numpy())
    )


# --------------------------------------------------------------------------------------------
# The run


def test_run_dask_writes_what_the_local_run_writes(demo, client, tmp_path):
    from spatial.scale import run_dask

    config, local = demo
    dask_config = demo_config(tmp_path / "dask", as_of=AS_OF, **NO_FIGURES)
    result = run_dask(dask_config, client=client)
    assert set(result.outputs) == set(local.outputs)
    for layer in ("enterprises", "decisions"):
        a = gpd.read_file(config.out / "screening.gpkg", layer=layer)
        b = gpd.read_file(dask_config.out / "screening.gpkg", layer=layer)
        pd.testing.assert_frame_equal(a, b)
    record = json.loads((dask_config.out / "run.json").read_text(encoding="utf-8"))
    expected = json.loads((config.out / "run.json").read_text(encoding="utf-8"))
    assert record["counts"] == expected["counts"]


def test_the_demo_as_partitioned_parquet_gives_the_local_results(demo, client, tmp_path):
    """The demo's CSV rows as three plain Parquet files (lon/lat text, per-row coord_sys):
    validated file by file, measured, zoned as of the run's date and decided as the local
    run does; written as GeoParquet."""
    from spatial.scale import run_dask

    config, local = demo
    raw = pd.read_csv(config.enterprises, dtype=str, keep_default_na=False, encoding="utf-8")
    folder = tmp_path / "demo-parquet"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(raw)), 3)):
        raw.iloc[rows].to_parquet(folder / f"part.{i}.parquet", index=False)
    dask_config = dataclasses.replace(config, enterprises=folder, out=tmp_path / "out")
    result = run_dask(dask_config, client=client)
    written = dask_geopandas.read_parquet(result.outputs["enterprises"]).compute()
    expected = local.enterprises
    assert written["id"].tolist() == expected["id"].tolist()
    assert (written["row"] + 1).tolist() == expected["row"].tolist()  # CSV rows count the header
    written = written.to_crs(expected.crs).set_axis(expected.index)
    specs = fact_specs(local.policies)
    assert_same_screening(
        expected.drop(columns="row"), written.drop(columns="row"), _distances(specs)
    )
    decisions = pd.read_parquet(result.outputs["decisions"])
    key = ["id", "policy", "rule_id", "action", "reason_zh"]
    assert sorted(map(tuple, decisions[key].to_numpy())) == sorted(
        map(tuple, local.decisions[key].to_numpy())
    )
    for role in ("enterprises", "decisions", "rejected", "screening", "run"):
        assert result.outputs[role].exists(), role
    assert not (dask_config.out / ".dask-work").exists()
    record = json.loads((dask_config.out / "run.json").read_text(encoding="utf-8"))
    expected_counts = json.loads((config.out / "run.json").read_text(encoding="utf-8"))["counts"]
    for count in ("accepted", "rejected", "decisions", "enterprises_by_action"):
        assert record["counts"][count] == expected_counts[count], count


def test_the_partitioned_run_writes_the_emission_table_and_real_counts(demo, client, tmp_path):
    """Parquet in, Parquet out: the emission table per partition is the local one, run.json's
    emission summary adds up to the local one, and RunResult holds the real counts."""
    from spatial.scale import run_dask

    config, local = demo
    raw = pd.read_csv(config.enterprises, dtype=str, keep_default_na=False, encoding="utf-8")
    folder = tmp_path / "demo-parquet"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(raw)), 2)):
        raw.iloc[rows].to_parquet(folder / f"part.{i}.parquet", index=False)
    dask_config = dataclasses.replace(config, enterprises=folder, out=tmp_path / "out")
    result = run_dask(dask_config, client=client)

    assert result.enterprises is None and result.decisions is None  # never gathered
    assert result.n_decisions == len(local.decisions)
    assert result.action_counts.to_dict() == local.enterprises["action"].value_counts().to_dict()
    summary = result.summary()
    for action, n in local.enterprises["action"].value_counts().items():
        assert f"  {label('action', action)}: {n}\n" in summary  # the words, not the code
    assert f"  emissions: {dask_config.out / 'emissions.parquet'}" in summary

    written = pd.read_parquet(result.outputs["emissions"])
    expected = local.emissions
    key = ["id", "policy", "pollutant", "rule_ref"]
    written = written.sort_values(key, kind="stable").reset_index(drop=True)
    expected = expected.sort_values(key, kind="stable").reset_index(drop=True)
    assert list(written.columns) == list(expected.columns)
    for column in expected.columns:
        assert _nulls_as_none(written[column]) == _nulls_as_none(expected[column]), column

    record = json.loads((dask_config.out / "run.json").read_text(encoding="utf-8"))
    local_record = json.loads((config.out / "run.json").read_text(encoding="utf-8"))
    assert record["engine"] == "dask"
    assert record["emissions"] == local_record["emissions"]
    assert "emissions.parquet/part.00001.parquet" in record["files"]
    assert not any(name.startswith(".dask-work") for name in record["files"])


def _count_clusters(monkeypatch, client) -> list:
    """Make every Dask cluster a run would start the module's ``client``; returns the list
    of the scheduler addresses asked for (one entry per cluster started)."""
    import contextlib

    from spatial import scale

    started: list = []

    @contextlib.contextmanager
    def fake_client(scheduler=None, **_):
        started.append(scheduler)
        yield client

    monkeypatch.setattr(scale, "dask_client", fake_client)
    return started


def test_spatial_run_with_engine_dask_runs_on_dask(demo, client, tmp_path, monkeypatch):
    """From Python, ``spatial.run(RunConfig(engine="dask"))`` alone runs on the cluster (the
    tasks show in the scheduler's task stream) and gives the local outputs."""
    from distributed import get_task_stream

    import spatial

    config, local = demo
    started = _count_clusters(monkeypatch, client)
    dask_config = dataclasses.replace(config, out=tmp_path / "dask", engine="dask")
    with get_task_stream(client) as stream:
        result = spatial.run(dask_config)
    assert started == [None]  # a cluster for the run (no scheduler given)
    names = {task["key"][0] if isinstance(task["key"], tuple) else task["key"]
             for task in stream.data}  # fmt: skip
    assert any("_facts_partition" in str(name) for name in names), sorted(names)[:5]
    assert set(result.outputs) == set(local.outputs)
    pd.testing.assert_frame_equal(
        gpd.read_file(config.out / "screening.gpkg", layer="enterprises"),
        gpd.read_file(dask_config.out / "screening.gpkg", layer="enterprises"),
    )
    record = json.loads((dask_config.out / "run.json").read_text(encoding="utf-8"))
    assert record["engine"] == "dask"
    assert record["counts"] == json.loads((config.out / "run.json").read_text())["counts"]


def test_the_cli_engine_dask_goes_through_pipeline_run(demo, client, tmp_path, monkeypatch):
    """``spatial screen --engine dask --scheduler ADDRESS`` runs the same pipeline.run, on the
    cluster at ADDRESS."""
    from click.testing import CliRunner

    from spatial.cli import main
    from spatial.datasets import get_path

    config, local = demo
    started = _count_clusters(monkeypatch, client)
    out = tmp_path / "cli"
    args = ["screen", "--enterprises", str(config.enterprises), "--builtup", str(config.builtup)]
    args += ["--heat-sources", str(get_path("heat_sources.csv")), "--no-figures"]
    args += ["--engine", "dask", "--scheduler", "tcp://10.0.0.5:8786"]
    args += ["--as-of", AS_OF.isoformat(), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert started == ["tcp://10.0.0.5:8786"]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["engine"] == "dask"
    assert record["counts"]["accepted"] == len(local.enterprises)
    assert "on Dask" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"engine_options": {"npartitions": 4}}, "npartitions: only used by the Dask engine"),
        ({"client": object()}, "client: only used by the Dask engine"),
    ],
)
def test_dask_options_without_the_dask_engine_are_refused(options, message, tmp_path):
    from spatial.errors import SpatialError

    config = demo_config(tmp_path / "out", **NO_FIGURES)
    with pytest.raises(SpatialError, match=message):
        pipeline.run(config, **options)
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_bad_dask_options_are_refused_before_a_cluster_starts(tmp_path, monkeypatch, client):
    from spatial.errors import SpatialError

    started = _count_clusters(monkeypatch, client)
    config = demo_config(tmp_path / "out", engine="dask", **NO_FIGURES)
    with pytest.raises(SpatialError, match="output should be one of auto, gpkg, parquet"):
        pipeline.run(config, engine_options={"output": "csv"})
    with pytest.raises(SpatialError, match="engine_options: 'workers' is not one of npartitions"):
        pipeline.run(config, engine_options={"workers": 3})
    assert started == []

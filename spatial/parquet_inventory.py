"""Partitioned (Geo)Parquet inventories for the Dask engine: every file validated on the cluster
with the inventory's own rules (:func:`spatial.inventory.validate`), the rows never loaded whole
(:func:`read_partitioned_inventory`, :class:`PartitionedInventory`)."""

from __future__ import annotations

import shutil
from collections import Counter
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
from spatial.dask_partitions import _STR, SEQ, _current_client
from spatial.errors import CoordinateSystemError, InputFileError
from spatial.inventory import Inventory, map_headers, validate

PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}


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

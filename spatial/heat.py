"""Heat sources: CHP plants and industrial heat suppliers, from a CSV/XLSX with lon/lat or a
point layer (contract columns ``id``, ``name``, ``kind``, ``capacity_mw``), or a layer shipped
with the package by name: ``gppd`` — the coal plants of China of the WRI Global Power Plant
Database (CC BY 4.0; what it does not know: ``spatial/data/heat/README.md``).

Refused, naming the file and the rows: a kind other than chp/industrial, a capacity that is not
a number or not positive, an id given twice, a location missing or outside China, a geometry
that is not a point (a polygon or line layer is refused as a whole).

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "heat.csv"
>>> _ = path.write_text("id,name,kind,capacity_mw,lon,lat\\nH1,甲电厂,热电联产,600,112.7,38.4\\n")
>>> load_heat_sources(path)[["id", "kind", "capacity_mw"]].values.tolist()
[['H1', 'chp', 600.0]]
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import coords, schema
from spatial.errors import InputFileError, LayerError
from spatial.geodesic import WGS84
from spatial.inventory import parse_numbers, read_table

ALIASES = {
    "id": ["id", "编号", "代码"],
    "name": ["name", "名称", "热源名称", "企业名称", "电厂名称"],
    "kind": ["kind", "类型", "热源类型"],
    "capacity_mw": ["capacity_mw", "装机容量", "装机容量(mw)", "容量(mw)", "capacity"],
    "lon": ["lon", "经度", "longitude", "x"],
    "lat": ["lat", "纬度", "latitude", "y"],
}
KINDS = {
    "chp": ["chp", "热电联产", "热电厂", "电厂", "coal_chp"],
    "industrial": ["industrial", "工业", "工业企业", "大型工业企业", "工业余热"],
}


def _check_points(frame: pd.DataFrame, path: Path) -> None:
    """A polygon or line layer given as heat sources is refused as a whole, in one sentence."""
    kinds = frame["__geomtype__"].astype(str)
    bad = frame["__geommsg__"].astype(str) != ""
    if len(frame) and bad.all():
        found = ", ".join(sorted(set(kinds)))
        raise LayerError(
            f"{path}: heat sources are points, one per plant, but this layer holds {found} "
            "geometries; give the plants' locations as a point layer or a CSV with lon, lat"
        )


def _rename(frame: pd.DataFrame) -> pd.DataFrame:
    lookup = {schema.normalize_text(a): name for name, aliases in ALIASES.items() for a in aliases}
    return frame.rename(columns=lambda c: lookup.get(schema.normalize_text(c), c))


SHIPPED = {
    "gppd": "gppd_coal_plants",
    "gppd_coal_plants": "gppd_coal_plants",
}
"""Heat-source layers shipped with the package, by the names a planner gives them."""
ATTRIBUTION = {
    "gppd_coal_plants": "Global Power Plant Database, World Resources Institute (CC BY 4.0)",
}


def resolve(path: str | Path) -> Path:
    """The file of a heat-source argument: a shipped layer's name (``gppd``) or a path."""
    text = str(path)
    if text in SHIPPED and not Path(text).exists():
        from spatial.datasets import get_path

        return get_path(SHIPPED[text])
    return Path(path)


def attribution(path: str | Path) -> str:
    """The attribution a shipped layer must carry wherever it is shown ('' for a planner's)."""
    from spatial.datasets import DATASETS

    resolved = resolve(path).resolve()
    for name, text in ATTRIBUTION.items():
        if DATASETS[name].resolve() == resolved:
            return text
    return ""


def load_heat_sources(path: str | Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read heat sources; every problem in the file is reported at once, naming the row.

    ``path``: a CSV/XLSX/point layer, or the name of a shipped layer (``gppd``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name``, ``kind`` (chp / industrial), ``capacity_mw``, WGS84 points.
    """
    path = resolve(path)
    try:
        frame, rows, _, _, layer_crs = read_table(path)
    except InputFileError as exc:
        raise LayerError(f"heat sources: {exc}") from None
    frame = _rename(frame)
    missing = [c for c in ("id", "kind", "capacity_mw") if c not in frame]
    if "__x__" not in frame and not {"lon", "lat"} <= set(frame.columns):
        missing += ["lon", "lat"]
    if missing:
        raise LayerError(
            f"{path}: heat sources need the columns {', '.join(missing)}; found "
            f"{', '.join(c for c in frame.columns if not str(c).startswith('__'))}"
        )
    if "__geommsg__" in frame:
        _check_points(frame, path)
    problems = []
    kind_lookup = {schema.normalize_text(v): k for k, vs in KINDS.items() for v in [k, *vs]}
    kinds = frame["kind"].map(lambda v: kind_lookup.get(schema.normalize_text(v)))
    capacity, _ = parse_numbers(frame["capacity_mw"])
    if "__x__" in frame:
        x, y = frame["__x__"].astype(float), frame["__y__"].astype(float)
    else:
        x, _ = parse_numbers(frame["lon"], degrees=True)
        y, _ = parse_numbers(frame["lat"], degrees=True)
    system = coords.normalize_coord_sys(crs or layer_crs or "wgs84")
    lon, lat = coords.to_wgs84(x.to_numpy(), y.to_numpy(), system)
    ok_xy = np.isfinite(lon) & np.isfinite(lat)
    inside = np.zeros(len(frame), dtype=bool)
    inside[ok_xy] = coords.in_china(lon[ok_xy], lat[ok_xy])
    for i, row in enumerate(rows):
        if pd.isna(kinds.iloc[i]):
            problems.append(f"row {row}, kind: {frame['kind'].iloc[i]!r} is not chp or industrial")
        if not np.isfinite(capacity.iloc[i]):
            problems.append(
                f"row {row}, capacity_mw: not a number ({frame['capacity_mw'].iloc[i]!r})"
            )
        elif capacity.iloc[i] <= 0:
            problems.append(
                f"row {row}, capacity_mw: {frame['capacity_mw'].iloc[i]} is not a capacity "
                "(give the installed capacity in MW, more than 0)"
            )
        if "__geommsg__" in frame and frame["__geommsg__"].iloc[i]:
            problems.append(f"row {row}, {frame['__geommsg__'].iloc[i]}")
        elif not inside[i]:
            problems.append(f"row {row}, lon/lat: missing or outside China")
    ids = frame["id"].map(lambda v: "" if pd.isna(v) else schema.normalize_text(v))
    for key, group in pd.Series(rows).groupby(ids.to_numpy()):
        if not key:
            problems += [f"row {r}, id: blank" for r in group]
        elif len(group) > 1:
            listed = ", ".join(str(r) for r in group)
            problems.append(
                f"rows {listed}, id: {frame['id'].iloc[group.index[0]]!r} is given "
                f"{len(group)} times; give each heat source one id"
            )
    if problems:
        raise LayerError(f"{path}: " + "; ".join(problems))
    names = frame["name"].astype(str) if "name" in frame else frame["id"].astype(str)
    return gpd.GeoDataFrame(
        {
            "id": frame["id"].astype(str).str.strip().to_numpy(),
            "name": names.to_numpy(),
            "kind": kinds.to_numpy(),
            "capacity_mw": capacity.to_numpy(),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=WGS84,
    )

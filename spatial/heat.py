"""Heat sources: CHP plants and industrial heat suppliers, from a CSV/XLSX with lon/lat or a
point layer (contract columns ``id``, ``name``, ``kind``, ``capacity_mw``).

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


def _rename(frame: pd.DataFrame) -> pd.DataFrame:
    lookup = {schema.normalize_text(a): name for name, aliases in ALIASES.items() for a in aliases}
    return frame.rename(columns=lambda c: lookup.get(schema.normalize_text(c), c))


def load_heat_sources(path: str | Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read heat sources; every problem in the file is reported at once, naming the row.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name``, ``kind`` (chp / industrial), ``capacity_mw``, WGS84 points.
    """
    path = Path(path)
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
        if not inside[i]:
            problems.append(f"row {row}, lon/lat: missing or outside China")
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

"""The screening GeoPackage: every layer written to a temporary file, then renamed into place."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from spatial.config import DEFAULT_OUTPUT_CRS
from spatial.export.atomic import atomic_path

GPKG_OPTIONS = {"VERSION": "1.2"}  # QGIS 3.22's GDAL warns on 1.3/1.4 files


def _prepare(frame: pd.DataFrame, crs: str) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
        return frame.to_crs(crs) if frame.crs is not None else frame.set_crs(crs)
    return pd.DataFrame(frame)


def write_gpkg(
    layers: dict[str, pd.DataFrame], path: str | Path, crs: str = DEFAULT_OUTPUT_CRS
) -> Path:
    """Write layers (GeoDataFrames) and tables (DataFrames) into one GeoPackage, atomically.

    Parameters
    ----------
    layers
        Layer name → frame, in the order they should appear. A GeoDataFrame becomes a spatial
        layer reprojected to ``crs``; a plain DataFrame an attribute table.
    path
        The GeoPackage to write; replaced only when every layer has been written.
    crs
        CRS of the spatial layers (default CGCS2000, EPSG:4490).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            pyogrio.write_dataframe(
                _prepare(frame, crs),
                tmp,
                layer=name,
                driver="GPKG",
                dataset_options=GPKG_OPTIONS,
                append=False,
            )
    return path

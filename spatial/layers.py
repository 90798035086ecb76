"""Other context layers a rule can name (ecological zones, urban function areas, roads ...).

Any vector file GDAL reads, in any CRS, with a name column (``name``, ``名称``) or an ``id``;
returned in WGS84 with a ``name`` for every feature, so decisions can say which feature was near.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from spatial import schema
from spatial.errors import LayerError

NAME_ALIASES = ("name", "名称", "name_zh", "id", "编号")


def load_context_layer(path: str | Path, name: str) -> gpd.GeoDataFrame:
    """Read a context layer given as ``--layer NAME=FILE``.

    Parameters
    ----------
    path
        A vector file (GeoPackage, Shapefile, GeoJSON ...) with a CRS.
    name
        The layer's name as the rule tables use it (``eco_zones``, ``trunk_roads`` ...).
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (layer {name!r})")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # GDAL raises several types for unreadable data
        raise LayerError(f"{path}: cannot read layer {name!r} ({exc})") from None
    if gdf.crs is None:
        raise LayerError(f"{path}: layer {name!r} has no CRS; define it (e.g. EPSG:4490)")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        raise LayerError(f"{path}: layer {name!r} has no features")
    wanted = {schema.normalize_text(a) for a in NAME_ALIASES}
    label = next((c for c in gdf.columns if schema.normalize_text(c) in wanted), None)
    names = (
        gdf[label].astype(str) if label else gdf.index.map(lambda i: f"{name}-{i + 1}").astype(str)
    )
    out = gpd.GeoDataFrame({"name": names.to_numpy()}, geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs("EPSG:4326").reset_index(drop=True)

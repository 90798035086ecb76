"""Built-up areas (建成区): named polygons in WGS84, one (multi)polygon per area.

This module reads official polygon layers (GeoPackage, Shapefile, GeoJSON in any CRS).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from spatial import schema
from spatial.errors import LayerError

WGS84 = "EPSG:4326"
NAME_ALIASES = ("name", "名称", "建成区", "建成区名称", "城市", "县", "区县", "name_zh")
LEVEL_ALIASES = ("level", "级别", "等级", "层级")
LEVEL_CODES = {"city": "city", "市": "city", "地级市": "city", "county": "county", "县": "county"}


def _find_column(frame: pd.DataFrame, aliases: tuple[str, ...]) -> str | None:
    wanted = {schema.normalize_text(a) for a in aliases}
    for column in frame.columns:
        if schema.normalize_text(column) in wanted:
            return column
    return None


def load_builtup_polygons(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read built-up polygons, repair them and dissolve parts by area name.

    Parameters
    ----------
    path
        A polygon layer in any CRS with a name column (``name`` or ``名称``) and optionally a
        ``level`` column (city / county; default county).
    layer
        The layer to read from a multi-layer file (default: the first).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``level``, ``source``, ``source_detail``, ``n_repaired`` (how many input
        parts needed repair), geometry in EPSG:4326.
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (built-up areas)")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # GDAL raises several types for unreadable data
        raise LayerError(f"{path}: cannot read the built-up layer ({exc})") from None
    if gdf.crs is None:
        raise LayerError(f"{path}: the built-up layer has no CRS; define it (e.g. EPSG:4490)")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    polygonal = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if gdf.empty or not polygonal.any():
        raise LayerError(f"{path}: the built-up layer has no polygons")
    gdf = gdf[polygonal]
    name_col = _find_column(gdf, NAME_ALIASES)
    if name_col is None:
        raise LayerError(
            f"{path}: the built-up layer has no name column; add 'name' (or 名称) with the city or "
            f"county of each area. Columns found: {', '.join(map(str, gdf.columns))}"
        )
    level_col = _find_column(gdf, LEVEL_ALIASES)
    invalid = ~gdf.geometry.is_valid
    geoms = gdf.geometry.where(~invalid, shapely.make_valid(gdf.geometry.values))
    frame = gpd.GeoDataFrame(
        {
            "name": gdf[name_col].astype(str).str.strip(),
            "level": (
                gdf[level_col].astype(str).str.strip().map(LEVEL_CODES).fillna("county")
                if level_col
                else "county"
            ),
            "repaired": invalid.astype(int),
        },
        geometry=geoms,
        crs=gdf.crs,
    ).to_crs(WGS84)
    frame["geometry"] = frame.geometry.map(
        lambda g: shapely.union_all([p for p in getattr(g, "geoms", [g]) if p.area > 0])
    )
    dissolved = frame.dissolve(by="name", aggfunc={"level": "first", "repaired": "sum"})
    dissolved = dissolved.reset_index().rename(columns={"repaired": "n_repaired"})
    dissolved["source"] = "polygons"
    dissolved["source_detail"] = path.name
    return dissolved[["name", "level", "source", "source_detail", "n_repaired", "geometry"]]


def load_builtup(path: str | Path) -> gpd.GeoDataFrame:
    """Built-up areas from any supported source (today: polygon layers)."""
    return load_builtup_polygons(path)

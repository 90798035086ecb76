"""``spatial screen``: screen an enterprise inventory."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.options import as_date, as_of_option, out_option, run_and_report
from spatial.config import RunConfig

_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option(
    "--enterprises",
    required=True,
    type=_file,
    help="The enterprise list: CSV (UTF-8 or GBK), Excel .xlsx, GeoPackage or GeoJSON. Chinese "
    "headers such as 企业名称, 经度, 纬度, 行业 are understood.",
)
@click.option(
    "--crs",
    default=None,
    help="Coordinate system of the enterprise coordinates: wgs84 (GPS), cgcs2000, gcj02 "
    "(Amap/高德, Tencent), bd09 (Baidu) or an EPSG code. Default: wgs84, or the layer's CRS. "
    "A 'coord_sys' column overrides it row by row.",
)
@click.option(
    "--builtup",
    required=True,
    type=_file,
    help="Built-up areas (建成区) as polygons with a 'name' column (city or county).",
)
@click.option(
    "--heat-sources",
    type=_file,
    default=None,
    help="Heat sources (CHP plants, industrial heat suppliers): CSV with lon/lat or a point "
    "layer with id, name, kind, capacity_mw.",
)
@click.option(
    "--zones",
    type=_file,
    default=None,
    help="Dingxiang rectification zones: a ready zone layer or the zone source geometries.",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    help="A policy to apply, by id (e.g. jinzhong-2019) or as a path to your own YAML rule "
    "table. Repeat for several. Default: every shipped policy.",
)
@as_of_option
@out_option
def screen(enterprises, crs, builtup, heat_sources, zones, policies, as_of, out) -> None:
    """Screen enterprises: check the inventory, measure distances, apply the policies.

    Every input row ends up either in the 'enterprises' layer or in the 'rejected' table of
    screening.gpkg, with the reason it was refused.
    """
    if out is None:
        raise click.UsageError("give --out, the folder to write the results into")
    config = RunConfig(
        enterprises=enterprises,
        out=out,
        builtup=builtup,
        crs=crs,
        heat_sources=heat_sources,
        zones=zones,
        policies=tuple(policies),
        as_of=as_date(as_of),
    )
    run_and_report(config)

"""``spatial zones build``: the Dingxiang phase zones from their source geometries, as a ready
layer for GIS staff to check (and edit) in QGIS, then pass to ``spatial screen --zones``."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.errors import SpatialError
from spatial.export.gpkg import write_zones
from spatial.zones import (
    DEFAULT_TABLE,
    ZONE_LAYER,
    build_zones,
    load_zone_table,
    read_sources,
)

_file = click.Path(exists=True, dir_okay=False, path_type=Path)
_metres = click.FloatRange(min=0.0, min_open=True)


@click.group()
def zones() -> None:
    """Dingxiang phased rectification zones (忻州市特色产业集群综合整治方案 §二(二))."""


@zones.command()
@click.argument("sources", type=_file)
@click.option(
    "--osm",
    type=_file,
    default=None,
    help="OpenStreetMap XML (.osm) to take the ring road (三环路) from, instead of the "
    "'ring_road' layer of SOURCES.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The GeoPackage to write (layer '{ZONE_LAYER}', EPSG:4490); replaced atomically.",
)
@click.option(
    "--policy",
    default=DEFAULT_TABLE,
    show_default=True,
    help="The policy table with the phases and areas (id or path of your own YAML).",
)
@click.option(
    "--corridor-m",
    type=_metres,
    default=None,
    help="Half-width of the 机场大道 corridor on each side, geodesic metres. Default: the "
    "table's corridor_half_width_m (200).",
)
@click.option(
    "--village-radius-m",
    type=_metres,
    default=None,
    help="Radius around a village point when the village has no polygon, geodesic metres. "
    "Default: the table's village_radius_m (500).",
)
@click.option(
    "--ring-snap-m",
    type=_metres,
    default=None,
    help="Largest gap between ring-road lines closed by snapping, geodesic metres. Default: "
    "the table's ring_snap_tolerance_m (50).",
)
def build(sources, osm, out, policy, corridor_m, village_radius_m, ring_snap_m) -> None:
    """Build the zones from SOURCES (a GeoPackage with layers cluster, villages, village_areas,
    townships, ring_road, airport_avenue; a 'name' column on each) and write them to --out.

    Example (in the project folder): 'spatial zones build
    spatial/data/demo/dingxiang_sources.gpkg --osm spatial/data/demo/region.osm --out zones.gpkg'.
    """
    try:
        table = load_zone_table(policy)
        options = table.defaults.replace(
            corridor_half_width_m=corridor_m,
            village_radius_m=village_radius_m,
            ring_snap_tolerance_m=ring_snap_m,
        )
        built = build_zones(read_sources(sources, osm=osm, table=table), table, options)
        write_zones(built, out)
    except SpatialError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(built)} zones written to {out} (layer {ZONE_LAYER}):")
    for row in built.itertuples(index=False):
        click.echo(
            f"  phase {row.phase} {row.start}..{row.end}  {row.area_name} ({row.kind}, "
            f"{row.area_km2:.2f} km²): {row.built_from}"
        )

"""The ``spatial`` command. Each sub-command is a small module that parses its options,
calls one library function and turns :class:`~spatial.errors.SpatialError` into a clean exit.
"""

from __future__ import annotations

import click

from spatial._version import __version__
from spatial.cli.check import check
from spatial.cli.demo import demo
from spatial.cli.screen import screen
from spatial.cli.zones import zones


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spatial")
def main() -> None:
    """Screen enterprises against winter production-control policies (错峰生产筛查).

    Typical use: 'spatial screen --enterprises plants.csv --builtup builtup.gpkg --out results'.
    Try 'spatial demo' first to see the whole screening on the shipped demo region.
    """


main.add_command(screen)
main.add_command(demo)
main.add_command(zones)
main.add_command(check)

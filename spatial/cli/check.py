"""``spatial check``: validate an inventory without screening it."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.check import check_inventory
from spatial.cli.options import crs_option


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@crs_option
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Rows listed per problem; 0 lists all.",
)
def check(file, crs, max_rows) -> None:
    """Check an enterprise inventory (CSV, XLSX, GeoPackage, GeoJSON) without screening it.

    Prints, in Chinese and English, every row that 'spatial screen' would reject, grouped by
    reason, with the column and value to fix, so a county office can correct its sheet.
    Exit code: 0 the file is clean, 1 some rows would be rejected, 2 the file cannot be used.
    """
    report = check_inventory(file, crs=crs)
    click.echo(report.text(max_rows=max_rows))
    click.get_current_context().exit(report.exit_code)

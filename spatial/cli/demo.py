"""``spatial demo``: the whole screening on the shipped demo region."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.options import as_date, as_of_option, run_and_report
from spatial.errors import SpatialError
from spatial.pipeline import demo_config


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs/demo"),
    show_default=True,
    help="Folder to write the demo outputs into.",
)
@as_of_option
def demo(out, as_of) -> None:
    """Run the screening on the demo region (Jinzhong and Xinzhou, illustrative data)."""
    try:
        config = demo_config(out, as_of=as_date(as_of))
    except SpatialError as exc:
        raise click.ClickException(str(exc)) from None
    run_and_report(config)

"""Options and helpers shared by the sub-commands (defined once)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from spatial.config import RunConfig
from spatial.errors import SpatialError
from spatial.pipeline import run
from spatial.progress import terminal

out_option = click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write screening.gpkg, run.json and the other outputs into (created if "
    "missing).",
)
crs_option = click.option(
    "--crs",
    default=None,
    help="Coordinate system of the enterprise coordinates: wgs84 (GPS), cgcs2000, gcj02 "
    "(Amap/高德, Tencent), bd09 (Baidu) or an EPSG code. Default: wgs84, or the layer's CRS. "
    "A 'coord_sys' column overrides it row by row.",
)
as_of_option = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Evaluate deadlines and phase status on this date (YYYY-MM-DD). Default: today.",
)


def echo_progress(step: int, total: int, text: str) -> None:
    """Print counted steps to stderr, so stdout stays clean for the summary (the CLI itself
    uses :func:`spatial.progress.terminal`: these lines, and bars on a terminal)."""
    click.echo(f"[{step}/{total}] {text}", err=True)


def run_and_report(config: RunConfig) -> None:
    """Run the pipeline, print the summary, and exit cleanly on a user error."""

    def warn(text: str) -> None:
        click.echo(f"warning: {text}", err=True)

    try:
        result = run(config, progress=terminal(), warn=warn)  # the engine is config.engine
    except SpatialError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.summary())


def as_date(value: dt.datetime | None) -> dt.date:
    """The --as-of date, or today."""
    return value.date() if value else dt.date.today()


def parse_layers(values: tuple[str, ...]) -> tuple[tuple[str, Path], ...]:
    """``NAME=FILE`` pairs from ``--layer``; a clear usage error for anything else."""
    from spatial.pipeline import RESERVED_LAYERS

    pairs: list[tuple[str, Path]] = []
    for value in values:
        name, sep, path = value.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise click.BadParameter(f"should be NAME=FILE, got {value!r}", param_hint="--layer")
        if name in RESERVED_LAYERS:
            option = {"builtup": "--builtup", "heat_sources": "--heat-sources"}
            raise click.BadParameter(
                f"'{name}' is the layer of {option.get(name, '--zones')}; give that file "
                "there, or call this layer by another name",
                param_hint="--layer",
            )
        if name in dict(pairs):
            raise click.BadParameter(
                f"{name!r} is given twice; give each layer once", param_hint="--layer"
            )
        if not Path(path).exists():
            raise click.BadParameter(f"{path}: no such file", param_hint="--layer")
        pairs.append((name, Path(path)))
    return tuple(pairs)

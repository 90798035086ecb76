"""Find the bundled demo data (the files ``python -m spatial.demo`` writes to ``data/demo``)."""

from __future__ import annotations

from pathlib import Path

from spatial.errors import InputFileError

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"


def get_path(name: str) -> Path:
    """The path of a demo file, e.g. ``get_path("enterprises.csv")``.

    >>> get_path("builtup.gpkg").name
    'builtup.gpkg'
    """
    path = DEMO_DIR / name
    if not path.exists():
        available = sorted(p.name for p in DEMO_DIR.glob("*")) if DEMO_DIR.exists() else []
        raise InputFileError(
            f"no demo file {name!r} in {DEMO_DIR}; available: {', '.join(available) or 'none'}. "
            "Regenerate the demo with 'python -m spatial.demo'"
        )
    return path

"""The demo data shipped inside the package (``spatial/data/demo``), found wherever it is installed.

Like ``momepy.datasets.get_path``: a checkout, an editable install and a wheel installed into
any environment all answer with the files inside the installed package, so ``spatial demo`` and
the notebooks work from any folder. The files are written by the development tool
``tools/demo.py`` (in the project's repository, not in the package).
"""

from __future__ import annotations

from pathlib import Path

from spatial.errors import InputFileError

__all__ = ["DATASETS", "DEMO_DIR", "available", "get_path"]

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"
DATASETS = {
    "gppd_coal_plants": Path(__file__).resolve().parent / "data" / "heat" / "gppd_coal_plants.csv",
}
"""Real data shipped with the package, by name: ``gppd_coal_plants`` — the coal plants of China
of the WRI Global Power Plant Database (CC BY 4.0) as a heat-source layer (its licence,
attribution and what it does not know: ``spatial/data/heat/README.md``)."""


def available() -> list[str]:
    """The names of the shipped demo files (the real datasets are :data:`DATASETS`).

    >>> "enterprises.csv" in available()
    True
    """
    return sorted(p.name for p in DEMO_DIR.iterdir()) if DEMO_DIR.is_dir() else []


def get_path(name: str) -> Path:
    """The path of a demo file or a shipped dataset, e.g. ``get_path("enterprises.csv")`` or
    ``get_path("gppd_coal_plants")``.

    >>> get_path("builtup.gpkg").relative_to(DEMO_DIR.parent.parent).as_posix()
    'data/demo/builtup.gpkg'
    >>> get_path("gppd_coal_plants").name
    'gppd_coal_plants.csv'
    """
    path = DATASETS.get(name, DEMO_DIR / name)
    if not path.is_file():
        raise InputFileError(
            f"no demo file or dataset {name!r} in {DEMO_DIR}; available: "
            f"{', '.join(available() + sorted(DATASETS)) or 'none'} "
            "(the package was installed without its data: reinstall spatial-screening)"
        )
    return path

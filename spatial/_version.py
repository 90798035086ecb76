"""The installed version of spatial-screening (from the package metadata, one source: pyproject)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spatial-screening")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

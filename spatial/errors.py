"""Errors a user can fix. Every message says what was wrong and what to do about it.

The CLI turns any :class:`SpatialError` into a clean exit with its message; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class SpatialError(ValueError):
    """Base class of every error caused by the user's input or options."""


class InputFileError(SpatialError):
    """An input file cannot be read or lacks what the data contract requires."""


class CoordinateSystemError(SpatialError):
    """A coordinate system name or EPSG code is not understood."""


class PolicyTableError(SpatialError):
    """A policy rule table is malformed."""


class LayerError(SpatialError):
    """A context layer (built-up areas, heat sources, zones) is unusable."""


class OutputError(SpatialError):
    """An output cannot be written (folder locked, not writable)."""


class InputWarning(UserWarning):
    """An input was read with a change or an omission the user must know about (an unnamed
    built-up polygon, layers of a file not read); the pipeline reports it and keeps it in
    ``run.json``."""

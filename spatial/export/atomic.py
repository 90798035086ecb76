"""Write a file under a temporary name in the same folder, then rename it into place.

A reader never sees a half-written file: either the previous complete file or the new one.
An exception raised while writing carries the target as ``output_target`` (for the message of
:mod:`spatial.export.transaction`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``.

    On any error the temporary file is removed and ``target`` is left as it was.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('done', ['a.txt'])
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp{target.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, target)
    except Exception as exc:
        # which output failed, for the message of spatial.export.transaction (the temporary
        # file is gone by then)
        with contextlib.suppress(AttributeError, TypeError):
            exc.output_target = target
        raise
    finally:
        tmp.unlink(missing_ok=True)

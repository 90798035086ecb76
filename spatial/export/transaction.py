"""A run's outputs as one transaction: written into a staging folder, swapped in at the end.

``run.json`` always describes the files beside it: a run writes every output into
``OUT/.spatial-staging.<pid>/`` (``run.json`` last, listing every file in ``files``) and only
then swaps the set in:

1. the previous ``run.json`` is moved aside into ``OUT/.spatial-previous.<pid>/`` first, so from
   here until step 3 the folder holds no record that could describe a mix;
2. the previous outputs (the files its ``run.json`` lists) are moved aside too: those this run
   replaces, and those it did not write (old figures after ``--no-figures``: stale outputs
   never stay beside a record that does not list them);
3. the new files are renamed into place, ``run.json`` last (renames within one folder: no copy,
   no extra space);
4. the previous outputs and both hidden folders are deleted.

A run that fails before step 1 (a bad option, bad input, a full disk while writing) leaves the
previous outputs as they were and removes its staging folder. A run killed during the swap
leaves a complete staging folder: the next run into the folder finishes that swap first (roll
forward), with a warning.

What the tool deletes, it can prove it created: only folders named ``.spatial-staging.<pid>`` /
``.spatial-previous.<pid>`` holding the tool's owner record (``.spatial-owner``: pid, host, start
time) of a process that no longer runs, and only files a ``run.json`` of this tool lists, inside
the output folder. An output folder must be new, empty, or a previous output folder of this
tool (its ``run.json``, lock or staging folder): any other folder (``--out /``, a home folder, a
folder of documents) is refused before anything is read or written.

Disk full and other OS errors while writing end in one :class:`~spatial.errors.OutputError`
naming the file, the folder, the space free and the space the outputs need (see
:func:`estimate_output_bytes`); the previous outputs stay.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from spatial.errors import OutputError
from spatial.lock import LOCK_NAME, TEMP_PATTERN, pid_alive, process_start_ticks

TOOL = "spatial-screening"
RECORD = "run.json"
STAGING_PREFIX = ".spatial-staging."
PREVIOUS_PREFIX = ".spatial-previous."
OWNER_FILE = ".spatial-owner"
# files a desktop puts into any folder; they do not make a folder someone else's
IGNORABLE = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# measured: 3 enterprises 0.68 MB without figures (map.html 0.36 MB of it); the demo (2,098
# enterprises, 13 counties) 5.9 MB without figures, figures 0.5 MB per county (PNG + PDF).
# Rounded up for the estimate of estimate_output_bytes.
BASE_BYTES = 1 << 20
BYTES_PER_ENTERPRISE = 2500
FIGURE_BYTES = 600 << 10

Warn = Callable[[str], None]


def _internal(name: str) -> bool:
    """Names the tool uses for itself inside an output folder (never outputs)."""
    return (
        name in (LOCK_NAME, LOCK_NAME + ".takeover", OWNER_FILE)
        or name.startswith((STAGING_PREFIX, PREVIOUS_PREFIX))
        or TEMP_PATTERN.match(name) is not None
    )


def read_record(folder: Path) -> dict | None:
    """The ``run.json`` of a folder if this tool wrote it, else None."""
    try:
        data = json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        return None
    return data


def _inside(folder: Path, relative: str) -> bool:
    """Whether ``relative`` names a path strictly inside ``folder`` (no '..', not absolute)."""
    path = Path(relative)
    if path.is_absolute() or not path.parts or ".." in path.parts:
        return False
    return not _internal(path.parts[0])


def recorded_files(folder: Path, record: dict | None = None) -> list[str]:
    """The files (relative, '/'-separated) a ``run.json`` of this tool says it wrote.

    ``files`` where the record lists them; for records of older versions, every file under
    the names of ``outputs`` (a file, or a folder such as ``figures``). Names that would
    leave the folder are ignored.
    """
    folder = Path(folder)
    record = read_record(folder) if record is None else record
    if not record:
        return []
    listed = record.get("files")
    names: list[str] = []
    if isinstance(listed, list):
        names = [str(n) for n in listed if isinstance(n, str)]
    else:
        for name in (record.get("outputs") or {}).values():
            if not isinstance(name, str) or not _inside(folder, name):
                continue
            path = folder / name
            if path.is_dir():
                names += [p.relative_to(folder).as_posix() for p in path.rglob("*") if p.is_file()]
            else:
                names.append(name)
    names.append(RECORD)
    return sorted({n for n in names if _inside(folder, n)})


def staged_files(folder: Path) -> list[str]:
    """Every file under a staging folder (relative, '/'-separated), without the tool's own."""
    folder = Path(folder)
    files = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and not any(_internal(part) for part in relative.parts):
            files.append(relative.as_posix())
    return sorted(files)


# --------------------------------------------------------------------------------------------
# Whose folder is it


def claim_folder(out: Path) -> None:
    """Refuse an output folder this tool may not write into.

    Allowed: a folder that does not exist yet, an empty one, or one this tool wrote into
    before (its ``run.json``, its lock, or one of its staging folders).

    Raises
    ------
    OutputError
        For a file, or a folder with other content.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; give a folder for the outputs")
    if not out.exists():
        return
    try:
        entries = [p.name for p in out.iterdir() if p.name not in IGNORABLE]
    except OSError as exc:
        raise OutputError(f"cannot read the output folder {out}: {exc.strerror}") from None
    if not entries:
        return
    if read_record(out) is not None or LOCK_NAME in entries:
        return
    if any(_owner(out / name) for name in entries if name.startswith(STAGING_PREFIX)):
        return
    shown = ", ".join(sorted(entries)[:3]) + (" ..." if len(entries) > 3 else "")
    raise OutputError(
        f"--out {out} already holds other files ({shown}) and is not an output folder of this "
        "tool (it has no run.json written by spatial-screening); nothing was written. Give a "
        f"new or empty folder, e.g. --out {out / 'screening'}"
    )


# --------------------------------------------------------------------------------------------
# Owner records of the hidden folders


def _owner_record() -> dict:
    return {
        "tool": TOOL,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "start_ticks": process_start_ticks(),
    }


def _owner(folder: Path) -> dict | None:
    """The owner record of one of the tool's hidden folders, or None if it has none."""
    try:
        data = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        return None
    return data


def _dead_owner(folder: Path) -> bool:
    """Whether a hidden folder carries this tool's record of a process gone from this host."""
    owner = _owner(folder)
    if owner is None or owner.get("host") != socket.gethostname():
        return False
    try:
        pid = int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    return pid != os.getpid() and not pid_alive(pid, owner.get("start_ticks"))


def _make_owned(folder: Path) -> None:
    folder.mkdir()
    (folder / OWNER_FILE).write_text(json.dumps(_owner_record()) + "\n", encoding="utf-8")


def _remove_owned(folder: Path) -> None:
    """Delete one of the tool's hidden folders: only with its owner record inside."""
    if folder.is_dir() and _owner(folder) is not None:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The swap


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _prune_empty(folder: Path, relatives: list[str]) -> None:
    """Remove the folders of ``relatives`` under ``folder`` that are now empty (deepest first)."""
    parents = {p for r in relatives for p in Path(r).parents if p != Path(".")}
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            (folder / parent).rmdir()  # only if empty


def _swap(out: Path, staging: Path, previous: Path) -> None:
    """Steps 1-4 of the module notes; safe to run again after an interruption (roll forward)."""
    if not previous.exists():
        _make_owned(previous)
    new_record = read_record(staging)
    if new_record is not None:  # steps 1-3 not finished
        new = set(recorded_files(staging, new_record))
        old_record = read_record(out) if (out / RECORD).exists() else None
        if old_record is not None:
            _move(out / RECORD, previous / RECORD)
        old = recorded_files(previous) if (previous / RECORD).exists() else []
        retired = []
        for name in old:
            if name == RECORD:
                continue
            # replaced (its new version still waits in staging) or stale (not written now)
            if (out / name).is_file() and (name not in new or (staging / name).exists()):
                _move(out / name, previous / name)
                retired.append(name)
        for name in sorted(new - {RECORD}):
            if (staging / name).exists():
                _move(staging / name, out / name)
        _move(staging / RECORD, out / RECORD)
        _prune_empty(out, [n for n in old if n not in new])
    _remove_owned(previous)
    _remove_owned(staging)


def recover(out: Path, warn: Warn) -> list[str]:
    """Finish or discard what killed runs left in ``out`` (call holding its lock).

    A complete staging folder whose swap had begun is swapped in (roll forward); any other
    staging folder of a dead run is deleted. Returns what was done, in words.
    """
    out = Path(out)
    done = []
    try:
        entries = sorted(out.iterdir())
    except OSError:
        return done
    for path in entries:
        if not path.name.startswith(STAGING_PREFIX) or not path.is_dir():
            continue
        if _owner(path) is None:
            with contextlib.suppress(OSError):
                path.rmdir()  # killed before writing its record: empty
            continue
        if not _dead_owner(path):
            continue
        pid = path.name[len(STAGING_PREFIX) :]
        previous = out / f"{PREVIOUS_PREFIX}{pid}"
        if previous.is_dir() and read_record(path) is not None:
            _swap(out, path, previous)
            done.append(f"finished swapping in the outputs of run {pid}, which was interrupted")
        else:
            _remove_owned(path)
            done.append(f"removed the unfinished outputs of run {pid}, which was interrupted")
    for path in entries:
        if path.name.startswith(PREVIOUS_PREFIX) and path.is_dir() and path.exists():
            staging = out / f"{STAGING_PREFIX}{path.name[len(PREVIOUS_PREFIX) :]}"
            if not staging.exists() and _dead_owner(path) and (out / RECORD).exists():
                _remove_owned(path)
    for text in done:
        warn(f"{out}: {text}")
    return done


# --------------------------------------------------------------------------------------------
# Errors while writing

try:  # GDAL's errors through pyogrio (a failed commit on a full disk has no errno)
    from pyogrio.errors import DataLayerError, DataSourceError

    _LIBRARY_ERRORS: tuple[type[BaseException], ...] = (
        DataSourceError,
        DataLayerError,
        sqlite3.Error,
    )
except ImportError:  # pragma: no cover - pyogrio is a dependency
    _LIBRARY_ERRORS = (sqlite3.Error,)


def estimate_output_bytes(n_enterprises: int, counties: int = 0, figures: bool = True) -> int:
    """A generous estimate of the size of a run's outputs (for the message on a full disk)."""
    size = BASE_BYTES + BYTES_PER_ENTERPRISE * max(0, n_enterprises)
    if figures:
        size += FIGURE_BYTES * (1 + max(0, counties))
    return size


def _size(folder: Path, names: list[str]) -> int:
    total = 0
    for name in names:
        with contextlib.suppress(OSError):
            total += (folder / name).stat().st_size
    return total


def _mb(size: float) -> str:
    return f"{size / 2**20:.1f} MB" if size < 2**30 else f"{size / 2**30:.2f} GB"


def _target_name(path: Path, staging: Path) -> str:
    """The output a file under staging belongs to (a writer's temporary name mapped back)."""
    match = TEMP_PATTERN.match(path.name)
    name = match["name"] if match else path.name
    try:
        return (path.parent.relative_to(staging) / name).as_posix()
    except ValueError:
        return name


class OutputTransaction:
    """The staging folder of one run; see :func:`output_transaction`."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.folder = self.out / f"{STAGING_PREFIX}{os.getpid()}"
        self.previous = self.out / f"{PREVIOUS_PREFIX}{os.getpid()}"
        self.committed = False
        self.needed_bytes = 0

    def open(self) -> OutputTransaction:
        _remove_owned(self.folder)  # a leftover of this very pid (not possible while alive)
        _remove_owned(self.previous)
        try:
            _make_owned(self.folder)
        except OSError as exc:
            raise self.error(exc, "the staging folder") from None
        return self

    def path(self, target: Path) -> Path:
        """Where the run writes ``target`` (a path in the output folder) while staging."""
        return self.folder / Path(target).relative_to(self.out)

    def final(self, staged: Path) -> Path:
        """Where a staged path ends up after the swap."""
        try:
            return self.out / Path(staged).relative_to(self.folder)
        except ValueError:
            return Path(staged)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Turn an OS error of the writers (disk full, quota, permissions) into one
        :class:`~spatial.errors.OutputError`; a GDAL/SQLite error too when the disk is (nearly)
        full. Anything else keeps its traceback."""
        try:
            yield
        except OSError as exc:
            raise self.error(exc) from None
        except _LIBRARY_ERRORS as exc:
            if self._free() > max(self.needed_bytes, BASE_BYTES):
                raise  # not for lack of space: a bug, with its traceback
            raise self.error(exc) from None

    def _free(self) -> int:
        try:
            return shutil.disk_usage(self.out).free
        except OSError:
            return 0

    def _failed_file(self, exc: BaseException) -> str:
        filename = getattr(exc, "output_target", None) or getattr(exc, "filename", None)
        if filename:
            return _target_name(Path(filename), self.folder)
        try:
            newest = max(
                (p for p in self.folder.rglob("*") if p.is_file() and p.name != OWNER_FILE),
                key=lambda p: p.stat().st_mtime_ns,
            )
        except (ValueError, OSError):
            return "the outputs"
        return _target_name(newest, self.folder)

    def error(self, exc: BaseException, what: str | None = None) -> OutputError:
        """The message for a failed write, after the staging folder is removed."""
        what = what or self._failed_file(exc)
        self.discard()
        previous = recorded_files(self.out)
        need = max(self.needed_bytes, _size(self.out, previous))
        free = self._free()
        code = getattr(exc, "errno", None)
        full = code in (errno.ENOSPC, errno.EDQUOT) or (not isinstance(code, int) and free < need)
        if full:
            cause = "the disk is full" if code != errno.EDQUOT else "the disk quota is used up"
            advice = (
                f"the outputs need about {_mb(need)} and {_mb(free)} are free there; free some "
                "space or choose another --out on a disk with room"
            )
        else:
            cause = os.strerror(code) if isinstance(code, int) else f"{type(exc).__name__}: {exc}"
            advice = "check that the folder is writable and the disk is healthy"
        kept = (
            f"The previous outputs in {self.out} are unchanged."
            if previous
            else "Nothing was left in the folder."
        )
        return OutputError(f"writing {what} into {self.out} failed: {cause}; {advice}. {kept}")

    def commit(self) -> None:
        """Swap the staged outputs in (the staging folder must hold the new ``run.json``)."""
        if read_record(self.folder) is None:
            raise RuntimeError(f"{self.folder} holds no run.json: nothing to commit")
        try:
            _swap(self.out, self.folder, self.previous)
        except OSError as exc:
            raise OutputError(
                f"swapping the new outputs into {self.out} failed ({exc.strerror}: "
                f"{exc.filename}); the new outputs are complete in {self.folder} and the "
                f"previous ones in {self.previous}: the next run into the folder finishes the "
                "swap, or move the files by hand"
            ) from None
        self.committed = True

    def discard(self) -> None:
        """Delete the staging folder (the previous outputs are untouched)."""
        for _ in range(3):  # a writer may still be closing a file
            _remove_owned(self.folder)
            if not self.folder.exists():
                return
            time.sleep(0.05)


@contextlib.contextmanager
def output_transaction(out: str | Path, *, warn: Warn | None = None) -> Iterator[OutputTransaction]:
    """Hold the output folder's lock and a staging folder for the duration of a run.

    The caller writes into ``tx.folder`` (inside :meth:`OutputTransaction.writing`) and calls
    :meth:`OutputTransaction.commit`; on any error, or without a commit, the staging folder is
    removed and the previous outputs stay.

    Raises
    ------
    OutputError
        The folder is not the tool's (see :func:`claim_folder`), another run holds it, or it
        cannot be written.
    """
    from spatial.lock import output_lock

    out = Path(out)
    claim_folder(out)
    with output_lock(out, warn=warn) as lock:
        recover(out, lock.warn)
        tx = OutputTransaction(out).open()
        try:
            yield tx
        finally:
            if not tx.committed:
                tx.discard()

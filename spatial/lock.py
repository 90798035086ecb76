"""One run at a time per output folder, and no temporary files left behind by a killed run.

:func:`output_lock` creates ``.spatial.lock`` in the output folder with ``O_CREAT | O_EXCL``
(atomic: of two runs starting together exactly one creates it) and writes the owner into it as
JSON: pid, host, start time and the start time of the process as the kernel counts it (so a
reused pid is not mistaken for the owner). The lock is removed when the run ends, whatever way
it ends, except when the process is killed outright (SIGKILL, power cut): then the next run finds
a lock whose pid is dead on this host, takes it over and warns.

A lock held by a live process, or by any process on another host (its liveness cannot be
checked from here), refuses the run with :class:`~spatial.errors.OutputError`::

    another run is writing to out/ (pid 4242 on this host since 2024-11-24 07:40:12); wait for
    it or choose another --out

Holding the lock, the run also removes the temporary files that
:func:`spatial.export.atomic.atomic_path` leaves when a writer dies mid-file
(``.screening.gpkg.4242.tmp.gpkg`` and SQLite's ``-journal``/``-wal``/``-shm`` beside it) whose
pid is no longer running, and only those of the tool's own outputs (``screening.gpkg``,
``lists.xlsx``, ``map.html``, ``run.json`` and the names the folder's ``run.json`` lists): a
user's ``.thesis.docx.99999.tmp`` is never touched. (Runs now write into a staging folder, see
:mod:`spatial.export.transaction`; this clears what older versions left.)

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp()) / "out"
>>> with output_lock(folder) as lock:
...     (folder / "run.json").write_text("{}") and lock.path.exists()
True
>>> lock.path.exists()
False
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spatial.errors import OutputError

LOCK_NAME = ".spatial.lock"
TAKEOVER_SUFFIX = ".takeover"
# atomic_path's temporary names: .<name>.<pid>.tmp<suffix>, plus SQLite's side files
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp(?P<suffix>[^/]*)$")
UNREADABLE_LOCK_GRACE_S = 10.0  # a lock file without content is being written, unless older
TAKEOVER_GRACE_S = 30.0  # a take-over guard older than this was left by a killed process

Warn = Callable[[str], None]


class StaleLockWarning(UserWarning):
    """A lock or temporary files left by a run that no longer exists were cleaned up."""


def _warn(message: str) -> None:
    warnings.warn(message, StaleLockWarning, stacklevel=4)


def _hostname() -> str:
    return socket.gethostname()


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) from /proc, or None where there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text[text.rfind(")") + 2 :].split()  # after "pid (command) "
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start_ticks(pid: int | None = None) -> int | None:
    """When a process started, in the kernel's clock ticks since boot (Linux), else None."""
    stat = _proc_stat(os.getpid() if pid is None else pid)
    return None if stat is None else stat[1]


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """Whether process ``pid`` runs on this host (a zombie counts as dead).

    With ``start_ticks`` (see :func:`process_start_ticks`), a process that started at another
    time is a different one that reuses the pid, and counts as dead too.

    >>> pid_alive(os.getpid()), pid_alive(os.getpid(), process_start_ticks())
    (True, True)
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    except (OverflowError, ValueError):
        return False
    stat = _proc_stat(pid)
    if stat is not None:
        state, ticks = stat
        if state in {"Z", "X", "x"}:
            return False
        if start_ticks is not None and ticks != start_ticks:
            return False
    return True


@dataclass(frozen=True)
class LockOwner:
    """Who holds a lock, as written in the lock file."""

    pid: int
    host: str
    started: str
    start_ticks: int | None = None
    command: str = ""

    def describe(self, here: str) -> str:
        where = "this host" if self.host == here else f"host {self.host}"
        return f"pid {self.pid} on {where} since {self.started}"


def _read_owner(path: Path) -> tuple[bytes, LockOwner | None]:
    """The raw content of a lock file and its owner (None if empty or not ours)."""
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
        owner = LockOwner(
            pid=int(data["pid"]),
            host=str(data["host"]),
            started=str(data["started"]),
            start_ticks=None if data.get("start_ticks") is None else int(data["start_ticks"]),
            command=str(data.get("command", "")),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return raw, None
    return raw, owner


OUTPUT_NAMES = frozenset({"screening.gpkg", "lists.xlsx", "map.html", "run.json"})


def _own_names(folder: Path) -> set[str]:
    """The output names of this tool in ``folder``: the standard ones and those its
    ``run.json`` (if this tool wrote it) lists."""
    names = set(OUTPUT_NAMES)
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return names
    if isinstance(record, dict) and record.get("tool") == "spatial-screening":
        outputs = record.get("outputs")
        if isinstance(outputs, dict):
            names |= {str(v) for v in outputs.values() if isinstance(v, str) and "/" not in v}
    return names


def remove_stale_temp_files(folder: str | Path, warn: Warn | None = None) -> list[Path]:
    """Remove temporary output files of writers that are no longer running.

    Files named like :func:`~spatial.export.atomic.atomic_path`'s temporaries of this tool's
    outputs (hidden, ``.<output name>.<pid>.tmp<suffix>``, see :func:`_own_names`) whose pid is
    dead on this host; files of live processes, and temporaries of any other name (a user's
    ``.thesis.docx.99999.tmp``), are left alone. Returns the files removed.
    """
    folder = Path(folder)
    removed = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    own = _own_names(folder)
    for path in entries:
        match = TEMP_PATTERN.match(path.name)
        if not match or not path.is_file() or match["name"] not in own:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or pid_alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    if removed:
        pids = sorted({int(TEMP_PATTERN.match(p.name)["pid"]) for p in removed})
        (warn or _warn)(
            f"removed {len(removed)} temporary file(s) left in {folder} by an interrupted run "
            f"(pid {', '.join(map(str, pids))}): {', '.join(p.name for p in removed)}"
        )
    return removed


@dataclass
class OutputLock:
    """The lock of one output folder; use :func:`output_lock`."""

    folder: Path
    warn: Warn = _warn
    command: str = field(default_factory=lambda: " ".join(sys.argv))
    content: bytes = b""
    removed_temp_files: list[Path] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def acquire(self, attempts: int = 50) -> OutputLock:
        """Take the lock (taking over a stale one), then clear stale temporary files."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {self.folder}: {exc}") from None
        here = _hostname()
        for _ in range(attempts):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._handle_existing(here)
                continue
            except OSError as exc:
                raise OutputError(
                    f"cannot write to the output folder {self.folder}: {exc}"
                ) from None
            owner = {
                "pid": os.getpid(),
                "host": here,
                "started": dt.datetime.now().isoformat(sep=" ", timespec="seconds"),
                "start_ticks": process_start_ticks(),
                "command": self.command,
            }
            self.content = (json.dumps(owner, ensure_ascii=False) + "\n").encode("utf-8")
            try:
                os.write(fd, self.content)
                os.fsync(fd)
            finally:
                os.close(fd)
            self.removed_temp_files = remove_stale_temp_files(self.folder, self.warn)
            return self
        raise OutputError(
            f"could not take the lock {self.path}: it keeps changing; is another run starting? "
            "Try again, or choose another --out"
        )

    def _handle_existing(self, here: str) -> None:
        """Refuse a live lock; remove a stale one (under a guard); wait for one being written."""
        try:
            raw, owner = _read_owner(self.path)
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return  # released meanwhile: try again
        if owner is None:
            if age < UNREADABLE_LOCK_GRACE_S:
                time.sleep(0.1)  # the owner is writing it
                return
            reason = f"an unreadable lock file {age:.0f} s old"
        elif owner.host != here or pid_alive(owner.pid, owner.start_ticks):
            raise OutputError(
                f"another run is writing to {self.folder} ({owner.describe(here)}); wait for it "
                f"or choose another --out. If no run is active, delete {self.path}"
            )
        else:
            reason = f"a stale lock of {owner.describe(here)}, which no longer runs"
        self._take_over(raw, reason)

    def _take_over(self, seen: bytes, reason: str) -> None:
        guard = self.path.with_name(LOCK_NAME + TAKEOVER_SUFFIX)
        try:
            fd = os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):
                if time.time() - guard.stat().st_mtime > TAKEOVER_GRACE_S:
                    guard.unlink()
            time.sleep(0.05)
            return
        try:
            try:
                current = self.path.read_bytes()
            except FileNotFoundError:
                return
            if current == seen:  # nobody replaced it meanwhile
                self.path.unlink()
                self.warn(f"took over {self.folder}: found {reason}")
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                guard.unlink()

    def release(self) -> None:
        """Remove the lock file if it is still this run's."""
        if not self.content:
            return
        with contextlib.suppress(FileNotFoundError):
            if self.path.read_bytes() == self.content:
                self.path.unlink()
        self.content = b""

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


@contextlib.contextmanager
def output_lock(
    folder: str | Path, *, warn: Warn | None = None, command: str | None = None
) -> Iterator[OutputLock]:
    """Hold the lock of an output folder for the duration of a ``with`` block.

    Parameters
    ----------
    folder
        The output folder (created if missing).
    warn
        Called with the text of each warning (a stale lock taken over, temporary files
        removed). Default: :func:`warnings.warn` with :class:`StaleLockWarning`.
    command
        What to record as the owner's command (default: ``sys.argv``).

    Raises
    ------
    OutputError
        If another live run holds the folder, or the folder cannot be written.
    """
    lock = OutputLock(Path(folder), warn or _warn)
    if command is not None:
        lock.command = command
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()

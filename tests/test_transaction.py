"""The output set as one transaction: staging, the swap, recovery after a kill, whose files
may be deleted, and the message of a full disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spatial.errors import OutputError
from spatial.export import transaction
from spatial.export.transaction import (
    OWNER_FILE,
    PREVIOUS_PREFIX,
    STAGING_PREFIX,
    TOOL,
    OutputTransaction,
    claim_folder,
    output_transaction,
    recorded_files,
    recover,
)
from spatial.lock import LOCK_NAME


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_set(folder: Path, files: dict[str, str], version: str) -> None:
    """A complete output set: the files and a run.json listing them."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    record = {"tool": TOOL, "version": version, "files": sorted([*files, "run.json"])}
    (folder / "run.json").write_text(json.dumps(record))


def visible(folder: Path) -> dict[str, str]:
    """Every file outside the tool's hidden folders and lock, with its text."""
    found = {}
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and not relative.parts[0].startswith((".spatial", LOCK_NAME)):
            found[relative.as_posix()] = path.read_text()
    return found


def consistent(folder: Path) -> str | None:
    """The version of the run.json in ``folder`` if the files it lists are exactly that run's
    (every listed file present with that version's text); None if there is no run.json."""
    path = folder / "run.json"
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    for name in record["files"]:
        if name == "run.json":
            continue
        assert (folder / name).read_text() == f"{record['version']}:{name}", (name, record)
    return record["version"]


OLD = {"screening.gpkg": "old:screening.gpkg", "figures/a.png": "old:figures/a.png"}
NEW = {"screening.gpkg": "new:screening.gpkg", "map.html": "new:map.html"}


def staged_transaction(out: Path) -> OutputTransaction:
    tx = OutputTransaction(out).open()
    write_set(tx.folder, NEW, "new")
    return tx


def test_commit_swaps_the_whole_set_and_removes_stale_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_set(out, OLD, "old")
    (out / "notes.txt").write_text("mine")  # the user's, not in any run.json
    (out / "figures" / "mine.png").write_text("mine")
    (out / ".thesis.docx.99999.tmp").write_text("mine")
    tx = staged_transaction(out)
    tx.commit()
    assert consistent(out) == "new"
    assert visible(out) == {
        **NEW,
        "run.json": (out / "run.json").read_text(),
        "notes.txt": "mine",
        "figures/mine.png": "mine",
        ".thesis.docx.99999.tmp": "mine",
    }  # the stale figures/a.png is gone, the user's files stay
    assert not list(out.glob(".spatial-*"))


def test_a_stale_folder_of_outputs_is_removed_when_empty(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_set(out, OLD, "old")
    staged_transaction(out).commit()
    assert not (out / "figures").exists()


@pytest.mark.parametrize("kill_at", range(9))
def test_a_run_killed_during_the_swap_is_finished_by_the_next(tmp_path, monkeypatch, kill_at):
    """Killed after ``kill_at`` renames: run.json, whenever present, describes the files beside
    it; the next run rolls the swap forward."""
    out = tmp_path / "out"
    out.mkdir()
    write_set(out, OLD, "old")
    tx = staged_transaction(out)
    moves = []
    real_move = transaction._move

    class Killed(BaseException):
        pass

    def move(source, target):
        if len(moves) == kill_at:
            raise Killed
        moves.append(target)
        real_move(source, target)

    monkeypatch.setattr(transaction, "_move", move)
    try:
        tx.commit()
        finished = True
    except Killed:
        finished = False
    monkeypatch.setattr(transaction, "_move", real_move)
    assert consistent(out) in (None, "old", "new")
    if finished:
        assert consistent(out) == "new"
        return
    # the killed process's folders now carry a dead owner
    gone = dead_pid()
    for prefix in (STAGING_PREFIX, PREVIOUS_PREFIX):
        folder = out / f"{prefix}{os.getpid()}"
        if folder.exists():
            record = json.loads((folder / OWNER_FILE).read_text())
            (folder / OWNER_FILE).write_text(json.dumps({**record, "pid": gone}))
            folder.rename(out / f"{prefix}{gone}")
    seen = []
    recover(out, seen.append)
    assert consistent(out) == "new"
    assert set(visible(out)) == {*NEW, "run.json"}
    assert not list(out.glob(".spatial-*"))
    assert seen and f"run {gone}" in seen[0]


def test_an_unfinished_staging_folder_of_a_dead_run_is_removed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_set(out, OLD, "old")
    staging = out / f"{STAGING_PREFIX}{dead_pid()}"
    staging.mkdir()
    (staging / OWNER_FILE).write_text(
        json.dumps(
            {"tool": TOOL, "pid": int(staging.name.rsplit(".", 1)[1]), "host": os.uname()[1]}
        )
    )
    (staging / "screening.gpkg").write_text("half")
    seen = []
    recover(out, seen.append)
    assert not staging.exists() and consistent(out) == "old"
    assert "removed the unfinished outputs" in seen[0]


@pytest.mark.parametrize(
    "owner",
    [
        None,  # no owner record: not provably the tool's
        {"tool": "other", "pid": 1, "host": "x"},
        {"tool": TOOL, "pid": os.getpid(), "host": os.uname()[1]},  # alive
        {"tool": TOOL, "pid": 1, "host": "another-host"},  # cannot tell: kept
    ],
)
def test_hidden_folders_without_proof_are_left_alone(tmp_path, owner):
    out = tmp_path / "out"
    out.mkdir()
    folder = out / f"{STAGING_PREFIX}12345"
    folder.mkdir()
    (folder / "data.txt").write_text("keep")
    if owner is not None:
        (folder / OWNER_FILE).write_text(json.dumps(owner))
    recover(out, lambda text: None)
    assert (folder / "data.txt").read_text() == "keep"


def test_recorded_files_never_leave_the_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "precious.txt").write_text("x")
    record = {"tool": TOOL, "files": ["../precious.txt", "/etc/passwd", "ok.txt", ".spatial.lock"]}
    (out / "run.json").write_text(json.dumps(record))
    assert recorded_files(out) == ["ok.txt", "run.json"]


# ---------------------------------------------------------------------------------------------
# Whose folder


def test_claim_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "thesis.docx").write_text("x")
    with pytest.raises(OutputError, match="not an output folder of this tool") as info:
        claim_folder(tmp_path)
    assert "thesis.docx" in str(info.value) and "nothing was written" in str(info.value)


def test_claim_refuses_the_root_and_a_file(tmp_path):
    with pytest.raises(OutputError, match="not an output folder"):
        claim_folder(Path("/"))
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        claim_folder(tmp_path / "f")


@pytest.mark.parametrize(
    "content",
    [
        {},
        {".DS_Store": "x"},
        {"run.json": json.dumps({"tool": TOOL}), "old.png": "x"},
        {LOCK_NAME: "{}"},
    ],
)
def test_claim_accepts_new_empty_and_own_folders(tmp_path, content):
    claim_folder(tmp_path / "new")
    for name, text in content.items():
        (tmp_path / name).write_text(text)
    claim_folder(tmp_path)


def test_a_foreign_run_json_does_not_make_a_folder_ours(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"tool": "something else"}))
    with pytest.raises(OutputError):
        claim_folder(tmp_path)


# ---------------------------------------------------------------------------------------------
# Errors while writing


def test_an_os_error_while_writing_keeps_the_previous_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_set(out, OLD, "old")
    before = visible(out)
    with pytest.raises(OutputError) as info, output_transaction(out) as tx:
        tx.needed_bytes = 10 << 20
        with tx.writing():
            (tx.folder / "screening.gpkg").write_text("half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tx.folder / "map.html"))
    message = str(info.value)
    assert message.startswith(f"writing map.html into {out} failed: the disk is full")
    assert "the outputs need about 10.0 MB" in message and "are free there" in message
    assert "The previous outputs" in message and "unchanged" in message
    assert visible(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(["figures", "run.json", *OLD][:3])


def test_a_permission_error_is_not_called_a_full_disk(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputError) as info, output_transaction(out) as tx, tx.writing():
        raise PermissionError(errno.EACCES, "Permission denied", str(tx.folder / "lists.xlsx"))
    assert "lists.xlsx" in str(info.value) and "Permission denied" in str(info.value)
    assert "disk is full" not in str(info.value)
    assert list(out.iterdir()) == []


def test_other_errors_keep_their_traceback_and_clean_up(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyError), output_transaction(out) as tx, tx.writing():
        (tx.folder / "x").write_text("half")
        raise KeyError("a bug")
    assert list(out.iterdir()) == []

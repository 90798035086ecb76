"""The output-folder lock, stale temporary files, and runs killed at random moments."""

from __future__ import annotations

import inspect
import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import spatial.pipeline
from spatial.datasets import DEMO_DIR
from spatial.errors import OutputError
from spatial.lock import (
    LOCK_NAME,
    TEMP_PATTERN,
    StaleLockWarning,
    output_lock,
    pid_alive,
    process_start_ticks,
    remove_stale_temp_files,
)

REPO = Path(__file__).resolve().parent.parent
DEMO = DEMO_DIR
PIPELINE_LOCKS = "output_lock" in inspect.getsource(spatial.pipeline)
# A process holding the lock until the test closes its stdin: it never lets go by a clock, so
# no test depends on how fast a busy machine is. (Not Ctrl-C: a shell that starts the tests in
# the background hands its children SIGINT ignored, and the holder would never stop.)
HOLD = """
import sys
from spatial.lock import output_lock
from spatial.errors import OutputError
if sys.argv[2:] == ["race"]:
    print("ready", flush=True)
    sys.stdin.readline()
try:
    with output_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()
except OutputError as exc:
    print("refused:", exc, flush=True)
"""
# Only a safety net against a hung child (each wait is on an event: a line, or the child's exit).
SAFETY_NET = 600


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def stop(child: subprocess.Popen) -> None:
    """End a holder cleanly (its stdin closed: it leaves the lock's ``with`` and exits)."""
    child.stdin.close()
    assert child.wait(timeout=SAFETY_NET) == 0


def hold(folder: Path) -> subprocess.Popen:
    """A process holding the lock of ``folder``; returns once it holds it."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert child.stdout.readline().strip() == "locked"
    return child


def test_lock_file_names_its_owner_and_goes_away(tmp_path):
    out = tmp_path / "out"
    with output_lock(out) as lock:
        owner = json.loads((out / LOCK_NAME).read_text(encoding="utf-8"))
        assert owner["pid"] == os.getpid()
        assert owner["start_ticks"] == process_start_ticks()
        assert owner["host"] and owner["started"]
        assert lock.path == out / LOCK_NAME
    assert not (out / LOCK_NAME).exists()


def test_the_lock_is_released_on_error(tmp_path):
    with pytest.raises(RuntimeError), output_lock(tmp_path):
        raise RuntimeError("boom")
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    child = hold(tmp_path)
    try:
        with pytest.raises(OutputError) as info, output_lock(tmp_path):
            pass
        message = str(info.value)
        assert f"another run is writing to {tmp_path}" in message
        assert f"pid {child.pid} on this host since" in message
        assert "wait for it or choose another --out" in message
    finally:
        stop(child)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the holder ended cleanly: free again, no warning
        with output_lock(tmp_path):
            pass


def test_runs_starting_together_exactly_one_wins(tmp_path):
    children = [
        subprocess.Popen(
            [sys.executable, "-c", HOLD, str(tmp_path), "race"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(4)
    ]
    for child in children:  # all imported and waiting
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    # each answers once it has tried; the winner holds the lock until every other has answered
    answers = [child.stdout.readline() for child in children]
    for child in children:
        child.stdin.close()
        child.wait(timeout=SAFETY_NET)
    assert sum(a.startswith("locked") for a in answers) == 1, answers
    assert sum("another run is writing to" in a for a in answers) == 3, answers


def test_a_stale_lock_of_a_killed_run_is_taken_over_with_a_warning(tmp_path):
    child = hold(tmp_path)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdin.close()
    assert (tmp_path / LOCK_NAME).exists()
    seen = []
    with output_lock(tmp_path, warn=seen.append):
        owner = json.loads((tmp_path / LOCK_NAME).read_text(encoding="utf-8"))
        assert owner["pid"] == os.getpid()
    assert len(seen) == 1 and f"pid {child.pid}" in seen[0] and "no longer runs" in seen[0]


def test_default_warning_is_a_python_warning(tmp_path):
    (tmp_path / LOCK_NAME).write_text(
        json.dumps({"pid": dead_pid(), "host": os.uname().nodename, "started": "x"})
    )
    with pytest.warns(StaleLockWarning, match="stale lock"), output_lock(tmp_path):
        pass


def test_a_reused_pid_is_not_the_owner(tmp_path):
    owner = {
        "pid": os.getpid(),  # alive, but started at another time than the lock says
        "host": os.uname().nodename,
        "started": "2024-01-01 00:00:00",
        "start_ticks": (process_start_ticks() or 0) + 12345,
    }
    (tmp_path / LOCK_NAME).write_text(json.dumps(owner))
    assert not pid_alive(owner["pid"], owner["start_ticks"]) or process_start_ticks() is None
    seen = []
    with output_lock(tmp_path, warn=seen.append):
        pass
    assert seen and "no longer runs" in seen[0]


def test_a_lock_from_another_host_is_respected(tmp_path):
    owner = {"pid": 1, "host": "planning-pc-07", "started": "2024-11-24 07:00:00"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(owner))
    expected = "pid 1 on host planning-pc-07 since 2024-11-24"
    with pytest.raises(OutputError, match=expected), output_lock(tmp_path):
        pass
    assert json.loads((tmp_path / LOCK_NAME).read_text())["host"] == "planning-pc-07"


def test_an_old_unreadable_lock_is_taken_over(tmp_path):
    lock = tmp_path / LOCK_NAME
    lock.write_bytes(b"")  # killed between creating the file and writing it
    old = time.time() - 3600
    os.utime(lock, (old, old))
    seen = []
    with output_lock(tmp_path, warn=seen.append):
        pass
    assert "unreadable lock file" in seen[0]


def test_an_unwritable_folder_is_an_output_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write"), output_lock(tmp_path):
            pass
    finally:
        tmp_path.chmod(0o700)


def test_stale_temp_files_of_dead_pids_are_removed(tmp_path):
    gone, alive = dead_pid(), os.getppid()
    stale = [
        f".screening.gpkg.{gone}.tmp.gpkg",
        f".screening.gpkg.{gone}.tmp.gpkg-journal",
        f".lists.xlsx.{gone}.tmp.xlsx",
    ]
    for name in [*stale, f".run.json.{alive}.tmp.json", "screening.gpkg", ".hidden.txt"]:
        (tmp_path / name).write_bytes(b"x")
    assert all(TEMP_PATTERN.match(name) for name in stale)
    seen = []
    with output_lock(tmp_path, warn=seen.append) as lock:
        assert sorted(p.name for p in lock.removed_temp_files) == sorted(stale)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([f".run.json.{alive}.tmp.json", "screening.gpkg", ".hidden.txt"])
    assert len(seen) == 1 and f"pid {gone}" in seen[0] and "3 temporary file(s)" in seen[0]
    assert remove_stale_temp_files(tmp_path, warn=seen.append) == []


# ---------------------------------------------------------------------------------------------
# Whole runs

OUTPUTS = {"screening.gpkg", "lists.xlsx", "run.json"}
OPTIONAL = {"map.html", "figures"}  # written by newer pipelines
LAYERS = {
    "enterprises",
    "decisions",
    "rejected",
    "builtup",
    "heat_sources",
    "near_city_10km",
    "heat_radius_30km",
}


def screen_command(out: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from spatial.cli import main; main()",
        "screen",
        "--enterprises",
        str(DEMO / "enterprises.csv"),
        "--builtup",
        str(DEMO / "builtup.gpkg"),
        "--heat-sources",
        str(DEMO / "heat_sources.csv"),
        "--as-of",
        "2024-12-01",
        "--no-figures",
        "--out",
        str(out),
    ]


def check_outputs(out: Path) -> set[str]:
    """Every visible output is complete; returns the names present."""
    visible = (
        {p.name for p in out.iterdir() if not p.name.startswith(".")} if out.exists() else set()
    )
    assert visible <= OUTPUTS | OPTIONAL, visible - OUTPUTS - OPTIONAL
    if "screening.gpkg" in visible:
        layers = {name for name, _ in pyogrio.list_layers(out / "screening.gpkg")}
        assert layers >= LAYERS, LAYERS - layers
        info = pyogrio.read_info(out / "screening.gpkg", layer="enterprises")
        assert info["features"] == 2098
    if "lists.xlsx" in visible:
        workbook = load_workbook(out / "lists.xlsx", read_only=True)
        assert workbook.sheetnames
        workbook.close()
    if "run.json" in visible:
        record = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert record["counts"]["rows_read"] == 2111
    if "map.html" in visible:
        assert (out / "map.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    return visible & OUTPUTS


def kill_during(out: Path, rng: random.Random, phase: str) -> None:
    """Start a screening into ``out`` and SIGKILL it at a random moment of ``phase``
    ('any': from the start; 'write': after it starts writing outputs)."""
    child = subprocess.Popen(
        screen_command(out), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO
    )
    if phase == "write":
        for line in child.stderr:
            if line.startswith("[5/5]"):
                break
        time.sleep(rng.uniform(0.0, 2.5))
    else:
        time.sleep(rng.uniform(0.2, 5.0))
    child.send_signal(signal.SIGKILL)
    child.wait()  # reaped: its pid is dead, not a zombie


@pytest.mark.slow
def test_runs_killed_at_random_moments_leave_complete_outputs_or_none(tmp_path):
    rng = random.Random(int(os.environ.get("KILL_SEED", "20191101")))
    fresh = tmp_path / "fresh"
    kill_during(fresh, rng, "write")
    check_outputs(fresh)  # whatever was written is complete

    out = tmp_path / "out"
    done = subprocess.run(screen_command(out), capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert check_outputs(out) == OUTPUTS
    for phase in ("write", "write", "any"):
        kill_during(out, rng, phase)
        assert check_outputs(out) == OUTPUTS  # the previous complete outputs stay

    # the next run clears what the killed ones left (the lock; temporaries of dead pids)
    left = {p.name for p in out.iterdir() if TEMP_PATTERN.match(p.name) or p.name == LOCK_NAME}
    if PIPELINE_LOCKS:
        done = subprocess.run(screen_command(out), capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 0, done.stderr
        if left:
            assert "took over" in done.stderr or "temporary file(s)" in done.stderr, done.stderr
    else:
        with output_lock(out, warn=lambda text: None):
            pass
    hidden = {p.name for p in out.iterdir() if p.name.startswith(".")}
    assert not {name for name in hidden if TEMP_PATTERN.match(name)}, hidden
    assert LOCK_NAME not in hidden
    assert check_outputs(out) == OUTPUTS


@pytest.mark.skipif(
    not PIPELINE_LOCKS, reason="spatial.pipeline.run does not take the output lock yet"
)
def test_screen_refuses_a_folder_another_run_is_writing(tmp_path):
    from spatial.cli import main

    out = tmp_path / "out"
    child = hold(out)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = CliRunner().invoke(main, screen_command(out)[3:])
    finally:
        stop(child)
    assert result.exit_code == 1
    assert f"another run is writing to {out} (pid {child.pid}" in result.output
    assert "Traceback" not in result.output
    assert not (out / "screening.gpkg").exists()

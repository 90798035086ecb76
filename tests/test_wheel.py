"""The installed package works outside a checkout: a wheel built from the package alone, installed
into a new venv, runs ``spatial demo`` from another folder on the demo data inside the wheel.

No network: the wheel is built with the setuptools of the test's own environment
(``--no-build-isolation``), and the new venv reaches the dependencies already installed here
through a ``.pth`` file naming this environment's site-packages (a path line in a ``.pth`` file
adds the folder but runs none of its own ``.pth`` files, so this checkout's editable install
of ``spatial`` stays invisible: ``spatial`` is imported from the wheel).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from spatial.datasets import DEMO_DIR, available

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of what the package is made of (not the whole checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "spatial", src / "spatial", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", dist],
        cwd=src,
    )  # fmt: skip
    (path,) = dist.glob("spatial_screening-*.whl")
    return path


def test_the_wheel_carries_the_demo_data_and_no_development_tools(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"spatial/data/demo/{name}" for name in available()} <= names
    assert len(available()) >= 9
    assert "spatial/fonts.py" in names and "spatial/_version.py" in names
    assert not [n for n in names if n.startswith("tools/") or n == "spatial/demo.py"]
    assert not [n for n in names if "figures_builtup" in n]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A new venv with the wheel installed; dependencies from this environment via a .pth."""
    root = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root)
    python = root / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=root).stdout.strip())  # fmt: skip
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "project_dependencies.pth").write_text("\n".join(sorted(here)) + "\n")
    run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--quiet", wheel],
        cwd=root,
    )  # fmt: skip
    return root


def test_spatial_demo_runs_from_the_installed_wheel_in_another_folder(venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLCONFIGDIR"] = str(tmp_path / "mpl")
    where = run([venv / "bin" / "python", "-c", "import spatial; print(spatial.__file__)"],
                cwd=elsewhere, env=env).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(venv), where

    done = run([venv / "bin" / "spatial", "demo", "--out", "X"], cwd=elsewhere, env=env)
    out = elsewhere / "X"
    for name in ("screening.gpkg", "lists.xlsx", "map.html", "run.json"):
        assert (out / name).stat().st_size > 1000, name
    assert (out / "figures" / "overview.png").stat().st_size > 10_000
    assert "Glyph" not in done.stderr and "Traceback" not in done.stderr

    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    counts = record["counts"]
    assert (counts["rows_read"], counts["accepted"], counts["rejected"]) == (2111, 2098, 13)
    assert sum(counts["enterprises_by_action"].values()) == 2098
    assert counts["builtup_features"] == 13 and counts["heat_sources_features"] == 8
    for role, info in record["inputs"].items():  # the installed copy of the shipped bytes
        path = Path(info["path"])
        assert path.is_relative_to(venv), (role, path)
        shipped = hashlib.sha256((DEMO_DIR / path.name).read_bytes()).hexdigest()
        assert info["sha256"] == shipped, role

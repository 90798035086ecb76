"""environment.yml names the same dependencies as pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _names(specs) -> set[str]:
    return {re.split(r"[<>=! ;\[]", s, maxsplit=1)[0].lower() for s in specs if isinstance(s, str)}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = _names(env["dependencies"]) - {"python", "pip"}
    conda |= _names(pip) - {"-e"}  # PyPI-only packages, installed by pip
    # conda-forge splits dask[distributed] into dask + distributed
    assert conda - {"distributed"} == wanted

"""The planners' notebooks run top to bottom on the demo region.

Each notebook is stored twice in ``notebooks/``: the ``.ipynb`` without outputs (what planners
open in Jupyter) and its jupytext ``.py`` pair in percent format (what reviewers read in diffs).
The tests check that the pairs agree and carry no outputs, then execute every notebook in a
kernel running this interpreter (the project's venv), with the notebook folder as the working
directory as in Jupyter, and its outputs redirected to a temporary folder
(``SPATIAL_NOTEBOOKS_OUT``). Any error in any cell fails the test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")
pytest.importorskip("ipykernel")

from spatial.datasets import DEMO_DIR  # noqa: E402  (after the skips: nbformat may be absent)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "spatial-notebooks-test"
CELL_TIMEOUT_S = 300

EXPECTED_OUTPUTS = {
    "01_quickstart": [
        "damaged_copy.csv",
        "screening/screening.gpkg",  # a folder of its own: spatial never writes among others
        "screening/lists.xlsx",
        "screening/run.json",
        "screening/map.html",
        "screening/figures/overview.png",
    ],
    "02_near_city_rule": [
        "seats.csv",
        "builtup_sources.png",
        "near_city_buffer.png",
        "mercator_error.png",
    ],
    "03_heat_supply_radius": [
        "heat_radius.png",
        "measures_per_county.csv",
        "heat_radius_lists.xlsx",
        "close_or_merge_by_county.xlsx",
    ],
    "04_dingxiang_phases": [
        "dingxiang_zones.gpkg",
        "zones.png",
        "status_timeline.png",
        "dingxiang_lists.xlsx",
        "map.html",
    ],
    "05_curtailment_lists": [
        "榆次区_lists.xlsx",
        "jinzhong-2019-whatif.yaml",
        "榆次区_lists_what_if.xlsx",
    ],
    "06_emission_effect": [
        "effect_by_county.png",
        "jinzhong-2019-what-if.yaml",
        "what_if.csv",
        "emission_table.csv",
        "减排量测算.xlsx",
    ],
}
NAMES = sorted(EXPECTED_OUTPUTS)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernelspec that starts ipykernel with this interpreter, found first on JUPYTER_PATH.

    The notebooks say ``python3``; whatever ``python3`` kernel a machine has installed (another
    environment's, a user-wide one), the tests run in the environment they were started from.
    """
    data = tmp_path_factory.mktemp("jupyter")
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}),
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(data))
        mp.setenv("SPATIAL_NO_NETWORK", "1")  # an accidental OSM download fails loudly
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield KERNEL


def read_pair(name: str):
    """The stored notebook and the notebook jupytext reads from its .py pair."""
    stored = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    paired = jupytext.read(NOTEBOOKS / f"{name}.py")
    return stored, paired


def first_code_cell(notebook) -> str:
    return next(c.source for c in notebook.cells if c.cell_type == "code")


def test_the_five_notebooks_and_nothing_unpaired():
    ipynb = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    py = sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
    assert ipynb == NAMES, "a notebook was added or removed: list it in EXPECTED_OUTPUTS"
    assert py == NAMES, "every notebook needs its jupytext .py pair (jupytext --sync)"


@pytest.mark.parametrize("name", NAMES)
def test_pair_in_sync_without_outputs(name):
    stored, paired = read_pair(name)
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in paired.cells
    ], f"{name}.ipynb and {name}.py differ: run 'jupytext --sync notebooks/{name}.ipynb'"
    dirty = [
        i
        for i, c in enumerate(stored.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, (
        f"{name}.ipynb is stored with outputs in cells {dirty}: clear them (Jupyter: Edit → "
        "Clear Outputs of All Cells, then save) before committing"
    )
    assert stored.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert stored.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NAMES)
def test_first_code_cell_names_the_inputs_and_the_output_folder(name):
    stored, _ = read_pair(name)
    cell = first_code_cell(stored)
    assert "# ---- INPUTS" in cell
    assert "SPATIAL_NOTEBOOKS_OUT" in cell and f'OUT / "{name}"' in cell
    # the demo data from the installed package, not from a folder found beside the notebook
    assert "from spatial import datasets" in cell or "from spatial.datasets import" in cell
    assert "find_root" not in cell and "pyproject.toml" not in cell


@pytest.mark.slow
def test_setup_cell_finds_the_demo_data_from_outside_the_project(kernel, tmp_path, monkeypatch):
    """Started from a folder outside the project, the first cell finds the installed demo data."""
    monkeypatch.setenv("SPATIAL_NOTEBOOKS_OUT", str(tmp_path / "out"))
    stored, _ = read_pair(NAMES[0])
    probe = nbformat.v4.new_notebook()
    probe.cells = [
        nbformat.v4.new_code_cell(first_code_cell(stored)),
        nbformat.v4.new_code_cell("print(DEMO, INVENTORY.exists(), OUT)"),
    ]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    client = nbclient.NotebookClient(
        probe,
        kernel_name=kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(elsewhere)}},
    )
    client.execute()
    printed = probe.cells[1].outputs[0]["text"].split()
    assert printed[:2] == [str(DEMO_DIR), "True"]
    assert printed[2] == str(tmp_path / "out" / NAMES[0])


def assert_readable_content(path: Path) -> None:
    """An output as the planner opens it, read back: a picture with something drawn, a
    workbook or table with a header and rows, a GeoPackage with features, a screening record
    that accounts for every row, a web map with its data, a rule table that loads."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        import numpy as np
        from PIL import Image

        image = np.asarray(Image.open(path).convert("RGB"))
        assert min(image.shape[:2]) >= 200, (path, image.shape)
        colours = np.unique(image.reshape(-1, 3), axis=0)
        assert len(colours) > 16, f"{path.name}: {len(colours)} colours, nothing drawn"
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        filled = []
        for sheet in workbook.worksheets:
            rows = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
            filled.append(len(rows))
        workbook.close()
        assert max(filled) >= 2, f"{path.name}: no sheet with a header and a row ({filled})"
    elif suffix == ".csv":
        import pandas as pd

        table = pd.read_csv(path, encoding="utf-8-sig")
        assert len(table) >= 1 and len(table.columns) >= 2, (path.name, table.shape)
    elif suffix == ".gpkg":
        import pyogrio

        layers = pyogrio.list_layers(path)
        assert len(layers), path.name
        first = pyogrio.read_info(path, layer=str(layers[0][0]))
        assert first["features"] > 0, (path.name, layers[0][0])
    elif suffix == ".json":
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["tool"] == "spatial-screening"
        counts = record["counts"]
        assert counts["accepted"] > 0
        assert counts["accepted"] + counts["rejected"] == counts["rows_read"]
    elif suffix == ".html":
        text = path.read_text(encoding="utf-8")
        assert "leaflet" in text.lower() and 'id="sm-data-0"' in text, path.name
    elif suffix == ".yaml":
        from spatial.policy import load_policy

        assert load_policy(path).raw["rules"], path.name  # a rule table the engine accepts
    else:
        raise AssertionError(f"{path.name}: no content check for {suffix} outputs")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("SPATIAL_NOTEBOOKS_OUT", str(tmp_path))
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error

    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors
    written = tmp_path / name
    missing = [f for f in EXPECTED_OUTPUTS[name] if not (written / f).is_file()]
    assert not missing, f"{name} did not write {missing} under {written}"
    for relative in EXPECTED_OUTPUTS[name]:
        assert_readable_content(written / relative)
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    expected_figures = sum(f.endswith(".png") for f in EXPECTED_OUTPUTS[name])
    assert len(images) >= expected_figures, "the figures are shown inline, not only saved"

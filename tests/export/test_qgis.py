"""The screening GeoPackage opened by QGIS itself, headless (Debian python3-qgis).

QGIS's Python is the system one (numpy 1.x), so it never runs in this venv: the checks are
``tests/export/qgis_check.py``, run by ``/usr/bin/python3`` in a subprocess. Skipped, with the
reason, where QGIS is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import pyogrio
import pytest

from spatial.export.gpkg import write_gpkg
from spatial.export.styles import ACTIONS
from tests.helpers import METADATA, screening_layers

QGIS_PYTHON = os.environ.get("SPATIAL_QGIS_PYTHON", "/usr/bin/python3")
CHECK = Path(__file__).with_name("qgis_check.py")
# GDAL's GeoPackage validator (Debian python3-gdal, which python3-qgis pulls in)
# Only against a hung QGIS: a loaded machine may take long to start it, and that is no failure.
SAFETY_NET = 600
VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


@functools.lru_cache(maxsize=1)
def qgis_missing() -> str | None:
    """Why QGIS cannot be used here, or None."""
    if not Path(QGIS_PYTHON).exists():
        return f"{QGIS_PYTHON} not found"
    probe = subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=SAFETY_NET,
    )
    if probe.returncode:
        return f"QGIS not installed for {QGIS_PYTHON} (apt-get install python3-qgis qgis-providers)"
    return None


def run_check(
    path: Path, snapshot: Path | None = None, atlas: Path | None = None
) -> tuple[int, dict, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    if snapshot is not None:
        env["SPATIAL_QGIS_SNAPSHOT"] = str(snapshot)
    if atlas is not None:
        env["SPATIAL_QGIS_ATLAS"] = str(atlas)
    done = subprocess.run(
        [QGIS_PYTHON, str(CHECK), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=SAFETY_NET,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {}
    return done.returncode, report, done.stderr


@pytest.fixture
def needs_qgis():
    reason = qgis_missing()
    if reason:
        pytest.skip(reason)


def test_qgis_opens_every_layer_styled_and_the_stored_project(tmp_path, needs_qgis):
    first = tmp_path / "run"
    path = write_gpkg(
        screening_layers(), first / "screening.gpkg", metadata=METADATA, counties=True
    )
    # the project's paths are relative to the GeoPackage: move the whole folder
    moved = tmp_path / "published"
    first.rename(moved)
    snapshot = tmp_path / "snap.png"
    page = tmp_path / "atlas.png"
    code, report, stderr = run_check(moved / path.name, snapshot, page)
    assert code == 0 and report, stderr
    assert report["problems"] == []
    layers = report["layers"]
    assert set(layers) == {
        "enterprises",
        "decisions",
        "rejected",
        "builtup",
        "heat_sources",
        "near_city_10km",
        "heat_radius_30km",
        "dingxiang_zones",
        "counties",
    }
    assert all(layer["valid"] for layer in layers.values())
    enterprises = layers["enterprises"]
    assert enterprises["renderer"] == "categorizedSymbol" and enterprises["attr"] == "action"
    assert enterprises["crs"] == "EPSG:4490"
    # every action drawn with its own legend entry, the undecided one with "all other values"
    assert enterprises["symbols"] == {
        **{zh: 1 for _, zh, _ in ACTIONS},  # the words, without the code
        "其他 / 未判定": 1,
    }
    assert enterprises["title"] == "企业筛查结果"
    assert layers["near_city_10km"]["renderer"] == "singleSymbol"
    assert sum(layers["dingxiang_zones"]["symbols"].values()) == 3
    assert layers["rejected"]["aliases"] >= 4
    project = report["project"]
    # layers in CGCS2000 degrees; the project in the Gauss-Krüger zone of the plants (114°E)
    assert project["read"] and project["crs"] == "EPSG:4547"
    assert not project["crs_geographic"]
    assert list(project["groups"]) == [
        "筛查结果 screening results",
        "背景图层 context",
        "未接受的输入行 rejected",
    ]
    assert all(layer["valid"] for layer in project["layers"].values())
    assert snapshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and snapshot.stat().st_size > 20000


def test_qgis_project_labels_value_maps_bookmarks_and_atlas_page(tmp_path, needs_qgis):
    path = write_gpkg(
        screening_layers(), tmp_path / "screening.gpkg", metadata=METADATA, counties=True
    )
    page = tmp_path / "atlas.png"
    code, report, stderr = run_check(path, atlas=page)
    assert code == 0 and report, stderr
    assert report["problems"] == []
    layers = report["project"]["layers"]
    for name in ("builtup", "heat_sources", "dingxiang_zones", "counties"):
        assert layers[name]["labels"], name
    assert not layers["enterprises"]["labels"]
    # the heat-source style reads the pipeline's field, no id in it
    assert '"counts_for_radius"' in layers["heat_sources"]["attr"]
    assert "HS-" not in layers["heat_sources"]["attr"]
    # what the attribute table shows: the label of a code, distances to the metre
    enterprises = layers["enterprises"]
    assert enterprises["widgets"]["action"] == "ValueMap"
    assert enterprises["shown"]["action"] == dict((c, zh) for c, zh, _ in ACTIONS)["shutdown"]
    assert enterprises["widgets"]["dist_builtup_m"] == "Range"
    assert enterprises["shown"]["dist_builtup_m"] == "0"
    assert layers["heat_radius_30km"]["shown"]["within_m"].replace(",", "") == "30000"
    # map tips say what the attribute table says: labels, not codes
    tip = layers["heat_sources"]["map_tip"]
    assert "热源类型：热电联产" in tip and "计入供热半径：是" in tip and "chp" not in tip
    plant = enterprises["map_tip"]
    assert "管控措施：停产治理" in plant and "shutdown" not in plant
    assert "限产比例(%)：30<br>" in plant  # 30.0 shown rounded
    # one bookmark per county with enterprises, in the project CRS
    counties = pyogrio.read_dataframe(path, layer="counties")
    with_plants = sorted(counties.loc[counties["n_enterprises"] > 0, "name"])
    bookmarks = report["project"]["bookmarks"]
    assert sorted(b["name"] for b in bookmarks) == with_plants
    assert {b["crs"] for b in bookmarks} == {"EPSG:4547"}
    # the print layout: an Atlas page per county, map following it, all items there
    layout = report["layout"]
    assert layout["names"] == ["县级筛查图"]
    assert layout["atlas"] == {"enabled": True, "coverage": "counties", "pages": len(with_plants)}
    assert layout["items"]["scalebar"] == ["比例尺"] and layout["items"]["picture"] == ["指北针"]
    assert layout["items"]["map"] == ["位置示意图", "地图"]  # the locator inset and the map
    assert layout["map_crs"] == "EPSG:4547" and layout["page_county_in_map"]
    first = layout["first_page"]
    assert first in with_plants
    texts = layout["texts"]
    assert texts["标题"].startswith(first)  # the county's name, evaluated per page
    assert "2024年11月15日" in texts["副标题"] and "[%" not in texts["副标题"]
    assert "天地图行政区划数据" in texts["说明"] and "市工信产发〔2019〕79号" in texts["说明"]
    assert texts["数字比例尺"].startswith("比例尺 1:")
    # every class of every layer (all 13 decisions here) fits the legend's frame
    assert 90 < layout["legend_mm"]["content"] <= layout["legend_mm"]["frame"]
    shown = layout["labels_shown"]
    labelled = ["builtup", "heat_sources", "dingxiang_zones", "counties"]
    assert shown["page"] == dict.fromkeys(labelled, True)
    assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 50000
    # "Export Atlas as PDF": one A4 page per county
    assert layout["pdf_pages"] == len(with_plants)
    assert b"NotoSansCJK" in page.with_suffix(".pdf").read_bytes()  # the text is text


def test_qgis_enterprises_without_decisions_by_near_city(tmp_path, needs_qgis):
    path = write_gpkg(
        {"enterprises": screening_layers(action=False)["enterprises"]},
        tmp_path / "s.gpkg",
        crs="EPSG:4547",
    )
    code, report, stderr = run_check(path)
    assert code == 0 and report, stderr
    enterprises = report["layers"]["enterprises"]
    assert enterprises["attr"] == "near_city" and enterprises["crs"] == "EPSG:4547"
    assert set(enterprises["symbols"]) == {"建成区周边10公里内", "建成区周边10公里外"}
    assert report["project"]["crs"] == "EPSG:4547"


def test_qgis_check_fails_on_a_geopackage_without_styles(tmp_path, needs_qgis):
    path = write_gpkg(
        {"enterprises": screening_layers()["enterprises"]}, tmp_path / "s.gpkg", styles=False
    )
    code, report, _ = run_check(path)
    assert code == 1
    assert "enterprises: renderer singleSymbol != default style" in " ".join(report["problems"])
    assert "no project in qgis_projects" in report["problems"]


@pytest.mark.skipif(
    not (VALIDATOR.exists() and Path(QGIS_PYTHON).exists()),
    reason=f"GDAL's validator or {QGIS_PYTHON} not installed ({VALIDATOR})",
)
def test_gdal_validator_accepts_the_geopackage(tmp_path):
    path = write_gpkg(screening_layers(), tmp_path / "screening.gpkg", metadata=METADATA)
    done = subprocess.run(
        [QGIS_PYTHON, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=SAFETY_NET
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == ""

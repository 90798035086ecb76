"""No raw code in any text a person reads: a small screening run, every output scanned.

The run is the demo region cut to the Dingxiang cluster, Dai and Fanshi counties, every tenth
other plant and the bad rows, on a date when the Xinzhou tables and the Dingxiang phases are in
force. The lists (every cell), the GeoPackage (every text a QGIS user sees: field names, legend
labels, value-map labels, and the text of every column not hidden as a machine column) and the
map (legend, layer names, popup labels and every value a popup shows) must hold no code: no
snake_case token, no hashed file name, no ``§``, no English code of the vocabulary; and a date
in a sentence (``*_zh``) is written as an official writes it (2024年5月1日), not 2024-05-01.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import re
import sqlite3
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook

from spatial import vocabulary
from spatial.datasets import get_path
from spatial.export.styles import MACHINE_COLUMNS, value_maps
from spatial.pipeline import demo_config, run

_KINDS = (
    "action", "industry", "subtype", "fuel", "policy_class", "zone_status", "deadline_status",
    "none_kind", "emission_status", "pollutant", "period", "heat_kind", "zone_kind",
    "builtup_level",
)  # fmt: skip
_WORDS = sorted(
    {code for kind in _KINDS for code in vocabulary.labels(kind) if code.isascii()}
    | {"yes", "no", "true", "false", "None", "nan"},
    key=len,
    reverse=True,
)
RAW = re.compile(
    r"[A-Za-z]+_[A-Za-z0-9_]+"  # snake_case: a column, a flag, a rule or reason code
    r"|[0-9a-f]{16}"  # a hashed file name
    r"|\.txt\b|§"  # a source file, a clause in the file's numbering
    r"|(?<![A-Za-z])(?:" + "|".join(map(re.escape, _WORDS)) + r")(?![A-Za-z])"
)
PROVENANCE = ("built_from", "source_detail")
"""Columns saying how a layer was built: they name the planner's files and layers as named."""
BLOCK_RE = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)


def raw_codes(text: object) -> list[str]:
    """The codes found in a text (empty when it reads as words).

    >>> raw_codes("「超低排放」为空，请补填。"), raw_codes("blank:ultra_low")
    ([], ['ultra_low'])
    >>> raw_codes("004_8ff93025e2acb35e.txt §二4"), raw_codes("状态：due")
    (['8ff93025e2acb35e', '.txt', '§'], ['due'])
    """
    return [m.group() for m in RAW.finditer(str(text))] if isinstance(text, str) else []


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("words")
    with get_path("enterprises.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    county = header.index("county")
    keep = [
        row
        for i, row in enumerate(body)
        if (len(row) > county and row[county] in ("定襄县", "代县", "繁峙县"))
        or i % 10 == 0
        or i >= len(body) - 13  # the bad rows at the end of the demo file
    ]
    plants = folder / "plants.csv"
    with plants.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *keep])
    config = dataclasses.replace(
        demo_config(folder / "out"),
        enterprises=plants,
        as_of=dt.date(2024, 12, 1),
        figures=False,
        basemap="none",
    )
    result = run(config)
    assert len(result.inventory.rejected) > 0 and (result.action_counts.index != "none").any()
    return folder / "out"


def _found(where: str, text: object, problems: list[str]) -> None:
    codes = raw_codes(text)
    if codes:
        problems.append(f"{where}: {codes} in {str(text)[:120]!r}")


def test_lists_hold_no_code(outputs):
    problems: list[str] = []
    workbook = load_workbook(outputs / "lists.xlsx", read_only=True)
    for sheet in workbook.worksheets:
        _found(f"sheet name {sheet.title}", sheet.title, problems)
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                _found(sheet.title, value, problems)
    assert not problems, "\n".join(problems[:30])


def _gpkg(outputs):
    return sqlite3.connect(outputs / "screening.gpkg")


def test_geopackage_shows_no_code(outputs):
    import pandas as pd

    problems: list[str] = []
    with _gpkg(outputs) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM gpkg_contents")]
        styles = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles"))
        aliases = con.execute("SELECT table_name, column_name, name FROM gpkg_data_columns")
        for table, column, name in aliases:
            _found(f"{table}.{column} field name", name, problems)
        for table in tables:
            if table == "layer_styles":
                continue
            frame = pd.read_sql(f'SELECT * FROM "{table}"', con)
            frame = frame.drop(columns=[c for c in ("geom", "geometry") if c in frame])
            maps = value_maps(table, list(frame.columns), frame)
            qml = ET.fromstring(styles[table].split("\n", 1)[1])
            for category in qml.iter("category"):
                _found(f"{table} legend", category.get("label"), problems)
            hidden = {
                c.get("name")
                for c in qml.iter("column")
                if c.get("hidden") == "1" and c.get("name")
            }
            assert hidden == set(MACHINE_COLUMNS) & set(frame.columns), table
            for column in frame.columns:
                if column in hidden or frame[column].dtype.kind in "biuf":
                    continue
                if table == "rejected" and column != "reason_zh":
                    continue  # the cells as the planner typed them (and the English reason)
                values = frame[column].dropna().astype(str).unique()
                if column in maps:  # QGIS shows the label of the code
                    for value in values:
                        for part in value.split(";"):
                            shown = maps[column].get(part)
                            if shown is None:
                                problems.append(f"{table}.{column}: no label for {part!r}")
                            _found(f"{table}.{column} (label)", shown, problems)
                    continue
                for value in values:
                    if column.endswith("_zh") and re.search(r"\d{4}-\d{2}-\d{2}", value):
                        problems.append(f"{table}.{column}: ISO date in words: {value[:120]!r}")
                    if column in PROVENANCE:  # names the planner's own files and layers
                        value = re.sub(
                            r"[\w.-]+\.(?:gpkg|osm|csv|xlsx|tif|geojson)|\w+图层", "", value
                        )
                    _found(f"{table}.{column}", value, problems)
    assert not problems, "\n".join(problems[:30])


def _column_values(column) -> list:
    if isinstance(column, dict):
        return list(column.get("dict", []))
    return list(column) if isinstance(column, list) else []


def test_map_popups_and_legend_hold_no_code(outputs):
    html = (outputs / "map.html").read_text(encoding="utf-8")
    data = {ident: json.loads(text) for ident, text in BLOCK_RE.findall(html)}
    problems: list[str] = []
    for spec in data["sm-config"]["layers"]:
        _found(f"layer {spec['id']}", spec.get("label"), problems)
        _found(f"layer {spec['id']} group", spec.get("group"), problems)
        for category in spec.get("categories", []):
            _found(f"{spec['id']} category", category.get("label"), problems)
        popup = spec.get("popup") or {}
        block = data[spec["data"]]
        for label, column, _ in popup.get("fields", []):
            _found(f"{spec['id']} popup label", label, problems)
            if "columns" in block:
                values = _column_values(block["columns"].get(column))
            else:
                values = [f["properties"].get(column) for f in block.get("features", [])]
            for value in values:
                _found(f"{spec['id']} popup {column}", value, problems)
    for legend in re.findall(r'"label":\s*"([^"]*)"', data["sm-config"].__repr__()):
        _found("legend", legend, problems)
    assert not problems, "\n".join(problems[:30])


def test_figures_hold_no_code(outputs):
    """Every text drawn in the overview and a county figure (titles, legend, labels, footer)."""
    import geopandas as gpd
    from matplotlib.text import Text

    from spatial.export.figures import render_figure

    gpkg = outputs / "screening.gpkg"
    enterprises = gpd.read_file(gpkg, layer="enterprises")
    layers = {
        name: gpd.read_file(gpkg, layer=name)
        for name in ("builtup", "heat_sources", "dingxiang_zones")
    }
    problems: list[str] = []
    for county in (None, "定襄县"):
        fig = render_figure(enterprises, layers, county=county, dpi=50, as_of=dt.date(2024, 12, 1))
        texts = [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]
        assert any("定襄" in t for t in texts)  # the figure was drawn, with its names
        for text in texts:
            if text.startswith("数据来源"):
                continue  # the planner's own file names, as given (like PROVENANCE)
            _found(f"figure {county or 'overview'}", text, problems)
    assert not problems, "\n".join(problems[:30])

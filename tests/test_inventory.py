"""The inventory loader: encodings, headers, coordinate systems and every rejection reason."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from spatial import coords
from spatial.errors import InputFileError
from spatial.inventory import detect_encoding, load_enterprises, parse_numbers
from tests.helpers import HEADER

GEOD = Geod(ellps="WGS84")
GOOD = "A1,甲铸造厂,foundry,榆次区,permitted,yes,112.75,37.69"


def metres(lon1, lat1, lon2, lat2) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_with_chinese_headers(csv_file, encoding):
    path = csv_file(
        [
            "编号,企业名称,行业,所在县,产业政策类别,达标排放,经度,纬度",
            "A1,甲铸造厂,铸造,榆次区,限制类,是,112.75,37.69",
        ],
        encoding=encoding,
    )
    inv = load_enterprises(path)
    assert len(inv.rejected) == 0
    row = inv.enterprises.iloc[0]
    assert (row["id"], row["name"], row["industry"], row["county"]) == (
        "A1",
        "甲铸造厂",
        "foundry",
        "榆次区",
    )
    assert (row["policy_class"], row["compliant"]) == ("restricted", "yes")
    expected = "utf-8" if encoding == "utf-8" else ("utf-8-sig" if "sig" in encoding else "gb18030")
    assert inv.encoding == expected


def test_detect_encoding_prefers_utf8_for_ascii():
    assert detect_encoding(b"id,lon,lat\n") == "utf-8"


def test_gcj02_file_is_converted_to_wgs84(csv_file):
    true_lon, true_lat = 112.75, 37.69
    g_lon, g_lat = coords.wgs84_to_gcj02(true_lon, true_lat)
    path = csv_file(
        [HEADER, f"A1,甲,foundry,榆次区,permitted,yes,{float(g_lon):.8f},{float(g_lat):.8f}"]
    )
    as_wgs = load_enterprises(path).enterprises.iloc[0]
    assert metres(as_wgs.lon, as_wgs.lat, float(g_lon), float(g_lat)) < 1e-2  # taken as given
    inv = load_enterprises(path, crs="gcj02")
    row = inv.enterprises.iloc[0]
    assert metres(row.lon, row.lat, true_lon, true_lat) < 0.5
    assert metres(row.lon_input, row.lat_input, float(g_lon), float(g_lat)) < 1e-2
    assert row.coord_sys == "gcj02"
    assert 100 < metres(row.lon, row.lat, row.lon_input, row.lat_input) < 700


def test_per_row_coord_sys_mixes_systems(csv_file):
    g = [float(v) for v in coords.wgs84_to_gcj02(112.75, 37.69)]
    b = [float(v) for v in coords.wgs84_to_bd09(112.75, 37.69)]
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(112.75, 37.69)
    path = csv_file(
        [
            HEADER + ",coord_sys",
            "A1,甲,foundry,榆次区,permitted,yes,112.75,37.69,wgs84",
            f"A2,乙,foundry,榆次区,permitted,yes,{g[0]:.8f},{g[1]:.8f},高德",
            f"A3,丙,foundry,榆次区,permitted,yes,{b[0]:.8f},{b[1]:.8f},bd09",
            f"A4,丁,foundry,榆次区,permitted,yes,{x:.3f},{y:.3f},EPSG:4547",
            "A5,戊,foundry,榆次区,permitted,yes,112.75,37.69,",
        ]
    )
    inv = load_enterprises(path)
    assert len(inv.rejected) == 0
    e = inv.enterprises
    assert list(e.coord_sys) == ["wgs84", "gcj02", "bd09", "EPSG:4547", "wgs84"]
    for lon, lat in zip(e.lon, e.lat, strict=True):
        assert metres(lon, lat, 112.75, 37.69) < 0.5


REJECTIONS = [
    ("A1,甲,foundry,榆次区,permitted,yes,,37.69", "missing_coordinates", "lon: missing"),
    ("A1,甲,foundry,榆次区,permitted,yes,112.75,abc", "not_a_number", "lat: not a number ('abc')"),
    ("A1,甲,foundry,榆次区,permitted,yes,112.75,inf", "not_a_number", "not a finite number"),
    ("A1,甲,foundry,榆次区,permitted,yes,37.69,112.75", "lon_lat_swapped", "swapped"),
    ("A1,甲,foundry,榆次区,permitted,yes,106.9,47.9", "outside_china", "outside China"),
    ("A1,甲,foundry,榆次区,permitted,yes,0,0", "zero_coordinates", "0/0"),
    (",甲,foundry,榆次区,permitted,yes,112.75,37.69", "empty_id", "id: empty"),
    ("A1,甲,spaceship,榆次区,permitted,yes,112.75,37.69", "unknown_code", "industry: unknown"),
    ("A1,甲,foundry,榆次区,banned,yes,112.75,37.69", "unknown_code", "policy_class: unknown"),
    ("A1,甲,foundry,榆次区,permitted,maybe,112.75,37.69", "unknown_code", "compliant: unknown"),
    ("A1,甲,foundry,榆次区,permitted,yes,112.75,37.69,surplus", "extra_cells", "more cells"),
]


@pytest.mark.parametrize(("line", "code", "text"), REJECTIONS)
def test_each_rejection_reason(csv_file, line, code, text):
    inv = load_enterprises(csv_file([HEADER, GOOD.replace("A1", "OK"), line]))
    assert len(inv.enterprises) == 1 and inv.enterprises.id.iloc[0] == "OK"
    assert len(inv.rejected) == 1
    rejected = inv.rejected.iloc[0]
    assert code in rejected.reason_code.split(";")
    assert text in rejected.reason
    assert rejected.row == 3
    assert inv.reject_counts()[code] == 1


def test_duplicate_id_rejects_the_second_occurrence(csv_file):
    inv = load_enterprises(csv_file([HEADER, GOOD, GOOD.replace("甲", "乙")]))
    assert inv.enterprises.name.tolist() == ["甲铸造厂"]
    assert inv.rejected.reason.tolist() == ["id: duplicate of row 2 ('A1')"]


def test_bad_coord_sys_value_is_rejected(csv_file):
    inv = load_enterprises(csv_file([HEADER + ",coord_sys", GOOD + ",foo"]))
    assert inv.rejected.reason_code.tolist() == ["unknown_coord_sys"]


def test_all_problems_of_a_row_are_reported_together(csv_file):
    inv = load_enterprises(csv_file([HEADER, ",甲,spaceship,榆次区,banned,maybe,,abc"]))
    reason = inv.rejected.reason.iloc[0]
    for part in [
        "id: empty",
        "lon: missing",
        "lat: not a number",
        "industry",
        "policy_class",
        "compliant",
    ]:
        assert part in reason


def test_every_row_is_accounted_for(csv_file):
    lines = (
        [HEADER]
        + [line for line, _, _ in REJECTIONS]
        + [GOOD.replace("A1", f"G{i}") for i in range(5)]
    )
    inv = load_enterprises(csv_file(lines))
    assert inv.n_input == len(lines) - 1
    assert len(inv.enterprises) + len(inv.rejected) == len(lines) - 1
    assert set(inv.rejected.row) | set(inv.enterprises.row) == set(range(2, len(lines) + 1))


def test_blank_rows_are_skipped_and_counted(csv_file):
    inv = load_enterprises(csv_file([HEADER, GOOD, ",,,,,,,", ""]))
    assert (len(inv.enterprises), len(inv.rejected), inv.blank_rows) == (1, 0, 2)


def test_blank_conditions_stay_unknown(csv_file):
    inv = load_enterprises(csv_file([HEADER, "A1,甲,foundry,榆次区,,,112.75,37.69"]))
    row = inv.enterprises.iloc[0]
    assert row.compliant is None and row.policy_class is None


def test_extra_columns_are_kept(csv_file):
    inv = load_enterprises(csv_file([HEADER + ",备注", GOOD + ",见附件"]))
    assert inv.enterprises["备注"].tolist() == ["见附件"]


def test_title_row_above_the_header(csv_file):
    inv = load_enterprises(csv_file(["晋中市2019年错峰生产企业名单,,,,,,,", HEADER, GOOD]))
    assert len(inv.enterprises) == 1
    assert inv.enterprises.row.tolist() == [3]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_delimiters(csv_file, sep):
    """Every cell lands in its column (a comma inside a name stays in the name), as with
    commas."""
    lines = [
        HEADER.replace(",", sep),
        GOOD.replace(",", sep),
        sep.join(["A2", "乙铸造厂,二分厂", "coking", "太谷区", "restricted", "no"])
        + f"{sep}112.55{sep}37.42",
    ]
    inv = load_enterprises(csv_file(lines))
    assert len(inv.rejected) == 0
    e = inv.enterprises
    assert e["id"].tolist() == ["A1", "A2"]
    assert e["name"].tolist() == ["甲铸造厂", "乙铸造厂,二分厂"]
    assert e["industry"].tolist() == ["foundry", "coking"]
    assert e["county"].tolist() == ["榆次区", "太谷区"]
    assert e["policy_class"].tolist() == ["permitted", "restricted"]
    assert e["lon"].tolist() == [112.75, 112.55] and e["lat"].tolist() == [37.69, 37.42]
    assert e.geometry.x.tolist() == [112.75, 112.55]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["id,name,industry", "A1,甲,foundry"], "no coordinate columns"),
        (["name,lon,lat", "甲,112.75,37.69"], "no 'id' column"),
        (["id,编号,lon,lat", "1,2,112.75,37.69"], "ambiguous headers"),
        (["foo,bar", "1,2"], "no header row"),
    ],
)
def test_file_level_errors_name_the_file(csv_file, lines, message):
    path = csv_file(lines)
    with pytest.raises(InputFileError, match=message) as info:
        load_enterprises(path)
    assert str(path) in str(info.value)


def test_missing_empty_and_binary_files(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        load_enterprises(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        load_enterprises(tmp_path / "empty.csv")
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputFileError, match="not a text file"):
        load_enterprises(tmp_path / "bin.csv")
    (tmp_path / "x.docx").write_bytes(b"PK")
    with pytest.raises(InputFileError, match="unsupported file type"):
        load_enterprises(tmp_path / "x.docx")


def test_xlsx_with_title_row(tmp_path):
    path = tmp_path / "plants.xlsx"
    frame = pd.DataFrame(
        [
            ["名单", None, None, None],
            ["编号", "企业名称", "经度", "纬度"],
            ["A1", "甲", 112.75, 37.69],
            ["A2", "乙", "abc", 37.69],
        ]
    )
    frame.to_excel(path, header=False, index=False)
    inv = load_enterprises(path)
    assert inv.enterprises.id.tolist() == ["A1"]
    assert inv.rejected.row.tolist() == [4]
    assert inv.encoding == "xlsx"


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_vector_layers_use_their_geometry_and_crs(tmp_path, suffix):
    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(112.75, 37.69)
    gdf = gpd.GeoDataFrame(
        {"id": ["A1", "A2"], "name": ["甲", "乙"], "industry": ["steel", "coking"]},
        geometry=gpd.points_from_xy([x, x], [y, y]),
        crs="EPSG:4547",
    )
    gdf.loc[1, "geometry"] = gdf.geometry.iloc[1].buffer(10)
    path = tmp_path / f"plants{suffix}"
    gdf.to_file(path, engine="pyogrio")
    inv = load_enterprises(path)
    row = inv.enterprises.iloc[0]
    assert metres(row.lon, row.lat, 112.75, 37.69) < 0.01
    assert inv.rejected.reason_code.tolist() == ["not_a_point"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("112.5", 112.5),
        ("１１２．５", 112.5),
        ("112。5", 112.5),
        (" 37.1 ", 37.1),
        ("112°45′30″", 112.758333),
        ("112度45分30秒", 112.758333),
        ("37°30'N", 37.5),
    ],
)
def test_number_spellings(text, value):
    numbers, blank = parse_numbers(pd.Series([text]), degrees=True)
    assert not blank.iloc[0]
    assert numbers.iloc[0] == pytest.approx(value, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_random_cell_text_never_crashes(tmp_path_factory, cells):
    """Whatever text is in the cells, every row is accepted or rejected, never a crash."""
    folder = tmp_path_factory.mktemp("fuzz")
    frame = pd.DataFrame(
        {
            "id": [f"R{i}" for i in range(len(cells))],
            "lon": cells,
            "lat": cells[::-1],
            "industry": cells,
        }
    )
    path = folder / "fuzz.csv"
    # CRLF line ends, as Excel writes them: the csv writer then quotes any cell holding \r or
    # \n (with "\n" ends a bare \r would go unquoted and really split the row)
    frame.to_csv(path, index=False, lineterminator="\r\n")
    inv = load_enterprises(path)
    assert inv.n_input + inv.blank_rows == len(cells)
    assert inv.rejected.reason.str.len().gt(0).all()
    assert np.isfinite(inv.enterprises.lon).all()


# ---------------------------------------------------------------------------------------------
# Ids, control characters and layers (issue 14)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("A1", "Ａ１"),  # full-width letters and digits
        ("A1", "A\u200b1"),  # zero-width space
        ("A1", "\ufeffA1"),  # a BOM inside a cell
        ("91140700MA0K1", "９１１４０７００ＭＡ０Ｋ１"),
    ],
)
def test_ids_are_normalised_before_the_duplicate_check(csv_file, first, second):
    path = csv_file(
        [HEADER, GOOD.replace("A1", first, 1), GOOD.replace("A1", second, 1).replace("甲", "乙")]
    )
    inv = load_enterprises(path)
    assert inv.enterprises["id"].tolist() == [first]
    assert inv.rejected["reason_code"].tolist() == ["duplicate_id"]
    assert "duplicate of row 2" in inv.rejected["reason"].iloc[0]
    assert "written here as" in inv.rejected["reason"].iloc[0]
    assert any("ids were normalised" in w and "row 3" in w for w in inv.warnings), inv.warnings


def test_a_normalised_id_is_kept_normalised_and_said(csv_file):
    inv = load_enterprises(csv_file([HEADER, GOOD.replace("A1", "Ｂ\u200d７", 1)]))
    assert inv.enterprises["id"].tolist() == ["B7"]
    assert inv.warnings and "row 2: 'Ｂ\\u200d７' → 'B7'" in inv.warnings[0]


def test_ascii_ids_give_no_normalisation_warning(csv_file):
    assert load_enterprises(csv_file([HEADER, GOOD])).warnings == []


@pytest.mark.parametrize(
    ("identifier", "rejected"),
    [
        ("9.11400007010123E+17", True),
        ("9.11400007010123e+17", True),
        ("1E+5", True),
        ("-2.5E-3", True),
        ("911400007010123456", False),
        ("3E10", False),  # no sign: a plausible plant code, not Excel's notation
        ("E+17", False),
    ],
)
def test_ids_in_scientific_notation_are_rejected(csv_file, identifier, rejected):
    inv = load_enterprises(csv_file([HEADER, GOOD.replace("A1", identifier, 1)]))
    codes = inv.rejected["reason_code"].tolist()
    assert codes == (["id_scientific"] if rejected else [])
    if rejected:
        reason = inv.rejected["reason"].iloc[0]
        assert identifier in reason and "Text" in reason


def test_scientific_ids_from_an_xlsx_number_cell(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "name", "lon", "lat"])
    sheet.append([9.11400007010123e17, "甲", 112.75, 37.69])  # what Excel stores for a long code
    sheet.append(["A2", "乙", 112.75, 37.69])
    path = tmp_path / "plants.xlsx"
    workbook.save(path)
    inv = load_enterprises(path)
    assert inv.rejected["reason_code"].tolist() == ["id_scientific"]
    assert inv.enterprises["id"].tolist() == ["A2"]


@pytest.mark.parametrize(
    ("line", "column", "shown"),
    [
        (GOOD.replace("112.75", "112.7\x005"), "lon", "\\x00"),  # never read as 112.75
        (GOOD.replace("甲铸造厂", "甲\x00铸造厂"), "name", "\\x00"),
        (GOOD.replace("甲铸造厂", "甲\x01厂"), "name", "\\x01"),
        (GOOD.replace("榆次区", "榆次\x1b[31m区"), "county", "\\x1b"),
        (GOOD.replace("甲铸造厂", "甲\x7f厂"), "name", "\\x7f"),
    ],
)
def test_control_characters_reject_the_row(csv_file, line, column, shown):
    inv = load_enterprises(csv_file([HEADER, line, GOOD.replace("A1", "A2", 1)]))
    assert inv.enterprises["id"].tolist() == ["A2"]
    rejected = inv.rejected.iloc[0]
    assert "control_character" in rejected["reason_code"].split(";")
    assert rejected["reason"].startswith(f"{column}: contains ")
    # the rejected table shows the character escaped, so every output can hold it
    assert shown in rejected[column] and "\x00" not in "".join(map(str, rejected.to_numpy()))
    details = inv.problems[inv.problems["reason_code"] == "control_character"]
    assert details["column"].tolist() == [column]


def test_tab_and_line_breaks_in_a_cell_are_not_control_problems(csv_file):
    inv = load_enterprises(csv_file([HEADER, GOOD.replace("甲铸造厂", '"甲\t铸造\n厂"')]))
    assert len(inv.rejected) == 0 and inv.enterprises["name"].iloc[0] == "甲\t铸造\n厂"


def test_a_geopackage_with_two_layers_names_the_one_read(tmp_path):
    import shapely

    path = tmp_path / "plants.gpkg"
    point = shapely.Point(112.75, 37.69)
    for layer, ids in (("yuci", ["A1", "A2"]), ("taigu", ["B1", "B2", "B3"])):
        gpd.GeoDataFrame({"id": ids}, geometry=[point] * len(ids), crs="EPSG:4326").to_file(
            path, layer=layer
        )
    inv = load_enterprises(path)
    assert inv.enterprises["id"].tolist() == ["A1", "A2"]
    assert len(inv.warnings) == 1
    assert "'yuci'" in inv.warnings[0] and "'taigu' (3 features)" in inv.warnings[0]


def test_a_geopackage_with_one_layer_gives_no_layer_warning(tmp_path):
    import shapely

    path = tmp_path / "plants.gpkg"
    gpd.GeoDataFrame(
        {"id": ["A1"]}, geometry=[shapely.Point(112.75, 37.69)], crs="EPSG:4326"
    ).to_file(path, layer="only")
    assert load_enterprises(path).warnings == []


@pytest.mark.parametrize(
    ("header", "column", "unit"),
    [("颗粒物(g/m3)", "pm_mg", "mg/m3"), ("锅炉功率(kW)", "boiler_mw", "mw"),
     ("大宗物料运输量(吨)", "bulk_10kt", "万吨")],
)  # fmt: skip
def test_a_header_in_another_unit_is_refused_not_read_in_ours(tmp_path, header, column, unit):
    # 颗粒物(g/m3) was read as pm_mg: 0.01 g/m3 (10 mg/m3) became 0.01 mg/m3, without a word
    path = tmp_path / "plants.csv"
    path.write_text(f"id,name,industry,lon,lat,{header}\nA1,甲厂,foundry,112.7,37.7,0.01\n")
    with pytest.raises(InputFileError) as info:
        load_enterprises(path)
    message = str(info.value)
    assert str(path) in message and header in message and column in message and unit in message


@pytest.mark.parametrize("header", ["颗粒物(mg/m3)", "颗粒物（mg/m³）", "颗粒物", "锅炉容量(t/h)"])
def test_headers_in_the_columns_own_unit_are_read(tmp_path, header):
    path = tmp_path / "plants.csv"
    path.write_text(f"id,name,industry,lon,lat,{header}\nA1,甲厂,foundry,112.7,37.7,12\n")
    enterprises = load_enterprises(path).enterprises
    assert enterprises.filter(regex="^(pm_mg|boiler_tph)$").iloc[0].tolist() == [12.0]

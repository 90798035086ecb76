"""The map's GeoJSON text: GEOS-written coordinates read back as the geometries, rounded."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.export.webmap_encode import _feature_collection

coordinate = st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 9))


@st.composite
def geometries(draw):
    kind = draw(
        st.sampled_from(["polygon", "holed", "multi", "line", "multiline", "point", "none"])
    )
    x, y = draw(coordinate), draw(st.floats(-80, 80, allow_nan=False))
    r = draw(st.floats(1e-4, 2.0))
    if kind == "none":
        return None
    if kind == "point":
        return shapely.Point(x, y)
    ring = shapely.Point(x, y).buffer(r, quad_segs=draw(st.integers(1, 8)))
    if kind == "polygon":
        return ring
    if kind == "holed":
        return ring.difference(shapely.Point(x, y).buffer(r / 2))
    if kind == "multi":
        return shapely.MultiPolygon([ring, shapely.Point(x + 3 * r, y).buffer(r)])
    line = shapely.LineString(ring.exterior.coords[:-1])
    if kind == "line":
        return line
    return shapely.MultiLineString([line, shapely.LineString([(x, y), (x - r, y - r)])])


def expected(geom, digits):
    """What the page held before (issue 19): shapely's mapping of the rounded geometry."""
    rounded = shapely.transform(geom, lambda c: np.round(c, digits))
    return json.loads(json.dumps(shapely.geometry.mapping(rounded)))


@settings(max_examples=60, deadline=None)
@given(st.lists(geometries(), min_size=1, max_size=6), st.sampled_from([5, 6]))
def test_feature_collection_reads_back_as_the_rounded_geometries(geoms, digits):
    names = [f"<b>{i}</b>" if i % 2 else None for i in range(len(geoms))]
    gdf = gpd.GeoDataFrame({"name": names}, geometry=geoms, crs="EPSG:4326")
    text = _feature_collection(gdf, {"name": names}, digits=digits)
    assert "<" not in text  # safe inside a <script> block
    features = json.loads(text)["features"]
    drawn = [(i, g) for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    assert len(features) == len(drawn)
    for feature, (i, geom) in zip(features, drawn, strict=True):
        assert feature["type"] == "Feature"
        assert feature["properties"] == ({"name": names[i]} if names[i] else {})
        assert feature["geometry"] == expected(geom, digits)

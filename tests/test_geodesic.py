"""The one ellipsoid's buffers: computed for many features at once, equal to one by one."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from spatial.geodesic import MAX_SEGMENT_M, AzimuthalPlane, geodesic_buffer, geodesic_buffers


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_buffers_at_once_are_the_buffers_one_by_one(threads):
    # issue 19: the display buffers are computed for all features together, over threads;
    # they must be exactly the polygons of geodesic_buffer, feature by feature, in order
    rng = np.random.default_rng(7)
    geoms = []
    for i in range(150):
        x, y = 110 + 4 * rng.random(), 35 + 4 * rng.random()
        kind = i % 5
        if kind == 0:
            geoms.append(shapely.Point(x, y))
        elif kind == 1:
            outer = shapely.Point(x, y).buffer(0.05, quad_segs=3)
            geoms.append(outer.difference(shapely.Point(x, y).buffer(0.01)))
        elif kind == 2:
            geoms.append(
                shapely.MultiPolygon(
                    [
                        shapely.box(x, y, x + 0.02, y + 0.02),
                        shapely.box(x + 0.1, y, x + 0.12, y + 0.03),
                    ]
                )
            )
        elif kind == 3:
            geoms.append(shapely.LineString([(x, y), (x + 0.1, y + 0.05)]))
        else:
            geoms.append(shapely.Polygon())
    many = geodesic_buffers(geoms, 10_000.0, threads=threads)
    assert len(many) == len(geoms)
    singles = [geodesic_buffer(g, 10_000.0) for g in geoms]
    for one, geom, other in zip(many, geoms, singles, strict=True):
        assert shapely.equals_exact(one, other, tolerance=0), geom.wkt


@pytest.mark.parametrize(
    "geom",
    [
        shapely.Point(112.5, 37.8),
        shapely.box(112.0, 37.0, 112.1, 37.05),
        shapely.LineString([(110.0, 35.0), (110.3, 35.2)]),
        shapely.box(100.0, 40.0, 100.2, 40.1).difference(shapely.box(100.05, 40.02, 100.1, 40.05)),
    ],
    ids=["point", "polygon", "line", "holed"],
)
def test_a_buffer_is_the_planar_buffer_in_the_azimuthal_plane_at_the_centroid(geom):
    # the construction the docstring states, step by step with the plane's own transforms
    plane = AzimuthalPlane(geom.centroid.x, geom.centroid.y)
    planar = shapely.buffer(plane.to_plane(geom), 10_000.0, quad_segs=128)
    want = plane.to_lonlat(shapely.segmentize(planar, MAX_SEGMENT_M / 2))
    got = geodesic_buffer(geom, 10_000.0)
    assert shapely.equals_exact(got, want, tolerance=1e-12)
    assert geodesic_buffer(shapely.Polygon(), 10_000.0).is_empty

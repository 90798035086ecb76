"""The one ellipsoid's buffers: computed for many features at once, equal to one by one."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from spatial.geodesic import geodesic_buffer, geodesic_buffers


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

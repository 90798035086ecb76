"""Values of the web map's layers as JSON for the page: columnar, dictionary-encoded text
put into ``<script type="application/json">`` blocks (safe to inline: ``<``, ``>``, ``&`` and
the line separators are escaped), coordinates as integers of 1e-6 degree.

Used by :mod:`spatial.export.webmap_layers`; :mod:`spatial.export.webmap` re-exports the
public names.
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

COORD_DIGITS = 6  # 0.1 m


# --------------------------------------------------------------------------------------------
# Values to JSON


_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


class _Json(str):
    """JSON text, already safe inside a ``<script>`` block (a column or table of a large
    layer, encoded from arrays; made by :func:`_dumps` or from numbers only)."""


def _dumps(obj: Any) -> _Json:
    """JSON for a ``<script type="application/json">`` block: no ``<``/``>`` can close it
    (escaped as ``\\u003c``/``\\u003e``, which JSON.parse reads back as the same text)."""
    if isinstance(obj, _Json):
        return obj
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _SCRIPT_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return _Json(text)


def _json_script_text(obj: Any) -> str:
    """JSON for a ``<script type="application/json">`` block (see :func:`_dumps`)."""
    return str(_dumps(obj))


def _values(series: pd.Series, fmt: str = "text", digits: int | None = None) -> list:
    """Plain Python values of a column: None for blanks, rounded numbers, text otherwise."""
    if fmt == "yesno":
        out: list = []
        for v in series:
            if isinstance(v, bool | np.bool_):
                out.append(bool(v))
            elif v is None or pd.isna(v):
                out.append(None)
            else:
                text = str(v).strip().lower()
                out.append(text in ("true", "yes", "1", "是"))
        return out
    if fmt in ("metres", "percent", "days", "mw", "number"):
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        if digits is not None:
            numbers = np.round(numbers, digits)
        return [None if math.isnan(x) else (int(x) if digits == 0 else x) for x in numbers.tolist()]
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        # pandas string columns (pyarrow or python): vectorised, blanks become None
        blank = series.isna() | (series.str.strip() == "")
        return series.astype(object).where(~blank.to_numpy(), None).tolist()
    out = []
    for v in series:
        if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.date().isoformat() if v == v.normalize() else v.isoformat())
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat())
        elif isinstance(v, float | np.floating) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            text = str(v)
            out.append(text if text.strip() else None)
    return out


def _encode(values: list) -> list | dict:
    """Dictionary-encode a text column when it repeats (most columns of 20k plants do)."""
    if len(values) < 16 or not any(isinstance(v, str) for v in values):
        return values
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    if len(uniques) > len(values) // 2:
        return values
    return {
        "dict": [str(u) for u in uniques],
        "codes": codes.tolist(),  # -1: blank
    }


def _ints_json(values: np.ndarray, missing: np.ndarray | None = None) -> _Json:
    """A JSON array of integers (``null`` where ``missing``), written without a Python
    object per value where possible."""
    values = np.asarray(values, dtype=np.int64)
    if missing is None and len(values) and values.min() >= -1 and values.max() < 4096:
        # small codes (categories, dictionary codes): each number's text is looked up once
        texts = np.array([str(i) for i in range(-1, int(values.max()) + 1)], dtype=object)
        return _Json("[" + ",".join(texts[values + 1].tolist()) + "]")
    items = values.tolist()
    if missing is not None:
        for i in np.flatnonzero(missing).tolist():
            items[i] = None
    return _Json(json.dumps(items, separators=(",", ":")))  # numbers only: nothing to escape


def _column_json(
    series: pd.Series,
    fmt: str = "text",
    digits: int | None = None,
    mapper: Any = None,
) -> _Json:
    """One column of a point table as JSON: each distinct value is formatted once (by
    :func:`_values`, then ``mapper``, a function of the list of labels); a text column that
    repeats is dictionary-encoded ``{"dict": [...], "codes": [...]}`` (-1 for a blank)."""
    n = len(series)
    if fmt in ("metres", "percent", "days", "mw", "number"):
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        missing = np.isnan(numbers)
        if digits == 0:
            whole = np.round(np.where(missing, 0.0, numbers))
            if np.abs(whole).max(initial=0.0) < 2.0**53:  # exact in int64 and in JavaScript
                return _ints_json(whole, missing)
            return _Json(_dumps(_values(series, fmt, digits)))
        rounded = numbers if digits is None else np.round(numbers, digits)
        values = rounded.tolist()
        for i in np.flatnonzero(missing).tolist():
            values[i] = None
        return _Json(_dumps(values))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if fmt == "text" and len(uniques) > n // 2 and n >= 16:
        # mostly distinct (ids, names): one value per row, vectorised for string columns
        values = _values(series)
        return _Json(_dumps(mapper(values) if mapper is not None else values))
    labels = _values(pd.Series(list(uniques), dtype=object), fmt)
    if mapper is not None:
        labels = mapper(labels)
    if fmt == "yesno":
        tokens = np.array(["null" if v is None else ("true" if v else "false") for v in labels])
        tokens = np.append(tokens, "null")
        return _Json("[" + ",".join(tokens[codes].tolist()) + "]")
    # blanks and labels that coincide after formatting share one entry
    dictionary: list[str] = []
    position: dict[str, int] = {}
    lookup = np.full(len(labels) + 1, -1, dtype=np.int64)
    for k, label in enumerate(labels):
        if label is not None:
            lookup[k] = position.setdefault(label, len(dictionary))
            if lookup[k] == len(dictionary):
                dictionary.append(label)
    final = lookup[codes]
    if n < 16 or len(dictionary) > n // 2:
        values = [dictionary[c] if c >= 0 else None for c in final.tolist()]
        return _Json(_dumps(values))
    return _Json('{"dict":' + _dumps(dictionary) + ',"codes":' + _ints_json(final) + "}")


def _coords_json(values: np.ndarray) -> _Json:
    """Coordinates in millionths of a degree (0.1 m), as integers: compact and fast to write;
    the runtime divides them back."""
    return _Json('{"e6":' + _ints_json(np.round(np.asarray(values, dtype=float) * 1e6)) + "}")


class _JsonParts(tuple):
    """JSON text in pieces (each safe in a ``<script>`` block), written one after another."""


_PARTS_FROM = 5000


def _point_table(gdf: gpd.GeoDataFrame, columns: dict[str, Any]) -> _Json | _JsonParts:
    """Columnar JSON table of points: lon, lat and the given columns (lists or JSON text)."""
    xs = shapely.get_x(gdf.geometry.values)
    ys = shapely.get_y(gdf.geometry.values)
    parts = ['"lon":', _coords_json(xs), ',"lat":', _coords_json(ys)]
    for name, values in columns.items():
        text = values if isinstance(values, _Json) else _dumps(_encode(values))
        parts += [f",{_dumps(name)}:", text]
    pieces = [f'{{"n":{len(gdf)},"columns":{{', *parts, "}}"]
    # a large table stays in pieces down to the file (no copy of tens of megabytes)
    return _JsonParts(pieces) if len(gdf) >= _PARTS_FROM else _Json("".join(pieces))


def _feature_collection(
    gdf: gpd.GeoDataFrame, properties: dict[str, list], digits: int = COORD_DIGITS
) -> _Json:
    """A GeoJSON FeatureCollection as JSON text, coordinates rounded to ``digits`` decimals.

    Lines and polygons are written by GEOS (WKT with that precision, turned into GeoJSON's
    nested arrays by a few replacements of the whole text): the 5,000 geodesic buffers of a
    provincial run have 3.2 million vertices, which took 6 s through a Python object per
    coordinate (issue 19). Other geometries go through ``shapely.geometry.mapping``.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    keep = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    geoms = geoms[keep]
    kinds = shapely.get_type_id(geoms)
    written = np.isin(kinds, list(_GEOJSON_TYPES))
    texts = np.empty(len(geoms), dtype=object)
    if written.any():
        # rounded first: GEOS's own rounding leaves a tiny value in exponent form (8.76e-07)
        rounded = shapely.transform(geoms[written], lambda c: np.round(c, digits))
        wkt = shapely.to_wkt(rounded, rounding_precision=digits, trim=True)
        texts[written] = [
            f'{{"type":"{_GEOJSON_TYPES[kind]}","coordinates":{_wkt_coordinates(text)}}}'
            for kind, text in zip(kinds[written].tolist(), wkt.tolist(), strict=True)
        ]
    for i in np.flatnonzero(~written):
        rounded = shapely.transform(geoms[i], lambda c: np.round(c, digits))
        texts[i] = _dumps(shapely.geometry.mapping(rounded))
    features = []
    for i, geometry in zip(keep.tolist(), texts.tolist(), strict=True):
        props = {name: vals[i] for name, vals in properties.items() if vals[i] is not None}
        features.append(f'{{"type":"Feature","properties":{_dumps(props)},"geometry":{geometry}}}')
    return _Json('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}")


#: shapely type ids written through WKT, and their GeoJSON names
_GEOJSON_TYPES = {1: "LineString", 3: "Polygon", 5: "MultiLineString", 6: "MultiPolygon"}


def _wkt_coordinates(wkt: str) -> str:
    """GeoJSON coordinates of a line or polygon from its WKT (``POLYGON ((x y, x y), ...)``).

    Every comma-space of WKT separates two coordinates or two of their groups, each ``(`` and
    ``)`` opens or closes a group: the nested arrays are one bracket deeper than WKT's
    parentheses (the coordinate pair is an array too).

    >>> _wkt_coordinates("POLYGON ((0 0, 1 0, 1 1, 0 0), (0.2 0.2, 0.5 0.2, 0.2 0.5, 0.2 0.2))")
    '[[[0,0],[1,0],[1,1],[0,0]],[[0.2,0.2],[0.5,0.2],[0.2,0.5],[0.2,0.2]]]'
    >>> _wkt_coordinates("LINESTRING (112.5 37.8, -1.25 -3)")
    '[[112.5,37.8],[-1.25,-3]]'
    """
    body = wkt[wkt.index("(") :]
    return (
        "[" + body.replace(", ", "],[").replace(" ", ",").replace("(", "[").replace(")", "]") + "]"
    )

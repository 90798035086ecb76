"""Other context layers a rule can name (ecological zones, urban function areas, roads ...).

Any vector file GDAL reads, in any CRS, with a name column (``name``, ``名称``) or an ``id``;
or a CSV of points with lon/lat columns (``lon``/``lat``, ``经度``/``纬度``, WGS84). Returned
in WGS84 with a ``name`` for every feature, so decisions can say which feature was near. A
file of several layers is read at its first layer, with an :class:`~spatial.errors.InputWarning`
naming the layers not read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial import schema
from spatial.errors import InputWarning, LayerError
from spatial.geodesic import WGS84

NAME_ALIASES = ("name", "名称", "name_zh", "id", "编号")
LON_ALIASES = ("lon", "lng", "longitude", "经度", "x")
LAT_ALIASES = ("lat", "latitude", "纬度", "y")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")


def choose_layer(path: str | Path, what: str = "feature") -> tuple[str | None, list[str]]:
    """The layer to read from a file that may hold several (GeoPackage), and a note naming it
    and the layers with features that are not read (None and no note for a one-layer file).

    The first layer with geometry is chosen (else the first); ``what`` names the features in
    the note ('enterprise', 'built-up area' ...).
    """
    import pyogrio

    try:
        listed = pyogrio.list_layers(path)
    except Exception:  # unreadable: the reader reports it
        return None, []
    if len(listed) < 2:
        return None, []
    spatial = [str(name) for name, kind in listed if kind is not None]
    chosen = (spatial or [str(listed[0][0])])[0]
    others = []
    for name, _ in listed:
        if str(name) == chosen:
            continue
        try:
            count = pyogrio.read_info(path, layer=str(name))["features"]
        except Exception:  # a layer GDAL cannot count
            count = -1
        if count != 0:
            others.append(f"'{name}'" + (f" ({count} features)" if count > 0 else ""))
    if not others:
        return chosen, []
    return chosen, [
        f"read the layer '{chosen}' of {len(listed)} layers in the file; NOT read: "
        f"{', '.join(others)}. Put every {what} into one layer (or one file per layer) so "
        "none is left out"
    ]


def escape_control_names(names: pd.Series, path: Path, what: str) -> pd.Series:
    """Names with control characters (NUL, \\x01 ...: no spreadsheet, map or figure can hold
    them) written as visible escapes (``\\x01``), with an :class:`InputWarning` naming the
    features. One scan of the joined text when there are none."""
    from spatial.inventory import CONTROL_CHARACTERS

    text = names.astype(str)
    if not CONTROL_CHARACTERS.search("".join(text.to_numpy())):
        return names
    hit = text.str.contains(CONTROL_CHARACTERS, regex=True).to_numpy(dtype=bool)
    escaped = text.str.replace(
        CONTROL_CHARACTERS,
        lambda m: m.group().encode("unicode_escape").decode("ascii"),
        regex=True,
    )
    shown = ", ".join(f"'{v}'" for v in escaped[hit].head(5))
    warnings.warn(
        f"{path}: {int(hit.sum())} {what} name(s) hold control characters, kept escaped as "
        f"{shown}; retype them in the source file",
        InputWarning,
        stacklevel=3,
    )
    return names.where(~hit, escaped).astype(object)


def _find(columns, aliases: tuple[str, ...]) -> str | None:
    wanted = {schema.normalize_text(a) for a in aliases}
    return next((c for c in columns if schema.normalize_text(c) in wanted), None)


def _points_from_table(table: pd.DataFrame, path: Path, name: str) -> gpd.GeoDataFrame:
    """A table of lon/lat points (WGS84) as a layer; a row without usable numbers is an error
    naming the row."""
    from spatial.inventory import parse_numbers

    lon_col, lat_col = _find(table.columns, LON_ALIASES), _find(table.columns, LAT_ALIASES)
    if lon_col is None or lat_col is None:
        raise LayerError(
            f"{path}: layer {name!r} has no geometry and no lon/lat columns (经度/纬度); give a "
            f"GeoPackage, Shapefile or GeoJSON, or a CSV with lon and lat. Columns found: "
            f"{', '.join(map(str, table.columns))}"
        )
    lon, _ = parse_numbers(table[lon_col].astype(object), degrees=True)
    lat, _ = parse_numbers(table[lat_col].astype(object), degrees=True)
    bad = lon.isna() | lat.isna() | lon.abs().gt(180) | lat.abs().gt(90)
    if bad.any():
        rows = ", ".join(str(i + 2) for i in bad.to_numpy().nonzero()[0][:10])
        raise LayerError(
            f"{path}: layer {name!r}: rows {rows} have no usable lon/lat (decimal degrees, "
            "WGS84); fix or delete them"
        )
    return gpd.GeoDataFrame(
        table.drop(columns=[lon_col, lat_col]),
        geometry=gpd.points_from_xy(lon, lat),
        crs=WGS84,
    )


def _read_table(path: Path) -> pd.DataFrame:
    """A CSV as text: UTF-8 (with or without BOM), else GBK/GB18030."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")


def load_context_layer(path: str | Path, name: str) -> gpd.GeoDataFrame:
    """Read a context layer given as ``--layer NAME=FILE``.

    Parameters
    ----------
    path
        A vector file (GeoPackage, Shapefile, GeoJSON ...) with a CRS, or a CSV of points with
        lon/lat columns in WGS84.
    name
        The layer's name as the rule tables use it (``eco_zones``, ``trunk_roads`` ...).
    """
    path = Path(path)
    if not path.exists():
        raise LayerError(f"{path}: no such file (layer {name!r})")
    layer, notes = choose_layer(path, f"feature of {name!r}")
    for note in notes:
        warnings.warn(f"{path}: {note}", InputWarning, stacklevel=2)
    try:
        if path.suffix.lower() in TABLE_SUFFIXES:
            gdf = _read_table(path)
        else:
            gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # GDAL and the CSV reader raise several types for unreadable data
        raise LayerError(f"{path}: cannot read layer {name!r} ({exc})") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.active_geometry_name is None:
        gdf = _points_from_table(pd.DataFrame(gdf), path, name)
    if gdf.crs is None:
        raise LayerError(f"{path}: layer {name!r} has no CRS; define it (e.g. EPSG:4490)")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        raise LayerError(f"{path}: layer {name!r} has no features")
    wanted = {schema.normalize_text(a) for a in NAME_ALIASES}
    label = next((c for c in gdf.columns if schema.normalize_text(c) in wanted), None)
    names = (
        gdf[label].astype(str) if label else gdf.index.map(lambda i: f"{name}-{i + 1}").astype(str)
    )
    names = escape_control_names(pd.Series(names, index=gdf.index), path, f"{name!r} feature")
    out = gpd.GeoDataFrame({"name": names.to_numpy()}, geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs(WGS84).reset_index(drop=True)

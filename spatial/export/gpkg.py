"""The screening GeoPackage: layers, QGIS styles, Chinese field names, metadata and a QGIS
project, all written to a temporary file, then renamed into place.

What is in the file besides the layers (GeoPackage 1.2):

- ``layer_styles``: one QGIS style (QML) per layer, the default (``useAsDefault`` = 1), in the
  table QGIS creates itself, so each layer opens styled (:mod:`spatial.export.styles`).
- ``gpkg_data_columns`` (GeoPackage schema extension): the Chinese name and title of every known
  column, and the ``action`` codes with their Chinese labels (``gpkg_data_column_constraints``).
- ``gpkg_metadata`` (GeoPackage metadata extension): per layer the QGIS layer metadata (title,
  policies and versions, as-of date, input checksums), which QGIS shows under Layer Properties →
  Metadata; and, when given, the run's ``metadata`` dict as JSON for the whole GeoPackage.
- ``qgis_projects``: a QGIS project named ``screening`` with the layers grouped and ordered
  (:mod:`spatial.export.qgis_project`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj

from spatial.config import DEFAULT_OUTPUT_CRS
from spatial.export import qgis_project
from spatial.export.atomic import atomic_path
from spatial.export.styles import (
    ACTIONS,
    LAYER_TITLES,
    field_aliases,
    field_description,
    layer_style,
)
from spatial.geodesic import WGS84
from spatial.zones import ZONE_LAYER

GPKG_OPTIONS = {"VERSION": "1.2"}  # QGIS 3.22's GDAL warns on 1.3/1.4 files
RUN_METADATA_URI = "urn:spatial-screening:run"  # md_standard_uri of the run record (JSON)

SCHEMA_EXTENSION = "http://www.geopackage.org/spec120/#extension_schema"
METADATA_EXTENSION = "http://www.geopackage.org/spec120/#extension_metadata"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

# The DDL QGIS 3.22 (through GDAL) uses for its style table, so QGIS can add styles later.
LAYER_STYLES_DDL = f"""
CREATE TABLE IF NOT EXISTS "layer_styles" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "f_table_catalog" TEXT(256),
  "f_table_schema" TEXT(256), "f_table_name" TEXT(256), "f_geometry_column" TEXT(256),
  "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, "useAsDefault" BOOLEAN,
  "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
  "update_time" DATETIME DEFAULT ({_NOW}));
CREATE TRIGGER IF NOT EXISTS "trigger_insert_feature_count_layer_styles" AFTER INSERT ON
  "layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1
  WHERE lower(table_name) = lower('layer_styles'); END;
CREATE TRIGGER IF NOT EXISTS "trigger_delete_feature_count_layer_styles" AFTER DELETE ON
  "layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1
  WHERE lower(table_name) = lower('layer_styles'); END;
"""
DATA_COLUMNS_DDL = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
  description TEXT, mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT,
  min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN,
  description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
"""
METADATA_DDL = f"""
CREATE TABLE IF NOT EXISTS gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
  reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT ({_NOW}), md_file_id INTEGER NOT NULL,
  md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
"""
PROJECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)"
)
ACTION_CONSTRAINT = "action_codes"


# Features go to GDAL as Arrow tables (pyogrio's write_arrow; GDAL >= 3.8), not row by row.
ARROW = pyogrio.__gdal_version__ >= (3, 8, 0)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding other things than text (numbers, dates, booleans among None) as
    the row-by-row writer writes them: each value as ``str(value)``, None/NaN as null. Arrow
    would infer a number, date or boolean type instead, so both writers give the same fields
    and values.

    >>> text = _as_text(pd.DataFrame({"a": pd.Series([30, None, 46.0], dtype=object)}))["a"]
    >>> [None if pd.isna(v) else v for v in text]
    ['30', None, '46.0']
    """
    text = {}
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if values.dtype != object or isinstance(values, gpd.GeoSeries):
            continue
        values = values.to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            continue  # text and blanks only (checked in C): nothing to convert
        null = pd.isna(values)
        other = ~null & ~np.fromiter((isinstance(v, str) for v in values), bool, values.size)
        if not other.any():
            continue
        values = values.copy()
        values[other] = [str(v) for v in values[other]]
        values[null] = None
        text[position] = values
    if not text:
        return frame
    frame = frame.copy(deep=False)
    for position, values in text.items():
        frame.isetitem(position, values)
    return frame


def _prepare(frame: pd.DataFrame, crs: str) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
        if frame.crs is None:
            return frame.set_crs(crs)
        if _no_operation(frame.crs.to_wkt(), str(crs)):
            # WGS84 → CGCS2000 is PROJ's "noop": the same numbers, without a pass over every
            # vertex (3.2 million in the buffers of a provincial run)
            return frame.set_crs(crs, allow_override=True)
        return frame.to_crs(crs)
    return pd.DataFrame(frame)


@functools.lru_cache(maxsize=16)
def _no_operation(source: str, target: str) -> bool:
    """Whether PROJ transforms ``source`` to ``target`` by leaving the coordinates as they are.

    >>> _no_operation(pyproj.CRS(4326).to_wkt(), "EPSG:4490")
    True
    >>> _no_operation(pyproj.CRS(4326).to_wkt(), "EPSG:4547")
    False
    """
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return transformer.definition.split(" ")[:1] == ["proj=noop"]


def write_gpkg(
    layers: dict[str, pd.DataFrame],
    path: str | Path,
    crs: str = DEFAULT_OUTPUT_CRS,
    *,
    metadata: Mapping | None = None,
    styles: bool = True,
    project: bool = True,
    counties: bool = False,
) -> Path:
    """Write layers (GeoDataFrames) and tables (DataFrames) into one GeoPackage, atomically.

    Parameters
    ----------
    layers
        Layer name → frame, in the order they should appear. A GeoDataFrame becomes a spatial
        layer reprojected to ``crs``; a plain DataFrame an attribute table. None is skipped.
    path
        The GeoPackage to write; replaced only when everything has been written.
    crs
        CRS of the spatial layers (default CGCS2000, EPSG:4490).
    metadata
        The run record (``run.json``: ``as_of``, ``policies`` with ids and versions, ``inputs``
        with checksums, ...), stored as JSON for the GeoPackage and, summarised, as each layer's
        QGIS metadata. Anything JSON can hold (dates and paths become text).
    styles
        Write the QGIS styles, Chinese field names and layer metadata (default yes).
    project
        Also store the QGIS project ``screening`` in the file (needs ``styles``).
    counties
        Add the layer ``counties`` (:func:`county_layer`: the real county outlines around the
        enterprises, with the number of enterprises in each) when ``layers`` has enterprises
        and no ``counties`` (the pipeline asks for it): the QGIS project's base layer,
        bookmarks and print Atlas.
    """
    path = Path(path)
    layers = dict(layers)
    if counties and layers.get("counties") is None and layers.get("enterprises") is not None:
        outlines = county_layer(layers["enterprises"])
        if outlines is not None:
            layers["counties"] = outlines
    frames = {name: _prepare(frame, crs) for name, frame in layers.items() if frame is not None}
    with atomic_path(path) as tmp:
        for name, frame in frames.items():
            pyogrio.write_dataframe(
                _as_text(frame) if ARROW else frame,
                tmp,
                layer=name,
                driver="GPKG",
                dataset_options=GPKG_OPTIONS,
                append=False,
                use_arrow=ARROW,
            )
        if styles and frames:
            write_qgis_extras(tmp, frames, crs, metadata, gpkg_name=path.name, project=project)
    return path


def write_zones(zones: gpd.GeoDataFrame, path: str | Path, crs: str = DEFAULT_OUTPUT_CRS) -> Path:
    """Write the ready Dingxiang zone layer (:func:`spatial.zones.build_zones`) to a GeoPackage
    as the layer ``dingxiang_zones`` (what ``spatial screen --zones`` reads), atomically."""
    return write_gpkg({ZONE_LAYER: zones}, path, crs)


def county_layer(enterprises: pd.DataFrame, margin_deg: float = 0.05) -> gpd.GeoDataFrame | None:
    """The county outlines (:func:`spatial.counties.boundaries`, real Tianditu boundaries)
    that touch the enterprises' extent, with ``n_enterprises`` (the enterprises of each
    county, :func:`_county_counts`) and ``source``. None, with a warning, without the
    boundary data; None without located enterprises."""
    if (
        not isinstance(enterprises, gpd.GeoDataFrame)
        or enterprises._geometry_column_name not in enterprises
    ):
        return None
    points = enterprises.geometry
    points = points[points.notna() & ~points.is_empty]
    if points.empty:
        return None
    points = points.to_crs(WGS84) if points.crs is not None else points
    from spatial import counties as county_data
    from spatial.errors import LayerError

    west, south, east, north = points.total_bounds
    bbox = (west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg)
    try:
        outlines = county_data.boundaries(bbox)
    except LayerError as error:
        warnings.warn(f"screening.gpkg written without county outlines: {error}", stacklevel=3)
        return None
    outlines = outlines.reset_index(drop=True)
    outlines["n_enterprises"] = _county_counts(enterprises, points, outlines, county_data)
    outlines["source"] = county_data.SOURCE_ZH
    return outlines


def _county_counts(
    enterprises: pd.DataFrame, points: gpd.GeoSeries, outlines: gpd.GeoDataFrame, county_data
) -> np.ndarray:
    """Enterprises per county: by the ``county`` column (the county the lists and decisions
    use, resolved to its division code among ``outlines``), else by the county each point
    lies in."""
    codes = {code: i for i, code in enumerate(outlines["code"].astype(str))}
    counts = np.zeros(len(outlines), dtype="int64")
    if "county" in enterprises:
        for value, n in enterprises["county"].dropna().astype(str).value_counts().items():
            found = [codes[c] for c in county_data.resolve_county(value) if c in codes]
            if len(found) == 1:
                counts[found[0]] += n
        if counts.any():
            return counts
    _, inside = outlines.sindex.query(points.to_numpy(), predicate="within")
    return np.bincount(inside, minlength=len(outlines)).astype("int64")


def atlas_counties(frame: pd.DataFrame | None) -> list[tuple[str, str, tuple]]:
    """(code, name, extent) of the counties with enterprises, by division code: the pages of
    the QGIS print Atlas and the project's bookmarks."""
    if frame is None or not isinstance(frame, gpd.GeoDataFrame) or "n_enterprises" not in frame:
        return []
    chosen = frame[pd.to_numeric(frame["n_enterprises"], errors="coerce").fillna(0) > 0]
    chosen = chosen.sort_values("code") if "code" in chosen else chosen
    return [
        (str(row.get("code", "")), str(row.get("name", "")), tuple(geometry.bounds))
        for (_, row), geometry in zip(chosen.iterrows(), chosen.geometry, strict=True)
        if geometry is not None and not geometry.is_empty
    ]


def write_qgis_extras(
    path: Path,
    frames: Mapping[str, pd.DataFrame],
    crs: str,
    metadata: Mapping | None = None,
    gpkg_name: str | None = None,
    project: bool = True,
) -> None:
    """Add styles, field names, metadata and the project to a GeoPackage GDAL has written.

    One SQLite transaction: either all of it is there or none. ``gpkg_name`` is the file name
    the project's layers point at (the final name, not the temporary one being written).
    """
    con = sqlite3.connect(path, isolation_level=None)  # transactions by hand, DDL included
    try:
        con.execute("BEGIN")
        try:
            _write_extras(con, frames, crs, metadata, gpkg_name or path.name, project)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def _write_extras(
    con: sqlite3.Connection,
    frames: Mapping[str, pd.DataFrame],
    crs: str,
    metadata: Mapping | None,
    gpkg_name: str,
    project: bool,
) -> None:
    tables = _tables(con, list(frames))
    styles = {
        name: layer_style(name, frames[name], frames, columns=table["columns"])
        for name, table in tables.items()
    }
    _write_data_columns(con, tables)
    _write_styles(con, tables, styles)
    info = qgis_project.RunInfo.from_metadata(metadata)
    _write_metadata(con, tables, info, metadata, crs)
    if project:
        layers = [
            qgis_project.ProjectLayer(name, styles[name], table["wkb_type"], table["extent"])
            for name, table in tables.items()
        ]
        shown = qgis_project.project_crs(crs, qgis_project.crs_extents(layers))
        qgs = qgis_project.project_qgs(
            layers,
            gpkg_name,
            crs,
            info,
            counties=atlas_counties(frames.get("counties")),
            footer=qgis_project.layout_footer(metadata, shown),
        )
        con.execute(PROJECTS_DDL)
        con.execute(
            "INSERT OR REPLACE INTO qgis_projects (name, metadata, content) VALUES (?, ?, ?)",
            qgis_project.project_row(qgs),
        )


def _run_script(con: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one by one (``executescript`` would commit the open transaction)."""
    statement = ""
    for line in script.strip().splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            con.execute(statement)
            statement = ""


def _tables(con: sqlite3.Connection, names: list[str]) -> dict[str, dict]:
    """Per table as written: columns (fid first, geometry left out), geometry column, type."""
    geometry = {
        row[0]: (row[1], row[2])
        for row in con.execute(
            "SELECT table_name, column_name, geometry_type_name FROM gpkg_geometry_columns"
        )
    }
    extents = {
        row[0]: row[1:]
        for row in con.execute("SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents")
    }
    out = {}
    for name in names:
        column, geometry_type = geometry.get(name, ("", None))
        columns = [
            row[1]
            for row in con.execute(f"PRAGMA table_info({_identifier(name)})")
            if row[1] != column
        ]
        extent = extents.get(name)
        out[name] = {
            "columns": columns,
            "geometry_column": column,
            "wkb_type": _wkb_type(geometry_type),
            "extent": tuple(extent) if column and extent and None not in extent else None,
        }
    return out


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_WKB_TYPES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
}


def _wkb_type(geometry_type: str | None) -> str:
    if geometry_type is None:
        return "NoGeometry"
    return _WKB_TYPES.get(geometry_type.upper(), "Unknown")


def _register_extension(con: sqlite3.Connection, table: str, name: str, definition: str) -> None:
    con.execute(
        "INSERT OR IGNORE INTO gpkg_extensions "
        "(table_name, column_name, extension_name, definition, scope) "
        "VALUES (?, NULL, ?, ?, 'read-write')",
        (table, name, definition),
    )


def _register_table(con: sqlite3.Connection, table: str, rows: int) -> None:
    """An attribute table in gpkg_contents (and GDAL's feature count), as GDAL registers one."""
    con.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
        f"last_change, srs_id) VALUES (?, 'attributes', ?, '', {_NOW}, 0)",
        (table, table),
    )
    if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
        con.execute(
            "INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, ?)",
            (table, rows),
        )


def _write_data_columns(con: sqlite3.Connection, tables: Mapping[str, dict]) -> None:
    _run_script(con, DATA_COLUMNS_DDL)
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        _register_extension(con, table, "gpkg_schema", SCHEMA_EXTENSION)
    con.executemany(
        "INSERT OR REPLACE INTO gpkg_data_column_constraints "
        "(constraint_name, constraint_type, value, description) VALUES (?, 'enum', ?, ?)",
        [(ACTION_CONSTRAINT, code, zh) for code, zh, _ in ACTIONS],
    )
    rows = []
    for name, table in tables.items():
        for column, alias in field_aliases(name, table["columns"]).items():
            constraint = ACTION_CONSTRAINT if column == "action" else None
            rows.append((name, column, alias, alias, field_description(column), constraint))
    con.executemany(
        "INSERT OR REPLACE INTO gpkg_data_columns "
        "(table_name, column_name, name, title, description, constraint_name) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def _write_styles(con: sqlite3.Connection, tables: Mapping[str, dict], styles: Mapping) -> None:
    _run_script(con, LAYER_STYLES_DDL)
    con.execute("DELETE FROM layer_styles")
    _register_table(con, "layer_styles", 0)
    for name, table in tables.items():
        style = styles[name]
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
            (name, table["geometry_column"], name, style.qml, style.description),
        )


def _write_metadata(
    con: sqlite3.Connection,
    tables: Mapping[str, dict],
    info: qgis_project.RunInfo,
    metadata: Mapping | None,
    crs: str,
) -> None:
    _run_script(con, METADATA_DDL)
    for table in ("gpkg_metadata", "gpkg_metadata_reference"):
        _register_extension(con, table, "gpkg_metadata", METADATA_EXTENSION)
    if metadata is not None:
        record = json.dumps(metadata, ensure_ascii=False, indent=1, default=str)
        cursor = con.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', ?, 'application/json', ?)",
            (RUN_METADATA_URI, record),
        )
        con.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id) "
            "VALUES ('geopackage', ?)",
            (cursor.lastrowid,),
        )
    for name, table in tables.items():
        document = qgis_project.layer_metadata_qmd(
            name, info, crs if table["geometry_column"] else None
        )
        cursor = con.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', ?, 'text/xml', ?)",
            (qgis_project.QGIS_METADATA_URI, document),
        )
        con.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) "
            "VALUES ('table', ?, ?)",
            (name, cursor.lastrowid),
        )
        summary = LAYER_TITLES.get(name, name)
        if info.as_of:
            summary += f"; as of {info.as_of}"
        if info.policies:
            summary += "; policies " + ", ".join(p.split(" (")[0] for p in info.policies)
        con.execute(
            "UPDATE gpkg_contents SET description = ? WHERE table_name = ?", (summary, name)
        )

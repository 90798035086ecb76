"""QGIS styles (QML) and Chinese field names for the layers of the screening GeoPackage.

Pure Python: nothing here imports QGIS. The QML is the XML QGIS 3.22 writes itself
(``renderer-v2``, ``aliases``, ...), built from the columns a layer actually has, so a layer
without ``action`` is still styled (by ``near_city``), and a missing layer costs nothing.

Examples
--------
>>> import geopandas as gpd
>>> points = gpd.GeoDataFrame(
...     {"name": ["甲"], "action": ["curtail"]}, geometry=gpd.points_from_xy([112.7], [37.7]))
>>> style = layer_style("enterprises", points)
>>> style.renderer, style.attribute, len(style.categories)
('categorizedSymbol', 'action', 13)
>>> style.categories[0], style.categories[-1]
(('shutdown', '停产治理'), ('', '其他 / 未判定'))
>>> field_aliases("enterprises", ["fid", "name", "dist_builtup_m", "extra"])
{'fid': '要素编号', 'name': '企业名称', 'dist_builtup_m': '距建成区距离(米)'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd

from spatial import vocabulary as vocab
from spatial.export.qgis_labels import add_rounded_fields, label_spec, labeling_element

QGIS_VERSION = "3.22.0-Białowieża"  # the QML dialect written here; newer QGIS reads it too
QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

# Decision codes (data contract), most severe first, with their labels and colours: the one
# vocabulary (spatial/data/vocabulary.yaml). (code, 中文, colour)
ACTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (a.code, a.label, a.colour) for a in vocab.ACTIONS
)
ACTION_LABELS = dict(vocab.ACTION_LABELS)
OTHER_LABEL = "其他 / 未判定"

_PHASE_COLOURS = {"1": "#e7298a", "2": "#7570b3", "3": "#1b9e77"}
ZONE_PHASES: tuple[tuple[str, str, str], ...] = tuple(
    (code, text, _PHASE_COLOURS.get(code, "#a0a0a0"))
    for code, text in vocab.labels("zone_phase").items()
)

# Chinese titles of the layers, used by the QGIS project and the layer metadata; the distances
# in them come from the rule tables.
LAYER_TITLES = {name: vocab.layer_title(name) for name in vocab.layer_names()}

# Column → (中文字段名, English meaning), from the vocabulary. Names are unique within each
# layer (gpkg_data_columns requires it); LAYER_ALIASES overrides a column's name for one layer.
ALIASES: dict[str, tuple[str, str]] = {
    column: (vocab.column_label(column), vocab.column_description(column) or "")
    for column in vocab.column_names()
}
LAYER_ALIASES: dict[str, dict[str, str]] = {
    layer: dict(columns) for layer, columns in vocab.layer_column_labels().items()
}

# Coded columns whose values QGIS shows by their label (a ValueMap widget): column → kind.
VALUE_MAPS = vocab.CODED_COLUMNS
LAYER_VALUE_MAPS = {
    "heat_sources": {"kind": "heat_kind"},
    "dingxiang_zones": {"kind": "zone_kind"},
    "builtup": {"source": "builtup_source"},
}
MACHINE_COLUMNS = ("flags", "zone_flags", "county_flag", "rule_id", "reason")
"""Columns kept for machines (codes, English): hidden in QGIS's attribute table; their words are
in ``flags_zh``, ``zone_flags_zh``, ``county_note_zh``, ``rule_ref`` (shown as its citation) and
``reason_zh``."""


def field_aliases(layer: str, columns: Iterable[str]) -> dict[str, str]:
    """Chinese names of the columns of ``layer`` that have one, unique within the layer."""
    overrides = LAYER_ALIASES.get(layer, {})
    out: dict[str, str] = {}
    for column in columns:
        alias = overrides.get(column) or ALIASES.get(column, (None, None))[0]
        if alias is None:
            continue
        if alias in out.values():
            alias = f"{alias} ({column})"
        out[column] = alias
    return out


def field_description(column: str) -> str | None:
    """English meaning of a contract column (for ``gpkg_data_columns.description``)."""
    return ALIASES.get(column, (None, None))[1]


# --- colours and symbols -------------------------------------------------------------------


def rgba(hex_colour: str, alpha: float = 1.0) -> str:
    """QGIS colour text: ``'#d7191c', 0.5`` → ``'215,25,28,128'``."""
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(parent: ET.Element, values: Mapping[str, object]) -> None:
    option = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(option, "Option", type="QString", name=key, value=str(value))


def _symbol(kind: str, name: str, layer_class: str, values: Mapping[str, object]) -> ET.Element:
    symbol = ET.Element(
        "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    layer = ET.SubElement(
        symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"}
    )
    _options(layer, values)
    return symbol


def marker(
    colour: str,
    size: float = 2.4,
    shape: str = "circle",
    outline: str = "#ffffff",
    outline_width: float = 0.2,
    fill_alpha: float = 1.0,
) -> tuple[str, str, dict]:
    """A simple marker (colour, size in mm, QGIS shape name)."""
    return (
        "marker",
        "SimpleMarker",
        {
            "angle": 0,
            "color": rgba(colour, fill_alpha),
            "joinstyle": "bevel",
            "name": shape,
            "offset": "0,0",
            "offset_unit": "MM",
            "outline_color": rgba(outline),
            "outline_style": "solid",
            "outline_width": outline_width,
            "outline_width_unit": "MM",
            "scale_method": "diameter",
            "size": size,
            "size_unit": "MM",
            "horizontal_anchor_point": 1,
            "vertical_anchor_point": 1,
        },
    )


def fill(
    colour: str,
    alpha: float,
    outline: str | None = None,
    outline_width: float = 0.3,
    outline_style: str = "solid",
) -> tuple[str, str, dict]:
    """A simple fill: ``colour`` at opacity ``alpha``, an opaque outline (default: ``colour``)."""
    return (
        "fill",
        "SimpleFill",
        {
            "color": rgba(colour, alpha),
            "style": "solid" if alpha > 0 else "no",
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_unit": "MM",
            "outline_color": rgba(outline or colour),
            "outline_style": outline_style,
            "outline_width": outline_width,
            "outline_width_unit": "MM",
        },
    )


def line(colour: str, width: float = 0.5) -> tuple[str, str, dict]:
    """A simple line."""
    return (
        "line",
        "SimpleLine",
        {
            "line_color": rgba(colour),
            "line_style": "solid",
            "line_width": width,
            "line_width_unit": "MM",
            "capstyle": "square",
            "joinstyle": "bevel",
        },
    )


# --- renderers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerStyle:
    """The QGIS style of one layer: its QML and what it shows."""

    layer: str
    qml: str
    description: str
    geometry: str  # point, line, polygon or none
    renderer: str  # categorizedSymbol, singleSymbol, or nullSymbol for tables
    attribute: str = ""
    categories: tuple[tuple[str, str], ...] = ()  # (value, label); "" is "all other values"
    aliases: tuple[tuple[str, str], ...] = ()

    def element(self) -> ET.Element:
        """The QML root element (a fresh copy, for embedding in a project)."""
        return ET.fromstring(self.qml.split("\n", 1)[1])


@dataclass(frozen=True)
class _Renderer:
    kind: str
    attribute: str
    categories: tuple[tuple[str, str, tuple], ...]  # (value, label, symbol spec)
    single: tuple | None = None
    order_by: str | None = None
    description: str = ""


def _renderer_element(renderer: _Renderer) -> ET.Element:
    attrs = {
        "type": renderer.kind,
        "forceraster": "0",
        "symbollevels": "0",
        "enableorderby": "1" if renderer.order_by else "0",
        "referencescale": "-1",
    }
    element = ET.Element("renderer-v2", attrs)
    symbols_el = ET.Element("symbols")
    if renderer.kind == "RuleRenderer":
        rules = ET.SubElement(element, "rules", key="{root}")
        for i, (condition, label, spec) in enumerate(renderer.categories):
            ET.SubElement(
                rules, "rule", key=f"{{rule-{i}}}", filter=condition, symbol=str(i), label=label
            )
            symbols_el.append(_symbol(spec[0], str(i), spec[1], spec[2]))
        element.append(symbols_el)
    elif renderer.kind == "categorizedSymbol":
        element.set("attr", renderer.attribute)
        categories = ET.SubElement(element, "categories")
        for i, (value, label, spec) in enumerate(renderer.categories):
            ET.SubElement(
                categories, "category", symbol=str(i), value=value, label=label, render="true"
            )
            symbols_el.append(_symbol(spec[0], str(i), spec[1], spec[2]))
        element.append(symbols_el)
        source = ET.SubElement(element, "source-symbol")
        spec = renderer.categories[-1][2]
        source.append(_symbol(spec[0], "0", spec[1], spec[2]))
    else:
        spec = renderer.single
        symbols_el.append(_symbol(spec[0], "0", spec[1], spec[2]))
        element.append(symbols_el)
    ET.SubElement(element, "rotation")
    ET.SubElement(element, "sizescale")
    if renderer.order_by:
        order = ET.SubElement(element, "orderby")
        clause = ET.SubElement(order, "orderByClause", asc="1", nullsFirst="1")
        clause.text = renderer.order_by
    return element


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _enterprise_renderer(frame: pd.DataFrame) -> _Renderer:
    if "action" in frame:
        categories = tuple(
            (code, zh, marker(colour, size=3.0 if code == "shutdown" else 2.4))
            for code, zh, colour in ACTIONS
        )
        # Draw the mild decisions first so the severe ones stay on top where points overlap.
        # QGIS knows only the searched CASE: CASE WHEN condition THEN value ... END
        rank = " ".join(
            f"WHEN {_column('action')} = {_quote(code)} THEN {len(ACTIONS) - i}"
            for i, (code, _, _) in enumerate(ACTIONS)
        )
        return _Renderer(
            "categorizedSymbol",
            "action",
            (*categories, ("", OTHER_LABEL, marker("#ffffff", outline="#404040"))),
            order_by=f"CASE {rank} ELSE 0 END",
            description="enterprises by decision (action)",
        )
    if "near_city" in frame:
        return _Renderer(
            "categorizedSymbol",
            "near_city",
            (
                ("true", vocab.column_label("near_city"), marker("#d7191c")),
                ("false", f"建成区周边{vocab.fact_distance('near_city')}外", marker("#2c7bb6")),
                ("", "距离未测定", marker("#a0a0a0")),
            ),
            order_by=f"if({_column('near_city')}, 1, 0)",
            description="enterprises by near_city (no decision column in this run)",
        )
    return _Renderer(
        "singleSymbol", "", (), single=marker("#3182bd"), description="enterprises (no decision)"
    )


QUALIFYING_FIELD = "counts_for_radius"  # written by the pipeline on the heat sources


def _heat_renderer(frame: pd.DataFrame) -> _Renderer:
    """Heat sources by kind and, when the layer has :data:`QUALIFYING_FIELD` (the policy
    table's own selection, written by the pipeline), by whether each counts for the heat
    radius: filled when it does, hollow when not. The style reads the field, never ids."""
    kinds = (
        ("chp", vocab.label("heat_kind", "chp"), "star", 4.2),
        ("industrial", vocab.label("heat_kind", "industrial"), "diamond", 3.6),
    )
    if QUALIFYING_FIELD in frame:
        expression = (
            f"concat({_column('kind')}, if({_column(QUALIFYING_FIELD)}, ':qualifying', ':other'))"
        )
        categories = []
        for code, zh, shape, size in kinds:
            categories.append(
                (f"{code}:qualifying", f"{zh}（计入供热半径）", marker("#b2182b", size, shape))
            )
            categories.append(
                (
                    f"{code}:other",
                    f"{zh}（不计入供热半径）",
                    marker("#ffffff", size - 0.6, shape, outline="#b2182b", outline_width=0.4),
                )
            )
        return _Renderer(
            "categorizedSymbol",
            expression,
            (*categories, ("", OTHER_LABEL, marker("#a0a0a0", 3.0, "triangle"))),
            description=f"heat sources by kind and {QUALIFYING_FIELD}",
        )
    return _Renderer(
        "categorizedSymbol",
        "kind",
        (
            *((code, zh, marker("#b2182b", size, shape)) for code, zh, shape, size in kinds),
            ("", OTHER_LABEL, marker("#a0a0a0", 3.0, "triangle")),
        ),
        description="heat sources by kind",
    )


def _county_renderer() -> _Renderer:
    """County outlines, no fill: on a page of the print Atlas its county solid and dark, the
    neighbours grey and dashed (rules; outside the Atlas every county is a neighbour)."""
    return _Renderer(
        "RuleRenderer",
        "",
        (
            (
                "@atlas_featureid = $id",
                "本图所示县（市、区）界",
                fill("#ffffff", 0.0, outline="#303030", outline_width=1.0),
            ),
            (
                "coalesce(@atlas_featureid, -1) <> $id",  # not ELSE: every feature matches a rule
                "县（市、区）界",
                fill("#ffffff", 0.0, outline="#787878", outline_width=0.45, outline_style="dash"),
            ),
        ),
        description="county outlines (the Atlas page's county solid, others dashed)",
    )


_BUFFER_COLOURS = {"near_city": "#6a3d9a", "in_heat_radius": "#e31a1c"}


def _buffer_renderer(name: str, frame: pd.DataFrame) -> _Renderer:
    facts = frame["fact"].dropna().unique().tolist() if "fact" in frame else []
    colour = _BUFFER_COLOURS.get(facts[0] if facts else "", "#ff7f00")
    dashed = "heat" in name or (facts and "heat" in str(facts[0]))
    return _Renderer(
        "singleSymbol",
        "",
        (),
        single=fill(colour, 0.12, outline_width=0.5, outline_style="dash" if dashed else "solid"),
        description="buffer: semi-transparent fill with outline",
    )


def _builtup_renderer(frame: pd.DataFrame) -> _Renderer:
    symbol = fill("#8c7355", 0.55, outline="#5c4a36", outline_width=0.3)
    if "level" not in frame:
        return _Renderer("singleSymbol", "", (), single=symbol, description="built-up areas")
    return _Renderer(
        "categorizedSymbol",
        "level",
        (
            (
                "city",
                f"{vocab.label('builtup_level', 'city')}建成区",
                fill("#7a5c3e", 0.6, outline="#4d3a27", outline_width=0.4),
            ),
            (
                "county",
                f"{vocab.label('builtup_level', 'county')}建成区",
                fill("#b09a80", 0.55, outline="#6e5a44"),
            ),
            ("", OTHER_LABEL, symbol),
        ),
        description="built-up areas by level (grey-brown)",
    )


def _zone_renderer(frame: pd.DataFrame) -> _Renderer:
    categories = tuple(
        (value, zh, fill(colour, 0.35, outline_width=0.5)) for value, zh, colour in ZONE_PHASES
    )
    return _Renderer(
        "categorizedSymbol",
        f"to_string(to_int({_column('phase')}))",
        (*categories, ("", "未分阶段", fill("#a0a0a0", 0.25))),
        order_by=f"-to_int({_column('phase')})",  # phase 1 (small areas) drawn on top
        description="Dingxiang zones by phase",
    )


def _single_renderer(geometry: str) -> _Renderer:
    spec = {
        "point": marker("#3182bd"),
        "line": line("#3182bd"),
        "polygon": fill("#3182bd", 0.3),
    }[geometry]
    return _Renderer("singleSymbol", "", (), single=spec, description="single symbol")


def geometry_kind(frame: pd.DataFrame, name: str = "") -> str:
    """``point``, ``line``, ``polygon`` or ``none`` (a table); an empty layer by its name."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame._geometry_column_name not in frame:
        return "none"
    types = {str(t) for t in frame.geometry.geom_type.dropna().unique()}
    if types and types <= {"Point", "MultiPoint"}:
        return "point"
    if types and types <= {"LineString", "MultiLineString"}:
        return "line"
    if types and types <= {"Polygon", "MultiPolygon"}:
        return "polygon"
    if not types and name in ("enterprises", "heat_sources"):
        return "point"
    return "polygon"  # mixed, or an empty context layer


def is_buffer_layer(frame: pd.DataFrame) -> bool:
    """A buffer layer (``fact_buffers``): polygons with ``fact`` and ``within_m``."""
    return geometry_kind(frame) == "polygon" and {"fact", "within_m"} <= set(frame.columns)


def _renderer_for(name: str, frame: pd.DataFrame, layers: Mapping[str, pd.DataFrame]) -> _Renderer:
    geometry = geometry_kind(frame, name)
    if name == "enterprises" or (geometry == "point" and "action" in frame):
        return _enterprise_renderer(frame)
    if name == "heat_sources":
        return _heat_renderer(frame)
    if name == "counties":
        return _county_renderer()
    if is_buffer_layer(frame):
        return _buffer_renderer(name, frame)
    if name == "builtup":
        return _builtup_renderer(frame)
    if "phase" in frame and geometry == "polygon":
        return _zone_renderer(frame)
    return _single_renderer(geometry)


_GEOMETRY_CODES = {"point": "0", "line": "1", "polygon": "2", "none": "4"}
_MAP_TIPS = {
    "enterprises": (
        "name",
        ["industry", "county", "action", "curtail_pct", "rule_ref", "reason_zh"],
    ),
    "heat_sources": ("name", ["kind", "capacity_mw", "counts_for_radius", "radius_basis_zh"]),
    "builtup": ("name", ["level"]),
    "dingxiang_zones": ("area_name", ["phase", "start", "end"]),
    "counties": ("name", ["city", "n_enterprises"]),
}


def _map_tip(name: str, columns: list[str], aliases: Mapping[str, str]) -> tuple[str, str]:
    title, rows = _MAP_TIPS.get(name, ("name", []))
    if title not in columns:
        return "", ""
    lines = [f'<b>[% "{title}" %]</b>']
    # represent_value: what the attribute table shows (value-map labels, rounded numbers)
    lines += [f'{aliases.get(c, c)}：[% represent_value("{c}") %]' for c in rows if c in columns]
    return _column(title), "<br>".join(lines)


def value_maps(
    name: str, columns: Iterable[str], frame: pd.DataFrame | None = None
) -> dict[str, dict[str, str]]:
    """Column → {code: label} for the coded columns of layer ``name`` (QGIS shows the label in
    the attribute table, forms and map tips; the data keep the code). ``rule_ref`` maps each
    clause the layer holds to its citation by document title and number, ``policy`` each
    table id to its document's number (or short title).

    >>> value_maps("heat_sources", ["fid", "kind", "name"])["kind"]["chp"]
    '热电联产'
    """
    columns = list(columns)
    # the rejected rows keep the cells as typed (not codes): only their reason is mapped
    kinds = {} if name == "rejected" else {**VALUE_MAPS, **LAYER_VALUE_MAPS.get(name, {})}
    out = {column: vocab.labels(kinds[column]) for column in columns if column in kinds}
    if "fact" in columns:
        out["fact"] = {fact: vocab.column_label(fact) for fact in _FACTS}
    if "reason_code" in columns:
        from spatial.inventory import REASONS

        out["reason_code"] = {code: words[0] for code, words in REASONS.items()}
    if frame is None:
        return out
    from spatial.policy import cite, cite_ref

    for column in ("rule_ref", "ref"):
        if column in columns and column in frame:
            refs = pd.Series(frame[column]).dropna().astype(str).unique()
            out[column] = {ref: cite_ref(ref) or ref for ref in refs if ref.strip()}
    if "policy" in columns and "policy" in frame:
        ids = pd.Series(frame["policy"]).dropna().astype(str).unique()
        out["policy"] = {ident: cite(ident) for ident in ids if ident.strip()}
    return out


_FACTS = ("near_city", "in_heat_radius", "in_eco_zone", "near_urban_area", "near_trunk_road")


def _attribute_table(root: ET.Element, columns: Iterable[str]) -> None:
    """QGIS attribute table columns: the machine columns hidden (still in the data)."""
    config = ET.SubElement(
        root, "attributetableconfig", sortExpression="", sortOrder="0", actionWidgetStyle="dropDown"
    )
    columns_el = ET.SubElement(config, "columns")
    for column in columns:
        hidden = "1" if column in MACHINE_COLUMNS else "0"
        ET.SubElement(columns_el, "column", type="field", name=column, width="-1", hidden=hidden)
    ET.SubElement(columns_el, "column", type="actions", width="-1", hidden="1")


def _field_configuration(root: ET.Element, maps: Mapping[str, Mapping[str, str]]) -> None:
    """QGIS ValueMap widgets: the attribute table shows labels, the data keep the codes."""
    config = ET.SubElement(root, "fieldConfiguration")
    for column, mapping in maps.items():
        field_el = ET.SubElement(config, "field", name=column, configurationFlags="None")
        widget = ET.SubElement(field_el, "editWidget", type="ValueMap")
        options = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
        entries = ET.SubElement(options, "Option", type="List", name="map")
        for code, text in mapping.items():
            entry = ET.SubElement(entries, "Option", type="Map")
            ET.SubElement(entry, "Option", type="QString", name=text, value=code)


def layer_style(
    name: str,
    frame: pd.DataFrame,
    layers: Mapping[str, pd.DataFrame] | None = None,
    columns: Iterable[str] | None = None,
) -> LayerStyle:
    """The QGIS style of layer ``name`` holding ``frame``.

    Parameters
    ----------
    name, frame
        The layer and its data (a GeoDataFrame for a spatial layer, a DataFrame for a table).
    layers
        Every layer being written (kept for callers; each style reads only its own layer).
    columns
        The columns as stored (``fid`` first), for the aliases; default ``frame``'s columns.
    """
    layers = layers or {name: frame}
    geometry = geometry_kind(frame, name)
    if columns is None:
        geometry_name = frame.geometry.name if geometry != "none" else None
        columns = ["fid", *(c for c in frame.columns if c != geometry_name)]
    columns = list(columns)
    aliases = field_aliases(name, columns)

    root = ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "AllStyleCategories",
            "hasScaleBasedVisibilityFlag": "0",
            "minScale": "100000000",
            "maxScale": "0",
            "readOnly": "0",
            "labelsEnabled": "0",
            "simplifyDrawingHints": "1" if geometry == "polygon" else "0",
            "simplifyDrawingTol": "1",
            "simplifyLocal": "1",
            "simplifyMaxScale": "1",
            "simplifyAlgorithm": "0",
            "symbologyReferenceScale": "-1",
        },
    )
    if geometry == "none":
        renderer = None
    else:
        renderer = _renderer_for(name, frame, layers)
        root.append(_renderer_element(renderer))
        labels = label_spec(name, columns, {code: zh for code, zh, _ in ZONE_PHASES})
        if labels is not None:
            root.set("labelsEnabled", "1")
            root.append(labeling_element(labels))
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "legend", type="default-vector", showLabelLegend="0")
    _field_configuration(root, value_maps(name, columns, frame))
    add_rounded_fields(root, columns)
    _attribute_table(root, columns)
    aliases_el = ET.SubElement(root, "aliases")
    for index, column in enumerate(columns):
        ET.SubElement(
            aliases_el, "alias", field=column, index=str(index), name=aliases.get(column, "")
        )
    preview, tip = _map_tip(name, columns, aliases)
    ET.SubElement(root, "previewExpression").text = preview
    ET.SubElement(root, "mapTip").text = tip
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_CODES[geometry]
    ET.indent(root, " ")
    qml = QML_DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"
    title = LAYER_TITLES.get(name, name)
    if renderer is None:
        return LayerStyle(
            name,
            qml,
            f"{title}: 中文字段名 (field aliases)",
            geometry,
            "nullSymbol",
            aliases=tuple(aliases.items()),
        )
    return LayerStyle(
        layer=name,
        qml=qml,
        description=f"{title}: {renderer.description}",
        geometry=geometry,
        renderer=renderer.kind,
        attribute=renderer.attribute,
        categories=tuple((value, label) for value, label, _ in renderer.categories),
        aliases=tuple(aliases.items()),
    )

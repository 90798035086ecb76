"""QGIS XML written without QGIS: layer metadata and a project stored inside the GeoPackage.

The project is what QGIS 3.22 itself stores in a GeoPackage (``qgis_projects``: ``name``,
``metadata`` JSON text, ``content`` the zipped ``.qgs`` as hex text). Its layers point at
``./<file name>|layername=<layer>``, which QGIS resolves against the GeoPackage's own folder, so
the folder can be copied or moved as a whole. Double-click it in QGIS's browser (under the
GeoPackage) to open the whole screening, grouped and ordered.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from pyproj import CRS, Transformer

from spatial.export import qgis_layout
from spatial.export.styles import LAYER_TITLES, QGIS_VERSION, QML_DOCTYPE, LayerStyle
from spatial.geodesic import WGS84

PROJECT_NAME = "screening"
QGIS_METADATA_URI = "http://mrcc.com/qgis.dtd"  # md_standard_uri QGIS reads layer metadata from

# Layer tree: (group title, layers top to bottom). Layers not named here go to "context"
# (spatial) or "results" (tables).
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("results", "筛查结果 screening results", ("enterprises", "decisions")),
    (
        "context",
        "背景图层 context",
        (
            "heat_sources",
            "dingxiang_zones",
            "heat_radius_30km",
            "near_city_10km",
            "builtup",
            "counties",
        ),
    ),
    ("rejected", "未接受的输入行 rejected", ("rejected",)),
)


@dataclass
class RunInfo:
    """What the layer metadata says about the run, read from the ``metadata`` dict.

    Known keys (the ``run.json`` record): ``tool``, ``version``, ``as_of``, ``policies`` (dicts
    with ``id``, ``version``, ``issued``, ``source``, or plain ids), ``inputs`` (role → dict with
    ``path`` and ``sha256``, or role → checksum). Anything else is kept only in the JSON.
    """

    tool: str = "spatial-screening"
    as_of: str = ""
    policies: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    @classmethod
    def from_metadata(cls, metadata: Mapping | None) -> RunInfo:
        """Read the known keys, tolerating missing ones and other shapes."""
        metadata = metadata or {}
        tool = str(metadata.get("tool", "spatial-screening"))
        if metadata.get("version"):
            tool += f" {metadata['version']}"
        policies = []
        for policy in metadata.get("policies") or []:
            if isinstance(policy, Mapping):
                text = f"{policy.get('id', '?')} v{policy.get('version', '?')}"
                extra = [str(policy[k]) for k in ("issued", "source") if policy.get(k)]
                policies.append(text + (f" ({', '.join(extra)})" if extra else ""))
            else:
                policies.append(str(policy))
        inputs = []
        for role, value in (metadata.get("inputs") or {}).items():
            if isinstance(value, Mapping):
                name = str(value.get("path", "")).replace("\\", "/").rsplit("/", 1)[-1]
                inputs.append(f"{role}: {name} sha256={value.get('sha256', '?')}")
            else:
                inputs.append(f"{role}: sha256={value}")
        return cls(tool, str(metadata.get("as_of", "") or ""), policies, inputs)

    def abstract(self, layer: str | None = None) -> str:
        """The abstract of a layer, or of the whole screening (Chinese first, English terms)."""
        subject = f"{LAYER_TITLES.get(layer, layer)}（{layer}）" if layer else "空间筛查结果"
        lines = [f"{subject}，由 {self.tool} 生成。"]
        if self.as_of:
            lines.append(f"评估日期 as of: {self.as_of}")
        if self.policies:
            lines.append("政策 policies: " + "; ".join(self.policies))
        if self.inputs:
            lines.append("输入文件校验 input checksums:")
            lines += [f"  {line}" for line in self.inputs]
        return "\n".join(lines)


def _text(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def srs_element(crs: str) -> ET.Element:
    """``<spatialrefsys>`` for an EPSG CRS (QGIS reads ``authid`` first)."""
    parsed = CRS.from_user_input(crs)
    authority = parsed.to_authority() or ("EPSG", "4490")
    element = ET.Element("spatialrefsys")
    _text(element, "wkt", parsed.to_wkt())
    with warnings.catch_warnings():  # "you will lose information": QGIS reads authid/wkt first
        warnings.simplefilter("ignore", UserWarning)
        _text(element, "proj4", parsed.to_proj4() or "")
    _text(element, "srsid", "0")
    _text(element, "srid", authority[1])
    _text(element, "authid", f"{authority[0]}:{authority[1]}")
    _text(element, "description", parsed.name)
    _text(element, "projectionacronym", "longlat" if parsed.is_geographic else "")
    _text(element, "ellipsoidacronym", _ellipsoid_id(parsed))
    _text(element, "geographicflag", "true" if parsed.is_geographic else "false")
    return element


def _ellipsoid_id(crs: CRS) -> str:
    ellipsoid = crs.ellipsoid
    ident = (ellipsoid.to_json_dict().get("id") or {}) if ellipsoid else {}
    return f"{ident['authority']}:{ident['code']}" if ident else "WGS84"


def layer_metadata_element(
    layer: str, info: RunInfo, crs: str | None, tag: str = "resourceMetadata"
) -> ET.Element:
    """QGIS layer metadata (the XML of ``QgsLayerMetadata``) for one layer."""
    root = ET.Element(tag)
    _text(root, "identifier", layer)
    _text(root, "parentidentifier", PROJECT_NAME)
    _text(root, "language", "zho")
    _text(root, "type", "dataset")
    _text(root, "title", LAYER_TITLES.get(layer, layer))
    _text(root, "abstract", info.abstract(layer))
    for vocabulary, words in (
        ("policy", info.policies),
        ("as_of", [info.as_of] if info.as_of else []),
        ("input_sha256", info.inputs),
    ):
        if words:
            keywords = ET.SubElement(root, "keywords", vocabulary=vocabulary)
            for word in words:
                _text(keywords, "keyword", word)
    ET.SubElement(root, "links")
    _text(root, "history", f"{info.tool}" + (f", as of {info.as_of}" if info.as_of else ""))
    _text(root, "fees")
    _text(root, "encoding", "UTF-8")
    crs_el = ET.SubElement(root, "crs")
    if crs:
        crs_el.append(srs_element(crs))
    ET.SubElement(root, "extent")
    return root


def layer_metadata_qmd(layer: str, info: RunInfo, crs: str | None) -> str:
    """The layer metadata as QGIS stores it in ``gpkg_metadata`` (a ``.qmd`` document)."""
    root = layer_metadata_element(layer, info, crs, tag="qgis")
    root.set("version", QGIS_VERSION)
    ET.indent(root, " ")
    return QML_DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project: its table, style and extent (None for tables)."""

    name: str
    style: LayerStyle
    wkb_type: str  # QGIS wkbType text: Point, MultiPolygon, NoGeometry, ...
    extent: tuple[float, float, float, float] | None


def _group_of(layer: ProjectLayer) -> str:
    for key, _, names in GROUPS:
        if layer.name in names:
            return key
    return "results" if layer.extent is None else "context"


def ordered(layers: Sequence[ProjectLayer]) -> list[tuple[str, str, list[ProjectLayer]]]:
    """(group key, group title, layers top to bottom), empty groups left out."""
    out = []
    for key, title, names in GROUPS:
        members = [layer for layer in layers if _group_of(layer) == key]
        rank = {name: i for i, name in enumerate(names)}
        members.sort(key=lambda layer: rank.get(layer.name, len(names)))
        if members:
            out.append((key, title, members))
    return out


_QGIS_GEOMETRY = {"point": "Point", "line": "Line", "polygon": "Polygon", "none": "No geometry"}


def project_qgs(
    layers: Sequence[ProjectLayer],
    gpkg_name: str,
    crs: str,
    info: RunInfo,
    title: str = "空间筛查 spatial screening",
    counties: Sequence[tuple[str, str, tuple[float, float, float, float]]] = (),
    footer: Sequence[str] = (),
) -> str:
    """The ``.qgs`` XML of a project showing ``layers`` of the GeoPackage ``gpkg_name``.

    ``crs`` is the layers' CRS; the project draws in :func:`project_crs` (a CGCS2000
    Gauss-Krüger zone when ``crs`` is geographic, so buffers draw round and distances measure
    in metres). ``counties`` — (division code, name, extent in ``crs``) of the counties with
    enterprises — give one bookmark each and the pages of the print layout's Atlas (over the
    ``counties`` layer), whose footer is ``footer`` (:func:`layout_footer`).
    """
    layer_crs = crs
    crs = project_crs(layer_crs, crs_extents(layers))
    to_project = Transformer.from_crs(layer_crs, crs, always_xy=True)
    root = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    _text(root, "title", title)
    ET.SubElement(root, "autotransaction", active="0")
    ET.SubElement(root, "evaluateDefaultValues", active="0")
    ET.SubElement(root, "trust", active="0")
    ET.SubElement(root, "projectCrs").append(srs_element(crs))

    groups = ordered(layers)
    ids = {layer.name: f"{layer.name}_screening" for layer in layers}
    source = {layer.name: f"./{gpkg_name}|layername={layer.name}" for layer in layers}
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(ET.SubElement(tree, "customproperties"), "Option")
    for key, group_title, members in groups:
        group = ET.SubElement(
            tree,
            "layer-tree-group",
            name=group_title,
            checked="Qt::Checked",
            expanded="1" if key != "rejected" else "0",
        )
        ET.SubElement(ET.SubElement(group, "customproperties"), "Option")
        for layer in members:
            node = ET.SubElement(
                group,
                "layer-tree-layer",
                id=ids[layer.name],
                name=f"{LAYER_TITLES.get(layer.name, layer.name)} ({layer.name})",
                source=source[layer.name],
                providerKey="ogr",
                checked="Qt::Checked",
                expanded="1" if layer.style.renderer == "categorizedSymbol" else "0",
                legend_exp="",
            )
            ET.SubElement(ET.SubElement(node, "customproperties"), "Option")

    project_layers = ET.SubElement(root, "projectlayers")
    for _, _, members in groups:
        for layer in members:
            project_layers.append(
                _maplayer(layer, ids[layer.name], source[layer.name], layer_crs, info)
            )

    order = ET.SubElement(root, "layerorder")
    for _, _, members in groups:
        for layer in members:
            ET.SubElement(order, "layer", id=ids[layer.name])

    properties = ET.SubElement(root, "properties")
    spatial_ref = ET.SubElement(properties, "SpatialRefSys")  # else QGIS ignores <projectCrs>
    _text(spatial_ref, "ProjectionsEnabled", "1", type="int")
    paths = ET.SubElement(properties, "Paths")
    _text(paths, "Absolute", "false", type="bool")
    measure = ET.SubElement(properties, "Measure")
    _text(measure, "Ellipsoid", _ellipsoid_id(CRS.from_user_input(crs)), type="QString")
    units = ET.SubElement(properties, "Measurement")
    _text(units, "DistanceUnits", "meters", type="QString")
    _text(units, "AreaUnits", "m2", type="QString")

    extents = crs_extents(layers)  # the project opens on the plants (else on every layer)
    if extents:
        canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
        _text(canvas, "units", "degrees" if CRS.from_user_input(crs).is_geographic else "meters")
        extent = ET.SubElement(canvas, "extent")
        xmin, ymin, xmax, ymax = to_project.transform_bounds(
            min(e[0] for e in extents),
            min(e[1] for e in extents),
            max(e[2] for e in extents),
            max(e[3] for e in extents),
        )
        pad = 0.05 * max(xmax - xmin, ymax - ymin, 1000.0)
        whole = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), whole, strict=True):
            _text(extent, tag, repr(float(value)))
        _text(canvas, "rotation", "0")
        ET.SubElement(canvas, "destinationsrs").append(srs_element(crs))

    by_name = {layer.name: layer for layer in layers}
    atlas = [
        qgis_layout.AtlasCounty(code, name, to_project.transform_bounds(*bounds))
        for code, name, bounds in counties
    ]
    if atlas and "counties" in by_name:
        root.append(qgis_layout.bookmarks_element(atlas, lambda: srs_element(crs)))
        legend = [
            qgis_layout.LegendLayer(
                ids[layer.name],
                f"{LAYER_TITLES.get(layer.name, layer.name)} ({layer.name})",
                source[layer.name],
                LEGEND_TITLES.get(layer.name, LAYER_TITLES.get(layer.name, layer.name)),
            )
            for layer in sorted(
                (layer for _, _, members in groups for layer in members),
                key=lambda layer: (
                    LEGEND_ORDER.index(layer.name)
                    if layer.name in LEGEND_ORDER
                    else len(LEGEND_ORDER)
                ),
            )
            if layer.extent is not None
        ]
        coverage = next(item for item in legend if item.ident == ids["counties"])
        root.append(
            qgis_layout.layouts_element(
                crs_element=srs_element(crs),
                coverage=coverage,
                legend_layers=legend,
                first_extent=atlas[0].extent,
                coverage_extent=to_project.transform_bounds(*by_name["counties"].extent),
                title=LAYOUT_TITLE,
                subtitle=layout_subtitle(info.as_of),
                footer=footer,
            )
        )

    meta = ET.SubElement(root, "projectMetadata")
    _text(meta, "identifier", PROJECT_NAME)
    _text(meta, "parentidentifier")
    _text(meta, "language", "zho")
    _text(meta, "type")
    _text(meta, "title", title)
    _text(meta, "abstract", info.abstract())
    if info.policies:
        keywords = ET.SubElement(meta, "keywords", vocabulary="policy")
        for word in info.policies:
            _text(keywords, "keyword", word)
    ET.SubElement(meta, "links")
    _text(meta, "author", info.tool)
    _text(meta, "creation", f"{info.as_of}T00:00:00" if info.as_of else "")

    ET.indent(root, "  ")
    return QML_DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


LAYOUT_TITLE = '[% "name" %]涉气工业企业管控措施空间筛查图'
# The legend reads as a story: plants, heat sources then their radius, zones, built-up areas
# then their 10 km ring, counties (each buffer under the layer it is drawn around).
LEGEND_ORDER = (
    "enterprises",
    "heat_sources",
    "heat_radius_30km",
    "dingxiang_zones",
    "builtup",
    "near_city_10km",
    "counties",
)
LEGEND_TITLES = {
    "enterprises": "企业（按管控措施）",
    "heat_sources": "热源",
    "counties": "县（市、区）界",
}


def project_crs(crs: str, extents: Sequence[tuple[float, float, float, float] | None]) -> str:
    """The CRS the project draws in: ``crs`` when projected; for a geographic ``crs`` the
    CGCS2000 3-degree Gauss-Krüger zone whose central meridian is nearest the middle of the
    layers' extent (the figures' choice, :func:`spatial.export.figures.gauss_kruger_crs`).

    >>> project_crs("EPSG:4490", [(111.3, 36.5, 113.7, 39.3), None])
    'EPSG:4547'
    >>> project_crs("EPSG:4547", [(400000.0, 4000000.0, 500000.0, 4100000.0)])
    'EPSG:4547'
    """
    parsed = CRS.from_user_input(crs)
    boxes = [e for e in extents if e is not None]
    if not parsed.is_geographic or not boxes:
        return crs
    from spatial.export.figures import gauss_kruger_crs

    lonlat = Transformer.from_crs(parsed, WGS84, always_xy=True)
    west, _, east, _ = lonlat.transform_bounds(
        min(e[0] for e in boxes),
        min(e[1] for e in boxes),
        max(e[2] for e in boxes),
        max(e[3] for e in boxes),
    )
    return f"EPSG:{gauss_kruger_crs(west, east).to_epsg()}"


def crs_extents(layers: Sequence[ProjectLayer]) -> list[tuple[float, float, float, float]]:
    """The extents the project CRS is chosen for: the enterprises' when there are any (the
    figures choose by them too), else every spatial layer's."""
    plants = [layer.extent for layer in layers if layer.name == "enterprises" and layer.extent]
    return plants or [layer.extent for layer in layers if layer.extent is not None]


def layout_subtitle(as_of: str) -> str:
    """The layout's second line: province and city of the Atlas county, the as-of date and
    the page number (QGIS expressions, evaluated per page)."""
    from spatial.policy import date_zh

    date = date_zh(as_of) if as_of else "（未注明）"
    return (
        '[% "province" %][% "city" %]　　评估日期（数据截至）：'
        f"{date}　　第 [% @atlas_featurenumber %] / [% @atlas_totalfeatures %] 幅"
    )


def layout_footer(metadata: Mapping | None, crs: str) -> list[str]:
    """The footer of the print layout: mapping unit and dates, data sources (the run's input
    files and the county outlines), the policy documents by title and number, and the
    coordinate system, worded as the figures word them
    (:func:`spatial.export.figures.footer_lines`)."""
    from spatial import counties
    from spatial.errors import PolicyTableError
    from spatial.export.figures import document_phrases, footer_lines, source_phrases
    from spatial.policy import document, load_policy

    metadata = metadata or {}
    inputs = {}
    for role, value in (metadata.get("inputs") or {}).items():
        path = value.get("path") if isinstance(value, Mapping) else None
        if path:
            inputs[role] = path
    sources = [*source_phrases(inputs), f"县界：{counties.SOURCE_ZH}"]
    policies, titles = [], []
    for entry in metadata.get("policies") or []:
        ident = entry.get("id") if isinstance(entry, Mapping) else str(entry)
        try:
            policies.append(load_policy(ident))
        except PolicyTableError:  # a planner's own table, not shipped: its document if known
            found = document(entry.get("source", "") if isinstance(entry, Mapping) else ident)
            titles.append(found.title_zh if found else str(ident))
    documents = [*document_phrases(policies), *titles]
    return footer_lines(
        CRS.from_user_input(crs),
        mapping_unit=metadata.get("mapping_unit"),
        as_of=metadata.get("as_of"),
        sources=sources,
        documents=documents,
        width_em=10_000.0,  # one line per paragraph: QGIS wraps it to the label's width
    )


def _maplayer(layer: ProjectLayer, ident: str, source: str, crs: str, info: RunInfo) -> ET.Element:
    style = layer.style.element()
    element = ET.Element(
        "maplayer",
        {
            **{k: v for k, v in style.attrib.items() if k not in ("version", "styleCategories")},
            "type": "vector",
            "geometry": _QGIS_GEOMETRY[layer.style.geometry],
            "wkbType": layer.wkb_type,
            "autoRefreshEnabled": "0",
            "autoRefreshTime": "0",
            "refreshOnNotifyEnabled": "0",
            "refreshOnNotifyMessage": "",
        },
    )
    if layer.extent is not None:
        extent = ET.SubElement(element, "extent")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), layer.extent, strict=True):
            _text(extent, tag, repr(float(value)))
    _text(element, "id", ident)
    _text(element, "datasource", source)
    keywords = ET.SubElement(element, "keywordList")
    _text(keywords, "value")
    _text(element, "layername", f"{LAYER_TITLES.get(layer.name, layer.name)} ({layer.name})")
    srs = ET.SubElement(element, "srs")
    if layer.extent is not None:
        srs.append(srs_element(crs))
    element.append(layer_metadata_element(layer.name, info, crs if layer.extent else None))
    _text(element, "provider", "ogr", encoding="UTF-8")
    ET.SubElement(element, "vectorjoins")
    ET.SubElement(element, "layerDependencies")
    ET.SubElement(element, "dataDependencies")
    ET.SubElement(element, "expressionfields")
    for child in style:
        element.append(child)
    return element


def project_row(qgs: str, name: str = PROJECT_NAME) -> tuple[str, str, str]:
    """The ``qgis_projects`` row (name, metadata, content) for a ``.qgs`` document.

    QGIS 3.22 stores ``content`` as the hex text of the zipped ``.qgz`` and ``metadata`` as a
    small JSON text; both are read back the same way by later versions.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.qgs", qgs.encode("utf-8"))
    now = dt.datetime.now().replace(microsecond=0).isoformat()
    metadata = json.dumps({"last_modified_time": now, "last_modified_user": "spatial-screening"})
    return name, metadata, buffer.getvalue().hex()


def read_project(content: str | bytes) -> str:
    """The ``.qgs`` XML of a stored ``qgis_projects.content`` (hex text or zip bytes)."""
    data = bytes.fromhex(content) if isinstance(content, str) else content
    if not data.startswith(b"PK"):
        data = bytes.fromhex(data.decode("ascii"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".qgs"))
        return archive.read(name).decode("utf-8")

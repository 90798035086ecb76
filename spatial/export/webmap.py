"""The interactive web map ``map.html``: one self-contained Leaflet page that opens offline.

The page is a Folium map whose JavaScript and CSS (Leaflet 1.9.4, leaflet-measure,
leaflet.fullscreen, leaflet-groupedlayercontrol and the project's small runtime) are inlined
from the pinned copies in ``spatial/export/assets`` (see its ``VERSIONS``), with their images as
``data:`` URIs. Nothing is fetched from any host except the tile server of the chosen basemap,
and the ``none`` basemap fetches nothing at all.

Fast with many plants: the data are not inlined as Folium GeoJSON (which escapes every Chinese
character and builds one popup per marker). Each layer's rows go into one
``<script type="application/json">`` block, columnar and dictionary-encoded; the runtime
(``assets/webmap/webmap.js``) draws them as canvas circle markers and builds a popup's HTML
only when it is clicked, escaping every text from the data. 20,000 plants open in well under
a second (``benchmarks/bench_webmap.py``).

The map is built from one small function per layer (:func:`enterprise_layer`,
:func:`builtup_layer`, :func:`buffer_layer`, :func:`heat_sources_layer`, :func:`zone_layers`);
:func:`build_map` assembles them and :func:`write_map` writes the file atomically.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.template import Template

from spatial.errors import SpatialError
from spatial.export.atomic import atomic_path
from spatial.export.webmap_assets import _inline_assets, asset_versions
from spatial.export.webmap_basemaps import _BASEMAP_NOTES, BASEMAPS, tile_templates, to_display
from spatial.export.webmap_encode import COORD_DIGITS, _json_script_text, _JsonParts
from spatial.export.webmap_layers import (
    ACTION_STYLES,
    CONTEXT_STYLES,
    COUNTY_SIMPLIFY_M,
    ENTERPRISE_FIELDS,
    Category,
    Coloring,
    MapLayer,
    buffer_layer,
    builtup_layer,
    counties_around,
    county_bounds,
    county_layer,
    enterprise_categories,
    enterprise_layer,
    heat_qualification,
    heat_sources_layer,
    label_layer,
    simplify_outlines,
    zone_layers,
)
from spatial.policy import cite_ref, date_zh
from spatial.policy import documents as policy_documents

# the layers, basemaps, value encoding and assets live in their own modules
# (webmap_layers, webmap_basemaps, webmap_encode, webmap_assets); their public names are
# re-exported here, so ``from spatial.export.webmap import X`` keeps working
__all__ = [
    "ACTION_STYLES",
    "BASEMAPS",
    "CONTEXT_STYLES",
    "COORD_DIGITS",
    "COUNTY_SIMPLIFY_M",
    "DEFAULT_TITLE",
    "ENTERPRISE_FIELDS",
    "Category",
    "Coloring",
    "MapLayer",
    "asset_versions",
    "buffer_layer",
    "build_map",
    "builtup_layer",
    "check_map_url",
    "counties_around",
    "county_bounds",
    "county_layer",
    "enterprise_categories",
    "enterprise_layer",
    "heat_qualification",
    "heat_sources_layer",
    "label_layer",
    "qr_png",
    "render_html",
    "simplify_outlines",
    "tile_templates",
    "to_display",
    "write_map",
    "zone_layers",
]


DEFAULT_TITLE = "冬季错峰生产企业筛查图"


# --------------------------------------------------------------------------------------------
# Basemaps, link and QR code


def check_map_url(url: str | None) -> str | None:
    """The map link, if given: an absolute http(s) URL (what a QR code and a report can use)."""
    if url is None:
        return None
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in url):
        raise SpatialError(
            f"map_url should be an absolute http(s) address such as "
            f"https://intranet.example/screening/map.html, got {url!r}"
        )
    return url


def qr_png(url: str, *, box_size: int = 4, border: int = 2) -> bytes:
    """PNG bytes of a QR code of ``url`` (error correction M)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


class _Raw(Element):
    """Text put into the page as it is: never parsed as a Jinja template (branca compiles the
    output of ``header``/``html`` macros as templates, so ``{{`` in a plant's name would be
    evaluated, and compiling megabytes of JSON is slow)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


_DATA_PLACEHOLDER = "<!-- spatial-map-data -->"


class _Runtime(MacroElement):
    """The inlined assets (header), the JSON blocks of the layers and config (body), and the
    call that builds the map from them (script)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
SpatialMap.build({{ this._parent.get_name() }}, "{{ this.config_id }}");
{% endmacro %}
"""
    )

    def __init__(self, blocks: list[tuple[str, str]], config_id: str) -> None:
        super().__init__()
        self._name = "SpatialMapRuntime"
        self.blocks = blocks
        self.config_id = config_id

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        figure.header.add_child(_Raw(_inline_assets()), name="spatial_map_assets")
        # the data go in after the page is rendered and checked (see render_html)
        figure.html.add_child(_Raw(_DATA_PLACEHOLDER), name="spatial_map_data")
        super().render(**kwargs)


# --------------------------------------------------------------------------------------------
# Assembly


def _bounds(frames: Iterable[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    for gdf in frames:
        if gdf is not None and not gdf.empty:
            west, south, east, north = gdf.total_bounds
            if np.isfinite([west, south, east, north]).all():
                return [[float(south), float(west)], [float(north), float(east)]]
    return None


def _legend(layers: list[MapLayer]) -> list[dict]:
    sections: dict[str, list[dict]] = {}
    for layer in layers:
        sections.setdefault(layer.group, []).extend(layer.legend)
    return [{"title": title, "items": items} for title, items in sections.items()]


# --------------------------------------------------------------------------------------------
# Documents and dates for the information box


def _documents_zh(policies: Sequence[Any]) -> list[str]:
    """The documents applied, each as a reader cites it: 《title》（number，issuer，date）."""
    out = []
    for doc in policy_documents(list(policies)):
        details = [doc.number, doc.issuer, date_zh(doc.issued)]
        details = [d for d in details if d]
        out.append(doc.title_zh + (f"（{'，'.join(details)}）" if details else ""))
    return out


def _cite_full(ref: str) -> str:
    """A rule reference (``file §clause``) as 《title》（number）clause."""
    return cite_ref(ref, form="full")


def _date_zh(value: Any) -> str | None:
    """2024-11-15 (text, date or timestamp) → 2024年11月15日; None for a blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def build_map(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    counties: gpd.GeoDataFrame | None = None,
    county_seats: gpd.GeoDataFrame | None = None,
    as_of: Any = None,
    policies: Sequence[Any] = (),
    facts: Any = None,
) -> folium.Map:
    """The Folium map of a screening (see :func:`write_map` for the parameters)."""
    tiles = tile_templates(basemap, tianditu_key)
    map_url = check_map_url(map_url)
    gcj = basemap == "amap"

    def display(name: str) -> gpd.GeoDataFrame | None:
        gdf = layers.get(name)
        return None if gdf is None else to_display(gdf, gcj02=gcj)

    specs = list(facts.values()) if isinstance(facts, dict) else list(facts or [])
    heat_rule = next(
        (f for f in specs if f.layer == "heat_sources" and getattr(f, "within_m", None)), None
    )
    plants = to_display(enterprises, gcj02=gcj)
    builtup = display("builtup")
    shown_counties = None if counties is None else to_display(counties, gcj02=gcj)
    seats = None if county_seats is None else to_display(county_seats, gcj02=gcj)
    map_layers = [
        county_layer(shown_counties),
        buffer_layer(display("heat_radius_30km"), "heat_radius_30km"),
        buffer_layer(display("near_city_10km"), "near_city_10km"),
        *zone_layers(display("dingxiang_zones")),
        builtup_layer(builtup),
        enterprise_layer(plants),
        heat_sources_layer(display("heat_sources"), heat_rule, _cite_full),
        label_layer(shown_counties, seats, builtup),
    ]
    map_layers = [layer for layer in map_layers if layer is not None]
    # the control lists the plants first, then the context
    control_order = sorted(map_layers, key=lambda layer: (layer.kind != "enterprises", -layer.z))

    m = folium.Map(
        location=[35.0, 105.0],
        zoom_start=5,
        tiles=None,
        # our layers use their own canvas renderer; the default stays SVG for leaflet-measure,
        # which styles its vertices through their SVG paths
        prefer_canvas=False,
        control_scale=False,
    )
    m.default_js = []
    m.default_css = []
    m.get_root().title = html.escape(title)

    blocks: list[tuple[str, str]] = []
    specs = []
    for k, layer in enumerate(control_order):
        block_id = f"sm-data-{k}"
        data = layer.data
        blocks.append((block_id, data if isinstance(data, _JsonParts) else _json_script_text(data)))
        specs.append(layer.config(block_id))
    notes = [_BASEMAP_NOTES[basemap], f"企业 {len(plants)} 家；距离与缓冲区为测地线计算"]
    if shown_counties is not None and not shown_counties.empty:
        notes.append(f"县界仅供示意（按{COUNTY_SIMPLIFY_M:.0f}米简化显示），非审图底图")
    config = {
        "title": title,
        "asOf": _date_zh(as_of),
        "documents": _documents_zh(policies),
        "countyBounds": county_bounds(shown_counties) or None,
        "notes": notes,
        "maxZoom": 18,
        "basemap": tiles,
        "bounds": _bounds([plants, builtup]),
        "collapsedControl": True,
        "layers": specs,
        "legend": _legend(control_order),
        "link": None,
    }
    if map_url:
        qr = "data:image/png;base64," + base64.b64encode(qr_png(map_url)).decode("ascii")
        config["link"] = {"url": map_url, "qr": qr}
    blocks.append(("sm-config", _json_script_text(config)))
    m.add_child(_Runtime(blocks, "sm-config"))
    return m


_REMOTE_LOAD = re.compile(
    r"<script\b[^>]*\bsrc\s*=|<link\b[^>]*\bhref\s*=|@import\b|url\(\s*['\"]?\s*(?:https?:)?//",
    re.I,
)


def _render_parts(m: folium.Map) -> list[str]:
    """The page in pieces (before the data, each data block, after); raises if anything
    would still be loaded from another host.

    The page is checked without its JSON data blocks (data are text, never loaded: a plant
    named ``url(//x)`` loads nothing), which go in afterwards.
    """
    text = m.get_root().render()
    found = _REMOTE_LOAD.search(text)
    if found:
        raise RuntimeError(f"map.html would load a resource from the network: {found.group(0)!r}")
    runtime = next((child for child in m._children.values() if isinstance(child, _Runtime)), None)
    if runtime is None or text.count(_DATA_PLACEHOLDER) != 1:
        raise RuntimeError("map.html: the data blocks have no single place in the page")
    before, after = text.split(_DATA_PLACEHOLDER)
    parts = [before]
    for ident, block in runtime.blocks:
        parts.append(f'<script type="application/json" id="{ident}">')
        parts.extend(block if isinstance(block, _JsonParts) else [block])
        parts.append("</script>\n")
    parts.append(after)
    return parts


def render_html(m: folium.Map) -> str:
    """The page's HTML; raises if anything would still be loaded from another host."""
    return "".join(_render_parts(m))


def write_map(
    path: str | Path,
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    counties: gpd.GeoDataFrame | None = None,
    county_seats: gpd.GeoDataFrame | None = None,
    as_of: Any = None,
    policies: Sequence[Any] = (),
    facts: Any = None,
) -> Path:
    """Write the screening's interactive map, one self-contained HTML file.

    Parameters
    ----------
    path
        The file to write (``map.html``), atomically.
    enterprises
        The screened enterprises (points): coloured by ``action``, else by ``near_city``.
    layers
        Context layers by name: ``builtup``, ``near_city_10km``, ``heat_radius_30km``
        (geodesic buffers, drawn as given), ``heat_sources``, ``dingxiang_zones``. Missing or
        None layers are left out; other names are ignored.
    basemap
        ``osm``, ``none`` (blank, no request at all), ``tianditu`` (needs ``tianditu_key`` or
        ``TIANDITU_KEY``) or ``amap`` (every layer is shifted to GCJ-02 to line up with it).
    tianditu_key
        Tianditu key; it ends up in the page (tile URLs), as Tianditu intends for browser keys.
    map_url
        Where the map will be published: the page shows the link and its QR code.
    title
        Title of the page.
    counties
        County boundaries (polygons with a ``name``): drawn as a light dashed outline, their
        names as labels, simplified for display (:data:`COUNTY_SIMPLIFY_M` metres, in UTM);
        the county filter zooms to them. Without them, built-up area names are the labels.
    county_seats
        County seats (points with a ``name``): a dot and the name.
    as_of
        The date the screening was evaluated for (shown in the information box).
    policies
        The policy tables applied (:class:`spatial.policy.Policy`): listed by title, number
        and date in the information box; they turn rule references into document titles.
    facts
        The facts of the policies (``{name: FactSpec}``): the one on the heat-source layer
        says which heat sources count for the supply radius (popup and colour).

    Returns
    -------
    Path
        ``path``.
    """
    parts = _render_parts(
        build_map(
            enterprises,
            layers,
            basemap=basemap,
            tianditu_key=tianditu_key,
            map_url=map_url,
            title=title,
            counties=counties,
            county_seats=county_seats,
            as_of=as_of,
            policies=policies,
            facts=facts,
        )
    )
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.writelines(parts)
    return path

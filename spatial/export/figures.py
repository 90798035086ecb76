"""Static figures for print: PNG and PDF, one overview and one per county, without a browser.

Each figure shows the enterprises coloured by decision (the classes and colours of the web map
and of the QGIS styles), county borders, the built-up areas, the geodesic buffers as given
(never re-buffered), the heat sources and the Dingxiang zones (each zone named); a legend, a
locator inset, a scale bar and a north arrow; a footer with the mapping unit, the dates, the
data sources, the policy documents and the coordinate system; and, when the map is published,
its link and QR code so that a printed report leads to the live map.

Cartography
    The map is drawn in the CGCS2000 3-degree Gauss-Krüger zone of the data (EPSG:4534-4554,
    chosen by the central longitude), in metres, never in degrees. The scale bar is geodesic:
    its length on paper is that of a geodesic of the stated length at the bar's place. The
    north arrow points to true north there (grid north differs by the meridian convergence).
    Names (county seats, built-up areas, zones, heat sources in county sheets) are placed
    after every symbol is known: each tries the anchor, then above, below, right, left and the
    diagonals, and takes the first place where its box overlaps no other label and no
    heat-source symbol, scale bar or north arrow; a name with no free place is left out
    (never drawn hidden). Labels are drawn above every symbol with a white halo.

Speed
    Everything is projected once per call of :func:`write_figures`. Plants are one scatter
    collection per figure (colours per point, the most severe on top), rasterised in the PDF,
    with only the plants in view; polygon layers are one compound path each (no Python loop
    over features), clipped to the view of each figure and simplified within a quarter pixel
    of the saved raster. Figures are drawn :data:`FIGURE_BATCH` at a time by one forked process
    per core (at most :data:`MAX_FIGURE_WORKERS`), each saved and released before the next.

Fonts
    Chinese text uses Noto Sans CJK SC from the ``noto-cjk-sans-otc`` dependency (see
    :mod:`spatial.fonts`). PDFs embed TrueType (Type 42) fonts: the CJK font is cut down to the
    characters the figures use and, when its outlines are CFF (Noto Sans CJK is), converted to
    TrueType outlines with fontTools, so the PDF text is searchable and ``pdffonts`` reports
    "CID TrueType" and no Type 3 font.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import io
import math
import multiprocessing
import os
import re
import shutil
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pyproj
import shapely
from matplotlib import font_manager, patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.text import Text

from spatial.export.atomic import atomic_path
from spatial.export.styles import LAYER_TITLES, ZONE_PHASES
from spatial.export.webmap import (
    CONTEXT_STYLES,
    DEFAULT_TITLE,
    Coloring,
    check_map_url,
    enterprise_categories,
    qr_png,
)
from spatial.fonts import CJK_FONT, cjk_font, regular_stands_for_bold
from spatial.geodesic import GEOD_CGCS2000, WGS84

__all__ = [
    "CJK_FONT",
    "DEFAULT_MAPPING_UNIT",
    "cjk_font",
    "document_phrases",
    "footer_lines",
    "gauss_kruger_crs",
    "geodesic_bar_length",
    "nice_length",
    "render_figure",
    "safe_stem",
    "source_phrases",
    "write_figures",
]

A4_LANDSCAPE = (11.69, 8.27)
_MAP_BOX = (0.035, 0.165, 0.70, 0.755)  # left, bottom, width, height of the map (figure units)
_LOCATOR_BOX = (0.755, 0.70, 0.235, 0.22)
_LEGEND_BOX = (0.755, 0.20, 0.235, 0.47)
DEFAULT_MAPPING_UNIT = "____"  # "制图单位：____" until the run names one
LABEL_GID = "map-label"
SYMBOL_GID = "heat-symbol"
_OTHER_GREY = "#c8c8c8"
FIGURE_BATCH = 2
"""Figures drawn, saved and released together (a task of a drawing process); the PDF fonts'
TrueType subset is shared by every batch of a process (see :func:`_truetype_fonts`)."""
MAX_FIGURE_WORKERS = 4
"""At most this many processes draw figures (each holds a batch of rendered figures, some
hundreds of MB at a provincial inventory): more cores than that add memory, not speed."""
_ZONE_LABEL_MAX_VIEW_M = 150_000.0  # zones are named in views narrower than this


def _rc() -> dict:
    font = cjk_font()
    return {
        # concrete names, not "sans-serif": each text keeps its font when the figure is saved
        # outside this context
        "font.family": [*([font] if font else []), "DejaVu Sans"],
        "axes.unicode_minus": False,
        # TrueType in the PDF: see _truetype_fonts (the CJK font is subset and made TrueType)
        "pdf.fonttype": 42,
    }


# --------------------------------------------------------------------------------------------
# Coordinate system


def gauss_kruger_crs(lon_min: float, lon_max: float) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Krüger CRS for data spanning ``lon_min``..``lon_max``.

    The zone whose central meridian (a multiple of 3°, 75°E-135°E) is nearest the middle of
    the span: EPSG:4534 (CM 75°E) to EPSG:4554 (CM 135°E), eastings without the zone prefix.

    >>> gauss_kruger_crs(110.6, 111.8).to_epsg(), gauss_kruger_crs(113.0, 113.4).name
    (4546, 'CGCS2000 / 3-degree Gauss-Kruger CM 114E')
    """
    middle = (float(lon_min) + float(lon_max)) / 2
    if not math.isfinite(middle):
        middle = 112.5
    meridian = min(max(round(middle / 3) * 3, 75), 135)
    return pyproj.CRS.from_epsg(4534 + (meridian - 75) // 3)


def crs_wording(crs: pyproj.CRS) -> str:
    """How a figure names its CRS, in Chinese: CGCS2000 and the Gauss-Krüger zone."""
    epsg = crs.to_epsg()
    match = re.search(r"CM (\d+)E", crs.name)
    if match:
        return (
            f"2000国家大地坐标系（CGCS2000），高斯-克吕格投影3度带，中央经线东经{match.group(1)}°"
            f"（EPSG:{epsg}）"
        )
    return f"{crs.name}（EPSG:{epsg}）"


# --------------------------------------------------------------------------------------------
# Scale bar and north arrow


def nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``metres`` (the length a scale bar shows).

    >>> [nice_length(x) for x in (7300, 1999, 45, 0.3)]
    [5000.0, 1000.0, 20.0, 0.2]
    """
    if not metres > 0:
        raise ValueError(f"a scale bar needs a positive length, got {metres}")
    power = 10.0 ** math.floor(math.log10(metres))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= metres)


@functools.lru_cache(maxsize=8)
def _transformers(crs: pyproj.CRS) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """(map → lon/lat, lon/lat → map) for ``crs``, built once (each costs ~0.1 s)."""
    return (
        pyproj.Transformer.from_crs(crs, WGS84, always_xy=True),
        pyproj.Transformer.from_crs(WGS84, crs, always_xy=True),
    )


def geodesic_bar_length(crs: pyproj.CRS, x: float, y: float, metres: float) -> float:
    """Map length (in ``crs`` units) of a geodesic of ``metres`` heading east from (x, y)."""
    to_geo, to_map = _transformers(crs)
    lon, lat = to_geo.transform(x, y)
    lon2, lat2, _ = GEOD_CGCS2000.fwd(lon, lat, 90.0, metres)
    x2, y2 = to_map.transform(lon2, lat2)
    return float(math.hypot(x2 - x, y2 - y))


def _true_north(crs: pyproj.CRS, x: float, y: float) -> tuple[float, float]:
    """Unit vector (map units) pointing to true north at (x, y)."""
    to_geo, to_map = _transformers(crs)
    lon, lat = to_geo.transform(x, y)
    lon2, lat2, _ = GEOD_CGCS2000.fwd(lon, lat, 0.0, 1000.0)
    x2, y2 = to_map.transform(lon2, lat2)
    dx, dy = x2 - x, y2 - y
    norm = math.hypot(dx, dy)
    return dx / norm, dy / norm


def _length_text(metres: float) -> str:
    return f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米"


def _scale_bar(ax, crs: pyproj.CRS) -> tuple[float, Rectangle]:
    """Draw a geodesic scale bar in the lower left; returns its ground length and backing box."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    bx, by = x0 + 0.04 * width, y0 + 0.045 * height
    ground = nice_length(0.22 * width)
    length = geodesic_bar_length(crs, bx, by, ground)
    bar_h = 0.012 * height
    box = Rectangle(
        (bx - 0.012 * width, by - 0.03 * height),
        length + 0.05 * width,
        bar_h + 0.07 * height,
        facecolor=(1, 1, 1, 0.85),
        edgecolor="none",
        zorder=20,
    )
    ax.add_patch(box)
    for k in range(4):
        ax.add_patch(
            Rectangle(
                (bx + k * length / 4, by),
                length / 4,
                bar_h,
                facecolor="black" if k % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=21,
            )
        )
    for frac, text in ((0, "0"), (0.5, _length_text(ground / 2)), (1, _length_text(ground))):
        ax.text(
            bx + frac * length,
            by + bar_h * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=7,
            zorder=22,
        )
    ax.text(bx, by - 0.4 * bar_h, "测地线比例尺", ha="left", va="top", fontsize=6, zorder=22)
    return ground, box


def _north_arrow(ax, crs: pyproj.CRS) -> tuple[float, float, float, float]:
    """Draw the true-north arrow in the upper right; returns the data box it covers."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    bx, by = x1 - 0.06 * width, y1 - 0.16 * height
    ux, uy = _true_north(crs, bx, by)
    size = 0.08 * height
    tip = (bx + ux * size, by + uy * size)
    ax.annotate(
        "",
        xy=tip,
        xytext=(bx, by),
        arrowprops={
            "arrowstyle": "-|>,head_length=0.8,head_width=0.45",
            "lw": 1.6,
            "color": "k",
            "path_effects": [patheffects.withStroke(linewidth=4, foreground="white")],
        },
        zorder=22,
    )
    ax.text(
        tip[0] + ux * 0.02 * height,
        tip[1] + uy * 0.02 * height,
        "北",
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        zorder=22,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
    )
    return (bx - 0.03 * width, by - 0.01 * height, bx + 0.03 * width, tip[1] + 0.07 * height)


# --------------------------------------------------------------------------------------------
# Data, projected once


@dataclass
class _Frames:
    """Every layer in the figure's metric CRS, and what each figure reuses."""

    crs: pyproj.CRS
    enterprises: gpd.GeoDataFrame
    coloring: Coloring
    layers: dict[str, gpd.GeoDataFrame]
    xs: np.ndarray = field(default_factory=lambda: np.empty(0))
    ys: np.ndarray = field(default_factory=lambda: np.empty(0))
    order: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    county: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    region: tuple[float, float, float, float] = (0.0, 0.0, 10_000.0, 10_000.0)
    density: np.ndarray | None = None
    county_outlines: MplPath | None = None


def _lonlat_bounds(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    if gdf is None or gdf.empty:
        return None
    lonlat = gdf if gdf.crs is None else gdf.to_crs(WGS84)
    bounds = lonlat.total_bounds
    return tuple(bounds) if np.isfinite(bounds).all() else None


def with_counties(layers: dict, bounds) -> dict:
    """``layers`` with ``counties`` and ``county_seats`` of :mod:`spatial.counties` (real
    boundaries, shipped with the package) around ``bounds`` (lon/lat), unless given.

    Without the boundary data (its package not installed) one warning says so and the figures
    are drawn without county borders.
    """
    if layers.get("counties") is not None or bounds is None:
        return layers
    from spatial import counties as county_data
    from spatial.errors import LayerError

    west, south, east, north = bounds
    bbox = (west - 0.2, south - 0.2, east + 0.2, north + 0.2)
    try:
        borders = county_data.boundaries(bbox)
        seats = county_data.seats(bbox) if layers.get("county_seats") is None else None
    except LayerError as error:
        warnings.warn(f"figures drawn without county borders: {error}", stacklevel=3)
        return layers
    out = {**layers, "counties": borders}
    if seats is not None:
        out["county_seats"] = seats
    return out


def _project(enterprises: gpd.GeoDataFrame, layers: dict, county_borders: bool = True) -> _Frames:
    plants = enterprises[enterprises.geometry.notna() & ~enterprises.geometry.is_empty]
    bounds = _lonlat_bounds(plants) or _lonlat_bounds(layers.get("builtup"))
    if county_borders:
        layers = with_counties(layers, bounds)
    crs = gauss_kruger_crs(bounds[0], bounds[2]) if bounds else gauss_kruger_crs(112.5, 112.5)
    projected = {}
    for name, gdf in layers.items():
        if isinstance(gdf, gpd.GeoDataFrame) and not gdf.empty and gdf.crs is not None:
            gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
            projected[name] = gdf.to_crs(crs)
    coloring = enterprise_categories(plants)
    plants = plants.to_crs(crs) if plants.crs is not None else plants
    xs = shapely.get_x(plants.geometry.values) if len(plants) else np.empty(0)
    ys = shapely.get_y(plants.geometry.values) if len(plants) else np.empty(0)
    # the most severe class (code 0) drawn last, on top; stable within a class
    order = np.argsort(-coloring.codes, kind="stable")
    county = (
        plants["county"].astype("string").fillna("").to_numpy(dtype=object)
        if "county" in plants
        else np.full(len(plants), "", dtype=object)
    )
    frames = _Frames(crs, plants, coloring, projected, xs, ys, order, county)
    _prepare_locator(frames)
    return frames


def _prepare_locator(frames: _Frames) -> None:
    """The locator's extent, its plant density image and the county outlines (once)."""
    boxes = []
    if len(frames.xs):
        boxes.append((frames.xs.min(), frames.ys.min(), frames.xs.max(), frames.ys.max()))
    counties = frames.layers.get("counties")
    if counties is not None:
        boxes.append(tuple(counties.total_bounds))
        frames.county_outlines = _polygon_path(counties.geometry.values)
    elif "builtup" in frames.layers:
        boxes.append(tuple(frames.layers["builtup"].total_bounds))
    if not boxes:
        return
    xmin = min(b[0] for b in boxes)
    ymin = min(b[1] for b in boxes)
    xmax = max(b[2] for b in boxes)
    ymax = max(b[3] for b in boxes)
    frames.region = _fit_aspect(
        _extent_of((xmin, ymin, xmax, ymax), margin=0.08, minimum=20_000.0),
        _LOCATOR_BOX[3] * A4_LANDSCAPE[1] / (_LOCATOR_BOX[2] * A4_LANDSCAPE[0]),
    )
    if len(frames.xs):
        rx0, ry0, rx1, ry1 = frames.region
        counts, _, _ = np.histogram2d(
            frames.ys, frames.xs, bins=(110, 120), range=((ry0, ry1), (rx0, rx1))
        )
        frames.density = counts > 0


# --------------------------------------------------------------------------------------------
# Geometry helpers


def _extent_of(bounds, margin: float = 0.06, minimum: float = 10_000.0):
    """(xmin, ymin, xmax, ymax) around ``bounds`` with a margin, at least ``minimum`` wide."""
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w = max((xmax - xmin) * (1 + 2 * margin), minimum) / 2
    half_h = max((ymax - ymin) * (1 + 2 * margin), minimum) / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _fit_aspect(bbox, aspect: float):
    """Grow ``bbox`` to the height/width ratio ``aspect`` (the map's frame), same centre."""
    xmin, ymin, xmax, ymax = bbox
    width, height = xmax - xmin, ymax - ymin
    if height / width < aspect:
        height = width * aspect
    else:
        width = height / aspect
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _rgba(color: str, alpha: float) -> tuple:
    return matplotlib.colors.to_rgba(color, alpha)


def _polygon_path(geoms: np.ndarray) -> MplPath | None:
    """One compound path of every ring of ``geoms`` (exteriors anticlockwise, holes clockwise,
    so the non-zero fill keeps holes open and overlapping features filled once)."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(geoms):
        return None
    parts = shapely.get_parts(geoms)
    polygons = parts[shapely.get_type_id(parts) == 3]
    polygons = polygons[~shapely.is_empty(polygons)]
    if not len(polygons):
        return None
    rings = shapely.get_rings(shapely.orient_polygons(polygons))
    coords, index = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):
        return None
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(index)) + 1]
    codes[starts] = MplPath.MOVETO
    codes[np.r_[starts[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def _clipped(gdf: gpd.GeoDataFrame, bbox) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The rows of ``gdf`` touching ``bbox`` and their geometries clipped to it."""
    hits = gdf.sindex.query(shapely.box(*bbox), predicate="intersects")
    rows = gdf.iloc[np.sort(hits)]
    return rows, shapely.clip_by_rect(rows.geometry.values, *bbox)


def _draw_polygons(
    ax, gdf, bbox, *, face, edge, linewidth, linestyle="-", zorder=1.0, tolerance=0.0
) -> np.ndarray | None:
    """Draw ``gdf`` clipped to ``bbox`` as one patch; returns the clipped geometries drawn.

    The outlines are simplified within ``tolerance`` (map units; a fraction of a pixel of the
    saved figure, so no difference shows): a 10 km geodesic buffer has about 640 vertices,
    which at the scale of an overview fall on a few pixels (3.2 million vertices for 5,000
    buffers, written into every PDF).
    """
    _, clipped = _clipped(gdf, bbox)
    drawn = shapely.simplify(clipped, tolerance) if tolerance > 0 else clipped
    path = _polygon_path(drawn)
    if path is None:
        return None
    # add_artist, not add_patch: the view is set already, and add_patch would walk every vertex
    # of the path to grow the data limits (68 s for the 5,000 buffers of an overview, issue 19)
    ax.add_artist(
        PathPatch(
            path,
            facecolor=face,
            edgecolor=edge,
            linewidth=linewidth,
            linestyle=linestyle,
            zorder=zorder,
        )
    )
    return clipped


def _phase_key(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return str(int(float(text))) if re.fullmatch(r"\d+(\.0+)?", text) else text


def _name(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = "".join(ch for ch in str(value) if unicodedata.category(ch)[0] != "C").strip()
    return text or None


# --------------------------------------------------------------------------------------------
# Labels


@dataclass
class _Label:
    """A name to place: anchor in data units; ``area`` labels may sit on their anchor."""

    text: str
    x: float
    y: float
    area: bool
    fontsize: float = 7.0
    color: str = "#3b2f22"
    weight: str = "normal"
    gap_pt: float = 3.0  # clearance from a point symbol


def _overlaps(boxes: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    if not len(boxes):
        return False
    return bool(
        np.any(
            (boxes[:, 0] < box[2])
            & (boxes[:, 2] > box[0])
            & (boxes[:, 1] < box[3])
            & (boxes[:, 3] > box[1])
        )
    )


def _place_labels(ax, labels: Sequence[_Label], obstacles: list, limit: int = 400) -> int:
    """Draw the labels that fit (first come, first placed); returns how many were left out.

    ``obstacles`` are display boxes (x0, y0, x1, y1) no label may overlap (symbols, the
    scale bar, the north arrow); each placed label becomes one.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    to_data = ax.transData.inverted()
    boxes = np.array(obstacles, dtype=float).reshape(-1, 4)
    pad = 1.5 * fig.dpi / 72
    skipped = 0
    for k, label in enumerate(labels):
        if k >= limit:
            skipped += len(labels) - k
            break
        px, py = ax.transData.transform((label.x, label.y))
        if not (frame.x0 <= px <= frame.x1 and frame.y0 <= py <= frame.y1):
            continue
        text = ax.text(
            label.x,
            label.y,
            label.text,
            fontsize=label.fontsize,
            ha="center",
            va="center",
            color=label.color,
            fontweight=label.weight,
            zorder=30,
            clip_on=False,
            gid=LABEL_GID,
            path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")],
        )
        extent = text.get_window_extent(renderer)
        w, h = extent.width / 2 + pad, extent.height / 2 + pad
        gap = label.gap_pt * fig.dpi / 72
        offsets = [(0.0, 0.0)] if label.area else []
        offsets += [
            (0.0, gap + h),
            (0.0, -(gap + h)),
            (gap + w, 0.0),
            (-(gap + w), 0.0),
            (gap + w, gap + h),
            (-(gap + w), gap + h),
            (gap + w, -(gap + h)),
            (-(gap + w), -(gap + h)),
            (0.0, 2 * (gap + h)),
            (0.0, -2 * (gap + h)),
        ]
        for dx, dy in offsets:
            cx, cy = px + dx, py + dy
            box = (cx - w, cy - h, cx + w, cy + h)
            inside = frame.x0 <= box[0] and box[2] <= frame.x1
            inside = inside and frame.y0 <= box[1] and box[3] <= frame.y1
            if inside and not _overlaps(boxes, box):
                text.set_position(tuple(to_data.transform((cx, cy))))
                boxes = np.vstack([boxes, box])
                break
        else:
            text.remove()
            skipped += 1
    return skipped


def _display_box(ax, data_box) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = ax.transData.transform([data_box[:2], data_box[2:]])
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


# --------------------------------------------------------------------------------------------
# Drawing


def _draw_context(ax, frames: _Frames, bbox, tolerance: float) -> tuple[list, list[_Label]]:
    """Counties, buffers, zones, built-up areas; returns legend handles and labels to place.

    ``tolerance``: how far (map units) a drawn outline may depart from the data (sub-pixel).
    """
    handles: list = []
    labels: list[_Label] = []
    styles = CONTEXT_STYLES
    counties = frames.layers.get("counties")
    if (
        counties is not None
        and _draw_polygons(
            ax,
            counties,
            bbox,
            face="none",
            edge="#555555",
            linewidth=0.9,
            linestyle=(0, (6, 2, 1, 2)),
            zorder=6.5,
            tolerance=tolerance,
        )
        is not None
    ):
        handles.append(
            Line2D([], [], color="#555555", lw=0.9, ls=(0, (6, 2, 1, 2)), label="县级行政区界")
        )
    for name, dashed, z in (("heat_radius_30km", "--", 1), ("near_city_10km", "-", 2)):
        gdf = frames.layers.get(name)
        style = styles[name]
        if (
            gdf is not None
            and _draw_polygons(
                ax,
                gdf,
                bbox,
                face=_rgba(style["fillColor"], style["fillOpacity"]),
                edge=style["color"],
                linewidth=1.0,
                linestyle=dashed,
                zorder=z,
                tolerance=tolerance,
            )
            is not None
        ):
            handles.append(
                Patch(
                    facecolor=_rgba(style["fillColor"], 0.15),
                    edgecolor=style["color"],
                    linestyle=dashed,
                    label=LAYER_TITLES.get(name, name) + "（测地线缓冲）",
                )
            )
    labels += _draw_zones(ax, frames, bbox, handles, tolerance)
    builtup = frames.layers.get("builtup")
    style = styles["builtup"]
    if builtup is not None:
        clipped = _draw_polygons(
            ax,
            builtup,
            bbox,
            face=_rgba(style["fillColor"], style["fillOpacity"]),
            edge=style["color"],
            linewidth=0.6,
            zorder=4,
            tolerance=tolerance,
        )
        if clipped is not None:
            handles.append(
                Patch(
                    facecolor=_rgba(style["fillColor"], style["fillOpacity"]),
                    edgecolor=style["color"],
                    label=LAYER_TITLES.get("builtup", "建成区"),
                )
            )
            if "name" in builtup:
                rows, geoms = _clipped(builtup, bbox)
                keep = ~shapely.is_empty(geoms)
                rows, geoms = rows[keep], geoms[keep]
                points = shapely.point_on_surface(geoms)
                level = rows["level"].to_numpy() if "level" in rows else np.full(len(rows), "")
                rank = np.lexsort((-shapely.area(geoms), level != "city"))
                xs, ys = shapely.get_x(points), shapely.get_y(points)
                names = rows["name"].to_numpy(dtype=object)
                for i in rank:
                    text = _name(names[i])
                    if text:
                        is_city = level[i] == "city"
                        labels.append(
                            _Label(
                                text,
                                xs[i],
                                ys[i],
                                area=True,
                                fontsize=8 if is_city else 7,
                                weight="bold" if is_city else "normal",
                            )
                        )
    return handles, labels


def _draw_zones(ax, frames: _Frames, bbox, handles: list, tolerance: float) -> list[_Label]:
    """The Dingxiang zones by phase (phase 1 on top), each named inside its own part."""
    zones = frames.layers.get("dingxiang_zones")
    if zones is None:
        return []
    phases = {value: (zh, colour) for value, zh, colour in ZONE_PHASES}
    keys = zones["phase"].map(_phase_key) if "phase" in zones else pd.Series(None, zones.index)
    present = sorted(keys.dropna().unique(), key=str)
    legend = []
    for rank, key in enumerate(reversed(present)):  # later phases (larger areas) underneath
        zh, colour = phases.get(key, (f"阶段 {key}", "#a0a0a0"))
        drawn = _draw_polygons(
            ax,
            zones[(keys == key).to_numpy()],
            bbox,
            face=_rgba(colour, 0.30),
            edge=colour,
            linewidth=0.8,
            zorder=3 + rank / 100,
            tolerance=tolerance,
        )
        if drawn is not None:
            legend.insert(0, Patch(facecolor=_rgba(colour, 0.30), edgecolor=colour, label=zh))
    handles += legend
    # named only where a zone is large enough on paper to carry its name
    if "area_name" not in zones or bbox[2] - bbox[0] > _ZONE_LABEL_MAX_VIEW_M:
        return []
    rows, geoms = _clipped(zones, bbox)
    if not len(rows):
        return []
    row_keys = rows["phase"].map(_phase_key).to_numpy() if "phase" in rows else [None] * len(rows)
    # each zone named where no zone of an earlier phase (drawn on top) covers it
    labels = []
    areas = shapely.area(geoms)
    order = np.lexsort((areas, [str(k) for k in row_keys]))
    covered = None
    for i in order:
        geom = geoms[i]
        own = geom if covered is None else shapely.difference(geom, covered)
        covered = geom if covered is None else shapely.union(covered, geom)
        text = _name(rows["area_name"].iloc[i])
        if not text or shapely.is_empty(own):
            continue
        point = shapely.point_on_surface(own)
        colour = phases.get(row_keys[i], ("", "#555555"))[1]
        dark = tuple(0.55 * c for c in matplotlib.colors.to_rgb(colour))
        labels.append(
            _Label(
                text,
                point.x,
                point.y,
                area=True,
                fontsize=6.5,
                color=matplotlib.colors.to_hex(dark),
            )
        )
    return labels


def _draw_enterprises(
    ax, frames: _Frames, mask: np.ndarray, view, size: float, dpi: float
) -> tuple[list, int]:
    """The plants in view, drawn once into one raster image (others grey, underneath; the
    most severe class on top) shown by the map at ``dpi``; returns legend handles, count."""
    coloring = frames.coloring
    xs, ys, order = frames.xs, frames.ys, frames.order
    xmin, ymin, xmax, ymax = view
    pad_x, pad_y = 0.01 * (xmax - xmin), 0.01 * (ymax - ymin)
    in_view = (
        (xs[order] >= xmin - pad_x)
        & (xs[order] <= xmax + pad_x)
        & (ys[order] >= ymin - pad_y)
        & (ys[order] <= ymax + pad_y)
    )
    shown = order[in_view]
    mine = mask[shown]
    if len(shown):
        others = shown[~mine]
        if len(others):
            ax.scatter(
                xs[others],
                ys[others],
                s=size * 0.5,
                c=_OTHER_GREY,
                linewidths=0,
                zorder=5,
                rasterized=True,
            )
        own = shown[mine]
        codes = coloring.codes[own]
        # one marker run per class, in drawing order (codes descend: the most severe last)
        cuts = np.flatnonzero(np.diff(codes)) + 1
        for rank, part in enumerate(np.split(np.arange(len(own)), cuts)):
            if len(part):
                ax.scatter(
                    xs[own[part]],
                    ys[own[part]],
                    s=size,
                    c=coloring.categories[codes[part[0]]].color,
                    edgecolors="#222222",
                    linewidths=0.3,
                    zorder=5 + rank / 100,
                    rasterized=True,
                )
    handles = []
    if (~mask).any() and (~mine).any():
        handles.append(
            Line2D([], [], marker="o", ls="", color=_OTHER_GREY, markersize=4, label="其他县企业")
        )
    counts = np.bincount(coloring.codes[mask], minlength=len(coloring.categories))
    for k, category in enumerate(coloring.categories):
        if counts[k]:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    markerfacecolor=category.color,
                    markeredgecolor="#222222",
                    markeredgewidth=0.4,
                    markersize=6,
                    label=f"{category.label}（{counts[k]}）",
                )
            )
    return handles, int(mask.sum())


_HEAT_MARKERS = (("chp", "*", 150.0, "热电联产热源"), (None, "D", 45.0, "工业供热热源"))


def _draw_heat(ax, frames: _Frames, bbox, name_them: bool) -> tuple[list, list, list[_Label]]:
    """Heat-source symbols; returns legend handles, their display boxes and their names."""
    heat = frames.layers.get("heat_sources")
    if heat is None:
        return [], [], []
    xmin, ymin, xmax, ymax = bbox
    hx, hy = shapely.get_x(heat.geometry.values), shapely.get_y(heat.geometry.values)
    inside = (hx > xmin) & (hx < xmax) & (hy > ymin) & (hy < ymax)
    if not inside.any():
        return [], [], []
    color = CONTEXT_STYLES["heat_sources"]["color"]
    kinds = (
        heat["kind"].astype("string").fillna("").to_numpy(dtype=object)
        if "kind" in heat
        else np.full(len(heat), "", dtype=object)
    )
    handles, boxes, labels = [], [], []
    dpi = ax.figure.dpi
    for kind, marker, area, label in _HEAT_MARKERS:
        sel = inside & ((kinds == "chp") if kind == "chp" else (kinds != "chp"))
        if not sel.any():
            continue
        ax.scatter(
            hx[sel],
            hy[sel],
            s=area,
            marker=marker,
            c=color,
            edgecolors="black",
            linewidths=0.6,
            zorder=10,
            gid=SYMBOL_GID,
        )
        half = math.sqrt(area) / 2 * dpi / 72 + 0.6 * dpi / 72
        for x, y in ax.transData.transform(np.column_stack([hx[sel], hy[sel]])):
            boxes.append((x - half, y - half, x + half, y + half))
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                ls="",
                markerfacecolor=color,
                markeredgecolor="black",
                markersize=10 if marker == "*" else 6,
                label=label,
            )
        )
        if name_them and "name" in heat:
            for i in np.flatnonzero(sel):
                text = _name(heat["name"].iloc[i])
                if text:
                    labels.append(
                        _Label(
                            text,
                            hx[i],
                            hy[i],
                            area=False,
                            fontsize=6.5,
                            color="#7a1020",
                            gap_pt=math.sqrt(area) / 2 + 1,
                        )
                    )
    return handles, boxes, labels


def _seat_labels(frames: _Frames, bbox) -> tuple[list[_Label], np.ndarray, np.ndarray]:
    seats = frames.layers.get("county_seats")
    if seats is None or "name" not in seats:
        return [], np.empty(0), np.empty(0)
    rows, _ = _clipped(seats, bbox)
    xs, ys = shapely.get_x(rows.geometry.values), shapely.get_y(rows.geometry.values)
    labels = [
        _Label(text, x, y, area=False, fontsize=8.5, color="#222222", weight="bold", gap_pt=3.5)
        for text, x, y in zip(map(_name, rows["name"]), xs, ys, strict=True)
        if text
    ]
    return labels, xs, ys


def _draw_locator(fig: Figure, frames: _Frames, view) -> None:
    """A small map of the whole region with the county borders and this figure's view."""
    lax = fig.add_axes(_LOCATOR_BOX, label="locator")
    rx0, ry0, rx1, ry1 = frames.region
    if frames.density is not None:
        image = np.zeros((*frames.density.shape, 4))
        image[frames.density] = matplotlib.colors.to_rgba("#7f7f7f", 0.8)
        lax.imshow(
            image, extent=(rx0, rx1, ry0, ry1), origin="lower", interpolation="nearest", zorder=1
        )
    if frames.county_outlines is not None:
        lax.add_artist(
            PathPatch(
                frames.county_outlines, facecolor="#f4f1ea", edgecolor="#777777", lw=0.4, zorder=0
            )
        )
    xmin, ymin, xmax, ymax = view
    lax.add_patch(
        Rectangle(
            (xmin, ymin),
            xmax - xmin,
            ymax - ymin,
            facecolor=(0.84, 0.1, 0.11, 0.12),
            edgecolor="#d7191c",
            lw=1.2,
            zorder=3,
        )
    )
    lax.set_xlim(rx0, rx1)
    lax.set_ylim(ry0, ry1)
    lax.set_aspect("equal", adjustable="box")
    lax.set_xticks([])
    lax.set_yticks([])
    for spine in lax.spines.values():
        spine.set_linewidth(0.6)
        spine.set_color("#555555")
    lax.set_title("位置示意图（红框为本图范围）", fontsize=7.5, pad=3)


def _add_qr(fig: Figure, url: str) -> None:
    """The QR code of the map link in the lower right, with the link written beside it."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(qr_png(url, box_size=1, border=1))).convert("L"))
    size_in = 1.05
    fig_w, fig_h = fig.get_size_inches()
    left, bottom = 0.755, 0.03
    qax = fig.add_axes((left, bottom, size_in / fig_w, size_in / fig_h))
    qax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    qax.set_axis_off()
    text_left = left + size_in / fig_w + 0.008
    top = bottom + size_in / fig_h
    fig.text(text_left, top, "扫码打开在线地图", fontsize=8, va="top")
    fig.text(
        text_left,
        top - 0.03,
        "\n".join(_chunks(url, 24)),
        fontsize=6.5,
        va="top",
        family="DejaVu Sans Mono",
        linespacing=1.3,
    )


def _chunks(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _wrap(text: str, width_em: float) -> list[str]:
    """Break ``text`` into lines of at most ``width_em`` ems (CJK 1 em, other 0.55 em)."""
    lines, line, used = [], "", 0.0
    for ch in text:
        w = 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55
        if used + w > width_em and line:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    if line:
        lines.append(line)
    return lines


def _date_text(value: object) -> str:
    if value is None or value == "":
        return "未注明"
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def footer_lines(
    crs: pyproj.CRS,
    *,
    mapping_unit: str | None = None,
    as_of: object = None,
    sources: Sequence[str] = (),
    documents: Sequence[str] = (),
    made: dt.date | None = None,
    width_em: float = 118.0,
) -> list[str]:
    """The footer of a figure: unit and dates, data sources, documents, coordinate system."""
    unit = (mapping_unit or "").strip() or DEFAULT_MAPPING_UNIT
    lines = [
        f"制图单位：{unit}　　评估日期（数据截至）：{_date_text(as_of)}　　"
        f"制图日期：{_date_text(made or dt.date.today())}"
    ]
    if sources:
        lines += _wrap("数据来源：" + "；".join(sources), width_em)
    if documents:
        lines += _wrap("政策依据：" + "；".join(documents), width_em)
    lines += _wrap(
        f"坐标系：{crs_wording(crs)}；距离与缓冲区均在CGCS2000椭球面上按测地线计算，"
        "比例尺为测地线长度；县界仅作示意。",
        width_em,
    )
    return lines


_SOURCE_ROLES = {
    "enterprises": "企业清单",
    "builtup": "建成区",
    "heat_sources": "热源",
    "zones": "定襄整治分区",
    "zones_osm": "OpenStreetMap道路",
}


def source_phrases(inputs: dict[str, object]) -> list[str]:
    """The data sources of a run, for the footer: "企业清单：enterprises.csv" (file names only);
    a layer shipped with the package carries its attribution (CC BY: wherever it is shown).

    >>> source_phrases({"enterprises": "/data/e.csv", "layer:eco_zones": "eco.gpkg"})
    ['企业清单：e.csv', 'eco_zones：eco.gpkg']
    """
    from spatial.heat import attribution

    out = []
    for role, path in inputs.items():
        name = role.split(":", 1)[1] if role.startswith("layer:") else role
        title = _SOURCE_ROLES.get(role) or LAYER_TITLES.get(name, name)
        credit = attribution(str(path))
        out.append(f"{title}：{Path(str(path)).name}" + (f"（{credit}）" if credit else ""))
    return out


def document_phrases(policies: Iterable[object]) -> list[str]:
    """The policy documents of a run, for the footer: 《title》（number，issuer，date）, each
    document once (:func:`spatial.policy.documents`: the tables' own and those they cite)."""
    from spatial.policy import date_zh, documents

    out = []
    for doc in documents(list(policies)):
        detail = "，".join(v for v in (doc.number, doc.issuer, date_zh(doc.issued)) if v)
        out.append(doc.title_zh + (f"（{detail}）" if detail else ""))
    return out


def render_figure(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    county: str | None = None,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    as_of: object = None,
    mapping_unit: str | None = None,
    sources: Sequence[str] = (),
    documents: Sequence[str] = (),
    dpi: float = 200,
    county_borders: bool = True,
    _frames: _Frames | None = None,
) -> Figure:
    """One A4 landscape figure: the overview, or one county (its plants in colour).

    Parameters are those of :func:`write_figures`; ``county`` selects the county figure and
    ``dpi`` the resolution of the plants' raster (that of the PNG it will be saved as).
    """
    map_url = check_map_url(map_url)
    frames = _frames or _project(enterprises, layers, county_borders)
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=A4_LANDSCAPE)
        FigureCanvasAgg(fig)
        ax = fig.add_axes(_MAP_BOX, label="map")
        n_all = len(frames.xs)
        if county is None:
            mask = np.ones(n_all, dtype=bool)
            subtitle = "总览"
        else:
            mask = frames.county == county
            subtitle = county
        bounds = None
        if mask.any():
            bounds = (
                frames.xs[mask].min(),
                frames.ys[mask].min(),
                frames.xs[mask].max(),
                frames.ys[mask].max(),
            )
        elif n_all:
            bounds = (frames.xs.min(), frames.ys.min(), frames.xs.max(), frames.ys.max())
        borders = frames.layers.get("counties")
        if county is not None and borders is not None and "name" in borders:
            own = borders[borders["name"].astype(str) == county]
            if len(own):  # the whole county on its sheet
                box = own.total_bounds
                bounds = (
                    box
                    if bounds is None
                    else (
                        min(bounds[0], box[0]),
                        min(bounds[1], box[1]),
                        max(bounds[2], box[2]),
                        max(bounds[3], box[3]),
                    )
                )
        bbox = (0.0, 0.0, 10_000.0, 10_000.0) if bounds is None else _extent_of(bounds)
        view = _fit_aspect(bbox, _MAP_BOX[3] * A4_LANDSCAPE[1] / (_MAP_BOX[2] * A4_LANDSCAPE[0]))
        ax.set_xlim(view[0], view[2])
        ax.set_ylim(view[1], view[3])
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
        ax.apply_aspect()
        pad = 0.05 * (view[2] - view[0])
        clip_box = (view[0] - pad, view[1] - pad, view[2] + pad, view[3] + pad)
        # a quarter of a pixel of the saved raster (0.03 mm on paper at 200 dpi)
        pixel = (view[2] - view[0]) / (ax.get_position().width * A4_LANDSCAPE[0] * dpi)
        context_handles, area_labels = _draw_context(ax, frames, clip_box, pixel / 4)
        n_shown = int(mask.sum())
        size = 14 if n_shown > 5000 else 18 if n_shown > 500 else 30
        plant_handles, n = _draw_enterprises(ax, frames, mask, view, size, dpi)
        heat_handles, heat_boxes, heat_labels = _draw_heat(
            ax, frames, clip_box, name_them=county is not None
        )
        seat_labels, sx, sy = _seat_labels(frames, clip_box)
        if len(sx):
            ax.scatter(sx, sy, s=16, marker="o", c="white", edgecolors="#222222", lw=1, zorder=11)
        _, bar_box = _scale_bar(ax, frames.crs)
        arrow_box = _north_arrow(ax, frames.crs)
        obstacles = [
            *heat_boxes,
            _display_box(
                ax,
                (
                    bar_box.get_x(),
                    bar_box.get_y(),
                    bar_box.get_x() + bar_box.get_width(),
                    bar_box.get_y() + bar_box.get_height(),
                ),
            ),
            _display_box(ax, arrow_box),
        ]
        half = 3 * fig.dpi / 72
        obstacles += [
            (x - half, y - half, x + half, y + half)
            for x, y in ax.transData.transform(np.column_stack([sx, sy]).reshape(-1, 2))
        ]
        seat_names = {lab.text for lab in seat_labels}
        zone_labels = [lab for lab in area_labels if lab.fontsize < 7]
        # a built-up area named after its county seat is named once, at the seat
        town_labels = [
            lab for lab in area_labels if lab.fontsize >= 7 and lab.text not in seat_names
        ]
        _place_labels(ax, [*seat_labels, *town_labels, *zone_labels, *heat_labels], obstacles)
        _draw_locator(fig, frames, view)

        fig.text(0.035, 0.965, f"{title}：{subtitle}", fontsize=15, fontweight="bold", va="center")
        fig.text(
            0.035,
            0.935,
            f"企业 {n} 家；着色：{frames.coloring.title}；评估日期：{_date_text(as_of)}",
            fontsize=9,
            va="center",
            color="#444444",
        )
        legend_ax = fig.add_axes(_LEGEND_BOX, label="legend")
        legend_ax.set_axis_off()
        legend_ax.legend(
            handles=plant_handles + heat_handles + context_handles,
            loc="upper left",
            title="图例",
            fontsize=7.5,
            title_fontsize=9.5,
            frameon=False,
            borderaxespad=0,
            handlelength=1.6,
            labelspacing=0.45,
        )
        # the footer under the map, as small as needed (down to 4.5 pt) to say everything
        fontsize, width_pt, room_pt = 6.5, _MAP_BOX[2] * A4_LANDSCAPE[0] * 72, 0.135 * 8.27 * 72
        while True:
            lines = footer_lines(
                frames.crs,
                mapping_unit=mapping_unit,
                as_of=as_of,
                sources=sources,
                documents=documents,
                width_em=width_pt / fontsize,
            )
            if len(lines) * fontsize * 1.45 <= room_pt or fontsize <= 4.5:
                break
            fontsize -= 0.25
        fig.text(
            0.035,
            0.145,
            "\n".join(lines),
            fontsize=fontsize,
            color="#444444",
            va="top",
            linespacing=1.45,
        )
        if map_url:
            _add_qr(fig, map_url)
    return fig


# --------------------------------------------------------------------------------------------
# File names


_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(10)),
    *(f"LPT{i}" for i in range(10)),
}
MAX_NAME_BYTES = 90  # of the county part, UTF-8 (a CJK character is 3 bytes)


def safe_stem(text: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file-name part from a name: no separators, control or reserved characters, no leading
    dot, at most ``max_bytes`` of UTF-8 (cut at a character, never inside one).

    >>> safe_stem("祁县"), safe_stem("../a b:c"), safe_stem("\\x01"), safe_stem("县" * 80)[-2:]
    ('祁县', 'a_b_c', 'county', '县县')
    >>> len(safe_stem("县" * 80).encode())
    90
    """
    text = unicodedata.normalize("NFC", str(text))
    text = "".join(ch if unicodedata.category(ch)[0] not in "CZ" else " " for ch in text)
    text = re.sub(r"[\\/:*?\"<>|\s]+", "_", text).strip("._ ")
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", errors="ignore").rstrip("._ ")
    if not text or text.upper() in _RESERVED:
        text = f"county_{text}" if text else "county"
    return text


# --------------------------------------------------------------------------------------------
# TrueType fonts for the PDF


_FONT_DIR: Path | None = None


def _font_dir() -> Path:
    global _FONT_DIR
    if _FONT_DIR is None:
        _FONT_DIR = Path(tempfile.mkdtemp(prefix="spatial-fonts-"))
        atexit.register(shutil.rmtree, _FONT_DIR, True)
    return _FONT_DIR


def _cff_to_glyf(font) -> None:
    """Replace a font's CFF outlines by TrueType (quadratic) ones, in place (fontTools'
    otf2ttf recipe: cu2qu at 1 font unit)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    for tag in ("VORG", "vhea", "vmtx"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for key in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, key, 1 if key == "maxZones" else 0)
    maxp.compile(font)
    post = font["post"]
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"


@functools.lru_cache(maxsize=32)
def _truetype_subset(path: str, index: int, characters: str) -> str:
    """A TrueType font file with only ``characters`` of face ``index`` of ``path``; returns
    the family name it is registered under with matplotlib."""
    from fontTools.ttLib import TTFont

    digest = hashlib.sha1(f"{path}|{index}|{characters}".encode()).hexdigest()[:10]
    family = f"SpatialSubset{digest}"
    with TTFont(path, fontNumber=index, lazy=True) as font:  # closes the collection file
        _subset_into(font, characters, family)
    out = _font_dir() / f"{family}.ttf"
    font_manager.fontManager.addfont(str(out))
    regular_stands_for_bold(family)  # a bold text's subset is of the face it was drawn in
    return family


def _subset_into(font, characters: str, family: str) -> None:
    """Cut ``font`` down to ``characters`` as TrueType named ``family``; saved in the font dir."""
    from fontTools import subset

    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.drop_tables += ["VORG", "BASE", "GSUB", "GPOS", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    if "CFF " in font:
        _cff_to_glyf(font)
    name = font["name"]
    for record in list(name.names):
        if record.nameID in (1, 16, 4, 21):
            name.removeNames(nameID=record.nameID)
    name.setName(family, 1, 3, 1, 0x409)
    name.setName(family, 4, 3, 1, 0x409)
    font.save(_font_dir() / f"{family}.ttf")


def _truetype_fonts(
    figures: Iterable[Figure], expected: str = "", covered: dict | None = None
) -> None:
    """Point every text of ``figures`` at TrueType subsets of the fonts it uses (for PDF).

    ``covered`` (font face → the characters of its current subset) lets one subset serve the
    figures of many calls: a face's subset is cut again only when a figure uses a character
    it lacks, and then for those, the characters it had and ``expected`` (the names the next
    figures will show), so a run of 118 county figures cuts its fonts once or twice instead
    of once per batch (1.5 s each).
    """
    texts: dict[tuple[str, int], list[Text]] = {}
    chars: dict[tuple[str, int], set[str]] = {}
    for fig in figures:
        for text in fig.findobj(Text):
            content = text.get_text()
            if not content:
                continue
            found = font_manager.findfont(text.get_fontproperties())
            key = (str(found), int(getattr(found, "face_index", 0) or 0))
            if not str(found).lower().endswith((".otf", ".ttc", ".otc")) and key[1] == 0:
                with open(found, "rb") as handle:  # a TrueType file is fine as it is
                    if handle.read(4) != b"OTTO":
                        continue
            texts.setdefault(key, []).append(text)
            chars.setdefault(key, set()).update(content)
    covered = {} if covered is None else covered
    for key, members in texts.items():
        have = covered.get(key, "")
        if not chars[key] <= set(have):
            have = "".join(sorted(chars[key] | set(have) | set(expected)))
            covered[key] = have
        family = _truetype_subset(key[0], key[1], have)
        for text in members:
            text.set_fontfamily([family, "DejaVu Sans"])


def write_figures(
    out_dir: str | Path,
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    formats: Sequence[str] = ("png", "pdf"),
    counties: bool = True,
    dpi: int = 200,
    as_of: object = None,
    mapping_unit: str | None = None,
    sources: Sequence[str] = (),
    documents: Sequence[str] = (),
    county_borders: bool = True,
    workers: int | None = None,
    progress=None,
) -> list[Path]:
    """Write the overview and one figure per county, each as PNG and PDF.

    Parameters
    ----------
    out_dir
        Folder for the figures (created): ``overview.png``, ``overview.pdf``,
        ``county_<县名>.png`` ...; each written atomically. County names become file names
        through :func:`safe_stem` (bounded, no separators or control characters).
    enterprises
        The screened enterprises: coloured by ``action`` (else ``near_city``), split by
        ``county``.
    layers
        Context layers by name, as for :func:`spatial.export.webmap.write_map`; also
        ``counties`` (county polygons: borders and the locator) and ``county_seats`` (points
        with ``name``: labelled).
    map_url
        Where the map is published: each figure carries the link and its QR code.
    title
        Title printed on each figure.
    formats
        File formats (matplotlib names).
    counties
        Also one figure per county (the ``county`` column).
    dpi
        Resolution of raster formats.
    as_of
        The run's evaluation date (printed in the subtitle and the footer).
    mapping_unit
        Who made the map (制图单位); a blank line to fill in by hand when not given.
    sources
        The data sources, one short Chinese phrase each (e.g. "企业清单：enterprises.csv").
    documents
        The policy documents, cited by title, number and date (:func:`document_phrases`).
    county_borders
        Draw the real county borders and seats of :mod:`spatial.counties` when ``layers``
        has no ``counties`` (default yes).
    workers
        Processes drawing the figures, :data:`FIGURE_BATCH` figures at a time (default: one
        per usable core where processes can be forked, Linux; else one). The files are the
        same whatever the number.
    progress
        A bar of :mod:`spatial.progress` (anything with ``set_total(n)`` and ``update(n)``):
        told the number of figures, then each batch as it is saved.

    Returns
    -------
    list[Path]
        The files written.
    """
    out = Path(out_dir)
    frames = _project(enterprises, layers, county_borders)
    jobs: list[tuple[str, str | None]] = [("overview", None)]
    if counties and "county" in frames.enterprises:
        names = sorted({c for c in frames.county if isinstance(c, str) and c.strip()})
        used: set[str] = {"overview"}
        for name in names:
            stem = f"county_{safe_stem(name)}"
            candidate, k = stem, 1
            while candidate in used:
                k += 1
                candidate = f"{stem}_{k}"
            used.add(candidate)
            jobs.append((candidate, name))
    options = {
        "map_url": map_url,
        "title": title,
        "as_of": as_of,
        "mapping_unit": mapping_unit,
        "sources": tuple(sources),
        "documents": tuple(documents),
    }
    batches = [jobs[start : start + FIGURE_BATCH] for start in range(0, len(jobs), FIGURE_BATCH)]
    task = _Task(
        # what a figure reads of the plants is in the frames' arrays: not the table itself
        dataclasses.replace(frames, enterprises=frames.enterprises.iloc[:0]),
        out,
        tuple(formats),
        dpi,
        options,
        _expected_characters(frames, title, options),
    )
    if progress is not None:
        progress.set_total(len(jobs))
    n_workers = _worker_count(len(batches)) if workers is None else max(1, int(workers))
    written: list[Path] = []
    if n_workers > 1 and len(batches) > 1:
        # one process per core, each with a forked copy of the frames (nothing pickled but the
        # names of a batch's figures); the batches of a worker share its font subsets
        context = multiprocessing.get_context("fork")
        # the run's Python objects (millions of texts at a provincial inventory) moved out of
        # the collector's reach before the fork: a child's collection would touch each one
        # and copy every page of the parent it lies on (1.5 GB per process at 1M plants)
        gc.collect()
        gc.freeze()
        with (
            _unfrozen(),
            warnings.catch_warnings(),
            concurrent.futures.ProcessPoolExecutor(
                min(n_workers, len(batches)),
                mp_context=context,
                initializer=_start_worker,
                initargs=(task,),
            ) as pool,
        ):
            # Python ≥ 3.12 warns of fork in a process with threads: the library's threads
            # (the geodesic engine's pool) have ended here, and a worker takes no lock of theirs
            warnings.simplefilter("ignore", DeprecationWarning)
            pending = {pool.submit(_worker_batch, batch): len(batch) for batch in batches}
            for done in concurrent.futures.as_completed(pending):
                written += done.result()
                if progress is not None:
                    progress.update(pending[done])
    else:
        covered: dict = {}
        for batch in batches:
            written += task.draw_and_save(batch, covered)
            if progress is not None:
                progress.update(len(batch))
    order = {fmt: i for i, fmt in enumerate(formats)}
    stems = {stem: i for i, (stem, _) in enumerate(jobs)}
    return sorted(written, key=lambda p: (stems[p.stem], order[p.suffix[1:]]))


@contextlib.contextmanager
def _unfrozen():
    """Give the objects :func:`gc.freeze` set aside back to the collector on the way out."""
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass
class _Task:
    """What every figure of one :func:`write_figures` call shares (sent to its workers)."""

    frames: _Frames
    out: Path
    formats: tuple[str, ...]
    dpi: int
    options: dict
    expected: str

    def draw_and_save(self, batch: list[tuple[str, str | None]], covered: dict) -> list[Path]:
        """Draw a few figures, save each in every format, release them (return the files).

        ``covered``: the font subsets made so far (see :func:`_truetype_fonts`).
        """
        written = []
        title, dpi = self.options["title"], self.dpi
        with matplotlib.rc_context(_rc()):
            # the batch's figures live only in this call: released when it returns
            rendered = [
                (
                    stem,
                    render_figure(
                        None, {}, county=county, dpi=dpi, _frames=self.frames, **self.options
                    ),
                )
                for stem, county in batch
            ]
            raster = [f for f in self.formats if f.lower() not in ("pdf", "ps", "eps", "svg")]
            for fmt in raster:
                for stem, fig in rendered:
                    written.append(_save(fig, self.out / f"{stem}.{fmt}", fmt, dpi, title))
            vector = [fmt for fmt in self.formats if fmt not in raster]
            if vector:
                _truetype_fonts((fig for _, fig in rendered), self.expected, covered)
                for fmt in vector:
                    for stem, fig in rendered:
                        written.append(_save(fig, self.out / f"{stem}.{fmt}", fmt, dpi, title))
        return written


_WORKER: tuple[_Task, dict] | None = None


def _start_worker(task: _Task) -> None:
    global _WORKER
    _WORKER = (task, {})


def _worker_batch(batch: list[tuple[str, str | None]]) -> list[Path]:
    assert _WORKER is not None, "a figure worker runs after _start_worker"
    return _WORKER[0].draw_and_save(batch, _WORKER[1])


def _worker_count(batches: int) -> int:
    """Processes for the figures: one per usable core, at most one per batch; one where
    processes cannot be forked (Windows, macOS: a spawned process would re-run the caller's
    script)."""
    if batches < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, batches, MAX_FIGURE_WORKERS))


def _expected_characters(frames: _Frames, title: str, options: dict) -> str:
    """The characters the figures of one call are likely to print: the names in the layers,
    the counties, the title and the footer's phrases (a figure that prints another one
    still gets it, by a new subset)."""
    seen: set[str] = set(title)
    values = [frames.county]
    for layer in frames.layers.values():
        if layer is not None:
            values += [layer[c].to_numpy() for c in ("name", "area_name") if c in layer]
    for array in values:
        for value in pd.unique(np.asarray(array, dtype=object)):
            if isinstance(value, str):
                seen.update(value)
    for key in ("sources", "documents", "mapping_unit"):
        value = options.get(key)
        for text in [value] if isinstance(value, str) else value or ():
            seen.update(str(text))
    return "".join(sorted(seen))


def _save(fig: Figure, path: Path, fmt: str, dpi: int, title: str) -> Path:
    with atomic_path(path) as tmp:
        extra = {"pil_kwargs": {"compress_level": 2}} if fmt == "png" else {}
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_metadata(fmt, title), **extra)
    return path


def _metadata(fmt: str, title: str) -> dict | None:
    if fmt == "pdf":
        return {"Title": title, "Creator": "spatial-screening"}
    if fmt == "png":
        return {"Title": title, "Software": "spatial-screening"}
    return None

"""Static figures for print: PNG and PDF, one overview and one per county, without a browser.

Each figure shows the enterprises coloured by decision (the classes and colours of the web map
and of the QGIS styles), the built-up areas, the geodesic buffers as given (never re-buffered),
the heat sources and the Dingxiang zones; a legend, a scale bar and a north arrow; and, when the
map is published, its link and QR code so that a printed report leads to the live map.

The map is drawn in the UTM zone of the data (metres), never in degrees. The scale bar is
measured geodesically: its length on paper is that of a geodesic of the stated length at the
bar's place, so it stays right wherever the UTM scale factor is not 1. The north arrow points to
true north there (UTM grid north differs by the meridian convergence, about 1° in Shanxi).

Chinese text uses Noto Sans CJK SC from the ``noto-cjk-sans-otc`` dependency (see
:mod:`spatial.fonts`).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pyproj
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from spatial.coords import utm_epsg
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
from spatial.fonts import CJK_FONT, cjk_font

__all__ = [
    "CJK_FONT",
    "cjk_font",
    "geodesic_bar_length",
    "nice_length",
    "render_figure",
    "write_figures",
]

A4_LANDSCAPE = (11.69, 8.27)
_MAP_BOX = (0.035, 0.085, 0.70, 0.83)  # left, bottom, width, height of the map (figure units)
_GEOD = pyproj.Geod(ellps="WGS84")


def _rc(searchable_pdf: bool = False) -> dict:
    font = cjk_font()
    return {
        # concrete names, not "sans-serif": each text keeps its font when the figure is saved
        # outside this context
        "font.family": [*([font] if font else []), "DejaVu Sans"],
        "axes.unicode_minus": False,
        # Type 3: glyphs embedded as outlines, 0.3 s a page. Type 42 embeds a subset of the
        # TrueType font (searchable Chinese) but subsetting the 20 MB CJK collection costs ~2 s.
        "pdf.fonttype": 42 if searchable_pdf else 3,
    }


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


def geodesic_bar_length(crs: pyproj.CRS, x: float, y: float, metres: float) -> float:
    """Map length (in ``crs`` units) of a geodesic of ``metres`` heading east from (x, y)."""
    to_geo = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_map = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    lon2, lat2, _ = _GEOD.fwd(lon, lat, 90.0, metres)
    x2, y2 = to_map.transform(lon2, lat2)
    return float(math.hypot(x2 - x, y2 - y))


def _true_north(crs: pyproj.CRS, x: float, y: float) -> tuple[float, float]:
    """Unit vector (map units) pointing to true north at (x, y)."""
    to_geo = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_map = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    lon2, lat2, _ = _GEOD.fwd(lon, lat, 0.0, 1000.0)
    x2, y2 = to_map.transform(lon2, lat2)
    dx, dy = x2 - x, y2 - y
    norm = math.hypot(dx, dy)
    return dx / norm, dy / norm


def _length_text(metres: float) -> str:
    return f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米"


def _scale_bar(ax, crs: pyproj.CRS) -> float:
    """Draw a geodesic scale bar in the lower left; returns its ground length in metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width, height = x1 - x0, y1 - y0
    bx, by = x0 + 0.04 * width, y0 + 0.045 * height
    ground = nice_length(0.22 * width)
    length = geodesic_bar_length(crs, bx, by, ground)
    bar_h = 0.012 * height
    ax.add_patch(
        Rectangle(
            (bx - 0.012 * width, by - 0.03 * height),
            length + 0.05 * width,
            bar_h + 0.07 * height,
            facecolor=(1, 1, 1, 0.85),
            edgecolor="none",
            zorder=20,
        )
    )
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
    return ground


def _north_arrow(ax, crs: pyproj.CRS) -> None:
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


# --------------------------------------------------------------------------------------------
# Drawing


@dataclass
class _Frames:
    """Every layer in the figure's metric CRS."""

    crs: pyproj.CRS
    enterprises: gpd.GeoDataFrame
    coloring: Coloring
    layers: dict[str, gpd.GeoDataFrame]


def _project(enterprises: gpd.GeoDataFrame, layers: dict) -> _Frames:
    plants = enterprises[enterprises.geometry.notna() & ~enterprises.geometry.is_empty]
    lonlat = plants if plants.crs is None else plants.to_crs("EPSG:4326")
    if len(lonlat):
        west, south, east, north = lonlat.total_bounds
        lon0, lat0 = (west + east) / 2, (south + north) / 2
    else:
        lon0, lat0 = 112.5, 37.5
    crs = pyproj.CRS.from_epsg(utm_epsg(lon0, lat0))
    projected = {}
    for name, gdf in layers.items():
        if isinstance(gdf, gpd.GeoDataFrame) and not gdf.empty and gdf.crs is not None:
            projected[name] = gdf[gdf.geometry.notna()].to_crs(crs)
    coloring = enterprise_categories(plants)
    return _Frames(
        crs, plants.to_crs(crs) if plants.crs is not None else plants, coloring, projected
    )


def _extent(gdf: gpd.GeoDataFrame, margin: float = 0.06, minimum: float = 10_000.0):
    """(xmin, ymin, xmax, ymax) around ``gdf`` with a margin, at least ``minimum`` metres wide."""
    xmin, ymin, xmax, ymax = gdf.total_bounds
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


def _draw_polygons(ax, gdf, bbox, *, face, edge, linewidth, linestyle="-", zorder=1) -> bool:
    clipped = gdf.geometry.clip_by_rect(*bbox)
    clipped = clipped[~clipped.is_empty]
    if clipped.empty:
        return False
    clipped.plot(
        ax=ax,
        facecolor=face,
        edgecolor=edge,
        linewidth=linewidth,
        linestyle=linestyle,
        zorder=zorder,
    )
    return True


def _draw_context(ax, frames: _Frames, bbox, view) -> list:
    """Buffers, zones, built-up areas; returns legend handles of what was drawn."""
    handles = []
    styles = CONTEXT_STYLES
    for name, dashed, z in (("heat_radius_30km", "--", 1), ("near_city_10km", "-", 2)):
        gdf = frames.layers.get(name)
        style = styles[name]
        if gdf is not None and _draw_polygons(
            ax,
            gdf,
            bbox,
            face=_rgba(style["fillColor"], style["fillOpacity"]),
            edge=style["color"],
            linewidth=1.0,
            linestyle=dashed,
            zorder=z,
        ):
            label = LAYER_TITLES.get(name, name) + "（测地线缓冲）"
            handles.append(
                Patch(
                    facecolor=_rgba(style["fillColor"], 0.15),
                    edgecolor=style["color"],
                    linestyle=dashed,
                    label=label,
                )
            )
    zones = frames.layers.get("dingxiang_zones")
    if zones is not None:
        phases = {value: (zh, colour) for value, zh, colour in ZONE_PHASES}
        keys = zones["phase"].map(_phase_key) if "phase" in zones else pd.Series(None, zones.index)
        for key in sorted(keys.dropna().unique(), key=str):
            zh, colour = phases.get(key, (f"阶段 {key}", "#a0a0a0"))
            if _draw_polygons(
                ax,
                zones[keys == key],
                bbox,
                face=_rgba(colour, 0.35),
                edge=colour,
                linewidth=0.8,
                zorder=3,
            ):
                handles.append(Patch(facecolor=_rgba(colour, 0.35), edgecolor=colour, label=zh))
    builtup = frames.layers.get("builtup")
    style = styles["builtup"]
    if builtup is not None and _draw_polygons(
        ax,
        builtup,
        bbox,
        face=_rgba(style["fillColor"], style["fillOpacity"]),
        edge=style["color"],
        linewidth=0.6,
        zorder=4,
    ):
        handles.append(
            Patch(
                facecolor=_rgba(style["fillColor"], style["fillOpacity"]),
                edgecolor=style["color"],
                label=LAYER_TITLES.get("builtup", "建成区"),
            )
        )
        if "name" in builtup:
            xmin, ymin, xmax, ymax = view
            points = builtup.geometry.representative_point()
            for name, point in zip(builtup["name"], points, strict=True):
                if isinstance(name, str) and xmin < point.x < xmax and ymin < point.y < ymax:
                    ax.text(
                        point.x,
                        point.y,
                        name,
                        fontsize=7,
                        ha="center",
                        va="center",
                        color="#3b2f22",
                        zorder=9,
                        clip_on=True,
                        path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
                    )
    return handles


def _phase_key(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return str(int(float(text))) if re.fullmatch(r"\d+(\.0+)?", text) else text


def _draw_enterprises(ax, frames: _Frames, mask: np.ndarray, size: float) -> list:
    """The plants of ``mask`` by category (others greyed); returns legend handles."""
    plants, coloring = frames.enterprises, frames.coloring
    xs = plants.geometry.x.to_numpy()
    ys = plants.geometry.y.to_numpy()
    handles = []
    others = ~mask
    if others.any():
        ax.scatter(xs[others], ys[others], s=size * 0.5, c="#c8c8c8", linewidths=0, zorder=5)
        handles.append(
            Line2D([], [], marker="o", ls="", color="#c8c8c8", markersize=4, label="其他县企业")
        )
    counts = np.bincount(coloring.codes[mask], minlength=len(coloring.categories))
    # the most severe last, on top
    for k in reversed(range(len(coloring.categories))):
        sel = mask & (coloring.codes == k)
        if sel.any():
            ax.scatter(
                xs[sel],
                ys[sel],
                s=size,
                c=coloring.categories[k].color,
                edgecolors="#222222",
                linewidths=0.3,
                zorder=6 + (len(coloring.categories) - k) / 100,
            )
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
    return handles


def _draw_heat(ax, frames: _Frames, bbox) -> list:
    heat = frames.layers.get("heat_sources")
    if heat is None:
        return []
    xmin, ymin, xmax, ymax = bbox
    inside = heat[
        (heat.geometry.x > xmin)
        & (heat.geometry.x < xmax)
        & (heat.geometry.y > ymin)
        & (heat.geometry.y < ymax)
    ]
    if inside.empty:
        return []
    color = CONTEXT_STYLES["heat_sources"]["color"]
    kinds = inside["kind"] if "kind" in inside else pd.Series("", index=inside.index)
    handles = []
    for kind, marker, label in (("chp", "*", "热电联产热源"), (None, "D", "工业供热热源")):
        sel = (kinds == "chp") if kind == "chp" else (kinds != "chp")
        if sel.any():
            ax.scatter(
                inside.geometry.x[sel],
                inside.geometry.y[sel],
                s=150 if marker == "*" else 45,
                marker=marker,
                c=color,
                edgecolors="black",
                linewidths=0.6,
                zorder=10,
            )
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
    return handles


def _add_qr(fig: Figure, url: str) -> None:
    """The QR code of the map link in the lower right, with the link written beside it."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(qr_png(url, box_size=1, border=1))).convert("L"))
    size_in = 1.2
    fig_w, fig_h = fig.get_size_inches()
    left, bottom = 0.755, 0.085
    qax = fig.add_axes((left, bottom, size_in / fig_w, size_in / fig_h))
    qax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    qax.set_axis_off()
    text_left = left + size_in / fig_w + 0.008
    top = bottom + size_in / fig_h
    fig.text(text_left, top, "扫码打开在线地图", fontsize=8, va="top")
    fig.text(
        text_left,
        top - 0.03,
        "\n".join(_wrap(url, 24)),
        fontsize=6.5,
        va="top",
        family="DejaVu Sans Mono",
        linespacing=1.3,
    )


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def render_figure(
    enterprises: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame | None],
    *,
    county: str | None = None,
    map_url: str | None = None,
    title: str = DEFAULT_TITLE,
    _frames: _Frames | None = None,
) -> Figure:
    """One A4 landscape figure: the overview, or one county (its plants in colour).

    Parameters are those of :func:`write_figures`; ``county`` selects the county figure.
    """
    map_url = check_map_url(map_url)
    frames = _frames or _project(enterprises, layers)
    plants = frames.enterprises
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=A4_LANDSCAPE)
        ax = fig.add_axes(_MAP_BOX)
        if county is None:
            mask = np.ones(len(plants), dtype=bool)
            subtitle = "总览"
        else:
            if "county" in plants:
                mask = (plants["county"].astype(str) == county).to_numpy()
            else:
                mask = np.zeros(len(plants), dtype=bool)
            subtitle = county
        focus = plants[mask] if mask.any() else plants
        bbox = (0.0, 0.0, 10_000.0, 10_000.0) if focus.empty else _extent(focus)
        view = _fit_aspect(bbox, _MAP_BOX[3] * A4_LANDSCAPE[1] / (_MAP_BOX[2] * A4_LANDSCAPE[0]))
        ax.set_xlim(view[0], view[2])
        ax.set_ylim(view[1], view[3])
        ax.set_aspect("equal", adjustable="box")
        pad = 0.05 * (view[2] - view[0])
        clip_box = (view[0] - pad, view[1] - pad, view[2] + pad, view[3] + pad)
        handles = _draw_context(ax, frames, clip_box, view)
        size = 18 if mask.sum() > 500 else 30
        handles = (
            _draw_enterprises(ax, frames, mask, size) + _draw_heat(ax, frames, clip_box) + handles
        )
        ax.set_xlim(view[0], view[2])
        ax.set_ylim(view[1], view[3])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
        _scale_bar(ax, frames.crs)
        _north_arrow(ax, frames.crs)

        fig.text(0.035, 0.955, f"{title}：{subtitle}", fontsize=15, fontweight="bold", va="center")
        n = int(mask.sum())
        fig.text(
            0.035,
            0.925,
            f"企业 {n} 家；着色：{frames.coloring.title}",
            fontsize=9,
            va="center",
            color="#444444",
        )
        legend_ax = fig.add_axes((0.755, 0.30, 0.235, 0.62))
        legend_ax.set_axis_off()
        legend_ax.legend(
            handles=handles,
            loc="upper left",
            title="图例",
            fontsize=8,
            title_fontsize=10,
            frameon=False,
            borderaxespad=0,
            handlelength=1.6,
        )
        zone = frames.crs.utm_zone or ""
        fig.text(
            0.035,
            0.045,
            f"坐标系：WGS 84 / UTM {zone}（EPSG:{frames.crs.to_epsg()}）；"
            "距离与缓冲区均为测地线计算，比例尺为测地线长度",
            fontsize=7,
            color="#555555",
        )
        if map_url:
            _add_qr(fig, map_url)
    return fig


def _safe_name(text: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", text).strip("._") or "county"


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
    searchable_pdf: bool = False,
) -> list[Path]:
    """Write the overview and one figure per county, each as PNG and PDF.

    Parameters
    ----------
    out_dir
        Folder for the figures (created): ``overview.png``, ``overview.pdf``,
        ``county_<县名>.png`` ...; each written atomically.
    enterprises
        The screened enterprises: coloured by ``action`` (else ``near_city``), split by
        ``county``.
    layers
        Context layers by name, as for :func:`spatial.export.webmap.write_map`.
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
    searchable_pdf
        Embed the CJK font as TrueType so that PDF text can be searched and copied (about 2 s
        more per PDF); by default glyphs are embedded as outlines (Type 3), which print the same.

    Returns
    -------
    list[Path]
        The files written.
    """
    out = Path(out_dir)
    frames = _project(enterprises, layers)
    jobs: list[tuple[str, str | None]] = [("overview", None)]
    if counties and "county" in frames.enterprises:
        names = sorted({c for c in frames.enterprises["county"].dropna().astype(str) if c.strip()})
        used: set[str] = {"overview"}
        for name in names:
            stem = f"county_{_safe_name(name)}"
            while stem in used:
                stem += "_"
            used.add(stem)
            jobs.append((stem, name))
    written = []
    for stem, county in jobs:
        fig = render_figure(
            enterprises, layers, county=county, map_url=map_url, title=title, _frames=frames
        )
        with matplotlib.rc_context(_rc(searchable_pdf)):
            for fmt in formats:
                path = out / f"{stem}.{fmt}"
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_metadata(fmt, title))
                written.append(path)
    return written


def _metadata(fmt: str, title: str) -> dict | None:
    if fmt == "pdf":
        return {"Title": title, "Creator": "spatial-screening"}
    if fmt == "png":
        return {"Title": title, "Software": "spatial-screening"}
    return None

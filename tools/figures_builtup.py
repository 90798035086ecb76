"""The demo's built-up areas from the three sources side by side: ``docs/img/builtup_sources.png``.

Regenerate with::

    python -m tools.figures_builtup docs/img/builtup_sources.png

Columns: official polygons (``builtup.gpkg``), the land-cover raster (``builtup.tif``) and the
OpenStreetMap extract (``region.osm``); rows: four demo towns. The raster and OSM panels outline
the official polygon in black and give the intersection over union (IoU) with it. Panels are
drawn in UTM zone 49N, in kilometres from the town's seat. Chinese names use the font of
:func:`spatial.fonts.cjk_font`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import shapely.affinity

from spatial.builtup import BuiltupOptions, load_builtup, load_builtup_osm, load_builtup_raster
from spatial.fonts import cjk_font

UTM = "EPSG:32649"
TOWNS = ("榆次区", "平遥县", "忻府区", "定襄县")
COLUMNS = (
    ("polygons", "official polygons (builtup.gpkg)", "#4c72b0"),
    ("raster", "land-cover raster (builtup.tif)", "#dd8452"),
    ("osm", "OpenStreetMap (region.osm)", "#55a868"),
)


def demo_seats() -> gpd.GeoDataFrame:
    """The 13 demo seats (the town centres of :mod:`tools.demo`) as points in WGS84."""
    from tools.demo import CITY_SEATS
    from tools.demo import TOWNS as DEMO_TOWNS

    return gpd.GeoDataFrame(
        {
            "name": [t.name for t in DEMO_TOWNS],
            "level": ["city" if t.name in CITY_SEATS else "county" for t in DEMO_TOWNS],
        },
        geometry=gpd.points_from_xy([t.lon for t in DEMO_TOWNS], [t.lat for t in DEMO_TOWNS]),
        crs="EPSG:4326",
    )


def demo_sources() -> dict[str, gpd.GeoDataFrame]:
    """The demo's built-up areas from each source, named after the demo seats."""
    from spatial.datasets import get_path

    seats, options = demo_seats(), BuiltupOptions()
    return {
        "polygons": load_builtup(get_path("builtup.gpkg")),
        "raster": load_builtup_raster(get_path("builtup.tif"), options, seats=seats),
        "osm": load_builtup_osm(get_path("region.osm"), options, seats=seats),
    }


def _km(geom, seat):
    """A UTM geometry in kilometres from the seat."""
    return shapely.affinity.affine_transform(geom, [1e-3, 0, 0, 1e-3, -seat.x / 1e3, -seat.y / 1e3])


def _iou(a, b) -> float:
    return a.intersection(b).area / a.union(b).area


def render_builtup_sources(
    out: str | Path,
    sources: dict[str, gpd.GeoDataFrame] | None = None,
    towns: tuple[str, ...] = TOWNS,
) -> Path:
    """Draw the three sources side by side for some towns and write a PNG.

    Parameters
    ----------
    out
        The PNG to write (folders are created).
    sources
        ``{'polygons': ..., 'raster': ..., 'osm': ...}`` built-up layers; default
        :func:`demo_sources`.
    towns
        The towns to show, one row each.

    Returns
    -------
    pathlib.Path
        The PNG written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from shapely.plotting import plot_line, plot_polygon

    sources = sources or demo_sources()
    layers = {key: frame.set_index("name").to_crs(UTM) for key, frame in sources.items()}
    seats = demo_seats().set_index("name").to_crs(UTM)
    font = cjk_font()
    rc = {"font.family": "sans-serif", "font.size": 9}
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(rc):  # without a CJK font: one warning from cjk_font, not one a glyph
        fig, axes = plt.subplots(
            len(towns), len(COLUMNS), figsize=(10, 3.2 * len(towns)), squeeze=False
        )
        for row, town in zip(axes, towns, strict=True):
            seat = seats.geometry[town]
            official = layers["polygons"].geometry[town]
            minx, miny, maxx, maxy = official.buffer(800).bounds
            half = max(maxx - minx, maxy - miny) / 2 / 1000
            cx, cy = (
                (minx + maxx) / 2 / 1000 - seat.x / 1000,
                (miny + maxy) / 2 / 1000 - seat.y / 1000,
            )
            for ax, (key, label, colour) in zip(row, COLUMNS, strict=True):
                geom = layers[key].geometry[town]
                plot_polygon(_km(geom, seat), ax=ax, add_points=False, color=colour, alpha=0.75)
                title = f"{town}: {label}"
                if key != "polygons":
                    plot_line(
                        _km(official, seat).boundary,
                        ax=ax,
                        add_points=False,
                        color="black",
                        linewidth=0.8,
                    )
                    title += f"\nIoU {_iou(official, geom):.3f} with the polygons"
                ax.plot([0], [0], marker="*", color="crimson", markersize=9)
                ax.set_title(title, fontsize=8.5)
                ax.set_xlim(cx - half, cx + half)
                ax.set_ylim(cy - half, cy + half)
                ax.set_aspect("equal")
                ax.tick_params(labelsize=7)
                ax.set_xlabel("km east of the seat (UTM 49N)", fontsize=7)
                ax.set_ylabel("km north of the seat", fontsize=7)
        handles = [Patch(color=c, alpha=0.75, label=lbl) for _, lbl, c in COLUMNS]
        handles.append(Patch(facecolor="none", edgecolor="black", label="official polygon"))
        fig.legend(handles=handles, loc=(0.12, 0.012), ncol=4, fontsize=8, frameon=False)
        fig.text(
            0.5,
            0.003,
            "Raster and OSM areas are named after the seat (star) they contain or lie within 3 km "
            "of; parts under the 1 km² minimum area (the 0.9 km² satellite of 平遥县) are dropped.",
            ha="center",
            fontsize=7.5,
        )
        fig.suptitle(
            "Built-up areas (建成区) of the demo region from three sources (illustrative data)",
            fontsize=11,
        )
        fig.tight_layout(rect=(0, 0.035, 1, 0.98))
        fig.savefig(out, dpi=110)
        plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the figure to the path given (default ``docs/img/builtup_sources.png``)."""
    args = sys.argv[1:] if argv is None else argv
    out = render_builtup_sources(args[0] if args else "docs/img/builtup_sources.png")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Dingxiang flange cluster: zones, phases and status as of a date
#
# Xinzhou's 2024 cluster plan (000 §二(二)) rectifies the Dingxiang (定襄) flange cluster in three
# phases, each defined by **named places**, not polygons: "within the 三环路 ring road", "the
# 庄力 industrial cluster", "西河头村, 张村, 杨芳村", "both sides of 机场大道", then whole
# townships. This notebook
#
# 1. reads the phase table (dates and named areas) from the policy YAML;
# 2. builds one polygon per named area from the source geometries (the ring road from the
#    OpenStreetMap extract, with its digitising gap snapped);
# 3. checks the zones on a plot and writes them for QGIS;
# 4. assigns every flange plant in Dingxiang to a zone, and flags the disagreements;
# 5. gives each plant's status as of a date, and the phase lists.
#
# **To use your own files, change only the first code cell.** Outputs go to
# `outputs/04_dingxiang_phases/` beside the notebook.

# %%
import datetime as dt
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from matplotlib.patches import Patch

import spatial
from spatial import datasets
from spatial.coords import utm_epsg
from spatial.errors import LayerError
from spatial.export.excel import list_rows, write_lists
from spatial.export.webmap import write_map
from spatial.fonts import cjk_font
from spatial.zones import (
    build_zones,
    close_ring,
    in_scope,
    load_zone_table,
    read_sources,
    write_zones,
    zone_status,
)

DEMO = datasets.DEMO_DIR  # the demo data shipped inside the package, found wherever it is installed

# ---- INPUTS: point these at your own files ---------------------------------------------------
ZONE_SOURCES = DEMO / "dingxiang_sources.gpkg"  # layers cluster, villages, village_areas, ...
ZONES_OSM = DEMO / "region.osm"  # OSM XML to take the ring road from; None = layer ring_road
ENTERPRISES = DEMO / "enterprises.csv"  # the inventory (any format load_enterprises reads)
ENTERPRISES_CRS = None  # None: wgs84, or each row's coord_sys column; else gcj02, bd09 ...
ZONE_TABLE = "xinzhou-cluster-2024"  # the policy whose zones: section has the phases
BUILD_OPTIONS = {}  # e.g. {"corridor_half_width_m": 250}; empty = the table's defaults
AS_OF = dt.date(2024, 11, 15)  # the date the status is judged on (dt.date.today() for today)
BASEMAP = "osm"  # background of map.html: osm, none (offline), tianditu or amap
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # beside the notebook
OUT = OUT / "04_dingxiang_phases"
OUT.mkdir(parents=True, exist_ok=True)
font = cjk_font()  # Noto Sans CJK SC, from the noto-cjk-sans-otc dependency
plt.rcParams["font.sans-serif"] = [f for f in (font, "DejaVu Sans") if f]
pd.set_option("display.max_colwidth", 100)
print(f"demo data: {DEMO}\noutputs: {OUT.resolve()}")

# %% [markdown]
# ## 1 · The phase table
#
# Phases run from `start` (inclusive) to `end`, the deadline; the text makes them contiguous,
# so a day belongs to one phase only. The areas are the names the text uses.

# %%
table = load_zone_table(ZONE_TABLE)
options = table.defaults.replace(**BUILD_OPTIONS)
print(f"{table.policy} v{table.version} ({table.ref}); scope: {table.industry} in {table.counties}")
print(f"build options: {options}")
pd.DataFrame(
    [
        {"phase": p.phase, "start": p.start, "end": p.end, "area": a.name, "kind": a.kind}
        for p, a in table.areas()
    ]
)

# %% [markdown]
# ## 2 · The source geometries
#
# One layer per kind of area, each feature with a `name`. The ring road comes from the OSM
# extract (the ways named 三环路) when `ZONES_OSM` is given.

# %%
sources = read_sources(ZONE_SOURCES, osm=ZONES_OSM, table=table)
pd.DataFrame(
    [
        {
            "layer": name,
            "from": sources.origin[name],
            "features": len(layer),
            "geometry": ", ".join(sorted(set(layer.geom_type))),
            "names": ", ".join(sorted(set(layer["name"]))),
        }
        for name, layer in sources.layers.items()
    ]
)

# %% [markdown]
# The ring road is three OSM ways. Two of them do not meet: a digitising gap of about 30 m. The
# zone builder bridges gaps up to `ring_snap_tolerance_m` (geodesic); a larger gap is an error
# that names the two loose ends, because a missing road section must be fixed, not guessed.

# %%
ring = sources.layers["ring_road"]
area, note = close_ring(ring.geometry, options.ring_snap_tolerance_m)
print(f"tolerance {options.ring_snap_tolerance_m:g} m: {note}")
try:
    close_ring(ring.geometry, 20.0, "三环路")
except LayerError as error:
    print(f"tolerance 20 m: LayerError: {error}")

# %% [markdown]
# ## 3 · Build the zones and check them
#
# One polygon per named area. `built_from` says how each was made, so a reviewer sees the
# assumptions (corridor width, village radius where a village has a point only, gaps snapped).

# %%
zones = build_zones(sources, table, options)
zone_path = write_zones(zones, OUT / "dingxiang_zones.gpkg")
print(f"written for QGIS: {zone_path}")
zones.drop(columns=["geometry", "ref"])

# %% [markdown]
# On a plot: the whole county (townships of phases 2 and 3) and the centre (phase 1 areas), with
# the source lines and points on top. Phase 1 is drawn last, so where a phase-1 village lies in a
# phase-3 township it stays visible: the earliest phase wins on overlap.

# %%
UTM = f"EPSG:{utm_epsg(*zones.union_all().centroid.coords[0])}"
PHASE_COLOURS = {1: "#d95f02", 2: "#1b9e77", 3: "#7570b3"}
fig, axes = plt.subplots(1, 2, figsize=(15, 7.5))
for ax, title in zip(axes, ("Dingxiang: all zones", "the centre: phase 1 areas"), strict=True):
    for phase in sorted(PHASE_COLOURS, reverse=True):
        part = zones[zones["phase"] == phase].to_crs(UTM)
        part.plot(ax=ax, color=PHASE_COLOURS[phase], alpha=0.45, edgecolor="black", linewidth=0.6)
    ring.to_crs(UTM).plot(ax=ax, color="black", linewidth=1.5)
    if "airport_avenue" in sources.layers:
        sources.layers["airport_avenue"].to_crs(UTM).plot(ax=ax, color="grey", linewidth=1.5)
    if "villages" in sources.layers:
        sources.layers["villages"].to_crs(UTM).plot(ax=ax, color="black", markersize=10)
    ax.set_title(title)
    ax.set_aspect("equal")
for _, zone in zones.to_crs(UTM).iterrows():
    point = zone.geometry.representative_point()
    axes[0 if zone["kind"] == "township" else 1].annotate(
        zone["area_name"], (point.x, point.y), ha="center", fontsize=8
    )
centre = zones[zones["phase"] == 1].to_crs(UTM).total_bounds
axes[1].set_xlim(centre[0] - 800, centre[2] + 800)
axes[1].set_ylim(centre[1] - 800, centre[3] + 800)
axes[0].legend(
    handles=[Patch(color=c, alpha=0.6, label=f"phase {p}") for p, c in PHASE_COLOURS.items()],
    loc="lower left",
)
fig.tight_layout()
fig.savefig(OUT / "zones.png", dpi=110)

# %% [markdown]
# ## 4 · Assign the flange plants
#
# Only the plants the zones apply to (flange plants in Dingxiang, per the table's scope) get a
# zone. A plant in two zones takes the earliest phase (flag `overlap`); a plant in none is
# placed by its `village` or `township` column (flag `attribute_fallback`) or left
# `unassigned`; a column that names another area than the point lies in is flagged
# `columns_disagree`, for the county to check.

# %%
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
plants = inventory.enterprises
plants = plants[in_scope(plants, table)].reset_index(drop=True)
assigned = plants.join(spatial.assign_zones(plants, zones, AS_OF, table))
print(f"{len(plants)} flange plants in {', '.join(table.counties)}; status as of {AS_OF}")
display(
    pd.crosstab(
        assigned["zone_area"].fillna("(none)"),
        assigned["zone_status"],
        margins=True,
        margins_name="total",
    )
)

# %% [markdown]
# The flags, and the plants a planner should look at: every flagged plant except those whose only
# flag is an overlap (a phase-1 village inside a phase-3 township is an overlap by design).

# %%
flagged = assigned[assigned["zone_flags"].notna()]
kinds = flagged["zone_flags"].str.split(";").explode().str.split(":").str[0]
print(kinds.value_counts().to_string())
to_check = flagged[~flagged["zone_flags"].str.fullmatch(r"overlap:[^;]*")]
to_check[["id", "township", "village", "zone_phase", "zone_area", "zone_status", "zone_flags"]]

# %% [markdown]
# ## 5 · Status as of a date
#
# `zone_status` is `not_started` before the phase starts, `in_progress` until the day before its
# end, and `due` from the end date on (`zone_days_left` is then 0 or negative). The same plants
# on a few dates around the phase boundaries:

# %%
dates = sorted({AS_OF, *(p.start for p in table.phases), *(p.end for p in table.phases)})
dates += [dates[-1] + dt.timedelta(days=90)]
placed = assigned[assigned["zone_start"].notna()]
timeline = pd.DataFrame(
    {
        day: [
            zone_status(dt.date.fromisoformat(s), dt.date.fromisoformat(e), day)[0]
            for s, e in zip(placed["zone_start"], placed["zone_end"], strict=True)
        ]
        for day in dates
    },
    index=placed.index,
)
counts = timeline.apply(pd.Series.value_counts).fillna(0).astype(int).T
counts = counts.reindex(columns=["not_started", "in_progress", "due"], fill_value=0)
counts.index = [str(d) for d in counts.index]
counts["unassigned"] = int((assigned["zone_status"] == "unassigned").sum())
colours = ["#bdbdbd", "#fdae61", "#d7191c", "#2c7bb6"]
ax = counts.plot.bar(stacked=True, figsize=(10, 4), color=colours, rot=0)
ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
ax.set_ylabel("flange plants")
ax.set_title("Dingxiang flange plants by zone status")
ax.figure.tight_layout()
ax.figure.savefig(OUT / "status_timeline.png", dpi=110)
display(counts)

# %% [markdown]
# ## 6 · Decisions and the phase lists
#
# The cluster plan's rules turn the zone into a decision: `rectify` by the phase's end date, or
# `review` for an unassigned plant; a second rule group checks the emission limits at 8 % O2.
# The workbook has the usual sheets plus one list per phase.

# %%
policy = spatial.load_policy(ZONE_TABLE)
decisions = spatial.evaluate(assigned, [policy])
screened = spatial.summarize(assigned, decisions)
display(pd.crosstab(decisions["rule_id"], decisions["action"]))

rows = list_rows(screened, decisions[decisions["rule_id"] == "flange-phase"])
phase_lists = {
    f"第{int(p)}阶段整治清单": rows[rows["zone_phase"] == p].sort_values("id")
    for p in sorted(rows["zone_phase"].dropna().unique())
}
path = write_lists(OUT / "dingxiang_lists.xlsx", screened, decisions, phase_lists=phase_lists)
print(f"{path.name}: " + ", ".join(f"{t} ({len(r)})" for t, r in phase_lists.items()))
rows[["id", "name", "zone_phase", "zone_area", "deadline", "reason_zh"]].head()

# %% [markdown]
# An interactive map of the zones and the plants, to check them against a basemap:

# %%
map_path = write_map(
    OUT / "map.html",
    screened,
    {"dingxiang_zones": zones},
    basemap=BASEMAP,
    title="定襄县法兰产业集群整治分区",
)
print(f"{map_path}: open it in a browser")

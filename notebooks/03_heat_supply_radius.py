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
# # 03 · The heat-supply radius: coal boilers to close or merge
#
# Xinzhou's 2024 plan (001 §三(二)8) closes or merges the coal boilers and small coal power units
# "within the 30 km heat-supply radius of a CHP plant of 300 MW or more, or of a large
# industrial heat supplier" (30万千瓦及以上热电联产电厂、大型工业企业供热半径30公里范围内).
# This notebook follows that rule step by step:
#
# 1. which heat sources qualify;
# 2. the 30 km geodesic radius around them;
# 3. the boilers inside it, and the plants within a few metres of the line;
# 4. the lists per county, exported to Excel.
#
# **To use your own files, change only the first code cell.** Outputs go to
# `outputs/03_heat_supply_radius/` beside the notebook.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib.lines import Line2D
from openpyxl import load_workbook

import spatial
from spatial import datasets
from spatial.coords import utm_epsg
from spatial.export.excel import LIST_COLUMNS, list_rows, write_lists
from spatial.fonts import cjk_font

DEMO = datasets.DEMO_DIR  # the demo data shipped inside the package, found wherever it is installed

# ---- INPUTS: point these at your own files ---------------------------------------------------
ENTERPRISES = DEMO / "enterprises.csv"  # the inventory (any format load_enterprises reads)
ENTERPRISES_CRS = None  # None: wgs84, or each row's coord_sys column; else gcj02, bd09 ...
HEAT_SOURCES = DEMO / "heat_sources.csv"  # id, name, kind (chp/industrial), capacity_mw, lon, lat
HEAT_SOURCES_CRS = None  # None: wgs84 (or the layer's CRS); gcj02 if picked on Amap
BUILTUP = DEMO / "builtup.gpkg"  # built-up areas (the plan also clears boilers inside them)
POLICY = "xinzhou-2024"  # shipped id or the path of your own YAML table
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # beside the notebook
OUT = OUT / "03_heat_supply_radius"
OUT.mkdir(parents=True, exist_ok=True)
font = cjk_font()  # Noto Sans CJK SC, from the noto-cjk-sans-otc dependency
plt.rcParams["font.sans-serif"] = [f for f in (font, "DejaVu Sans") if f]
pd.set_option("display.max_colwidth", 90)
print(f"demo data: {DEMO}\noutputs: {OUT.resolve()}")

# %% [markdown]
# ## 1 · Heat sources: which qualify
#
# The rule table defines the fact `in_heat_radius` on the `heat_sources` layer, restricted by a
# `where` clause to the sources the text names: coal CHP of 300 MW or more, and industrial
# suppliers. A 135 MW plant supplies heat too, but its radius does not count.

# %%
policy = spatial.load_policy(POLICY)
specs = spatial.fact_specs([policy])
heat_spec = next(s for s in specs.values() if s.layer == "heat_sources")
print(f"{heat_spec.name}: within {heat_spec.within_m:g} m of {heat_spec.layer} ({heat_spec.ref})")
print(f"qualifying sources: {list(heat_spec.where)}")

heat = spatial.load_heat_sources(HEAT_SOURCES, crs=HEAT_SOURCES_CRS)
heat["qualifies"] = heat_spec.select(heat)
heat.drop(columns="geometry").assign(lon=heat.geometry.x.round(4), lat=heat.geometry.y.round(4))

# %% [markdown]
# ## 2 · The plants and their distance to the nearest qualifying source
#
# `spatial.add_facts` adds, for every fact of the table, the geodesic distance, the nearest
# feature and the yes/no fact. Only the plants in the table's counties are kept.

# %%
scope = {c for g in policy.raw.get("rules", []) for c in (g.get("scope") or {}).get("county", [])}
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
plants = inventory.enterprises
if scope:
    plants = plants[plants["county"].isin(scope)].reset_index(drop=True)
layers = {"heat_sources": heat, "builtup": spatial.load_builtup(BUILTUP)}
plants = spatial.add_facts(plants, layers, specs)
coal = (plants["fuel"] == "coal") & plants["industry"].isin(["boiler", "power"])
print(f"{len(plants)} plants in {policy.id}'s counties, {int(coal.sum())} coal boilers/units")
pd.crosstab(plants.loc[coal, "county"], plants.loc[coal, heat_spec.name], margins=True)

# %% [markdown]
# Plants within 100 m of the 30 km line: the distance is geodesic and exact to the millimetre, so
# a boiler at 29 960 m is in and one at 30 040 m is out, whatever projection a GIS would show.

# %%
edge = (plants[heat_spec.distance_column] - heat_spec.within_m).abs() <= 100
shown = ["id", "county", "industry", "fuel", heat_spec.nearest_column, heat_spec.distance_column]
plants.loc[edge & coal, [*shown, heat_spec.name]].round(2)

# %% [markdown]
# ## 3 · The 30 km radius on a map
#
# Solid circles: the geodesic 30 km buffers of the qualifying sources (the GeoPackage layer
# `heat_radius_30km`). Dashed grey: where the radius of a non-qualifying source would reach;
# coal boilers there are not closed by this clause.

# %%
buffers = spatial.fact_buffers(layers, {heat_spec.name: heat_spec})[heat_spec.buffer_layer]
others = heat[~heat["qualifies"]]
other_rings = others.assign(
    geometry=[spatial.geodesic_buffer(g, heat_spec.within_m) for g in others.geometry]
)
UTM = f"EPSG:{utm_epsg(heat.geometry.x.median(), heat.geometry.y.median())}"

fig, ax = plt.subplots(figsize=(9, 9))
buffers.to_crs(UTM).plot(ax=ax, color="#e31a1c", alpha=0.07, edgecolor="#e31a1c")
other_rings.to_crs(UTM).boundary.plot(ax=ax, color="grey", linestyle="--", linewidth=0.8)
layers["builtup"].to_crs(UTM).plot(ax=ax, color="#8c7355", alpha=0.6)
boilers = plants[coal].to_crs(UTM)
inside = boilers[heat_spec.name].fillna(False).to_numpy(dtype=bool)
boilers[inside].plot(ax=ax, color="#b2182b", markersize=12, marker="s")
boilers[~inside].plot(ax=ax, color="#2166ac", markersize=12, marker="s")
drawn = heat.to_crs(UTM)
for _, source in drawn.iterrows():
    style = {"color": "#b2182b"} if source["qualifies"] else {"color": "grey"}
    ax.plot(source.geometry.x, source.geometry.y, marker="*", markersize=16, **style)
    ax.annotate(
        f"{source['id']} {source['capacity_mw']:g} MW",
        (source.geometry.x, source.geometry.y),
        xytext=(6, 6),
        textcoords="offset points",
        fontsize=8,
    )
ax.legend(
    handles=[
        Line2D([], [], color="#b2182b", marker="*", linestyle="", markersize=12, label="qualifies"),
        Line2D([], [], color="grey", marker="*", linestyle="", markersize=12, label="too small"),
        Line2D([], [], color="#b2182b", marker="s", linestyle="", label="coal, within 30 km"),
        Line2D([], [], color="#2166ac", marker="s", linestyle="", label="coal, beyond 30 km"),
    ],
    loc="lower right",
)
ax.set_title(f"{heat_spec.buffer_layer}: geodesic {heat_spec.within_m / 1000:g} km radius")
west, south, east, north = boilers.total_bounds  # the counties of the table, with a margin
ax.set_xlim(west - 20_000, east + 20_000)
ax.set_ylim(south - 20_000, north + 20_000)
ax.set_aspect("equal")
ax.set_xlabel(f"easting (m, {UTM})")
fig.savefig(OUT / "heat_radius.png", dpi=110)

# %% [markdown]
# ## 4 · Decisions: close or merge, per county
#
# The table has independent rule groups, so one boiler can get several decisions: closed or
# merged for lying in the radius (§三(二)8) *and* cleared for being 35 t/h or smaller. Each row
# below is one decision, with its clause and its Chinese reason.

# %%
decisions = spatial.evaluate(plants, [policy])
screened = spatial.summarize(plants, decisions)
close = decisions[decisions["action"] == "close_or_merge"].merge(
    plants[["id", "name", "county", "industry", "boiler_tph", "boiler_mw"]], on="id"
)
per_county = pd.crosstab(close["county"], close["industry"], margins=True, margins_name="total")
display(per_county)
close[["id", "name", "county", "industry", "boiler_tph", "rule_ref", "reason_zh"]].head(8)

# %% [markdown]
# Every measure per county (one plant can appear under several):

# %%
located = decisions.merge(plants[["id", "county"]], on="id")
measures = pd.crosstab(located["county"], located["action"])
measures.to_csv(OUT / "measures_per_county.csv", encoding="utf-8-sig")
display(measures)

# %% [markdown]
# ## 5 · The lists, in Excel
#
# Two workbooks:
#
# - `heat_radius_lists.xlsx`, written by `write_lists` exactly as `spatial screen` writes
#   `lists.xlsx`: closures and mergers are on the sheet 其他整治措施 (with clearing, exits and
#   retrofits), open questions on 待研判;
# - `close_or_merge_by_county.xlsx`: one sheet per county with only the boilers and units to
#   close or merge, in the same columns and Chinese headers, for the county office.

# %%
path = write_lists(OUT / "heat_radius_lists.xlsx", screened, decisions)
workbook = load_workbook(path, read_only=True)
print(f"{path.name}: sheets {', '.join(workbook.sheetnames)}")
workbook.close()

headers = {
    **LIST_COLUMNS,
    heat_spec.nearest_column: "最近热源",
    heat_spec.distance_column: "距热源距离（米）",
    "boiler_tph": "蒸吨/小时",
}
rows = list_rows(screened, decisions[decisions["action"] == "close_or_merge"])
rows[heat_spec.distance_column] = rows[heat_spec.distance_column].round(0)
by_county = OUT / "close_or_merge_by_county.xlsx"
with pd.ExcelWriter(by_county) as writer:
    for county, mine in rows.sort_values(["county", "id"]).groupby("county"):
        sheet = mine[list(headers)].rename(columns=headers)
        sheet.to_excel(writer, sheet_name=f"{county}-关停或整合"[:31], index=False)
print(f"{by_county.name}: {rows['county'].nunique()} county sheets, {len(rows)} rows")
first = sorted(rows["county"].unique())[0]
sheet = pd.read_excel(by_county, sheet_name=f"{first}-关停或整合")
shown = ["企业编号", "企业名称", "行业", "蒸吨/小时", "最近热源", "距热源距离（米）", "管控措施"]
sheet[shown].head()

# %% [markdown]
# **Checks for the county.** `close_or_merge` says the clause applies; whether a boiler is closed
# or merged into the heat network, and by when, is the county's decision. Boilers flagged
# `confirm_heating_boiler` sit inside a built-up area and are cleared only if they are heating
# boilers: that needs a look at the plant.

# %%
flagged = decisions[decisions["flags"].fillna("").str.contains("confirm_heating_boiler")]
print(f"{flagged['id'].nunique()} boilers to confirm as heating boilers")
np.sort(flagged["id"].unique())[:20]

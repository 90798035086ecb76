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
# # 01 · Quickstart: from a county's spreadsheet to the screening map
#
# This notebook does the whole job once, on the demo region (illustrative data, see
# `spatial/data/demo/README.md`):
#
# 1. read an enterprise inventory as county offices send it: a CSV saved by Excel on Chinese
#    Windows (GBK), Chinese headers, coordinates picked on Amap (GCJ-02);
# 2. see which rows were rejected and why;
# 3. run the whole screening (`spatial.run`, the same function as `spatial screen`);
# 4. open the map inline.
#
# **To use your own files, change only the first code cell** (the block marked `INPUTS`).
# Everything the notebook writes goes to `outputs/01_quickstart/` beside the notebook.

# %%
import datetime as dt
import html
import json
import os
from pathlib import Path

import pandas as pd
import pyogrio
from IPython.display import HTML, Image, display
from openpyxl import load_workbook
from pyproj import Geod

import spatial
from spatial import datasets
from spatial.inventory import read_table

DEMO = datasets.DEMO_DIR  # the demo data shipped inside the package, found wherever it is installed

# ---- INPUTS: point these at your own files ---------------------------------------------------
INVENTORY = DEMO / "enterprises_gbk.csv"  # CSV (UTF-8 or GBK), .xlsx, .gpkg or .geojson
INVENTORY_CRS = "gcj02"  # wgs84 (GPS), cgcs2000, gcj02 (Amap/Tencent), bd09 (Baidu), EPSG:xxxx
BUILTUP = DEMO / "builtup.gpkg"  # built-up areas: polygons, a land-cover .tif or an .osm extract
HEAT_SOURCES = DEMO / "heat_sources.csv"  # CHP plants and industrial heat suppliers (or None)
ZONE_SOURCES = DEMO / "dingxiang_sources.gpkg"  # Dingxiang zone sources or ready zones (or None)
ZONES_OSM = DEMO / "region.osm"  # OSM XML with the 三环路 ring road (or None)
POLICIES = ()  # policy ids or your own YAML paths; () = every shipped policy
AS_OF = dt.date(2024, 11, 15)  # the date phases and deadlines are judged on (dt.date.today())
BASEMAP = "osm"  # map background: osm, none (offline), tianditu (needs a key) or amap (GCJ-02)
FIGURES = True  # also write print-ready figures (PNG + PDF): the overview and one per county
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # beside the notebook
OUT = OUT / "01_quickstart"
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.max_colwidth", 80)
print(f"demo data: {DEMO}\noutputs: {OUT.resolve()}")

# %% [markdown]
# ## 1 · Read the inventory
#
# `spatial.load_enterprises` detects the encoding (UTF-8, UTF-8 with BOM, GBK/GB18030), finds
# the header row, maps Chinese headers to the data contract (`spatial/data/columns.yaml`
# lists every alias), translates Chinese values (是/否, 鼓励类, 铸造 ...) to codes and converts the
# coordinates to WGS84. Every row ends up either accepted or rejected, never silently dropped.

# %%
inventory = spatial.load_enterprises(INVENTORY, crs=INVENTORY_CRS)
print(inventory.summary())
print(f"encoding detected: {inventory.encoding}")
pd.Series(inventory.header_map, name="contract column").rename_axis("header in the file")

# %% [markdown]
# The coordinates were given in GCJ-02, the shifted system of Amap and Tencent maps. Read as if
# they were GPS (WGS84), every plant would sit a few hundred metres away from where it is, which
# is enough to move a plant across the 10 km line of the near-city rule. `lon_input`/`lat_input`
# keep what the file said; `lon`/`lat` are the converted WGS84 position used for every distance.

# %%
plants = inventory.enterprises
shift_m = Geod(ellps="WGS84").inv(
    plants["lon_input"].to_numpy(),
    plants["lat_input"].to_numpy(),
    plants["lon"].to_numpy(),
    plants["lat"].to_numpy(),
)[2]
print(
    f"GCJ-02 → WGS84 shift: {shift_m.min():.0f}-{shift_m.max():.0f} m "
    f"(median {pd.Series(shift_m).median():.0f} m)"
)
plants[["id", "name", "county", "industry", "lon_input", "lat_input", "lon", "lat"]].head()

# %% [markdown]
# ## 2 · What was rejected, and why
#
# Rejected rows keep their spreadsheet row number, every reason (a row with three problems
# lists all three, so the county fixes its sheet in one pass) and the raw values.

# %%
if inventory.rejected.empty:
    print(f"{INVENTORY.name}: no row rejected")
else:
    display(inventory.rejected[["row", "reason_code", "reason"]])

# %% [markdown]
# The demo file is clean. To see what rejections look like, here is a copy of its first eight
# rows with mistakes planted that county sheets often have: longitude and latitude swapped, a
# word in a number column, an empty id, a duplicated id, a yes/no column answered "也许" and an
# industry the policies do not know. The copy is written as a UTF-8 CSV with the original headers
# and read back exactly like the original.

# %%
table, _, _, _, _ = read_table(INVENTORY)
header_of = {contract: header for header, contract in inventory.header_map.items()}
sample = table[[c for c in table.columns if not str(c).startswith("__")]].head(8).copy()
lon_col, lat_col, id_col = header_of["lon"], header_of["lat"], header_of["id"]
sample.loc[0, [lon_col, lat_col]] = sample.loc[0, [lat_col, lon_col]].to_numpy()
sample.loc[1, lat_col] = "abc"
sample.loc[2, id_col] = ""
sample.loc[4, id_col] = sample.loc[3, id_col]
if "compliant" in header_of:
    sample.loc[5, header_of["compliant"]] = "也许"
if "industry" in header_of:
    sample.loc[6, header_of["industry"]] = "宇宙飞船"
damaged = OUT / "damaged_copy.csv"
sample.to_csv(damaged, index=False, encoding="utf-8-sig")

checked = spatial.load_enterprises(damaged, crs=INVENTORY_CRS)
print(checked.summary())
checked.rejected[["row", "reason_code", "reason"]]

# %% [markdown]
# ## 3 · Run the whole screening
#
# `spatial.run` is what `spatial screen` calls: read and validate the inventory, read the
# context layers (built-up areas, heat sources, Dingxiang zones), measure geodesic distances,
# assign the zones, apply every policy table and write the outputs. The command-line equivalent
# of this cell is
#
# ```
# D=spatial/data/demo
# spatial screen --enterprises $D/enterprises_gbk.csv --crs gcj02 \
#     --builtup $D/builtup.gpkg --heat-sources $D/heat_sources.csv \
#     --zones $D/dingxiang_sources.gpkg --zones-osm $D/region.osm \
#     --as-of 2024-11-15 --basemap osm --out outputs/01_quickstart/screening
# ```
#
# The outputs go to a folder of their own (`screening/`): `spatial` writes only into a new or
# empty folder or one it wrote before, never among other files (here `damaged_copy.csv`).

# %%
config = spatial.RunConfig(
    enterprises=INVENTORY,
    crs=INVENTORY_CRS,
    builtup=BUILTUP,
    heat_sources=HEAT_SOURCES,
    zones=ZONE_SOURCES,
    zones_osm=ZONES_OSM,
    policies=tuple(POLICIES),
    as_of=AS_OF,
    basemap=BASEMAP,
    figures=FIGURES,
    out=OUT / "screening",
)
result = spatial.run(config, progress=lambda step, total, text: print(f"[{step}/{total}] {text}"))
print(result.summary())

# %% [markdown]
# Each enterprise gets its most severe decision (`action`), with the clause it rests on
# (`rule_ref`) and a Chinese explanation a planner can paste into a report (`reason_zh`). The
# `decisions` table has every decision of every policy, one row per enterprise and rule group.

# %%
screened = result.enterprises
display(pd.crosstab(screened["county"], screened["action"], margins=True, margins_name="total"))
shown = ["id", "name", "county", "industry", "action", "curtail_pct", "rule_ref", "reason_zh"]
screened[shown].head(8)

# %% [markdown]
# The outputs: a GeoPackage for QGIS (every layer styled), the lists for the county offices
# (Excel), the web map, the print-ready figures and `run.json`, which records the inputs with
# their checksums, the options and the counts.

# %%
for role, path in result.outputs.items():
    print(f"{role:>10}: {path.relative_to(OUT)}")  # screening/...
print("\nscreening.gpkg layers:")
for name, geometry_type in pyogrio.list_layers(result.outputs["screening"]):
    print(f"  {name} ({geometry_type})")
workbook = load_workbook(result.outputs["lists"], read_only=True)
print(f"\nlists.xlsx sheets: {', '.join(workbook.sheetnames)}")
workbook.close()
record = json.loads(result.outputs["run"].read_text(encoding="utf-8"))
record["counts"]

# %% [markdown]
# ## 4 · The map
#
# `map.html` is one self-contained file: every script and style is inside it, so it opens
# offline (only the background tiles of the chosen basemap come from the internet; `BASEMAP =
# "none"` fetches nothing). Send it by e-mail or put it on a web server. Click a plant for its
# decision and the clause; the layer control switches the built-up areas, the 10 km and 30 km
# buffers, the heat sources and the Dingxiang zones.

# %%
map_path = result.outputs["map"]
print(f"{map_path}: {map_path.stat().st_size / 1e6:.1f} MB; open it in any browser")
page = html.escape(map_path.read_text(encoding="utf-8"))
frame = f'<iframe srcdoc="{page}" style="width:100%; height:620px; border:1px solid #ccc"></iframe>'
HTML(f"<div>{frame}</div>")

# %% [markdown]
# The static overview (`figures/overview.png`, also as PDF), for reports and for printing; the
# same folder has one figure per county.

# %%
if "figures" in result.outputs:
    display(Image(filename=str(result.outputs["figures"] / "overview.png"), width=800))

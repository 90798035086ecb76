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
# # 03 · 供热半径：需关停或整合的燃煤锅炉
#
# 《忻州市落实〈空气质量持续改善行动计划〉实施方案》（忻政发〔2024〕7号）三（二）8 要求对
# “30万千瓦及以上热电联产电厂、大型工业企业供热半径30公里范围内”的燃煤锅炉和落后燃煤小热电机组
# 进行关停或整合。本笔记本逐步执行这条规定：
#
# 1. 哪些热源符合条件；
# 2. 以这些热源为中心的30公里测地线半径；
# 3. 半径内的锅炉，以及距界线只有几米的企业；
# 4. 按县写出清单（Excel）。
#
# **换成本县的数据时，只需修改第一个代码格。**
# 输出放在笔记本旁边的 `outputs/03_heat_supply_radius/`。

# %%
# ---- INPUTS 输入区：换成本县的文件（示范数据随软件包安装，由 spatial.datasets 找到）----
import os
from pathlib import Path

from spatial import datasets

DEMO = datasets.DEMO_DIR  # 随软件包安装的示范数据，无论装在哪里都能找到
ENTERPRISES = DEMO / "enterprises.csv"  # 企业清单（load_enterprises 能读的任何格式）
ENTERPRISES_CRS = None  # None：wgs84 或各行的坐标系列；也可填 gcj02、bd09……
HEAT_SOURCES = DEMO / "heat_sources.csv"  # 编号、名称、类型（chp/industrial）、装机容量、经纬度
HEAT_SOURCES_CRS = None  # None：wgs84（或图层自带的坐标系）；在高德上取点的填 gcj02
BUILTUP = DEMO / "builtup.gpkg"  # 建成区（方案也要求清理建成区内的锅炉）
POLICY = "xinzhou-2024"  # 随软件提供的政策表编号，或本地 YAML 政策表的路径
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # 输出放在笔记本旁边
OUT = OUT / "03_heat_supply_radius"
OUT.mkdir(parents=True, exist_ok=True)
print(f"示范数据：{DEMO}\n输出文件夹：{OUT.resolve()}")

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from matplotlib.lines import Line2D
from openpyxl import load_workbook

import spatial
from spatial import vocabulary
from spatial.coords import utm_epsg
from spatial.export.excel import LIST_COLUMNS, list_rows, write_lists
from spatial.fonts import cjk_font
from spatial.policy import cite_ref

font = cjk_font()  # Noto Sans CJK SC, from the noto-cjk-sans-otc dependency
plt.rcParams["font.sans-serif"] = [f for f in (font, "DejaVu Sans") if f]
pd.set_option("display.max_colwidth", 90)

# %% [markdown]
# ## 1 · 热源：哪些符合条件
#
# 政策表在 `heat_sources`（热源）图层上定义空间条件 `in_heat_radius`（供热半径内），并用 `where`
# 限定为文件所说的热源：30万千瓦及以上的燃煤热电联产电厂和大型工业供热企业。135兆瓦的电厂也供热，
# 但它的供热半径不计入。

# %%
policy = spatial.load_policy(POLICY)
specs = spatial.fact_specs([policy])
heat_spec = next(s for s in specs.values() if s.layer == "heat_sources")
print(
    f"{vocabulary.column_label(heat_spec.name)}：距{vocabulary.layer_title(heat_spec.layer)}"
    f"不超过 {heat_spec.within_m:g} 米（{cite_ref(heat_spec.ref)}）"
)
print(f"符合条件的热源：{list(heat_spec.where)}")

heat = spatial.load_heat_sources(HEAT_SOURCES, crs=HEAT_SOURCES_CRS)
heat["qualifies"] = heat_spec.select(heat)
shown_heat = heat.assign(lon=heat.geometry.x.round(4), lat=heat.geometry.y.round(4))
shown_heat = shown_heat[["id", "name", "kind", "capacity_mw", "lon", "lat", "qualifies"]].copy()
shown_heat["kind"] = shown_heat["kind"].map(vocabulary.labels("heat_kind"))
shown_heat["qualifies"] = shown_heat["qualifies"].map(lambda v: vocabulary.label("yesno", v))
vocabulary.table(shown_heat, layer="heat_sources").rename(columns={"qualifies": "计入供热半径"})

# %% [markdown]
# ## 2 · 企业及其到最近合格热源的距离
#
# `spatial.add_facts` 为政策表的每个空间条件加上测地线距离、最近的要素和“是/否”判定。只保留政策表
# 所列县的企业。

# %%
scope = {c for g in policy.raw.get("rules", []) for c in (g.get("scope") or {}).get("county", [])}
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
plants = inventory.enterprises
if scope:
    plants = plants[plants["county"].isin(scope)].reset_index(drop=True)
layers = {"heat_sources": heat, "builtup": spatial.load_builtup(BUILTUP)}
plants = spatial.add_facts(plants, layers, specs)
coal = (plants["fuel"] == "coal") & plants["industry"].isin(["boiler", "power"])
print(f"政策表所列县共 {len(plants)} 家企业，其中燃煤锅炉/机组 {int(coal.sum())} 台（家）")
inside_label = plants.loc[coal, heat_spec.name].map(lambda v: vocabulary.label("yesno", v))
pd.crosstab(
    plants.loc[coal, "county"], inside_label, margins=True, margins_name="合计"
).rename_axis(index="所在县", columns=vocabulary.column_label(heat_spec.name))

# %% [markdown]
# 距30公里界线100米以内的企业：距离为测地线距离，精确到毫米，所以29960米处的锅炉在半径内，30040米
# 处的在半径外，与 GIS 显示用哪种投影无关。

# %%
edge = (plants[heat_spec.distance_column] - heat_spec.within_m).abs() <= 100
shown = ["id", "county", "industry", "fuel", heat_spec.nearest_column, heat_spec.distance_column]
vocabulary.table(plants.loc[edge & coal, [*shown, heat_spec.name]].round(2), layer="enterprises")

# %% [markdown]
# ## 3 · 地图上的30公里半径
#
# 实线圆：合格热源的30公里测地线缓冲区（GeoPackage 图层“热源30公里供热半径”）。灰色虚线：不合格
# 热源的半径会达到的范围；其中的燃煤锅炉不按本条款关停。

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
        Line2D([], [], color="#b2182b", marker="*", linestyle="", markersize=12, label="合格热源"),
        Line2D([], [], color="grey", marker="*", linestyle="", markersize=12, label="规模不足"),
        Line2D([], [], color="#b2182b", marker="s", linestyle="", label="燃煤，30公里以内"),
        Line2D([], [], color="#2166ac", marker="s", linestyle="", label="燃煤，30公里以外"),
    ],
    loc="lower right",
)
ax.set_title(
    f"{vocabulary.layer_title(heat_spec.buffer_layer)}：{heat_spec.within_m / 1000:g}公里测地线半径"
)
west, south, east, north = boilers.total_bounds  # the counties of the table, with a margin
ax.set_xlim(west - 20_000, east + 20_000)
ax.set_ylim(south - 20_000, north + 20_000)
ax.set_aspect("equal")
ax.set_xlabel(f"东坐标（米，{UTM}）")
fig.savefig(OUT / "heat_radius.png", dpi=110)

# %% [markdown]
# ## 4 · 判定：按县列出关停或整合
#
# 政策表的各组条款相互独立，同一台锅炉可有多项判定：因位于半径内而关停或整合（三（二）8），*同时*
# 因35蒸吨/小时及以下而淘汰清零。下面每行是一项判定，附依据条款和中文说明。

# %%
decisions = spatial.evaluate(plants, [policy])
screened = spatial.summarize(plants, decisions)
close = decisions[decisions["action"] == "close_or_merge"].merge(
    plants[["id", "name", "county", "industry", "boiler_tph", "boiler_mw"]], on="id"
)
per_county = pd.crosstab(
    close["county"],
    close["industry"].map(vocabulary.labels("industry")),
    margins=True,
    margins_name="合计",
)
display(per_county.rename_axis(index="所在县", columns="行业"))
shown = ["id", "name", "county", "industry", "boiler_tph", "rule_ref", "reason_zh"]
vocabulary.table(close, shown, layer="enterprises").head(8)

# %% [markdown]
# 各县的全部措施（一家企业可能出现在多项措施下）：

# %%
located = decisions.merge(plants[["id", "county"]], on="id")
measures = pd.crosstab(located["county"], located["action"].map(vocabulary.labels("action")))
measures = measures.rename_axis(index="所在县", columns="管控措施")
measures.to_csv(OUT / "measures_per_county.csv", encoding="utf-8-sig")
display(measures)

# %% [markdown]
# ## 5 · 清单（Excel）
#
# 两个工作簿：
#
# - `heat_radius_lists.xlsx`：由 `write_lists` 按 `spatial screen` 写 `lists.xlsx` 的方式写出，
#   关停或整合与淘汰清零、限期退出、限期整改列在各县的整治清单中，待研判的列在待核实清单中；
# - `close_or_merge_by_county.xlsx`：每县一张工作表，只列需关停或整合的锅炉和机组，表头与清单相同，
#   供县里使用。

# %%
path = write_lists(OUT / "heat_radius_lists.xlsx", screened, decisions)
workbook = load_workbook(path, read_only=True)
print(f"{path.name}：工作表 {'、'.join(workbook.sheetnames)}")
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
        sheet = mine[[c for c in headers if c in mine]].rename(columns=headers)
        sheet.to_excel(writer, sheet_name=f"{county}-关停或整合"[:31], index=False)
print(f"{by_county.name}：{rows['county'].nunique()} 个县的工作表，共 {len(rows)} 行")
first = sorted(rows["county"].unique())[0]
sheet = pd.read_excel(by_county, sheet_name=f"{first}-关停或整合")
shown = ["企业编号", "企业名称", "行业", "蒸吨/小时", "最近热源", "距热源距离（米）", "管控措施"]
sheet[shown].head()

# %% [markdown]
# **请县里核实。** “关停或整合”表示该条款适用；锅炉是关停还是并入供热管网、何时完成，由县里决定。
# 待核实事项为“请核实是否为供热锅炉”的锅炉位于建成区内，只有属于供热锅炉才淘汰，需要到现场确认。

# %%
flagged = decisions[decisions["flags"].fillna("").str.contains("confirm_heating_boiler")]
print(f"{flagged['id'].nunique()} 台锅炉需核实是否为供热锅炉")
vocabulary.table(
    flagged.drop_duplicates("id").sort_values("id"), ["id", "flags_zh"], "decisions"
).head(20)

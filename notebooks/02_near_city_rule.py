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
# # 02 · 建成区周边规则：建成区范围与10公里距离
#
# 《晋中市2019-2020年秋冬季工业企业错峰生产行动方案》（二、4 及三（一）各行业条款）对生产设施位于
# “市、县建成区及周边10公里范围内”的企业执行更高的限产比例。决定“是”与“否”的有两件事，本笔记本
# 分别查看：
#
# 1. **建成区范围**：官方面数据、土地覆盖栅格和 OpenStreetMap 给出的轮廓略有不同，在10公里线附近
#    可能改变企业的判定；
# 2. **距离怎么量**：本工具在椭球面上量测测地线距离（米）。网络地图使用的 Web 墨卡托投影
#    （EPSG:3857）把距离放大 1/cos(纬度) 倍，在晋中的纬度约放大26%，会把许多企业划错到10公里线的
#    另一侧。UTM 或高斯-克吕格投影误差很小，本笔记本量出小到什么程度。
#
# **换成本县的数据时，只需修改第一个代码格。**
# 输出放在笔记本旁边的 `outputs/02_near_city_rule/`。

# %%
# ---- INPUTS 输入区：换成本县的文件（示范数据随软件包安装，由 spatial.datasets 找到）----
import os
from pathlib import Path

from spatial import datasets

DEMO = datasets.DEMO_DIR  # 随软件包安装的示范数据，无论装在哪里都能找到
ENTERPRISES = DEMO / "enterprises.csv"  # 企业清单（load_enterprises 能读的任何格式）
ENTERPRISES_CRS = None  # None：wgs84 或各行的坐标系列；也可填 gcj02、bd09……
BUILTUP_SOURCES = {  # 可给一种、两种或三种；第一种作为基准
    "面数据": DEMO / "builtup.gpkg",  # 官方建成区面数据（含名称列）
    "栅格": DEMO / "builtup.tif",  # 土地覆盖栅格（第50类为建成区，ESA WorldCover 编码）
    "OSM": DEMO / "region.osm",  # OpenStreetMap XML 提取
}
SEATS = None  # 给栅格/OSM 建成区命名的县城位置 CSV（名称、级别、经度、纬度）；None = 示范的13个
POLICY = "jinzhong-2019"  # 查看其 near_city（建成区周边）条件的政策表
SHOW_TOWNS = ("榆次区", "平遥县")  # 放大显示的城镇
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # 输出放在笔记本旁边
OUT = OUT / "02_near_city_rule"
OUT.mkdir(parents=True, exist_ok=True)
print(f"示范数据：{DEMO}\n输出文件夹：{OUT.resolve()}")

# %%
import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from pyproj import CRS, Geod

import spatial
from spatial import vocabulary
from spatial.builtup import BuiltupOptions
from spatial.coords import utm_epsg
from spatial.facts import measure_fact
from spatial.fonts import cjk_font
from spatial.policy import cite_ref

font = cjk_font()  # Noto Sans CJK SC, from the noto-cjk-sans-otc dependency
plt.rcParams["font.sans-serif"] = [f for f in (font, "DejaVu Sans") if f]
GEOD = Geod(ellps="WGS84")

# %% [markdown]
# ## 1 · 规则即数据
#
# 政策表定义了空间条件 `near_city`（建成区周边）：与 `builtup`（建成区）图层任一要素的测地线距离
# 不超过 `within_m` 米。其条款适用于政策表所列的县。

# %%
policy = spatial.load_policy(POLICY)
spec = spatial.fact_specs([policy])["near_city"]
LIMIT_M = spec.within_m
scope = {c for g in policy.raw.get("rules", []) for c in (g.get("scope") or {}).get("county", [])}
print(
    f"{policy.document.short_zh}：{vocabulary.column_label('near_city')}"
    f" = 距{vocabulary.layer_title(spec.layer)}不超过 {LIMIT_M:g} 米（{cite_ref(spec.ref)}）"
)

inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
plants = inventory.enterprises
if scope:
    plants = plants[plants["county"].isin(scope)]
plants = plants.reset_index(drop=True)
print(f"政策表适用的县共有 {len(plants)} 家企业（全部 {len(inventory.enterprises)} 家）")

# %% [markdown]
# ## 2 · 三种来源的建成区
#
# 栅格和 OSM 提取的建成区本身没有名称：每块取其包含的、或3公里内的市、县城所在地的名称。示范的
# 县城位置写到 `seats.csv`，可以看到该文件的格式。

# %%
if SEATS is None:
    SEATS = OUT / "seats.csv"
    pd.read_csv(datasets.get_path("seats.csv")).to_csv(SEATS, index=False, encoding="utf-8-sig")
options = BuiltupOptions(seats=SEATS)
sources = {key: spatial.load_builtup(path, options) for key, path in BUILTUP_SOURCES.items()}
REFERENCE = next(iter(sources))


def area_km2(geom) -> float:
    """Geodesic area of a lon/lat (multi)polygon."""
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


areas = pd.DataFrame(
    {key: layer.set_index("name").geometry.map(area_km2).round(1) for key, layer in sources.items()}
).rename_axis("建成区")
areas.columns = [f"{key}（平方公里）" for key in areas.columns]
display(areas)

# %% [markdown]
# 在当地 UTM 带中放大几个城镇（距离误差在万分之几以内）。各来源的轮廓相差一两个像元；差别有三类：
# 栅格100米的锯齿、空洞（OSM 多边形的内环），以及栅格和 OSM 途径按 `min_area_km2` 舍去的小块
# 飞地。只有10公里线附近的企业会受影响。

# %%
lon0, lat0 = plants.geometry.x.median(), plants.geometry.y.median()
UTM = f"EPSG:{utm_epsg(lon0, lat0)}"
colours = dict(zip(sources, ("#4c72b0", "#dd8452", "#55a868"), strict=False))
towns = [t for t in SHOW_TOWNS if t in set(sources[REFERENCE]["name"])]
fig, axes = plt.subplots(1, len(towns), figsize=(5.5 * len(towns), 5), squeeze=False)
for ax, town in zip(axes[0], towns, strict=True):
    for key, layer in sources.items():
        part = layer[layer["name"] == town].to_crs(UTM)
        part.boundary.plot(ax=ax, color=colours[key], linewidth=1.4, label=key)
    ax.set_title(f"{town}：各来源的建成区轮廓")
    ax.set_xlabel(f"东坐标（米，{UTM}）")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="best")
fig.tight_layout()
fig.savefig(OUT / "builtup_sources.png", dpi=110)

# %% [markdown]
# ## 3 · 10公里距离
#
# `spatial.facts.measure_fact` 给出每家企业到最近建成区的测地线距离（位于建成区内为0）、该建成区
# 的名称和“是/否”判定。每种来源各量一次：

# %%
facts = {key: measure_fact(plants, layer, spec) for key, layer in sources.items()}
distance = pd.DataFrame({key: f[spec.distance_column] for key, f in facts.items()})
near = pd.DataFrame({key: f[spec.name] for key, f in facts.items()})
summary = pd.DataFrame(
    {
        "位于建成区内": (distance == 0).sum(),
        f"{LIMIT_M / 1000:g}公里以内": near.sum(),
        f"与{REFERENCE}不同": near.ne(near[REFERENCE], axis=0).sum(),
    }
)
display(summary.rename_axis("建成区来源"))

# %% [markdown]
# 按任一来源距10公里线不超过300米的企业，以及各来源的判定。对这些企业，选用哪种建成区会影响结果；
# 示范数据特意在距面数据9970米和10030米处各放了几对企业。更大的差别来自城镇的小块飞地：栅格和
# OSM 途径舍去小于 `min_area_km2`（1平方公里）的建成区斑块，所以平遥县0.9平方公里飞地旁的企业按
# 面数据为“以内”，按另两种为“以外”。

# %%
close = (distance - LIMIT_M).abs().min(axis=1) <= 300
table = plants.loc[close, ["id", "county", "industry"]].join(facts[REFERENCE][spec.nearest_column])
table = table.join(distance.round(1).add_prefix("距离（米）"))
table = table.join(near.map(lambda v: vocabulary.label("yesno", v)).add_prefix("10公里以内"))
vocabulary.table(table.sort_values(f"距离（米）{REFERENCE}"))

# %% [markdown]
# 全区域：基准建成区、其10公里测地线缓冲区（即 GeoPackage 图层“建成区周边10公里”和地图上显示的
# 范围）以及按判定着色的企业。

# %%
buffers = spatial.fact_buffers({spec.layer: sources[REFERENCE]}, {spec.name: spec})
zone = buffers[spec.buffer_layer]
fig, ax = plt.subplots(figsize=(8, 8))
zone.to_crs(UTM).plot(ax=ax, color="#6a3d9a", alpha=0.12, edgecolor="#6a3d9a")
sources[REFERENCE].to_crs(UTM).plot(ax=ax, color="#8c7355")
drawn = plants.assign(answer=np.where(near[REFERENCE].fillna(False), "以内", "以外")).to_crs(UTM)
for answer, colour in (("以内", "#d73027"), ("以外", "#4575b4")):
    drawn[drawn["answer"] == answer].plot(ax=ax, markersize=4, color=colour, label=answer)
ax.set_title(
    f"{vocabulary.layer_title(spec.buffer_layer)}：建成区的{LIMIT_M / 1000:g}公里测地线缓冲区"
)
ax.set_aspect("equal")
ax.legend()
fig.savefig(OUT / "near_city_buffer.png", dpi=110)

# %% [markdown]
# ## 4 · 为什么不能在 Web 墨卡托投影中量距离？
#
# EPSG:3857（网络地图的投影）中的图层很容易让人直接用 `distance()` 量“米”。但那不是地面上的米：
# Web 墨卡托的比例因子是 1/cos(纬度)，北纬37.5°时为1.26，距城镇8公里的企业会量成10.1公里，
# 被划出建成区周边范围。横轴墨卡托投影（UTM、我国测绘使用的 CGCS2000 高斯-克吕格分带）在中央
# 经线附近的比例误差只有万分之几。
#
# 下面在各投影的平面上量同样的最近距离（像桌面 GIS 那样用 shapely 在投影坐标上计算），并与测地线
# 距离比较。

# %%
zone6 = int(lon0 // 6) + 1  # CGCS2000 6° Gauss-Krüger zones 13-23: EPSG:4491-4501
west = int(lon0 // 3) * 3  # CGCS2000 3° Gauss-Krüger, CM 75°E-135°E: EPSG:4534-4554
projections = {
    "Web Mercator": "EPSG:3857",
    "UTM": UTM,
    "GK 6°": f"EPSG:{4491 + zone6 - 13}",
    f"GK 3° CM {west}°E": f"EPSG:{4534 + (west - 75) // 3}",
    f"GK 3° CM {west + 3}°E": f"EPSG:{4534 + (west + 3 - 75) // 3}",
}
for label, code in projections.items():
    print(f"{label:>12}: {code} {CRS.from_user_input(code).name}")

reference = sources[REFERENCE]
geodesic = distance[REFERENCE]
planar = {}
for label, code in projections.items():
    points = plants[["id", "geometry"]].to_crs(code)
    joined = gpd.sjoin_nearest(
        points, reference[["name", "geometry"]].to_crs(code), distance_col="d"
    )
    planar[label] = joined[~joined.index.duplicated()]["d"].reindex(plants.index)
planar = pd.DataFrame(planar)
error = planar.sub(geodesic, axis=0)
band = geodesic.between(1, 15_000)
comparison = pd.DataFrame(
    {
        "10公里处误差（米，中位数）": error[geodesic.between(9_000, 11_000)].median().round(1),
        "15公里内最大误差（米）": error[band].abs().max().round(1),
        "比例（平面/测地线，中位数）": (planar[band].div(geodesic[band], axis=0)).median().round(5),
        f"划错到{LIMIT_M / 1000:g}公里线另一侧的企业": planar.le(LIMIT_M)
        .ne(geodesic.le(LIMIT_M), axis=0)
        .sum(),
    }
)
display(comparison.rename_axis("投影"))

# %%
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(17, 4.8))
outside = geodesic > 0
km = geodesic[outside] / 1000
palette = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b")
for ax, labels in ((left, list(projections)[:1]), (middle, list(projections)[1:])):
    for label in labels:
        colour = palette[list(projections).index(label) % len(palette)]
        ax.scatter(km, error.loc[outside, label], s=4, color=colour, label=label)
    ax.axvline(LIMIT_M / 1000, color="k", linestyle="--", linewidth=0.8)
    ax.set_xlabel("到最近建成区的测地线距离（公里）")
    ax.set_ylabel("平面距离 − 测地线距离（米）")
    ax.legend()
left.set_title("Web 墨卡托：误差以公里计")
middle.set_title("UTM 和高斯-克吕格：误差以米计")

lat = plants.geometry.y
ratio = planar.loc[outside, "Web Mercator"] / geodesic[outside]
right.scatter(lat[outside], ratio, s=4, color="#d62728", label="Web 墨卡托实测")
grid = np.linspace(lat.min() - 0.1, lat.max() + 0.1, 50)
right.plot(grid, 1 / np.cos(np.radians(grid)), "k-", label="1 / cos(纬度)")
right.set_xlabel("纬度（北纬，度）")
right.set_ylabel("每实地米对应的 Web 墨卡托“米”")
right.set_title("Web 墨卡托把距离放大 1/cos(纬度) 倍")
right.legend()
fig.tight_layout()
fig.savefig(OUT / "mercator_error.png", dpi=110)

# %% [markdown]
# 中图中，中央经线相同（示范为东经111°）的6°带和3°带高斯-克吕格投影是同一个投影，中央经线上比例
# 为1，所以点重合。UTM 也是横轴墨卡托投影，中央经线上比例为0.9996：中央经线附近的距离略短，
# 所以误差为负。
#
# ## 5 · 判定被改变的企业
#
# 投影用错对清单的影响：晋中政策表先按测地线距离执行一次，再分别用各投影的平面距离代替执行。
# 管控措施或限产比例发生变化的企业，计为判定被改变。

# %%
base = plants.join(facts[REFERENCE])


def screen(frame: pd.DataFrame) -> pd.DataFrame:
    """The most severe decision per plant under the policy."""
    decided = spatial.summarize(frame, spatial.evaluate(frame, [policy]))
    return decided.set_index("id")[["action", "curtail_pct"]]


truth = screen(base)
flipped = {}
examples = []
for label in projections:
    frame = base.copy()
    frame[spec.distance_column] = planar[label]
    frame[spec.name] = pd.array(planar[label] <= LIMIT_M, dtype="boolean")
    other = screen(frame)
    changed = truth["action"].ne(other["action"]) | ~np.isclose(
        truth["curtail_pct"].fillna(-1), other["curtail_pct"].fillna(-1)
    )
    flipped[label] = int(changed.sum())
    if label == "Web Mercator":
        examples = truth[changed].join(other[changed].add_suffix(f" ({label})"))
print(pd.Series(flipped, name="判定被改变的企业数").rename_axis("投影").to_string())
vocabulary.table(examples.reset_index()).head(10)

# %% [markdown]
# **结论。** 在示范区域，Web 墨卡托把一百多家企业划错到10公里线另一侧，改变了其限产比例；UTM 和
# 高斯-克吕格没有改变任何企业，但误差（几米）不为零，距界线几米的企业仍可能被改变。因此本工具报告
# 测地线距离，投影只用于查找候选边（见 `spatial/measure.py`）。建成区来源的选择比好的投影影响更多
# 企业：请与县里确认以哪一种轮廓为准。

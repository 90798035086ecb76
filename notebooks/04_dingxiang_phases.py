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
# # 04 · 定襄法兰产业集群：整治分区、阶段和评估日的进度
#
# 忻州市2024年产业集群整治方案（二（二））分三个阶段整治定襄县法兰产业集群，每个阶段按**地名**
# 而不是图形划定：“三环路以内”“庄力产业集聚区”“西河头村、张村、杨芳村”“机场大道两侧”，然后是
# 整个乡镇。本笔记本：
#
# 1. 从政策表 YAML 读取阶段表（日期和地名）；
# 2. 根据来源几何为每个地名生成一个面（三环路取自 OpenStreetMap 提取，并补上数字化缺口）；
# 3. 在图上检查分区，并写出供 QGIS 使用的文件；
# 4. 把定襄县的每家法兰企业划入分区，并标出不一致之处；
# 5. 给出每家企业在评估日的整治进度和分阶段清单。
#
# **换成本县的数据时，只需修改第一个代码格。**
# 输出放在笔记本旁边的 `outputs/04_dingxiang_phases/`。

# %%
# ---- INPUTS 输入区：换成本县的文件（示范数据随软件包安装，由 spatial.datasets 找到）----
import datetime as dt
import os
from pathlib import Path

from spatial import datasets

DEMO = datasets.DEMO_DIR  # 随软件包安装的示范数据，无论装在哪里都能找到
ZONE_SOURCES = DEMO / "dingxiang_sources.gpkg"  # 图层 cluster、villages、village_areas……
ZONES_OSM = DEMO / "region.osm"  # 取三环路的 OSM XML；None = 用 ring_road 图层
ENTERPRISES = DEMO / "enterprises.csv"  # 企业清单（load_enterprises 能读的任何格式）
ENTERPRISES_CRS = None  # None：wgs84 或各行的坐标系列；也可填 gcj02、bd09……
ZONE_TABLE = "xinzhou-cluster-2024"  # zones: 部分列有各阶段的政策表
BUILD_OPTIONS = {}  # 例如 {"corridor_half_width_m": 250}；空 = 用政策表的默认值
AS_OF = dt.date(2024, 11, 15)  # 评估日：判断整治进度的日期（今天用 dt.date.today()）
BASEMAP = "osm"  # map.html 的底图：osm、none（离线）、tianditu 或 amap
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # 输出放在笔记本旁边
OUT = OUT / "04_dingxiang_phases"
OUT.mkdir(parents=True, exist_ok=True)
print(f"示范数据：{DEMO}\n输出文件夹：{OUT.resolve()}")

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from matplotlib.patches import Patch

import spatial
from spatial import vocabulary
from spatial.coords import utm_epsg
from spatial.errors import LayerError
from spatial.export.excel import list_rows, write_lists
from spatial.export.gpkg import write_zones
from spatial.export.webmap import write_map
from spatial.fonts import cjk_font
from spatial.policy import cite_ref
from spatial.zones import (
    build_zones,
    close_ring,
    in_scope,
    load_zone_table,
    read_sources,
    zone_flags_zh,
    zone_status,
)

font = cjk_font()  # Noto Sans CJK SC, from the noto-cjk-sans-otc dependency
plt.rcParams["font.sans-serif"] = [f for f in (font, "DejaVu Sans") if f]
pd.set_option("display.max_colwidth", 100)

# %% [markdown]
# ## 1 · 阶段表
#
# 每个阶段从开始日期（含）到结束日期（完成时限）；文件规定的各阶段首尾相接，所以每一天只属于一个
# 阶段。区域名称即文件所用的地名。

# %%
table = load_zone_table(ZONE_TABLE)
options = table.defaults.replace(**BUILD_OPTIONS)
industry = vocabulary.label("industry", table.industry)
print(f"{cite_ref(table.ref)}；适用范围：{'、'.join(table.counties)}的{industry}企业")
print(f"生成参数：{options}")
pd.DataFrame(
    [
        {
            "整治阶段": vocabulary.label("zone_phase", p.phase),
            "开始日期": p.start,
            "结束日期": p.end,
            "区域名称": a.name,
            "区域类型": vocabulary.label("zone_kind", a.kind),
        }
        for p, a in table.areas()
    ]
)

# %% [markdown]
# ## 2 · 来源几何
#
# 每类区域一个图层，每个要素有名称（`name`）。给了 `ZONES_OSM` 时，三环路取自 OSM 提取（名为三环路
# 的道路）。

# %%
sources = read_sources(ZONE_SOURCES, osm=ZONES_OSM, table=table)
pd.DataFrame(
    [
        {
            "图层": name,
            "来源": sources.origin[name],
            "要素数": len(layer),
            "几何类型": "、".join(sorted(set(layer.geom_type))),
            "名称": "、".join(sorted(set(layer["name"]))),
        }
        for name, layer in sources.layers.items()
    ]
)

# %% [markdown]
# 三环路由三条 OSM 道路组成，其中两条没有接上：约30米的数字化缺口。生成分区时会补上不超过
# `ring_snap_tolerance_m`（测地线距离）的缺口；更大的缺口报错并指出两个断头，因为缺失的路段必须
# 补画，不能猜。

# %%
ring = sources.layers["ring_road"]
area, note = close_ring(ring.geometry, options.ring_snap_tolerance_m)
print(f"容差 {options.ring_snap_tolerance_m:g} 米：{note}")
try:
    close_ring(ring.geometry, 20.0, "三环路")
except LayerError as error:
    print(f"容差 20 米：报错 {error}")

# %% [markdown]
# ## 3 · 生成并检查分区
#
# 每个地名一个面。“构建来源”说明每个面是怎样生成的，便于审核人员看到其中的假定（道路两侧宽度、
# 只有点位的村庄所用的半径、补上的缺口）。

# %%
zones = build_zones(sources, table, options)
zone_path = write_zones(zones, OUT / "dingxiang_zones.gpkg")
print(f"已写出供 QGIS 使用的分区：{zone_path}")
zone_table = zones.drop(columns=["geometry", "ref"]).copy()
zone_table["phase"] = zone_table["phase"].map(lambda p: vocabulary.label("zone_phase", p))
zone_table["kind"] = zone_table["kind"].map(vocabulary.labels("zone_kind"))
vocabulary.table(zone_table, layer="dingxiang_zones")

# %% [markdown]
# 图上：全县（第二、三阶段的乡镇）和中心区（第一阶段的区域），上面叠加来源的线和点。第一阶段最后
# 绘制，所以第一阶段的村庄位于第三阶段的乡镇内时仍可见：重叠时以最早的阶段为准。

# %%
UTM = f"EPSG:{utm_epsg(*zones.union_all().centroid.coords[0])}"
PHASE_COLOURS = {1: "#d95f02", 2: "#1b9e77", 3: "#7570b3"}
fig, axes = plt.subplots(1, 2, figsize=(15, 7.5))
for ax, title in zip(axes, ("定襄县：全部分区", "中心区：第一阶段区域"), strict=True):
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
    handles=[
        Patch(color=c, alpha=0.6, label=vocabulary.label("zone_phase", p))
        for p, c in PHASE_COLOURS.items()
    ],
    loc="lower left",
)
fig.tight_layout()
fig.savefig(OUT / "zones.png", dpi=110)

# %% [markdown]
# ## 4 · 划入法兰企业
#
# 只有分区适用的企业（按政策表范围，定襄县的法兰企业）才划入分区。落在两个分区的企业取最早的阶段
# （标记为重叠）；不在任何分区的企业按其“村”或“乡镇”列归入（标记为按填报归入），否则为“未落入
# 整治区域”；填报的村或乡镇与坐标所在区域不一致的，标记出来请县里核实。

# %%
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
plants = inventory.enterprises
plants = plants[in_scope(plants, table)].reset_index(drop=True)
assigned = plants.join(spatial.assign_zones(plants, zones, AS_OF, table))
print(f"{'、'.join(table.counties)}共 {len(plants)} 家法兰企业；进度按 {AS_OF} 评估")
display(
    pd.crosstab(
        assigned["zone_area"].fillna("（无）"),
        assigned["zone_status"].map(vocabulary.labels("zone_status")),
        margins=True,
        margins_name="合计",
    ).rename_axis(index="整治区域", columns="整治进度")
)

# %% [markdown]
# 各类标记，以及规划人员应当查看的企业：除只有“重叠”标记的以外的全部有标记企业（第一阶段的村庄
# 位于第三阶段的乡镇内，按设计就是重叠）。

# %%
flagged = assigned[assigned["zone_flags"].notna()]
kinds = flagged["zone_flags"].str.split(";").explode().str.split(":").str[0]
kind_zh = {
    "overlap": "落在多个分区（取最早阶段）",
    "columns_disagree": "填报的村或乡镇与坐标不一致",
    "attribute_fallback": "按填报的村或乡镇归入",
    "unassigned": "未落入整治区域",
    "no_location": "缺少坐标",
}
print(kinds.map(kind_zh).value_counts().to_string())
to_check = flagged[~flagged["zone_flags"].str.fullmatch(r"overlap:[^;]*")].copy()
to_check["zone_flags_zh"] = to_check["zone_flags"].map(zone_flags_zh)
shown = ["id", "township", "village", "zone_phase", "zone_area", "zone_status", "zone_flags_zh"]
vocabulary.table(to_check, shown, layer="enterprises")

# %% [markdown]
# ## 5 · 评估日的整治进度
#
# 阶段开始前为“尚未开始”，到结束日期前一天为“整治期内”，从结束日期起为“已到整治期限”（此时剩余
# 天数为0或负数）。同一批企业在各阶段分界前后几个日期的进度：

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
counts = counts.rename(columns=vocabulary.labels("zone_status")).rename_axis("评估日")
colours = ["#bdbdbd", "#fdae61", "#d7191c", "#2c7bb6"]
ax = counts.plot.bar(stacked=True, figsize=(10, 4), color=colours, rot=0)
ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
ax.set_ylabel("法兰企业（家）")
ax.set_title("定襄县法兰企业整治进度")
ax.figure.tight_layout()
ax.figure.savefig(OUT / "status_timeline.png", dpi=110)
display(counts)

# %% [markdown]
# ## 6 · 判定和分阶段清单
#
# 集群整治方案的条款把分区变成判定：在阶段结束日期前“限期整改”，未落入整治区域的企业“待研判”；
# 另一组条款按基准含氧量8%核对排放限值。工作簿除常规工作表外，每个阶段另有一张清单。

# %%
policy = spatial.load_policy(ZONE_TABLE)
decisions = spatial.evaluate(assigned, [policy])
screened = spatial.summarize(assigned, decisions)
display(
    pd.crosstab(
        decisions["rule_id"], decisions["action"].map(vocabulary.labels("action"))
    ).rename_axis(index="规则编号", columns="管控措施")
)

rows = list_rows(screened, decisions[decisions["rule_id"] == "flange-phase"])
phase_lists = {
    f"第{int(p)}阶段整治清单": rows[rows["zone_phase"] == p].sort_values("id")
    for p in sorted(rows["zone_phase"].dropna().unique())
}
path = write_lists(OUT / "dingxiang_lists.xlsx", screened, decisions, phase_lists=phase_lists)
print(f"{path.name}：" + "、".join(f"{t}（{len(r)}家）" for t, r in phase_lists.items()))
vocabulary.table(
    rows, ["id", "name", "zone_phase", "zone_area", "deadline", "reason_zh"], "enterprises"
).head()

# %% [markdown]
# 分区和企业的交互地图，可对照底图检查：

# %%
map_path = write_map(
    OUT / "map.html",
    screened,
    {"dingxiang_zones": zones},
    basemap=BASEMAP,
    title="定襄县法兰产业集群整治分区",
)
print(f"{map_path}：用浏览器打开")

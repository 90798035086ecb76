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
# # 01 · 快速上手：从县里报来的企业清单到筛查地图
#
# 本笔记本在示范区域（示意数据，见 `spatial/data/demo/README.md`）上把整个流程走一遍：
#
# 1. 按县里常见的报送方式读取企业清单：中文 Windows 上 Excel 另存的 CSV（GBK 编码）、中文表头、
#    在高德地图上取的坐标（GCJ-02）；
# 2. 查看哪些行未通过检查、原因是什么；
# 3. 运行完整筛查（`spatial.run`，与命令 `spatial screen` 是同一个函数）；
# 4. 在页面中打开筛查地图。
#
# **换成本县的数据时，只需修改下面第一个代码格（`INPUTS` 输入区）。**
# 本笔记本写出的文件都放在笔记本旁边的 `outputs/01_quickstart/` 文件夹中。

# %%
# ---- INPUTS 输入区：换成本县的文件（示范数据随软件包安装，由 spatial.datasets 找到）----
import datetime as dt
import os
from pathlib import Path

from spatial import datasets

DEMO = datasets.DEMO_DIR  # 随软件包安装的示范数据，无论装在哪里都能找到
INVENTORY = DEMO / "enterprises_gbk.csv"  # 企业清单：CSV（UTF-8 或 GBK）、.xlsx、.gpkg、.geojson
INVENTORY_CRS = "gcj02"  # 坐标系：wgs84、cgcs2000、gcj02（高德/腾讯）、bd09（百度）、EPSG:xxxx
BUILTUP = DEMO / "builtup.gpkg"  # 建成区：面数据、土地覆盖 .tif 或 .osm 提取
HEAT_SOURCES = DEMO / "heat_sources.csv"  # 热电联产电厂和工业供热企业（或 None）
ZONE_SOURCES = DEMO / "dingxiang_sources.gpkg"  # 定襄整治分区的来源或已画好的分区（或 None）
ZONES_OSM = DEMO / "region.osm"  # 含三环路的 OSM XML（或 None）
POLICIES = ()  # 政策表编号或本地 YAML 路径；() 表示全部随软件提供的政策表
AS_OF = dt.date(2024, 11, 15)  # 评估日：判断整治阶段和完成时限的日期（今天用 dt.date.today()）
BASEMAP = "osm"  # 底图：osm、none（离线）、tianditu（需密钥）或 amap（GCJ-02）
FIGURES = True  # 同时输出可打印的专题图（PNG 和 PDF）：总图和各县一张
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # 输出放在笔记本旁边
OUT = OUT / "01_quickstart"
OUT.mkdir(parents=True, exist_ok=True)
print(f"示范数据：{DEMO}\n输出文件夹：{OUT.resolve()}")

# %%
import html
import json

import pandas as pd
import pyogrio
from IPython.display import HTML, Image, display
from openpyxl import load_workbook
from pyproj import Geod

import spatial
from spatial import vocabulary
from spatial.inventory import read_table

pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## 1 · 读取企业清单
#
# `spatial.load_enterprises` 自动识别编码（UTF-8、带 BOM 的 UTF-8、GBK/GB18030），找到表头行，
# 把中文表头对应到数据约定的列（`spatial/data/columns.yaml` 列出全部别名），把中文取值
# （是/否、鼓励类、铸造……）换成代码，并把坐标统一转换为 WGS84。每一行要么通过、要么列入未通过
# 清单并说明原因，不会悄悄丢掉。

# %%
inventory = spatial.load_enterprises(INVENTORY, crs=INVENTORY_CRS)
print(inventory.summary())
print(f"识别的编码：{inventory.encoding}")
pd.DataFrame(
    {
        "文件中的表头": list(inventory.header_map),
        "对应的列": [vocabulary.column_label(c) for c in inventory.header_map.values()],
    }
)

# %% [markdown]
# 坐标是按 GCJ-02（高德、腾讯地图使用的偏移坐标）填写的。如果当作 GPS（WGS84）坐标读取，每家企业
# 都会偏离实际位置几百米，足以让企业跨过“建成区周边10公里”的界线。“原始经度/原始纬度”保留文件
# 中的数值；“经度/纬度”是换算后的 WGS84 位置，所有距离都按它计算。

# %%
plants = inventory.enterprises
shift_m = Geod(ellps="WGS84").inv(
    plants["lon_input"].to_numpy(),
    plants["lat_input"].to_numpy(),
    plants["lon"].to_numpy(),
    plants["lat"].to_numpy(),
)[2]
print(
    f"GCJ-02 → WGS84 偏移：{shift_m.min():.0f}～{shift_m.max():.0f} 米"
    f"（中位数 {pd.Series(shift_m).median():.0f} 米）"
)
vocabulary.table(
    plants, ["id", "name", "county", "industry", "lon_input", "lat_input", "lon", "lat"]
).head()

# %% [markdown]
# ## 2 · 哪些行未通过检查，为什么
#
# 未通过的行保留其在表格中的行号、全部原因（一行有三个问题就列出三个，县里一次改完）和原始取值。

# %%
if inventory.rejected.empty:
    print(f"{INVENTORY.name}：全部行均通过检查")
else:
    display(vocabulary.table(inventory.rejected, ["row", "reason_zh"], layer="rejected"))

# %% [markdown]
# 示范文件没有错误。为了看看未通过的行是什么样子，下面复制它的前八行，并加入县里表格常见的错误：
# 经纬度填反、数字列填了文字、编号为空、编号重复、是/否列填了“也许”、行业填了政策中没有的行业。
# 副本按原表头写成 UTF-8 CSV，再按同样方式读取。

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
vocabulary.table(checked.rejected, ["row", "reason_zh"], layer="rejected")

# %% [markdown]
# ## 3 · 运行完整筛查
#
# `spatial.run` 就是命令 `spatial screen` 调用的函数：读取并检查企业清单，读取背景图层（建成区、
# 热源、定襄整治分区），计算测地线距离，划入整治分区，执行全部政策表并写出成果。与本格等价的命令是
#
# ```
# D=spatial/data/demo
# spatial screen --enterprises $D/enterprises_gbk.csv --crs gcj02 \
#     --builtup $D/builtup.gpkg --heat-sources $D/heat_sources.csv \
#     --zones $D/dingxiang_sources.gpkg --zones-osm $D/region.osm \
#     --as-of 2024-11-15 --basemap osm --out outputs/01_quickstart/screening
# ```
#
# 成果写入单独的文件夹（`screening/`）：`spatial` 只写入新建的、空的或它自己写过的文件夹，
# 不会与其他文件（这里的 `damaged_copy.csv`）混在一起。

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
# 每家企业取其最严格的一项管控措施，附依据条款（按文件名称、文号和条款引用）和可直接写入报告的
# 中文说明。`decisions` 表列出每个政策文件的每项判定，每家企业每组条款一行。

# %%
screened = result.enterprises
by_county = pd.crosstab(
    screened["county"],
    screened["action"].map(lambda a: vocabulary.label("action", a)),
    margins=True,
    margins_name="合计",
)
display(by_county.rename_axis(index="所在县", columns="管控措施"))
shown = ["id", "name", "county", "industry", "action", "curtail_pct", "rule_ref", "reason_zh"]
vocabulary.table(screened, shown, layer="enterprises").head(8)

# %% [markdown]
# 成果包括：供 QGIS 使用的 GeoPackage（每个图层都已配好样式）、报县里的清单（Excel）、网页地图、
# 可打印的专题图，以及记录输入文件及其校验值、参数和统计数的 `run.json`。

# %%
for role, path in result.outputs.items():
    print(f"{role:>10}: {path.relative_to(OUT)}")  # screening/...
print("\nscreening.gpkg 的图层：")
for name, geometry_type in pyogrio.list_layers(result.outputs["screening"]):
    print(f"  {vocabulary.layer_title(name)}（{name}，{geometry_type or '表'}）")
workbook = load_workbook(result.outputs["lists"], read_only=True)
print(f"\nlists.xlsx 的工作表：{'、'.join(workbook.sheetnames)}")
workbook.close()
record = json.loads(result.outputs["run"].read_text(encoding="utf-8"))
record["counts"]

# %% [markdown]
# ## 4 · 筛查地图
#
# `map.html` 是一个自包含的文件：所有脚本和样式都在文件里，断网也能打开（只有所选底图的瓦片来自
# 网络；`BASEMAP = "none"` 完全不联网）。可以用邮件发送，也可以放到网站上。点击企业可查看管控措施
# 和依据条款；图层控件可切换建成区、10公里和30公里缓冲区、热源和定襄整治分区。

# %%
map_path = result.outputs["map"]
print(f"{map_path}：{map_path.stat().st_size / 1e6:.1f} MB，可用任何浏览器打开")
page = html.escape(map_path.read_text(encoding="utf-8"))
frame = f'<iframe srcdoc="{page}" style="width:100%; height:620px; border:1px solid #ccc"></iframe>'
HTML(f"<div>{frame}</div>")

# %% [markdown]
# 总图（`figures/overview.png`，另有 PDF）供报告和打印使用；同一文件夹中还有各县一张。

# %%
if "figures" in result.outputs:
    display(Image(filename=str(result.outputs["figures"] / "overview.png"), width=800))

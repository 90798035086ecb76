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
# # 06 · 管控措施的减排效果：各县减排量、主要贡献企业与提高限产比例的测算
#
# 《晋中市2019-2020年秋冬季工业企业错峰生产行动方案》（市工信产发〔2019〕79号）开宗明义：
# “以错峰生产减少的污染物排放量抵消采暖季新增污染物排放量为目的”（一、指导思想）。
# 筛查给出了每家企业的管控措施，本笔记本回答下一个问题：这些措施合计减少多少吨排放。
#
# 测算方法（详见 README“减排量测算”一节，每一行都注明了依据条款）：
#
# | 管控措施 | 减排量 | 计算期 |
# |---|---|---|
# | 限产 p%，采暖季 D 天 | 年排放量 × p/100 × D/365 | 采暖季 |
# | 停产治理、采暖季停产（停产时段 D 天，含首尾两日） | 年排放量 × D/365 | 采暖季 |
# | 关停或整合、淘汰清零、限期退出 | 自完成时限起每年减少全部年排放量 | 年 |
# | 限期整改至排放限值（法兰炉、燃气锅炉）¹ | 年排放量 × (1 − 限值/折算浓度)，未超限为0 | 年 |
# | 待研判、以热定产 | 不计减排量，年排放量单列为“待研判排放量” | — |
# | 豁免、无管控措施 | 0 | — |
#
# ¹ 法兰炉：颗粒物10、二氧化硫50、氮氧化物200毫克/立方米（基准含氧量8%）；燃气锅炉：氮氧化物50。
#
# 缺少年排放量数据的企业**不计为0吨**，而是按家数单列。
#
# 本笔记本
#
# 1. 对企业清单执行筛查，逐条措施测算减排量；
# 2. 按县汇总采暖季和年度减排量，并列出待研判排放量和缺数据企业数；
# 3. 列出减排贡献最大的企业；
# 4. 测算“某县提高某行业限产比例”后减排量的变化。
#
# **使用自己的数据时只需修改第一个代码单元。** 输出写入笔记本旁的 `outputs/06_emission_effect/`。

# %%
# ---- INPUTS 输入区：换成本县的文件（示范数据随软件包安装，由 spatial.datasets 找到）----
import os
from pathlib import Path

from spatial.datasets import get_path

ENTERPRISES = get_path(
    "enterprises.csv"
)  # 企业清单；自有清单可含 pm_t/so2_t/nox_t/vocs_t 年排放量（吨）
ENTERPRISES_CRS = None  # None：WGS84 或逐行 coord_sys 列；否则 gcj02、bd09 ...
BUILTUP = get_path("builtup.gpkg")  # 建成区面
HEAT_SOURCES = get_path("heat_sources.csv")  # 热源点（忻州30公里供热半径）
POLICIES = ["jinzhong-2019", "xinzhou-2024"]  # 政策表：内置编号或自有 YAML 路径
ILLUSTRATIVE_SEED = 2019  # 清单无年排放量时，附加示意排放量所用的随机种子（None：不附加）
WHAT_IF = {  # 假设情景：某县提高某行业限产比例（只能提高，不能降低；§二6、§二12）
    "county": "榆次区",
    "industry": "foundry",  # columns.yaml 中的行业代码（foundry = 铸造）
    "min_pct": 50,  # 提高后的限产比例
    "ref": "榆次区秋冬季错峰生产实施方案（假设）",
}
POLLUTANT = "nox"  # 图表和排名所用的污染物：pm、so2、nox、vocs
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # 输出放在笔记本旁边
OUT = OUT / "06_emission_effect"
OUT.mkdir(parents=True, exist_ok=True)
print(f"输出文件夹：{OUT.resolve()}")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from IPython.display import display
from openpyxl import Workbook

import spatial
from spatial.emissions import (
    EMISSION_COLUMNS,
    POLLUTANT_ZH,
    county_summary,
    emission_table,
)
from spatial.export.excel_emissions import write_emission_sheet
from spatial.fonts import cjk_font
from spatial.vocabulary import ACTION_LABELS as ACTION_ZH
from spatial.vocabulary import labels

INDUSTRY_ZH = labels("industry")
font = cjk_font()  # Noto Sans CJK SC
plt.rcParams["font.sans-serif"] = [f for f in (font, "DejaVu Sans") if f]
pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## 1 · 筛查并附加年排放量
#
# 与 `spatial screen` 相同的步骤：读取清单、测算空间条件（建成区10公里、热源30公里）、执行政策表。
#
# 演示清单不含年排放量。为展示测算过程，下面按行业给每家企业附加一个**示意**年排放量（固定随机种子，
# 每次运行结果相同），并有意留空约8%的企业，以显示“缺数据”如何单列。**这些数字不是真实排放量，
# 不得用于任何正式文件。** 使用自有清单时，在清单中填写排污许可执行报告的年实际排放量
# （列名如“颗粒物年排放量（吨）”），并把 `ILLUSTRATIVE_SEED` 设为 `None`。

# %%
policies = spatial.load_policies(POLICIES)
specs = spatial.fact_specs(policies)
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
layers = {
    "builtup": spatial.load_builtup(BUILTUP),
    "heat_sources": spatial.load_heat_sources(HEAT_SOURCES),
}
plants = spatial.add_facts(inventory.enterprises, layers, specs)

# 示意年排放量（吨/年）的量级：按行业的典型值，锅炉按蒸吨折算
TYPICAL_T = {  # industry: (颗粒物, 二氧化硫, 氮氧化物, VOCs)
    "steel": (300, 400, 800, 60),
    "coking": (120, 150, 350, 120),
    "ferroalloy": (60, 40, 60, 0),
    "foundry": (6, 4, 8, 3),
    "brick_kiln": (10, 30, 25, 0),
    "carbon": (20, 35, 30, 15),
    "glassware": (8, 30, 60, 0),
    "chemical": (15, 20, 30, 80),
    "cement": (40, 30, 200, 0),
    "building_materials": (12, 8, 10, 0),
    "refractory": (10, 15, 20, 0),
    "flange": (1, 1, 3, 0),
    "pellet": (30, 60, 80, 0),
    "power": (50, 150, 300, 0),
}
has_emissions = any(c in plants for c in EMISSION_COLUMNS.values())
if ILLUSTRATIVE_SEED is not None and not has_emissions:
    rng = np.random.default_rng(ILLUSTRATIVE_SEED)
    scale = rng.lognormal(0.0, 0.5, size=len(plants))
    tph = pd.to_numeric(plants.get("boiler_tph"), errors="coerce").fillna(10).to_numpy()
    for k, column in enumerate(EMISSION_COLUMNS.values()):
        typical = plants["industry"].map({i: t[k] for i, t in TYPICAL_T.items()}).astype(float)
        boiler = (plants["industry"] == "boiler").to_numpy()
        typical[boiler] = tph[boiler] * (0.4, 1.5, 1.2, 0)[k]
        values = (typical.fillna(5.0).to_numpy() * scale).round(2)
        values[rng.random(len(plants)) < 0.08] = np.nan  # 约8%企业缺数据
        plants[column] = values
    print("已附加示意年排放量（非真实数据）")
else:
    print("使用清单中的年排放量")

decisions = spatial.evaluate(plants, policies)
screened = spatial.summarize(plants, decisions)
table = emission_table(screened, decisions, policies)
print(f"{len(decisions)} 条判定，{decisions['id'].nunique()} 家企业；测算表 {len(table)} 行")
table["status"].value_counts().rename("行数")

# %% [markdown]
# ## 2 · 各县减排量
#
# 采暖季减排量（限产、停产）与年度减排量（关停、淘汰、整改）口径不同，分列；同一企业同一污染物在同一
# 计算期内有多项措施时只计减排量最大的一项，不重复计算。“缺数据”为需要年排放量才能测算、但清单未填的
# 企业家数。

# %%
summary = county_summary(table)
wide = summary[summary["pollutant"] == POLLUTANT].set_index("county")
by_county = pd.DataFrame(
    {
        "企业（家）": wide["plants"],
        "采暖季减排量（吨）": wide["avoided_season_t"].round(1),
        "年度减排量（吨/年）": wide["avoided_year_t"].round(1),
        "待研判排放量（吨/年）": wide["review_t"].round(1),
        "缺数据（家）": wide["no_data_plants"],
        "未能测算（家）": wide["not_quantified_plants"],
    }
).sort_values("采暖季减排量（吨）", ascending=False)
print(f"{POLLUTANT_ZH[POLLUTANT]}：")
display(by_county)

# %%
fig, ax = plt.subplots(figsize=(10, 5.5))
shown = by_county[["采暖季减排量（吨）", "年度减排量（吨/年）", "待研判排放量（吨/年）"]]
shown.index = [
    f"{county}\n缺数据{n}家" if n else county
    for county, n in zip(by_county.index, by_county["缺数据（家）"], strict=True)
]
shown.plot.bar(ax=ax, color=["#2b83ba", "#1a9641", "#fdae61"], width=0.8, rot=0)
ax.set_xlabel("")
ax.set_ylabel("吨")
ax.set_title(f"各县{POLLUTANT_ZH[POLLUTANT]}减排量（示意排放数据）")
ax.tick_params(axis="x", labelsize=8)
fig.tight_layout()
fig.savefig(OUT / "effect_by_county.png", dpi=110)
plt.show()

# %% [markdown]
# ## 3 · 减排贡献最大的企业
#
# 按所选污染物的采暖季减排量排序，列出计入合计的前15家企业及其测算依据。

# %%
info = screened[["id", "name", "industry"]]
top = (
    table[(table["pollutant"] == POLLUTANT) & table["counted"] & (table["period"] == "season")]
    .merge(info, on="id")
    .sort_values("avoided_t", ascending=False)
    .head(15)
)
pd.DataFrame(
    {
        "企业名称": top["name"],
        "县（区、市）": top["county"],
        "行业": top["industry"].map(INDUSTRY_ZH),
        "管控措施": top["action"].map(ACTION_ZH),
        "年排放量（吨）": top["annual_t"].round(1),
        "减排量（吨）": top["avoided_t"].round(2),
        "测算依据": top["basis_zh"],
    }
).reset_index(drop=True)

# %% [markdown]
# ## 4 · 假设情景：某县提高限产比例
#
# 各县可根据当地空气质量改善需求提高错峰生产比例（晋中方案 二、6，二、12），只能提高，不能降低。
# 下面复制晋中政策表，加入一行 `county_overrides`，重新判定并测算，比较该县减排量的变化。

# %%
policy_path = spatial.load_policy("jinzhong-2019").path
raw = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
raw["county_overrides"] = [WHAT_IF]
what_if_path = OUT / "jinzhong-2019-what-if.yaml"
what_if_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
what_if_policies = [
    spatial.load_policy(what_if_path) if p.id == "jinzhong-2019" else p for p in policies
]
decisions_2 = spatial.evaluate(plants, what_if_policies)
table_2 = emission_table(spatial.summarize(plants, decisions_2), decisions_2, what_if_policies)


def season_tonnes(frame: pd.DataFrame) -> pd.Series:
    """The county's seasonal tonnes avoided, per pollutant (counted rows only)."""
    mine = frame[(frame["county"] == WHAT_IF["county"]) & frame["counted"]]
    mine = mine[mine["period"] == "season"]
    return mine.groupby("pollutant")["avoided_t"].sum().reindex(list(POLLUTANT_ZH), fill_value=0)


before, after = season_tonnes(table), season_tonnes(table_2)
what_if = pd.DataFrame(
    {
        "现行（吨）": before.round(2),
        "提高后（吨）": after.round(2),
        "增加（吨）": (after - before).round(2),
    }
).rename(index=POLLUTANT_ZH)
what_if.to_csv(OUT / "what_if.csv", encoding="utf-8-sig")
raised = decisions_2["flags"].str.contains("county_raise", na=False).sum()
industry_zh = INDUSTRY_ZH.get(WHAT_IF["industry"], WHAT_IF["industry"])
print(f"{WHAT_IF['county']}{industry_zh}限产比例提高到{WHAT_IF['min_pct']}%：{raised}条判定改变")
display(what_if)

# %% [markdown]
# ## 5 · 输出
#
# 测算表（每家企业、每项措施、每种污染物一行）写成 CSV；按县和措施汇总的“减排量测算”表写成 Excel，
# 格式与 `spatial screen` 输出的 `lists.xlsx` 中同名工作表相同。

# %%
table.to_csv(OUT / "emission_table.csv", index=False, encoding="utf-8-sig")
workbook = Workbook()
workbook.remove(workbook.active)
write_emission_sheet(workbook, table)
workbook.save(OUT / "减排量测算.xlsx")
print(*sorted(p.name for p in OUT.iterdir()), sep="\n")

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
# # 05 · 晋中错峰生产清单，以及某县提高限产比例的测算
#
# 晋中市2019-2020年秋冬季错峰生产方案按产业政策类别（鼓励类、允许类、限制类）、排放绩效以及是否位于
# 建成区周边10公里内，规定各行业的限产比例；列入绿色工厂的企业、达到超低排放且采用清洁运输的企业
# 豁免（二、2）。各县报送两张清单：错峰生产清单和错峰生产豁免清单（二、8）。县里可以提高限产比例，
# 不得降低（二、6，二、12）。
#
# 本笔记本：
#
# 1. 把晋中的限产矩阵用于企业清单，并展示执行结果；
# 2. 把一个县的错峰生产清单和豁免清单写成 Excel；
# 3. 测算“如果该县提高某一行业的限产比例会怎样”：复制一份政策表，加一行 `county_overrides`，
#    比较前后两份清单。
#
# **换成本县的数据时，只需修改第一个代码格。**
# 输出放在笔记本旁边的 `outputs/05_curtailment_lists/`。

# %%
# ---- INPUTS 输入区：换成本县的文件（示范数据随软件包安装，由 spatial.datasets 找到）----
import os
from pathlib import Path

from spatial import datasets

DEMO = datasets.DEMO_DIR  # 随软件包安装的示范数据，无论装在哪里都能找到
ENTERPRISES = DEMO / "enterprises.csv"  # 企业清单（load_enterprises 能读的任何格式）
ENTERPRISES_CRS = None  # None：wgs84 或各行的坐标系列；也可填 gcj02、bd09……
BUILTUP = DEMO / "builtup.gpkg"  # 建成区：面数据、土地覆盖 .tif 或 .osm 提取
POLICY = "jinzhong-2019"  # 随软件提供的政策表编号，或本地 YAML 政策表的路径
COUNTY = "榆次区"  # 写出清单的县（区、市）
WHAT_IF = {  # 假设情景的 county_overrides 行：该县提高某一行业的限产比例
    "county": COUNTY,
    "industry": "foundry",  # columns.yaml 中的行业代码（foundry = 铸造）；不填则为全部行业
    "min_pct": 50,  # 提高后的限产比例（只能提高：原比例更高的不变）
    "ref": "榆次区秋冬季错峰生产实施方案（假设）",  # 该县的文件和条款
}
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # 输出放在笔记本旁边
OUT = OUT / "05_curtailment_lists"
OUT.mkdir(parents=True, exist_ok=True)
print(f"示范数据：{DEMO}\n输出文件夹：{OUT.resolve()}")

# %%
import pandas as pd
import yaml
from IPython.display import display
from openpyxl import load_workbook

import spatial
from spatial import vocabulary
from spatial.export.excel import read_list, write_lists
from spatial.policy import cite_ref

pd.set_option("display.max_colwidth", 100)

# %% [markdown]
# ## 1 · 执行限产矩阵
#
# 按 `spatial screen` 的步骤逐一执行：读取企业清单，计算是否位于建成区周边，执行政策表，
# 每家企业取最严格的一项措施。

# %%
policy = spatial.load_policy(POLICY)
specs = spatial.fact_specs([policy])
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
layers = {"builtup": spatial.load_builtup(BUILTUP)}
plants = spatial.add_facts(inventory.enterprises, layers, specs)
decisions = spatial.evaluate(plants, [policy])
screened = spatial.summarize(plants, decisions)
print(f"{policy.document.title_zh}（{policy.issued}印发）")
print(f"{decisions['id'].nunique()} 家企业共 {len(decisions)} 项判定")
decisions["action"].map(vocabulary.labels("action")).value_counts().rename_axis("管控措施").rename(
    "企业数"
)

# %% [markdown]
# 执行后的矩阵：各行业在建成区周边10公里以内和以外的限产比例，以及每个比例的企业数。

# %%
info = plants[["id", "county", "industry", "near_city", "policy_class"]]
applied = decisions.merge(info, on="id")
curtailed = applied[applied["action"] == "curtail"].copy()
curtailed["行业"] = curtailed["industry"].map(lambda c: vocabulary.label("industry", c))
within = vocabulary.column_label("near_city")
curtailed[within] = curtailed["near_city"].map({True: "以内", False: "以外"})


def percentages(values: pd.Series) -> str:
    """一组限产比例的写法：'30% ×5家，40% ×8家'。"""
    counts = values.value_counts().sort_index()
    return "，".join(f"{pct:g}% ×{n}家" for pct, n in counts.items())


curtailed.pivot_table(
    index="行业", columns=within, values="curtail_pct", aggfunc=percentages, fill_value=""
)

# %% [markdown]
# 按政策表的条款行和管控措施各列一行，给出依据条款和判定的企业数（规则编号即 YAML 文件中的编号，
# 便于逐条查找核对）。条款所需的条件为空时，判定为“待研判”；企业承担供热任务时，判定为
# “以热定产”（二、6）。

# %%
by_rule = applied.groupby(["rule_id", "action"]).agg(
    curtail_pct=("curtail_pct", lambda s: "、".join(f"{v:g}" for v in sorted(s.dropna().unique()))),
    plants=("id", "size"),
    clause=("rule_ref", "first"),
)
by_rule = by_rule.sort_values("plants", ascending=False).head(15).reset_index()
by_rule["action"] = by_rule["action"].map(vocabulary.labels("action"))
by_rule["clause"] = by_rule["clause"].map(cite_ref)
by_rule.rename(
    columns={
        "rule_id": "规则编号",
        "action": "管控措施",
        "curtail_pct": "限产比例（%）",
        "plants": "企业数",
        "clause": "依据条款",
    }
)

# %% [markdown]
# ## 2 · 该县的清单（Excel）
#
# `write_lists` 按县里报送的格式写出清单：各县的错峰生产清单和豁免清单，以及其他整治措施和
# 待研判的企业，按打印格式排版（A4 横向，每页重复表头）。

# %%
mine = screened[screened["county"] == COUNTY]
mine_decisions = decisions[decisions["id"].isin(mine["id"])]
path = write_lists(OUT / f"{COUNTY}_lists.xlsx", mine, mine_decisions)
workbook = load_workbook(path, read_only=True)
print(f"{path.name}：工作表 {'、'.join(workbook.sheetnames)}")
workbook.close()
display(
    mine["action"]
    .map(vocabulary.labels("action"))
    .value_counts()
    .rename_axis("管控措施")
    .rename(COUNTY)
)

curtail_list = read_list(path, f"{COUNTY}-错峰生产清单")
exempt_list = read_list(path, f"{COUNTY}-豁免清单")
print(f"错峰生产清单 {len(curtail_list)} 行；豁免清单 {len(exempt_list)} 行")
curtail_list[["序号", "企业名称", "行业", "管控措施", "限产比例（%）", "折算停产天数"]].head()

# %%
exempt_list[["序号", "企业名称", "行业", "依据条款", "豁免理由及待核实事项"]].head()

# %% [markdown]
# ## 3 · 如果该县提高限产比例会怎样？
#
# 县里的方案可以把限产比例提高到市里规定之上。这是数据，不是程序：复制一份政策表，加一行
# `county_overrides`。下面这一行就是规划人员手工加到 YAML 文件里的内容。

# %%
raw = yaml.safe_load(policy.path.read_text(encoding="utf-8"))
raw["id"] = f"{raw['id']}-whatif"
raw["county_overrides"] = [*(raw.get("county_overrides") or []), WHAT_IF]
what_if_path = OUT / f"{raw['id']}.yaml"
what_if_path.write_text(
    yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
)
print("county_overrides：")
print(yaml.safe_dump([WHAT_IF], allow_unicode=True, default_flow_style=None, width=200))
what_if = spatial.load_policy(what_if_path)  # 与随软件提供的政策表一样经过校验
print(f"已从 {what_if_path.name} 读取假设情景的政策表")

# %%
decisions_2 = spatial.evaluate(plants, [what_if])
screened_2 = spatial.summarize(plants, decisions_2)
before = screened.set_index("id")[["name", "county", "industry", "curtail_pct", "stop_days"]]
after = screened_2.set_index("id")[["curtail_pct", "stop_days"]]
compare = before.join(after.add_suffix("_what_if"))
pct, pct_what_if = compare["curtail_pct"], compare["curtail_pct_what_if"]
changed = compare[pct.notna() & pct.ne(pct_what_if)]
extra_days = int((changed["stop_days_what_if"] - changed["stop_days"]).sum())
print(f"{WHAT_IF['county']}有 {len(changed)} 家企业变化，整个采暖季合计增加停产 {extra_days} 天")
shown = vocabulary.table(changed.reset_index()).rename(
    columns={"curtail_pct_what_if": "假设情景限产比例(%)", "stop_days_what_if": "假设情景停产天数"}
)
shown.head(10)

# %% [markdown]
# 提高后的判定在说明和依据中写明，待核实事项也记下这一提高，清单中可以看出县里在哪些地方超出了
# 市里的规定：

# %%
raised = decisions_2[decisions_2["flags"].fillna("").str.contains("county_raise")]
vocabulary.table(
    raised, ["id", "curtail_pct", "stop_days", "rule_ref", "flags_zh", "reason_zh"], "decisions"
).head(3)

# %% [markdown]
# 假设情景下的清单，与现行清单并排写出，便于比较：

# %%
mine_2 = screened_2[screened_2["county"] == COUNTY]
path_2 = write_lists(
    OUT / f"{COUNTY}_lists_what_if.xlsx",
    mine_2,
    decisions_2[decisions_2["id"].isin(mine_2["id"])],
)
summary = pd.DataFrame(
    {
        "现行": mine.groupby("industry")["stop_days"].sum(),
        "假设情景": mine_2.groupby("industry")["stop_days"].sum(),
    }
)
summary = summary[summary.sum(axis=1) > 0].astype(int)
summary.index = summary.index.map(lambda code: vocabulary.label("industry", code))
print(f"已写出 {path_2.name}；{COUNTY}各行业折算停产天数：")
summary.assign(变化=summary["假设情景"] - summary["现行"]).rename_axis("行业")

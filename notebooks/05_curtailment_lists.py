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
# # 05 · Jinzhong curtailment lists, and a county's what-if
#
# Jinzhong's 2019-2020 plan sets each industry's curtailment percentage by its policy class
# (encouraged / permitted / restricted), its emission performance and whether it lies within
# 10 km of a built-up area; green factories and ultra-low plants with clean transport are
# exempt (004 §二2). Each county then submits two lists: the curtailment list (错峰生产清单) and
# the exemption list (错峰生产豁免清单) (§二8). A county may raise a percentage, never lower it
# (§二6, §二12).
#
# This notebook
#
# 1. applies the Jinzhong matrix to the inventory and shows it as applied;
# 2. writes one county's curtailment and exemption lists to Excel;
# 3. asks "what if the county raises the percentage for one industry?" with a copy of the
#    policy table that has one `county_overrides` row, and compares the lists.
#
# **To use your own files, change only the first code cell.** Outputs go to
# `outputs/05_curtailment_lists/` beside the notebook.

# %%
import os
from pathlib import Path

import pandas as pd
import yaml
from IPython.display import display
from openpyxl import load_workbook

import spatial
from spatial import datasets
from spatial.export.excel import INDUSTRY_ZH, read_list, write_lists
from spatial.policy import ACTION_ZH

DEMO = datasets.DEMO_DIR  # the demo data shipped inside the package, found wherever it is installed

# ---- INPUTS: point these at your own files ---------------------------------------------------
ENTERPRISES = DEMO / "enterprises.csv"  # the inventory (any format load_enterprises reads)
ENTERPRISES_CRS = None  # None: wgs84, or each row's coord_sys column; else gcj02, bd09 ...
BUILTUP = DEMO / "builtup.gpkg"  # built-up areas: polygons, a land-cover .tif or an .osm extract
POLICY = "jinzhong-2019"  # shipped id or the path of your own YAML table
COUNTY = "榆次区"  # the county whose lists are written
WHAT_IF = {  # the county_overrides row of the what-if: the county raises one industry's percent
    "county": COUNTY,
    "industry": "foundry",  # a code of columns.yaml (foundry = 铸造); leave out for every industry
    "min_pct": 50,  # the raised percentage (a raise only: lower percentages stay as they are)
    "ref": "榆次区秋冬季错峰生产实施方案（假设）",  # the county's document and clause
}
# -----------------------------------------------------------------------------------------------

OUT = Path(os.environ.get("SPATIAL_NOTEBOOKS_OUT", "outputs"))  # beside the notebook
OUT = OUT / "05_curtailment_lists"
OUT.mkdir(parents=True, exist_ok=True)
pd.set_option("display.max_colwidth", 100)
print(f"demo data: {DEMO}\noutputs: {OUT.resolve()}")

# %% [markdown]
# ## 1 · Apply the matrix
#
# The steps of `spatial screen`, one by one: load the inventory, measure the near-city fact,
# evaluate the table, and keep each plant's most severe decision.

# %%
policy = spatial.load_policy(POLICY)
specs = spatial.fact_specs([policy])
inventory = spatial.load_enterprises(ENTERPRISES, crs=ENTERPRISES_CRS)
layers = {"builtup": spatial.load_builtup(BUILTUP)}
plants = spatial.add_facts(inventory.enterprises, layers, specs)
decisions = spatial.evaluate(plants, [policy])
screened = spatial.summarize(plants, decisions)
print(f"{policy.id}: {policy.title} (issued {policy.issued})")
print(f"{len(decisions)} decisions for {decisions['id'].nunique()} plants")
decisions["action"].map(ACTION_ZH).value_counts().rename("plants")

# %% [markdown]
# The matrix as applied: for each industry, the curtailment percentages given inside and outside
# the 10 km band, with the number of plants at each percentage.

# %%
info = plants[["id", "county", "industry", "near_city", "policy_class"]]
applied = decisions.merge(info, on="id")
curtailed = applied[applied["action"] == "curtail"].copy()
curtailed["行业"] = curtailed["industry"].map(INDUSTRY_ZH).fillna(curtailed["industry"])
curtailed["10 km"] = curtailed["near_city"].map({True: "以内", False: "以外"})


def percentages(values: pd.Series) -> str:
    """'30% ×5, 40% ×8' for a group of percentages."""
    counts = values.value_counts().sort_index()
    return ", ".join(f"{pct:g}% ×{n}" for pct, n in counts.items())


curtailed.pivot_table(
    index="行业", columns="10 km", values="curtail_pct", aggfunc=percentages, fill_value=""
)

# %% [markdown]
# One line per row of the table and action, with the clause and how many plants it decided (the
# rule ids are those of the YAML file, so a planner can find and check each one). A row can give
# `review` instead of its action when a condition it needs is blank, or `heat_determined` when
# the plant supplies heat (§二6).

# %%
by_rule = applied.groupby(["rule_id", "action"]).agg(
    curtail_pct=("curtail_pct", lambda s: ", ".join(f"{v:g}" for v in sorted(s.dropna().unique()))),
    plants=("id", "size"),
    clause=("rule_ref", "first"),
)
by_rule.sort_values("plants", ascending=False).head(15)

# %% [markdown]
# ## 2 · The county's lists, in Excel
#
# `write_lists` writes the lists as the county office submits them: a curtailment list and an
# exemption list per county, plus the other measures and the cases left for review (待研判),
# formatted for printing (landscape A4, header on every page).

# %%
mine = screened[screened["county"] == COUNTY]
mine_decisions = decisions[decisions["id"].isin(mine["id"])]
path = write_lists(OUT / f"{COUNTY}_lists.xlsx", mine, mine_decisions)
workbook = load_workbook(path, read_only=True)
print(f"{path.name}: sheets {', '.join(workbook.sheetnames)}")
workbook.close()
display(mine["action"].map(ACTION_ZH).value_counts().rename(COUNTY))

curtail_list = read_list(path, f"{COUNTY}-错峰生产清单")
exempt_list = read_list(path, f"{COUNTY}-豁免清单")
print(f"curtailment list: {len(curtail_list)} rows; exemption list: {len(exempt_list)} rows")
curtail_list[["序号", "企业名称", "行业", "管控措施", "限产比例（%）", "折算停产天数"]].head()

# %%
exempt_list[["序号", "企业名称", "行业", "依据条款", "豁免理由及待核实事项"]].head()

# %% [markdown]
# ## 3 · What if the county raises a percentage?
#
# A county's own plan may raise a percentage above the city's. That is data, not code: a copy of
# the policy table with one `county_overrides` row. The row below is what a planner would add to
# the YAML file by hand.

# %%
raw = yaml.safe_load(policy.path.read_text(encoding="utf-8"))
raw["id"] = f"{raw['id']}-whatif"
raw["county_overrides"] = [*(raw.get("county_overrides") or []), WHAT_IF]
what_if_path = OUT / f"{raw['id']}.yaml"
what_if_path.write_text(
    yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
)
print("county_overrides:")
print(yaml.safe_dump([WHAT_IF], allow_unicode=True, default_flow_style=None, width=200))
what_if = spatial.load_policy(what_if_path)  # validated like any shipped table
print(f"loaded {what_if.id} from {what_if_path.name}")

# %%
decisions_2 = spatial.evaluate(plants, [what_if])
screened_2 = spatial.summarize(plants, decisions_2)
before = screened.set_index("id")[["name", "county", "industry", "curtail_pct", "stop_days"]]
after = screened_2.set_index("id")[["curtail_pct", "stop_days", "reason_zh"]]
compare = before.join(after.add_suffix("_what_if"))
pct, pct_what_if = compare["curtail_pct"], compare["curtail_pct_what_if"]
changed = compare[pct.notna() & pct.ne(pct_what_if)]
extra_days = int((changed["stop_days_what_if"] - changed["stop_days"]).sum())
print(
    f"{len(changed)} plants in {WHAT_IF['county']} change, "
    f"{extra_days} more stop-days over the season in total"
)
changed.drop(columns="reason_zh_what_if").head(10)

# %% [markdown]
# The reason and the reference of a raised decision say so, and its flags record the raise
# (`county_raise:40->50`), so the list shows where the county went beyond the city's table:

# %%
raised = decisions_2[decisions_2["flags"].fillna("").str.contains("county_raise")]
raised[["id", "curtail_pct", "stop_days", "rule_ref", "flags", "reason_zh"]].head(3)

# %% [markdown]
# The what-if lists, written next to the current ones for comparison:

# %%
mine_2 = screened_2[screened_2["county"] == COUNTY]
path_2 = write_lists(
    OUT / f"{COUNTY}_lists_what_if.xlsx",
    mine_2,
    decisions_2[decisions_2["id"].isin(mine_2["id"])],
)
summary = pd.DataFrame(
    {
        "current": mine.groupby("industry")["stop_days"].sum(),
        "what if": mine_2.groupby("industry")["stop_days"].sum(),
    }
)
summary = summary[summary.sum(axis=1) > 0].astype(int)
summary.index = summary.index.map(lambda code: INDUSTRY_ZH.get(code, code))
print(f"{path_2.name} written; stop-days per industry in {COUNTY}:")
summary.assign(change=summary["what if"] - summary["current"])

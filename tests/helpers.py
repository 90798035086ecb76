"""Small builders shared by several test modules (test modules never import each other)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from spatial.export.styles import ACTIONS

DEMO_AS_OF = dt.date(2024, 11, 15)
"""The date of the shared demo run (``demo_run`` in tests/conftest.py): inside the Jinzhong
heating season, with the Dingxiang phases set."""
HEADER = "id,name,industry,county,policy_class,compliant,lon,lat"
"""The English header of the tiny inventories the tests write."""


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    """Write CSV lines (joined with CRLF, as Excel does) in the given encoding."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


# --------------------------------------------------------------------------------------------
# Decisions and plants for the emission tables (tests/test_emissions.py, tests/export/...)


def decision(id_, policy, action, **extra) -> dict:
    row = {
        "id": id_,
        "policy": policy,
        "rule_id": "r",
        "action": action,
        "curtail_pct": None,
        "stop_days": None,
        "deadline": None,
        "window_start": None,
        "window_end": None,
        "rule_ref": "x §1",
        "reason_zh": "",
        "flags": "",
    }
    row.update(extra)
    return row


def plant(id_, county="榆次区", **columns) -> dict:
    return {"id": id_, "county": county, **columns}


# --------------------------------------------------------------------------------------------
# Every layer of screening.gpkg, tiny (tests/export/test_gpkg.py, test_qgis.py)

ACTION_CODES = [code for code, _, _ in ACTIONS]
METADATA = {
    "tool": "spatial-screening",
    "version": "0.1.0",
    "as_of": dt.date(2024, 11, 15),  # not JSON: stored as text
    "policies": [
        {"id": "jinzhong-2019", "version": "1", "issued": "2019-08-21", "source": "004.txt"},
        {"id": "xinzhou-2024", "version": "2", "issued": "2024-04-09", "source": "001.txt"},
    ],
    "inputs": {"enterprises": {"path": "/data/企业.csv", "sha256": "ab" * 32}},
}


def screening_layers(action: bool = True) -> dict[str, pd.DataFrame]:
    """Every layer of the contract, tiny: one enterprise per action (and one undecided)."""
    n = len(ACTION_CODES) + 1
    enterprises = gpd.GeoDataFrame(
        {
            "id": [f"E{i:02d}" for i in range(n)],
            "name": [f"企业{i}" for i in range(n)],
            "industry": "foundry",
            "dist_builtup_m": [i * 1500.0 for i in range(n)],
            "nearest_builtup": "榆次区",
            "near_city": [i * 1500.0 <= 10000 for i in range(n)],
            "heat_source_id": "HS-1",
            "dist_heat_m": 12000.0,
            "in_heat_radius": True,
            "action": [*ACTION_CODES, None],
            "curtail_pct": [30.0] * n,
            "stop_days": [46.0] * n,
            "rule_ref": "004.txt §三(一)4",
            "reason_zh": "铸造企业，位于建成区周边10公里内",
            "zone_phase": [1.0] + [None] * (n - 1),
            "lon": [112.60 + 0.02 * i for i in range(n)],
            "lat": [37.60 + 0.01 * i for i in range(n)],
            "lon_input": [112.60 + 0.02 * i for i in range(n)],
        },
        geometry=gpd.points_from_xy([112.60 + 0.02 * i for i in range(n)], [37.6] * n),
        crs=4326,
    )
    if not action:
        enterprises = enterprises.drop(columns=["action", "curtail_pct", "stop_days"])
    builtup = gpd.GeoDataFrame(
        {"name": ["榆次区", "太谷区"], "level": ["city", "county"], "source": "polygons"},
        geometry=[box(112.72, 37.67, 112.78, 37.72), box(112.53, 37.40, 112.57, 37.44)],
        crs=4326,
    )
    heat = gpd.GeoDataFrame(
        {
            "id": ["HS-1", "HS-2", "HS-3"],
            "name": ["甲热电", "乙热电", "丙供热"],
            "kind": ["chp", "chp", "industrial"],
            "capacity_mw": [600.0, 100.0, 200.0],
            # the pipeline's field (the policy table's selection): HS-2 is below 300 MW
            "counts_for_radius": [True, False, True],
        },
        geometry=gpd.points_from_xy([112.7, 112.9, 112.5], [37.8, 37.9, 37.5]),
        crs=4326,
    )

    def buffers(features, fact, within, centres):
        return gpd.GeoDataFrame(
            {"feature": features, "fact": fact, "within_m": within, "policy": "p", "rule_ref": "r"},
            geometry=[Point(x, y).buffer(within / 111000) for x, y in centres],
            crs=4326,
        )

    zones = gpd.GeoDataFrame(
        {
            "phase": [1, 2, 3],
            "start": ["2024-05-01", "2024-10-01", "2025-04-01"],
            "end": ["2024-10-01", "2025-04-01", "2025-10-01"],
            "area_name": ["三环路范围以内", "神山乡", "蒋村镇"],
            "kind": ["ring_road", "township", "township"],
        },
        geometry=[box(112.9 + i * 0.05, 38.4, 112.94 + i * 0.05, 38.44) for i in range(3)],
        crs=4326,
    )
    return {
        "enterprises": enterprises,
        "decisions": pd.DataFrame(
            {"id": ["E00", "E00"], "policy": ["jinzhong-2019", "xinzhou-2024"],
             "action": ["shutdown", "clear"], "rule_ref": ["a", "b"], "flags": ["", ""]}
        ),
        "rejected": pd.DataFrame(
            {"row": [3], "reason": ["经度不是数字"], "reason_code": ["not_a_number"],
             "source": ["plants.csv"], "lon": ["abc"]}
        ),
        "builtup": builtup,
        "heat_sources": heat,
        "near_city_10km": buffers(["榆次区", "太谷区"], "near_city", 10000.0,
                                  [(112.75, 37.69), (112.55, 37.42)]),
        "heat_radius_30km": buffers(["HS-1", "HS-3"], "in_heat_radius", 30000.0,
                                    [(112.7, 37.8), (112.5, 37.5)]),
        "dingxiang_zones": zones,
    }  # fmt: skip


# --------------------------------------------------------------------------------------------
# Plants and layers for the web map and the figures (tests/export/test_webmap.py,
# test_figures.py)

XSS_NAME = "<img src=x onerror=\"window.__xss=1;alert('xss')\">"
XSS_SCRIPT = "</script><script>window.__xss=2</script>"
XSS_AREA = "<svg onload=window.__xss=3>东关片区"
CURTAIL_NAME = "晋中市祁县昌源铸造有限公司"


def sample() -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame]]:
    """Eight plants around Qixian with decisions, hostile names, three at one spot, and every
    context layer."""
    lons = [112.30, 112.36, 112.42, 112.48, 112.54, 112.60, 112.54, 112.54]
    lats = [37.35, 37.40, 37.35, 37.40, 37.35, 37.40, 37.35, 37.35]
    enterprises = gpd.GeoDataFrame(
        {
            "id": ["QX-001", "QX-002", "QX-003", "QX-004", "QX-005", "QX-006", "QX-007", "QX-008"],
            "name": [
                CURTAIL_NAME,
                XSS_NAME,
                XSS_SCRIPT,
                "山西鑫磊焦化有限公司",
                "祁县甲厂",
                "乙厂",
                "同址甲厂",
                "同址<i>乙</i>厂",
            ],
            "industry": [
                "foundry",
                "coking",
                "steel",
                "coking",
                "flange",
                "mystery",
                "coking",
                None,
            ],
            "county": ["祁县", "祁县", "祁县", "<b>太谷区</b>", "太谷区", None, "太谷区", "太谷区"],
            "dist_builtup_m": [2973.4, 0.0, 15000.0, 8123.9, None, 420.0, 100.0, 100.0],
            "nearest_builtup": ["祁县", "祁县", "祁县", "太谷区", None, "太谷区", None, None],
            "near_city": [True, True, False, True, None, True, True, True],
            "action": [
                "curtail",
                "shutdown",
                "exempt",
                "review",
                "rotate",
                None,
                "review",
                "exempt",
            ],
            "curtail_pct": [30.0, None, None, None, None, None, None, None],
            "stop_days": [None, 120.0, None, None, None, None, None, None],
            "rule_ref": [
                "004_8ff93025e2acb35e.txt §三(一)4",
                "004.txt §二4",
                "",
                None,
                "x",
                None,
                None,
                None,
            ],
            "reason_zh": [
                "铸造企业，位于建成区周边10公里内",
                "<b>粗体</b>",
                None,
                None,
                "轮产",
                "",
                None,
                None,
            ],
        },
        geometry=gpd.points_from_xy(lons, lats),
        crs="EPSG:4490",
    )
    builtup = gpd.GeoDataFrame(
        {"name": ["祁县", "太谷区"], "level": ["county", "county"]},
        geometry=[box(112.30, 37.34, 112.34, 37.37), box(112.50, 37.38, 112.53, 37.41)],
        crs="EPSG:4490",
    )
    near = gpd.GeoDataFrame(
        {"feature": ["祁县"], "fact": ["near_city"], "within_m": [10000.0]},
        geometry=[Point(112.32, 37.355).buffer(0.12)],
        crs="EPSG:4490",
    )
    heat = gpd.GeoDataFrame(
        {
            "id": ["HS-1", "HS-2"],
            "name": ["祁县热电厂", "工业锅炉房"],
            "kind": ["chp", "industrial"],
            "capacity_mw": [350.0, 40.0],
        },
        geometry=gpd.points_from_xy([112.45, 112.33], [37.45, 37.44]),
        crs="EPSG:4490",
    )
    radius = gpd.GeoDataFrame(
        {"feature": ["HS-1"], "fact": ["in_heat_radius"], "within_m": [30000.0]},
        geometry=[Point(112.45, 37.45).buffer(0.35)],
        crs="EPSG:4490",
    )
    zones = gpd.GeoDataFrame(
        {
            "phase": [1, 2, 2],
            "start": ["2024-10-01", "2025-03-01", "2025-03-01"],
            "end": ["2025-02-28", "2025-10-31", "2025-10-31"],
            "area_name": ["晋昌镇环路", XSS_AREA, "宏道片区"],
            "kind": ["ring_road", "cluster", "village"],
            "status": ["active", "planned", "planned"],
        },
        geometry=[
            box(112.40, 37.30, 112.44, 37.33),
            box(112.55, 37.30, 112.58, 37.33),
            box(112.59, 37.30, 112.62, 37.33),
        ],
        crs="EPSG:4490",
    )
    layers = {
        "builtup": builtup,
        "near_city_10km": near,
        "heat_sources": heat,
        "heat_radius_30km": radius,
        "dingxiang_zones": zones,
        "rejected": None,
    }
    return enterprises, layers

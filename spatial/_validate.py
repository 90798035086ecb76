"""Gather every problem of every row, then report them together.

A row with several problems gets one ``reason`` that lists them all, so a county office fixes
its sheet in one pass instead of one error per run. Each problem also keeps the column and the
value it is about, for the ``spatial check`` report (:meth:`Problems.details`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class Problems:
    """Problems per row position, kept in the order they were found.

    Examples
    --------
    >>> p = Problems(3)
    >>> p.add(np.array([True, False, True]), "empty_id", "id: empty", column="id")
    >>> texts = pd.Series(["lon: missing"] * 3)
    >>> p.add(np.array([True, False, False]), "missing_coordinates", texts)
    >>> p.frame()["reason"].tolist()
    ['id: empty; lon: missing', 'id: empty']
    >>> p.details()[["pos", "reason_code", "column"]].values.tolist()[:2]
    [[0, 'empty_id', 'id'], [0, 'missing_coordinates', None]]
    """

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self._found: list[tuple[np.ndarray, str, np.ndarray, np.ndarray, np.ndarray]] = []

    def _at(self, values: object, positions: np.ndarray) -> np.ndarray:
        """Values for ``positions``: given per row (length n_rows) or already per position."""
        array = np.asarray(values, dtype=object)
        if array.ndim == 0:
            return np.full(positions.size, array.item(), dtype=object)
        if array.size == self.n_rows:
            return array[positions]
        if array.size == positions.size:
            return array
        raise ValueError(
            f"got {array.size} values for {self.n_rows} rows and {positions.size} problems"
        )

    def add(
        self,
        mask: np.ndarray | pd.Series,
        code: str,
        message: str | pd.Series | np.ndarray | list,
        *,
        column: str | pd.Series | np.ndarray | list | None = None,
        value: str | pd.Series | np.ndarray | list | None = None,
    ) -> None:
        """Record ``code``/``message`` for the rows where ``mask`` is true.

        Parameters
        ----------
        mask
            One boolean per row position.
        code
            A short stable key for counting (``missing_coordinates``, ``duplicate_id`` ...).
        message
            One message for all rows, or per-row messages: either one per row position
            (aligned by position) or one per true value of ``mask``, in order.
        column
            The (contract) column the problem is about, if one; or one per row position or per
            true value of ``mask``.
        value
            The offending cell text: one for all, per row position or per true value of
            ``mask``.
        """
        mask = np.asarray(mask, dtype=bool)
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        texts = self._at(message, positions)
        columns = self._at(column, positions)
        values = self._at(value, positions)
        self._found.append((positions, code, texts, columns, values))

    def bad_mask(self) -> np.ndarray:
        """True for every row position with at least one problem."""
        mask = np.zeros(self.n_rows, dtype=bool)
        for positions, *_ in self._found:
            mask[positions] = True
        return mask

    def details(self) -> pd.DataFrame:
        """One row per problem: ``pos``, ``reason_code``, ``column``, ``value``, ``message``.

        Sorted by row position, then in the order the problems were found.
        """
        if not self._found:
            return pd.DataFrame(
                {
                    "pos": pd.Series(dtype=np.int64),
                    **{k: pd.Series(dtype=object) for k in ("reason_code", "column", "value")},
                    "message": pd.Series(dtype=object),
                }
            )
        pos = np.concatenate([f[0] for f in self._found])
        order = np.concatenate([np.full(f[0].size, i) for i, f in enumerate(self._found)])
        sort = np.lexsort((order, pos))
        codes = np.concatenate([np.full(f[0].size, f[1], dtype=object) for f in self._found])
        texts = np.concatenate([f[2] for f in self._found])
        columns = np.concatenate([f[3] for f in self._found])
        values = np.concatenate([f[4] for f in self._found])
        return pd.DataFrame(
            {
                "pos": pos[sort],
                "reason_code": pd.Series(codes[sort], dtype=object),
                "column": pd.Series(columns[sort], dtype=object),
                "value": pd.Series(values[sort], dtype=object),
                "message": pd.Series(texts[sort], dtype=object),
            }
        )

    def frame(self) -> pd.DataFrame:
        """One row per bad position: ``reason`` (all messages) and ``reason_code`` (all codes).

        The index is the row position.
        """
        details = self.details()
        pos = details["pos"].to_numpy()
        if pos.size == 0:
            return pd.DataFrame(
                {"reason": pd.Series(dtype=object), "reason_code": pd.Series(dtype=object)}
            )
        starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
        ends = np.r_[starts[1:], pos.size]
        texts = details["message"].astype(str).to_numpy(dtype=object)
        codes = details["reason_code"].to_numpy(dtype=object)
        reasons, reason_codes = [], []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if end - start == 1:
                reasons.append(texts[start])
                reason_codes.append(codes[start])
            else:
                reasons.append("; ".join(texts[start:end]))
                reason_codes.append(";".join(dict.fromkeys(codes[start:end])))
        return pd.DataFrame(
            {"reason": reasons, "reason_code": reason_codes}, index=pd.Index(pos[starts])
        )

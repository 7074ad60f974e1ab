"""The distinct weight vectors of the mentees' goals, a row each; a mentee keeps a row number.

Most mentees keep the default weights or a variant of them (criteria they gave no data for
are off), so this table has a few rows and stays in cache. Eight floats per mentee were the
widest column that a mentor's search streams through at 500,000 mentees.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

UNUSED = (0.0,) * 8  # row 0: what an empty table row reads (no weight, a total of 1)


class WeightProfiles:
    def __init__(self) -> None:
        self.row_of: dict[tuple[float, ...], int] = {}
        self.weights: FloatArray = np.zeros((16, 8))
        self.totals: FloatArray = np.ones(16)
        self.row(UNUSED, 1.0)

    def __len__(self) -> int:
        return len(self.row_of)

    def row(self, weights: tuple[float, ...], total: float) -> int:
        """The row of these weights (criteria order) and their total, added if new."""
        found = self.row_of.get(weights)
        if found is None:
            found = len(self.row_of)
            if found == self.totals.size:
                self.weights = np.concatenate([self.weights, np.zeros_like(self.weights)])
                self.totals = np.concatenate([self.totals, np.ones_like(self.totals)])
            self.weights[found], self.totals[found] = weights, total
            self.row_of[weights] = found
        return found

    def keep_only(self, used: IntArray) -> IntArray:
        """Drop the rows not in `used` (row numbers); returns old row -> new row."""
        kept = np.union1d([0], used)
        renumber = np.zeros(self.totals.size, np.int64)
        renumber[kept] = np.arange(kept.size)
        by_row = {row: weights for weights, row in self.row_of.items()}
        self.row_of = {by_row[row]: index for index, row in enumerate(kept.tolist())}
        self.weights, self.totals = self.weights[kept].copy(), self.totals[kept].copy()
        return renumber

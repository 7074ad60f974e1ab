"""What a mentor's search reads of each mentee, packed into one 64-byte row.

A mentor's search reads hundreds of thousands of mentee rows in slot order, most of them only
to drop them after a criterion or two. Read from a dozen column arrays, every candidate costs a
cache line in each; packed here, its first criteria cost one line. The columns stay what the
rest of the engine reads and writes; MenteeTable.fill packs a row whenever it writes one.

The industries, functions, styles and languages are 64-bit masks of the value ids: bit v for
id v below 63. Bit 63 (MORE) says "read the ids instead": an id of 63 or more, an id named
twice, or a count that is not the ids' (the mask cannot count those exactly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

MORE = np.uint64(1 << 63)

_FIELDS = (
    ("industries", np.uint64),
    ("functions", np.uint64),
    ("styles", np.uint64),
    ("languages", np.uint64),
    ("uid", np.int32),
    ("manager", np.int32),
    ("profile", np.int32),
    ("partition", np.int32),
    ("years", np.int16),
    ("n_goal", np.int16),
    ("n_ind", np.int16),
    ("n_fun", np.int16),
    ("n_sty", np.int16),
)
LINE = 64
PACKED = np.dtype(
    {
        "names": [name for name, _ in _FIELDS],
        "formats": [kind for _, kind in _FIELDS],
        "itemsize": LINE,
        "aligned": True,
    }
)


def packed_rows(capacity: int, keep: Any = None) -> Any:
    """Zeroed rows starting on a cache line (a large allocation starts 16 bytes past one, so
    every row would straddle two), with `keep`'s rows copied in first."""
    raw = np.zeros(capacity * LINE + LINE, np.uint8)
    skip = -raw.ctypes.data % LINE
    rows = raw[skip : skip + capacity * LINE].view(PACKED)
    if keep is not None:
        rows[: keep.size] = keep
    return rows


@njit(cache=True, inline="always")
def row_mask(ids: Any, row: int, count: int) -> Any:
    """The mask of one row of `ids` (PAD-terminated); count < 0: no count to match."""
    mask, named, repeated = np.uint64(0), 0, False
    for column in range(ids.shape[1]):
        value = ids[row, column]
        if value < 0:
            break
        named += 1
        bit = MORE if value >= 63 else np.uint64(1) << np.uint64(value)
        repeated |= (mask & bit) != 0
        mask |= bit
    if repeated or (count >= 0 and named != count):
        mask |= MORE
    return mask


@njit(cache=True)
def pack(packed: Any, slots: Any, columns: Any, ids: Any) -> None:
    """Write these slots' packed rows from the table's columns: (uid, manager, profile,
    partition, years, n_goal, n_ind, n_fun, n_sty) and ids (targets_ind, targets_fun, styles,
    langs), in one compiled call."""
    uid, manager, profile, partition, years, n_goal, n_ind, n_fun, n_sty = columns
    industries, functions, styles, languages = ids
    for slot in slots:
        row = packed[slot]
        row.uid, row.manager, row.profile = uid[slot], manager[slot], profile[slot]
        row.partition, row.years, row.n_goal = partition[slot], years[slot], n_goal[slot]
        row.n_ind, row.n_fun, row.n_sty = n_ind[slot], n_fun[slot], n_sty[slot]
        row.industries = row_mask(industries, slot, n_ind[slot])
        row.functions = row_mask(functions, slot, n_fun[slot])
        row.styles = row_mask(styles, slot, n_sty[slot])
        row.languages = row_mask(languages, slot, -1)


def mentor_mask(lookup: Any) -> np.uint64:
    """The mentor's values (non-zero cells of a lookup vector) with ids below 63 as a mask."""
    ids = np.flatnonzero(lookup[:-1])  # the last cell is PAD's
    mask = 0
    for value in ids[ids < 63].tolist():
        mask |= 1 << value
    return np.uint64(mask)

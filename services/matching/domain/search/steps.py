"""The scoring steps the compiled searches share: criteria.score_pair's arithmetic, compiled.

Every similarity is a ratio of small integers, computed with the same operations in the same
order as criteria.py (no fast-math), so a pair scored in full gets score_pair's exact total.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from services.matching.domain import criteria
from services.matching.domain.criteria import ENOUGH_COMMON_HOURS, TIMEZONE_TOLERANCE_MINUTES

MARGIN = 1e-9  # a bound never falls below the exact score through rounding
DIFFERENT = 2  # background preference code (tables.BACKGROUND_CODES)
_M1, _M2, _M4 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F
_H01 = 0x0101010101010101

experience = njit(cache=True, inline="always")(criteria.experience_fit)


@njit(cache=True, inline="always")
def popcount(x: Any) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(_M1))
    x = (x & np.uint64(_M2)) + ((x >> np.uint64(2)) & np.uint64(_M2))
    x = (x + (x >> np.uint64(4))) & np.uint64(_M4)
    return int((x * np.uint64(_H01)) >> np.uint64(56))


@njit(cache=True, inline="always")
def share(count: int, size: int) -> float:
    return count / size if size > 0 else 0.0


@njit(cache=True, inline="always")
def background(same: int, known: int, dims: int, preference: int) -> float:
    return share(known - same, dims) if preference == DIFFERENT else share(same, dims)


@njit(cache=True, inline="always")
def availability(week_a: Any, week_b: Any, offset_a: int, offset_b: int) -> float:
    overlap = (
        popcount(week_a[0] & week_b[0])
        + popcount(week_a[1] & week_b[1])
        + popcount(week_a[2] & week_b[2])
    )
    any_a = (week_a[0] | week_a[1] | week_a[2]) != 0
    any_b = (week_b[0] | week_b[1] | week_b[2]) != 0
    if any_a and any_b:
        return min(1.0, overlap / ENOUGH_COMMON_HOURS)
    return max(0.0, 1 - abs(offset_a - offset_b) / TIMEZONE_TOLERANCE_MINUTES)


@njit(cache=True, inline="always")
def weighted_mean(w: Any, row: int, total: float, sims: Any) -> float:
    """score_pair's weighted mean, summed in criterion order (0 to 7) as it does."""
    s0, s1, s2, s3, s4, s5, s6, s7 = sims
    acc = w[row, 0] * s0
    acc = acc + w[row, 1] * s1
    acc = acc + w[row, 2] * s2
    acc = acc + w[row, 3] * s3
    acc = acc + w[row, 4] * s4
    acc = acc + w[row, 5] * s5
    acc = acc + w[row, 6] * s6
    acc = acc + w[row, 7] * s7
    result: float = acc / total
    return result


@njit(cache=True, inline="always")
def short(partial: float, to_come: float, need: float) -> bool:
    """The pair's bound (what it has plus all still to come) falls below what it must reach."""
    return partial + to_come < need


@njit(cache=True, inline="always")
def holds(sorted_slots: Any, slot: int) -> bool:
    if sorted_slots.size == 0:
        return False
    index = np.searchsorted(sorted_slots, slot)
    found: bool = index < sorted_slots.size and sorted_slots[index] == slot
    return found

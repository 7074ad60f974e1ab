"""The float32 bound of a goal's search: which mentors can reach their list's floor at all."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

ROUNDING = 1e-5  # slack for the float32 bound: its rounding on a few terms in [0, 1] is ~1e-7


@njit(cache=True, nogil=True, inline="always")
def _add_share(bound: Any, weight: float, count: int, values: Any, span: Any) -> None:
    """bound += weight * (the share of the mentee's `count` values each mentor holds)."""
    if count <= 0:
        return
    ids, rows = values
    first, end = span
    per_value = np.float32(weight / count)
    for value in ids:
        row = rows[value][first:end]
        for i in range(row.size):
            bound[i] += per_value * np.float32(row[i])


@njit(cache=True, nogil=True)
def within_reach(
    goal_ids: Any, mentors: Any, mentee: Any, shares: Any, languages: Any, span: Any
) -> Any:
    """The mentor slots of `span` that mentors_reaching must look at, with their level sums in
    the goal's skills: open, holding one of those skills, and either with a closed list or
    with a bound that reaches their floor.

    The bound counts skills, industry, function, style and language exactly and the other
    criteria (experience, background, availability) as perfect. It is computed a criterion
    at a time over all the span's mentors, from the mentor table's rows, each loop reading
    contiguous slices from index 0 so that it vectorises. It is summed in float32 with
    ROUNDING to spare, so it never falls below a score that reaches the floor (tested in
    tests/unit/matching/test_score_conformance.py).
    """
    levels, is_open, floor, closed = mentors
    w, total, n_goal, n_ind, n_fun, n_sty = mentee
    first, end = span
    size = end - first
    level_sum = np.zeros(size, np.int32)
    for skill in goal_ids:
        row = levels[skill][first:end]
        for i in range(size):
            level_sum[i] += row[i]
    bound = np.empty(size, np.float32)
    per_level = np.float32(w[0, 0] / (5 * n_goal) / total) if n_goal > 0 else np.float32(0.0)
    perfect = np.float32((w[0, 1] + w[0, 4] + w[0, 7]) / total)
    unreachable = np.float32(-9.0)
    for i in range(size):
        has_skill = level_sum[i] > 0
        bound[i] = per_level * np.float32(level_sum[i]) + perfect if has_skill else unreachable
    (industries, r_ind), (functions, r_fun), (styles, r_styles) = shares
    _add_share(bound, w[0, 2] / total, n_ind, (industries, r_ind), span)
    _add_share(bound, w[0, 3] / total, n_fun, (functions, r_fun), span)
    _add_share(bound, w[0, 5] / total, n_sty, (styles, r_styles), span)
    language_ids, language_rows = languages
    if language_ids.size:
        speaks = np.zeros(size, np.bool_)
        for value in language_ids:
            row = language_rows[value][first:end]
            for i in range(size):
                speaks[i] |= row[i]
        weight = np.float32(w[0, 6] / total)
        for i in range(size):
            bound[i] += weight * np.float32(speaks[i])
    near = np.empty(size, np.int64)
    sums = np.empty(size, np.int64)
    count = 0
    for i in range(size):
        m = first + i
        if (bound[i] >= floor[m] - ROUNDING or closed[m]) and level_sum[i] > 0 and is_open[m]:
            near[count], sums[count] = m, level_sum[i]
            count += 1
    return near[:count], sums[:count]

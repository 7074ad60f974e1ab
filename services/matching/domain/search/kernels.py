"""Compiled inner loops (numba): a goal's search over the mentors, and the postings' sums.

Every similarity lies in [0, 1], so a pair's partial score plus the weight still to come bounds
its total. The criteria are computed in the order that stops most pairs soonest (skills,
industry, function, style, experience, language, background, availability), and a pair whose
bound falls below the score it must reach (a mentor list's floor) is not scored further. The
pairs scored in full follow criteria.score_pair's arithmetic step for step (steps.py), so their
totals equal it exactly. A mentor's search over the mentees is in mentor_scan.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from services.matching.domain.search.bound import within_reach
from services.matching.domain.search.steps import (
    MARGIN,
    availability,
    background,
    experience,
    holds,
    share,
    short,
    weighted_mean,
)


@njit(cache=True, inline="always")
def _present(rows: Any, ids: Any, mentor: int) -> int:
    count = 0
    for value in ids:
        count += rows[value, mentor]
    return count


@njit(cache=True, nogil=True)
def mentors_reaching(
    goal_ids: Any,
    eligibility: Any,
    constraints: Any,
    floors: Any,
    mentee: Any,
    rows: Any,
    mentors: Any,
    span: Any,
) -> Any:
    """The mentor slots in `span` (first, end) that within_reach leaves, scored exactly: the
    open mentors holding one of the goal's skills that may be proposed to this mentee and
    score at least their list's floor, with those totals; and the others whose full list
    (closed) they did not enter. Spans are independent (each mentor has its own floor).

    eligibility: (skill levels [skill, mentor], open, uid, manager);
    constraints: (the mentee's person id, its manager's, sorted excluded mentor slots);
    floors: (floor [mentor], closed [mentor]) of the mentors' lists in the mentee's partition.
    The criteria are written out in the order above.
    """
    levels, is_open, m_uid, m_manager = eligibility
    me, my_manager, excluded = constraints
    floor, closed = floors
    (w, total, years, offset, week, n_goal, n_ind, n_fun, n_bg, n_sty, pref), ids = mentee
    industries, functions, bgpairs, bgdims, styles, languages = ids
    r_ind, r_fun, r_bgpairs, r_bgdims, r_styles, r_languages = rows
    m_years, m_offset, m_week = mentors
    near, level_sums = within_reach(
        goal_ids,
        (levels, is_open, floor, closed),
        (w, total, n_goal, n_ind, n_fun, n_sty),
        ((industries, r_ind), (functions, r_fun), (styles, r_styles)),
        (languages, r_languages),
        span,
    )
    reaching = np.empty(near.size, np.int64)
    totals = np.empty(near.size, np.float64)
    left_out = np.empty(near.size, np.int64)
    count, n_left = 0, 0
    for j in range(near.size):
        m, level_sum = near[j], level_sums[j]
        if m_uid[m] == me or m_manager[m] == me or m_uid[m] == my_manager:
            continue
        if holds(excluded, m):
            continue
        if closed[m]:  # left out unless it reaches the floor below
            left_out[n_left] = m
            n_left += 1
        bar = floor[m]
        need = (bar - MARGIN) * total
        s0 = level_sum / (5 * n_goal)
        partial, to_come = w[0, 0] * s0, total - w[0, 0]
        if short(partial, to_come, need):
            continue
        s2 = share(_present(r_ind, industries, m), n_ind)
        partial, to_come = partial + w[0, 2] * s2, to_come - w[0, 2]
        if short(partial, to_come, need):
            continue
        s3 = share(_present(r_fun, functions, m), n_fun)
        partial, to_come = partial + w[0, 3] * s3, to_come - w[0, 3]
        if short(partial, to_come, need):
            continue
        s5 = share(_present(r_styles, styles, m), n_sty)
        partial, to_come = partial + w[0, 5] * s5, to_come - w[0, 5]
        if short(partial, to_come, need):
            continue
        s1 = experience(m_years[m] - years)
        partial, to_come = partial + w[0, 1] * s1, to_come - w[0, 1]
        if short(partial, to_come, need):
            continue
        s6 = 1.0 if _present(r_languages, languages, m) > 0 else 0.0
        partial, to_come = partial + w[0, 6] * s6, to_come - w[0, 6]
        if short(partial, to_come, need):
            continue
        same = _present(r_bgpairs, bgpairs, m)
        s4 = background(same, _present(r_bgdims, bgdims, m), n_bg, pref)
        partial, to_come = partial + w[0, 4] * s4, to_come - w[0, 4]
        if short(partial, to_come, need):
            continue
        s7 = availability(m_week[m], week, m_offset[m], offset)
        score = weighted_mean(w, 0, total, (s0, s1, s2, s3, s4, s5, s6, s7))
        if score >= bar:
            reaching[count], totals[count] = m, score
            count += 1
            if closed[m]:
                n_left -= 1
    return reaching[:count], totals[:count], left_out[:n_left]


@njit(cache=True)
def add_level(sums: Any, slots: Any, level: int) -> None:
    """sums[slot] += level for each of these slots (one skill's postings)."""
    for slot in slots:
        sums[slot] += level


@njit(cache=True)
def summed_slots(sums: Any, ranked: Any, most: int) -> Any:
    """The ranked slots with a sum above 0, ascending, with their sums (at most `most`);
    leaves `sums` all 0 for the next caller."""
    found = np.empty(most + 1, np.int64)
    reach = np.empty(most + 1, np.int32)
    count = 0
    for slot in range(ranked.size):  # branch-free: about half the slots are named, at random
        found[count], reach[count] = slot, sums[slot]
        count += (sums[slot] > 0) & ranked[slot]
        sums[slot] = 0
    return found[:count], reach[:count]

"""Compiled inner loops (numba): one pass over the candidates, each scored only as far as needed.

Every similarity lies in [0, 1], so a pair's partial score plus the weight still to come bounds
its total. The criteria are computed in the order that stops most pairs soonest (skills,
industry, function, style, experience, language, background, availability), and a pair whose
bound falls below the score it must reach (a mentor list's floor, or the last of the best so
far) is not scored further. The pairs scored in full follow criteria.score_pair's arithmetic
step for step (steps.py), so their totals equal it exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from services.matching.domain.search.bound import within_reach
from services.matching.domain.search.packed_rows import MORE
from services.matching.domain.search.steps import (
    MARGIN,
    availability,
    background,
    experience,
    holds,
    popcount,
    share,
    short,
    weighted_mean,
)

# How many candidates ahead a mentor's search reads a row: the rows lie scattered over the
# table (a search of one partition reads about every sixth), and one read at a time waits on
# memory for each.
AHEAD = 12


# ------------------------------------------------------------------ one mentor, many mentees
@njit(cache=True, inline="always")
def _looked_up(lookup: Any, ids: Any, row: int) -> int:
    count = 0
    for column in range(ids.shape[1]):
        value = ids[row, column]
        if value < 0:
            break
        count += lookup[value]
    return count


@njit(cache=True, inline="always")
def _meets(lookup: Any, ids: Any, row: int) -> bool:
    """The mentor holds every value of the row (domain/musts.py; no ids: nothing required)."""
    for column in range(ids.shape[1]):
        value = ids[row, column]
        if value < 0:
            break
        if lookup[value] == 0:
            return False
    return True


@njit(cache=True, inline="always")
def _counted(mask: Any, mentor_mask: Any, lookup: Any, ids: Any, row: int) -> int:
    """How many of the row's values the mentor holds: from the packed mask unless it says to
    read the ids (packed_rows.MORE)."""
    if mask & MORE:
        return _looked_up(lookup, ids, row)
    return popcount(mask & mentor_mask)


@njit(cache=True, nogil=True)
def best_mentees(
    lengths: Any, excluded: Any, mentor: Any, lookups: Any, table: Any, bars: Any, part: Any
) -> Any:
    """One mentor's candidates that may rank among its best `lengths[p]` in their partition.

    `excluded`: sorted mentee slots the mentor must not be proposed to.
    Returns (slots, totals, count, eligible): the first `count` slots and exact totals hold
    every eligible candidate scoring at least its partition's length-th best (and possibly
    some below it); `eligible[p]` counts the partition's eligible candidates exactly up to
    length + 1: a partition prunes only once it has counted more than its length.

    `part`: (candidates, reach, row). `reach[i]` is at least candidate i's goal's level sum in
    the mentor's skills (Postings.reach): the criteria in the packed row (packed_rows.py) are
    bounded with it first; only the candidates still in the race are checked for who they
    are and read the excluded slots and the goal's musts, the goal's skill ids (the exact sum),
    their background and availability.
    The candidates may be split into parts searched at once (the GIL is released). Each part
    prunes partition p against its own cell bars[row, p], which the caller fills with -1 and
    only this part writes: it stays -1 until the part has counted more than the length, then
    holds the best length-th best known (the part's own, raised with each score it keeps, and
    every 1,024 candidates the best any part has published there). Any part's length-th best
    is at most the whole's, so it is a safe bar too; a stale read only prunes less.

    The criteria are written out in order with every column unpacked once.
    """
    candidates, reach, row = part
    years, offset, week, me, manager, masks = mentor
    l_skills, l_industries, l_functions, l_styles, l_languages, l_bgpairs, l_bgdims = lookups
    goal_skills, targets_ind, targets_fun, t_bgpairs, t_bgdims, langs, t_styles = table[0]
    n_bg, pref, t_offset, t_week, w, weight_total, packed = table[1]
    must_langs, must_inds, must_stys = table[2]
    parts = lengths.size
    best = np.full((parts, max(1, lengths.max())), -1.0)  # per partition: best totals so far
    filled = np.zeros(parts, np.int64)
    eligible = np.zeros(parts, np.int64)
    slots = np.empty(candidates.size + 1, np.int64)  # the last cell: what the reads ahead read
    totals = np.empty(candidates.size, np.float64)
    count = 0
    ahead, touched = candidates.size - AHEAD, 0
    for i in range(candidates.size):
        slot = candidates[i]
        if i < ahead:  # the row of a candidate further on, so that its cache miss overlaps
            touched ^= packed[candidates[i + AHEAD]].n_goal  # the work on this one
        r = packed[slot]
        p = r.partition
        if p >= parts or lengths[p] == 0 or r.n_goal <= 0:  # a stale posting of a goal with
            continue  # no skill left (the exact level sum would be 0: never eligible)
        q = r.profile  # the row of the mentee's weights
        length, total = lengths[p], weight_total[q]
        if (i & 1023) == 0:  # now and then, what the other parts found
            _gather(bars, row, eligible, lengths)
        bar = bars[row, p]
        need = (bar - MARGIN) * total
        skill = w[q, 0] * (reach[i] / (5 * r.n_goal))  # at least the goal's skills' term
        partial, to_come = 0.0, total - w[q, 0]  # the other criteria's
        if short(skill, to_come, need):
            continue
        s2 = share(_counted(r.industries, masks[0], l_industries, targets_ind, slot), r.n_ind)
        partial, to_come = partial + w[q, 2] * s2, to_come - w[q, 2]
        if short(skill + partial, to_come, need):
            continue
        s3 = share(_counted(r.functions, masks[1], l_functions, targets_fun, slot), r.n_fun)
        partial, to_come = partial + w[q, 3] * s3, to_come - w[q, 3]
        if short(skill + partial, to_come, need):
            continue
        s5 = share(_counted(r.styles, masks[2], l_styles, t_styles, slot), r.n_sty)
        partial, to_come = partial + w[q, 5] * s5, to_come - w[q, 5]
        if short(skill + partial, to_come, need):
            continue
        s1 = experience(years - r.years)
        partial, to_come = partial + w[q, 1] * s1, to_come - w[q, 1]
        if short(skill + partial, to_come, need):
            continue
        s6 = 1.0 if _counted(r.languages, masks[3], l_languages, langs, slot) > 0 else 0.0
        partial, to_come = partial + w[q, 6] * s6, to_come - w[q, 6]
        if short(skill + partial, to_come, need):
            continue
        # Only now who it is, the excluded slots and the goal's skill ids (the exact sum).
        if r.uid == me or r.manager == me or r.uid == manager or holds(excluded, slot):
            continue
        if not (
            _meets(l_languages, must_langs, slot)
            and _meets(l_industries, must_inds, slot)
            and _meets(l_styles, must_stys, slot)
        ):
            continue
        level_sum = _looked_up(l_skills, goal_skills, slot)
        if level_sum <= 0:
            continue
        eligible[p] += 1
        if eligible[p] == length + 1:  # from now on it may prune
            bars[row, p] = _bar(best, filled, bars, p, length)
        s0 = level_sum / (5 * r.n_goal)
        partial = w[q, 0] * s0 + partial
        if short(partial, to_come, need):
            continue
        same = _looked_up(l_bgpairs, t_bgpairs, slot)
        s4 = background(same, _looked_up(l_bgdims, t_bgdims, slot), n_bg[slot], pref[slot])
        partial, to_come = partial + w[q, 4] * s4, to_come - w[q, 4]
        if short(partial, to_come, need):
            continue
        s7 = availability(t_week[slot], week, t_offset[slot], offset)
        score = weighted_mean(w, q, total, (s0, s1, s2, s3, s4, s5, s6, s7))
        if score >= bar:
            slots[count], totals[count] = slot, score
            count += 1
            _keep_best(best[p], filled, p, length, score)
            if filled[p] == length and eligible[p] > length:
                bars[row, p] = max(bars[row, p], best[p, length - 1])
    slots[candidates.size] = touched  # kept, so that the compiler keeps the reads ahead
    return slots, totals, count, eligible


@njit(cache=True, inline="always")
def _gather(bars: Any, row: int, eligible: Any, lengths: Any) -> None:
    """Raise this part's bars to the best any part has published, in the partitions where
    this part may prune."""
    for p in range(lengths.size):
        if eligible[p] > lengths[p]:
            for other in range(bars.shape[0]):
                bars[row, p] = max(bars[row, p], bars[other, p])


@njit(cache=True, inline="always")
def _bar(best: Any, filled: Any, bars: Any, p: int, length: int) -> float:
    """The score a candidate of partition p must reach: the best length-th best known."""
    bar: float = best[p, length - 1] if filled[p] == length else -1.0
    for other in range(bars.shape[0]):
        bar = max(bar, bars[other, p])
    return bar


@njit(cache=True, inline="always")
def _keep_best(row: Any, filled: Any, p: int, length: int, score: float) -> None:
    """Insert into a descending row holding the best `length` scores."""
    position = filled[p]
    if position == length:
        if score <= row[length - 1]:
            return
        position = length - 1
    else:
        filled[p] += 1
    while position > 0 and row[position - 1] < score:
        row[position] = row[position - 1]
        position -= 1
    row[position] = score


# ------------------------------------------------------------------ one mentee, many mentors
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
    The criteria are written out as in best_mentees.
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


@njit(cache=True)
def summed_slots_in(sums: Any, ranked: Any, partition: Any, wanted: Any, most: int) -> Any:
    """summed_slots, keeping only the slots of the partitions `wanted` says (a search of some
    partitions' lists: the others' candidates are never read)."""
    found = np.empty(most + 1, np.int64)
    reach = np.empty(most + 1, np.int32)
    count = 0
    last = wanted.size - 1
    for slot in range(ranked.size):
        p = partition[slot]
        found[count], reach[count] = slot, sums[slot]
        count += (sums[slot] > 0) & ranked[slot] & (p <= last) & wanted[min(p, last)]
        sums[slot] = 0
    return found[:count], reach[:count]

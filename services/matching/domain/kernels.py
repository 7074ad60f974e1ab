"""Compiled inner loops (numba): one pass over the candidates, each scored only as far as needed.

Every similarity lies in [0, 1], so a pair's partial score plus the weight still to come bounds
its total. The criteria are computed in the order that stops most pairs soonest, and a pair whose
bound falls below the score it must reach (a mentor list's floor, or the last of the best so
far) is not scored further. The pairs scored in full follow criteria.score_pair's arithmetic
step for step (same operations, same order, no fast-math), so their totals equal it exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from services.matching.domain import criteria
from services.matching.domain.criteria import ENOUGH_COMMON_HOURS, TIMEZONE_TOLERANCE_MINUTES
from services.matching.domain.packed_rows import MORE

MARGIN = 1e-9  # a bound never falls below the exact score through rounding
DIFFERENT = 2  # background preference code (tables.BACKGROUND_CODES)
# Criteria are tried in this order: skills, industry, function, style, experience, language,
# background, availability (industry and function right after skills took 23 % fewer steps).
_M1, _M2, _M4 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F
_H01 = 0x0101010101010101

_experience = njit(cache=True, inline="always")(criteria.experience_fit)


@njit(cache=True, inline="always")
def _popcount(x: Any) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(_M1))
    x = (x & np.uint64(_M2)) + ((x >> np.uint64(2)) & np.uint64(_M2))
    x = (x + (x >> np.uint64(4))) & np.uint64(_M4)
    return int((x * np.uint64(_H01)) >> np.uint64(56))


@njit(cache=True, inline="always")
def _share(count: int, size: int) -> float:
    return count / size if size > 0 else 0.0


@njit(cache=True, inline="always")
def _background(same: int, known: int, dims: int, preference: int) -> float:
    return _share(known - same, dims) if preference == DIFFERENT else _share(same, dims)


@njit(cache=True, inline="always")
def _availability(week_a: Any, week_b: Any, offset_a: int, offset_b: int) -> float:
    overlap = (
        _popcount(week_a[0] & week_b[0])
        + _popcount(week_a[1] & week_b[1])
        + _popcount(week_a[2] & week_b[2])
    )
    any_a = (week_a[0] | week_a[1] | week_a[2]) != 0
    any_b = (week_b[0] | week_b[1] | week_b[2]) != 0
    if any_a and any_b:
        return min(1.0, overlap / ENOUGH_COMMON_HOURS)
    return max(0.0, 1 - abs(offset_a - offset_b) / TIMEZONE_TOLERANCE_MINUTES)


@njit(cache=True, inline="always")
def _total(w: Any, row: int, total: float, sims: Any) -> float:
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
def _short(partial: float, to_come: float, need: float) -> bool:
    """The pair's bound (what it has plus all still to come) falls below what it must reach."""
    return partial + to_come < need


@njit(cache=True, inline="always")
def _counted(mask: Any, mentor_mask: Any, lookup: Any, ids: Any, row: int) -> int:
    """How many of the row's values the mentor holds: from the packed mask unless it says to
    read the ids (packed_rows.MORE)."""
    if mask & MORE:
        return _looked_up(lookup, ids, row)
    return _popcount(mask & mentor_mask)


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
    are and read the excluded slots, the goal's skill ids (the exact sum), their background
    and availability.
    The candidates may be split into parts searched at once (the GIL is released). Each part
    prunes partition p against its own cell bars[row, p], which the caller fills with -1 and
    only this part writes: it stays -1 until the part has counted more than the length, then
    holds the best length-th best known (the part's own, raised with each score it keeps, and
    every 1,024 candidates the best any part has published there). Any part's length-th best
    is at most the whole's, so it is a safe bar too; a stale read only prunes less. Reading
    that one cell, not every part's for every candidate, made the largest searches 7-14 %
    faster.

    The criteria are written out in order with every column unpacked once: one generic step
    per criterion, reading the tuples each time, took a third longer per candidate.
    """
    candidates, reach, row = part
    years, offset, week, me, manager, masks = mentor
    l_skills, l_industries, l_functions, l_styles, l_languages, l_bgpairs, l_bgdims = lookups
    goal_skills, targets_ind, targets_fun, t_bgpairs, t_bgdims, langs, t_styles = table[0]
    n_bg, pref, t_offset, t_week, w, weight_total, packed = table[1]
    parts = lengths.size
    best = np.full((parts, max(1, lengths.max())), -1.0)  # per partition: best totals so far
    filled = np.zeros(parts, np.int64)
    eligible = np.zeros(parts, np.int64)
    slots = np.empty(candidates.size, np.int64)
    totals = np.empty(candidates.size, np.float64)
    count = 0
    for i in range(candidates.size):
        slot = candidates[i]
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
        if _short(skill, to_come, need):
            continue
        s2 = _share(_counted(r.industries, masks[0], l_industries, targets_ind, slot), r.n_ind)
        partial, to_come = partial + w[q, 2] * s2, to_come - w[q, 2]
        if _short(skill + partial, to_come, need):
            continue
        s3 = _share(_counted(r.functions, masks[1], l_functions, targets_fun, slot), r.n_fun)
        partial, to_come = partial + w[q, 3] * s3, to_come - w[q, 3]
        if _short(skill + partial, to_come, need):
            continue
        s5 = _share(_counted(r.styles, masks[2], l_styles, t_styles, slot), r.n_sty)
        partial, to_come = partial + w[q, 5] * s5, to_come - w[q, 5]
        if _short(skill + partial, to_come, need):
            continue
        s1 = _experience(years - r.years)
        partial, to_come = partial + w[q, 1] * s1, to_come - w[q, 1]
        if _short(skill + partial, to_come, need):
            continue
        s6 = 1.0 if _counted(r.languages, masks[3], l_languages, langs, slot) > 0 else 0.0
        partial, to_come = partial + w[q, 6] * s6, to_come - w[q, 6]
        if _short(skill + partial, to_come, need):
            continue
        # Only now who it is, the excluded slots and the goal's skill ids (the exact sum).
        if r.uid == me or r.manager == me or r.uid == manager or _holds(excluded, slot):
            continue
        level_sum = _looked_up(l_skills, goal_skills, slot)
        if level_sum <= 0:
            continue
        eligible[p] += 1
        if eligible[p] == length + 1:  # from now on it may prune
            bars[row, p] = _bar(best, filled, bars, p, length)
        s0 = level_sum / (5 * r.n_goal)
        partial = w[q, 0] * s0 + partial
        if _short(partial, to_come, need):
            continue
        same = _looked_up(l_bgpairs, t_bgpairs, slot)
        s4 = _background(same, _looked_up(l_bgdims, t_bgdims, slot), n_bg[slot], pref[slot])
        partial, to_come = partial + w[q, 4] * s4, to_come - w[q, 4]
        if _short(partial, to_come, need):
            continue
        s7 = _availability(t_week[slot], week, t_offset[slot], offset)
        score = _total(w, q, total, (s0, s1, s2, s3, s4, s5, s6, s7))
        if score >= bar:
            slots[count], totals[count] = slot, score
            count += 1
            _keep_best(best[p], filled, p, length, score)
            if filled[p] == length and eligible[p] > length:
                bars[row, p] = max(bars[row, p], best[p, length - 1])
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
def _holds(sorted_slots: Any, slot: int) -> bool:
    if sorted_slots.size == 0:
        return False
    index = np.searchsorted(sorted_slots, slot)
    found: bool = index < sorted_slots.size and sorted_slots[index] == slot
    return found


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
    """The mentor slots in `span` (first, end) that _within_reach leaves, scored exactly: the
    open mentors holding one of the goal's skills that may be proposed to this mentee and
    score at least their list's floor, with those totals; and the others whose full list
    (closed) they did not enter. Spans are independent (each mentor has its own floor).

    eligibility: (skill levels [skill, mentor], open, uid, manager);
    constraints: (the mentee's person id, its manager's, sorted excluded mentor slots);
    floors: (floor [mentor], closed [mentor]) of the mentors' lists in the mentee's partition.
    The criteria are written out as in best_mentees (a shared step function was slower).
    """
    levels, is_open, m_uid, m_manager = eligibility
    me, my_manager, excluded = constraints
    floor, closed = floors
    (w, total, years, offset, week, n_goal, n_ind, n_fun, n_bg, n_sty, pref), ids = mentee
    industries, functions, bgpairs, bgdims, styles, languages = ids
    r_ind, r_fun, r_bgpairs, r_bgdims, r_styles, r_languages = rows
    m_years, m_offset, m_week = mentors
    near, level_sums = _within_reach(
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
        if _holds(excluded, m):
            continue
        if closed[m]:  # left out unless it reaches the floor below
            left_out[n_left] = m
            n_left += 1
        bar = floor[m]
        need = (bar - MARGIN) * total
        s0 = level_sum / (5 * n_goal)
        partial, to_come = w[0, 0] * s0, total - w[0, 0]
        if _short(partial, to_come, need):
            continue
        s2 = _share(_present(r_ind, industries, m), n_ind)
        partial, to_come = partial + w[0, 2] * s2, to_come - w[0, 2]
        if _short(partial, to_come, need):
            continue
        s3 = _share(_present(r_fun, functions, m), n_fun)
        partial, to_come = partial + w[0, 3] * s3, to_come - w[0, 3]
        if _short(partial, to_come, need):
            continue
        s5 = _share(_present(r_styles, styles, m), n_sty)
        partial, to_come = partial + w[0, 5] * s5, to_come - w[0, 5]
        if _short(partial, to_come, need):
            continue
        s1 = _experience(m_years[m] - years)
        partial, to_come = partial + w[0, 1] * s1, to_come - w[0, 1]
        if _short(partial, to_come, need):
            continue
        s6 = 1.0 if _present(r_languages, languages, m) > 0 else 0.0
        partial, to_come = partial + w[0, 6] * s6, to_come - w[0, 6]
        if _short(partial, to_come, need):
            continue
        same = _present(r_bgpairs, bgpairs, m)
        s4 = _background(same, _present(r_bgdims, bgdims, m), n_bg, pref)
        partial, to_come = partial + w[0, 4] * s4, to_come - w[0, 4]
        if _short(partial, to_come, need):
            continue
        s7 = _availability(m_week[m], week, m_offset[m], offset)
        score = _total(w, 0, total, (s0, s1, s2, s3, s4, s5, s6, s7))
        if score >= bar:
            reaching[count], totals[count] = m, score
            count += 1
            if closed[m]:
                n_left -= 1
    return reaching[:count], totals[:count], left_out[:n_left]


ROUNDING = 1e-5  # slack for float32 bounds: their rounding on a few terms in [0, 1] is ~1e-7


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
def _within_reach(
    goal_ids: Any, mentors: Any, mentee: Any, shares: Any, languages: Any, span: Any
) -> Any:
    """The mentor slots of `span` that mentors_reaching must look at, with their level sums in
    the goal's skills: open, holding one of those skills, and either with a closed list or
    with a bound that reaches their floor.

    The bound counts skills, industry, function, style and language exactly and the other
    criteria (experience, background, availability) as perfect. It is computed a criterion
    at a time over all the span's mentors, from the mentor table's rows: each loop reads
    contiguous slices from index 0, so that it vectorises (indexing from `first` made it
    four times slower). It is summed in float32 with ROUNDING to spare, so it never falls
    below a score that reaches the floor. Before it, a GoalSet searched about a millisecond
    at 50,000 mentors, most of it on mentors whose lists it could not enter.
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


# ------------------------------------------------------------------ diversity
@njit(cache=True)
def diversified_each(
    scores: Any, rows: Any, starts: Any, words: Any, skill_words: int, k: int, diversity: float
) -> Any:
    """diversify.diversify over many pools at once, each already in relevance order: one call
    for every mentee an event re-ranks. Pool p is entries starts[p]:starts[p + 1] of `scores`
    and `rows` (each candidate's row of `words`, its trait bits: trait_words.TraitWords, the
    skills in the first `skill_words`). Returns picks[p]: indices into pool p in pick order,
    then -1. Same floats, same ties: the first of equal marginals wins, as with max() over the
    pool in relevance order."""
    pools = starts.size - 1
    picks = np.full((pools, k), -1, np.int64)
    for p in range(pools):
        first, n = starts[p], starts[p + 1] - starts[p]
        _diversify(scores[first:], rows[first:], n, words, skill_words, k, diversity, picks[p])
    return picks


@njit(cache=True, inline="always")
def _diversify(
    scores: Any,
    rows: Any,
    n: int,
    words: Any,
    skill_words: int,
    k: int,
    diversity: float,
    picks: Any,
) -> None:
    if diversity <= 0 or n <= 1:
        for i in range(min(k, n)):
            picks[i] = i
        return
    taken = np.zeros(n, np.bool_)
    closest = np.zeros(n)
    picks[0], taken[0], count = 0, True, 1
    for j in range(1, n):
        closest[j] = _similarity(words, rows[j], rows[0], skill_words)
    while count < k and count < n:
        best, best_marginal = -1, 0.0
        for j in range(n):
            if taken[j]:
                continue
            marginal = (1 - diversity) * scores[j] - diversity * closest[j]
            if best < 0 or marginal > best_marginal:
                best, best_marginal = j, marginal
        picks[count], taken[best] = best, True
        count += 1
        if count < k:
            for j in range(n):
                if not taken[j]:
                    similarity = _similarity(words, rows[j], rows[best], skill_words)
                    closest[j] = max(closest[j], similarity)


@njit(cache=True, inline="always")
def _similarity(words: Any, a: int, b: int, skill_words: int) -> float:
    """batch.traits_similarity on bit words: the mean of the skills' and industries' Jaccard
    (an empty union counts as 0)."""
    common, either = 0, 0
    for w in range(skill_words):
        common += _popcount(words[a, w] & words[b, w])
        either += _popcount(words[a, w] | words[b, w])
    skills = common / max(either, 1)
    common, either = 0, 0
    for w in range(skill_words, words.shape[1]):
        common += _popcount(words[a, w] & words[b, w])
        either += _popcount(words[a, w] | words[b, w])
    result: float = (skills + common / max(either, 1)) / 2
    return result

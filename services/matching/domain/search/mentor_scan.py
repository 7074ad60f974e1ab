"""A mentor's search over its candidate mentees (compiled): per partition, its best mentees.

A mentor's search reads hundreds of thousands of candidates and keeps a few dozen, so nearly
every candidate is dropped after a criterion or two. Each candidate's criteria in the packed
row (packed_rows.py) are bounded first: the goal's skills from the postings' level sums,
then industry, function and style, then experience and language; a candidate whose bound
falls below the score it must reach is dropped there. Only the few left are checked for who
they are (the mentor itself, its manager, its excluded slots, the goal's musts) and scored
in full, with criteria.score_pair's arithmetic step for step (steps.py), so their totals
equal it exactly.

The candidates go through the criteria a block at a time, one criterion over the whole block
before the next, each pass keeping the candidates still in the race without a branch. One
candidate at a time through every criterion waits on each mispredicted exit, and its loads
wait with it; a pass over a block keeps them overlapping. The bars a block is bounded with
are those when it starts: a stale bar only prunes less.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

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

BLOCK = 512  # candidates per block: the block's rows stay in the first-level cache


@njit(cache=True, nogil=True)
def best_mentees(
    lengths: Any,
    excluded: Any,
    mentor: Any,
    lookups: Any,
    table: Any,
    bars: Any,
    levels: Any,
    part: Any,
) -> Any:
    """One mentor's candidates that may rank among its best `lengths[p]` in their partition.

    `excluded`: sorted mentee slots the mentor must not be proposed to.
    Returns (slots, totals, count, eligible, read): the first `count` slots and exact totals
    hold every eligible candidate scoring at least its partition's length-th best (and
    possibly some below it); `eligible[p]` counts the partition's eligible candidates exactly
    up to length + 1: a partition prunes only once it has counted more than its length;
    `read`: the candidates read.

    `levels`: (sums, ranked, partition): per mentee slot, at least its goal's level sum in the
    mentor's skills (Postings.summed; this search sets its part back to 0 for the next), and
    the table's columns. The candidates are the ranked slots with a sum, in the partitions
    searched. `part`: (first, end, row): the slots [first, end) this part searches.
    The slots may be split into parts searched at once (the GIL is released). Each part
    prunes partition p against its own cell bars[row, p], which the caller fills with -1 and
    only this part writes: it stays -1 until the part has counted more than the length, then
    holds the best length-th best known (the part's own, raised with each score it keeps, and
    at each block the best any part has published there). Any part's length-th best is at
    most the whole's, so it is a safe bar too; a stale read only prunes less.
    """
    lo, hi, row = part
    sums, ranked, partition = levels
    years, offset, week, me, manager, masks = mentor
    l_skills, l_industries, l_functions, l_styles, l_languages, l_bgpairs, l_bgdims = lookups
    goal_skills, targets_ind, targets_fun, t_bgpairs, t_bgdims, langs, t_styles = table[0]
    n_bg, pref, t_offset, t_week, w, weight_total, packed = table[1]
    must_langs, must_inds, must_stys = table[2]
    parts = lengths.size
    best = np.full((parts, max(1, lengths.max())), -1.0)  # per partition: best totals so far
    filled = np.zeros(parts, np.int64)
    eligible = np.zeros(parts, np.int64)
    slots = np.empty(64, np.int64)
    totals = np.empty(64, np.float64)
    count, read = 0, 0
    cut = np.empty(parts + 1, np.float64)
    searched = np.zeros(parts + 1, np.bool_)  # per partition, and False past them (stale)
    searched[:parts] = lengths > 0
    candidates = np.empty(BLOCK, np.int64)  # the block's candidates
    reach = np.empty(BLOCK, np.int32)  # and their level sums
    chosen = np.empty(BLOCK, np.int64)  # the indices of those still in the race
    slack = np.empty(BLOCK, np.float64)  # and how far each one's bound lies above its bar
    rest = (chosen, slack, candidates, packed)
    for first in range(lo, hi, BLOCK):
        end = min(first + BLOCK, hi)
        size = _candidates(sums, ranked, partition, searched, (first, end), candidates, reach)
        read += size
        _gather(bars, row, eligible, lengths)
        _cuts(bars, row, lengths, cut)
        kept = _skills_pass(
            (0, size, candidates, reach), packed, w, weight_total, cut, chosen, slack
        )
        kept = _share_pass(kept, rest, w, 0, (masks[0], l_industries, targets_ind))
        kept = _share_pass(kept, rest, w, 1, (masks[1], l_functions, targets_fun))
        kept = _share_pass(kept, rest, w, 2, (masks[2], l_styles, t_styles))
        kept = _last_pass(kept, rest, w, years, (masks[3], l_languages, langs))
        for k in range(kept):
            slot = candidates[chosen[k]]
            r = packed[slot]
            p, q = r.partition, r.profile
            length, total, bar = lengths[p], weight_total[q], bars[row, p]
            need = (bar - MARGIN) * total
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
            s1 = experience(years - r.years)
            s2 = share(_counted(r.industries, masks[0], l_industries, targets_ind, slot), r.n_ind)
            s3 = share(_counted(r.functions, masks[1], l_functions, targets_fun, slot), r.n_fun)
            s5 = share(_counted(r.styles, masks[2], l_styles, t_styles, slot), r.n_sty)
            s6 = 1.0 if _counted(r.languages, masks[3], l_languages, langs, slot) > 0 else 0.0
            partial = w[q, 0] * s0 + w[q, 2] * s2 + w[q, 3] * s3 + w[q, 5] * s5
            partial = partial + w[q, 1] * s1 + w[q, 6] * s6
            if short(partial, w[q, 4] + w[q, 7], need):
                continue
            same = _looked_up(l_bgpairs, t_bgpairs, slot)
            s4 = background(same, _looked_up(l_bgdims, t_bgdims, slot), n_bg[slot], pref[slot])
            if short(partial + w[q, 4] * s4, w[q, 7], need):
                continue
            s7 = availability(t_week[slot], week, t_offset[slot], offset)
            score = weighted_mean(w, q, total, (s0, s1, s2, s3, s4, s5, s6, s7))
            if score >= bar:
                if count == slots.size:
                    slots, totals = _grown(slots), _grown(totals)
                slots[count], totals[count] = slot, score
                count += 1
                _keep_best(best[p], filled, p, length, score)
                if filled[p] == length and eligible[p] > length:
                    bars[row, p] = max(bars[row, p], best[p, length - 1])
    return slots, totals, count, eligible, read


@njit(cache=True, inline="always")
def _candidates(
    sums: Any, ranked: Any, partition: Any, searched: Any, span: Any, found: Any, reach: Any
) -> int:
    """The span's ranked slots with a level sum, in a partition searched, into `found` and
    `reach`, without a branch; the span's sums set back to 0."""
    first, end = span
    last = searched.size - 1
    size = 0
    for slot in range(first, end):
        level = sums[slot]
        sums[slot] = 0
        found[size], reach[size] = slot, level
        size += (level > 0) & ranked[slot] & searched[min(partition[slot], last)]
    return size


@njit(cache=True, inline="always")
def _grown(kept: Any) -> Any:
    grown = np.empty(2 * kept.size, kept.dtype)
    grown[: kept.size] = kept
    return grown


@njit(cache=True, inline="always")
def _cuts(bars: Any, row: int, lengths: Any, cut: Any) -> None:
    """The bar of each partition searched; infinite for one not searched and for any
    partition past them (a stale posting): those candidates are dropped at once."""
    for p in range(lengths.size):
        cut[p] = bars[row, p] if lengths[p] > 0 else np.inf
    cut[lengths.size] = np.inf


@njit(cache=True, inline="always")
def _skills_pass(
    block: Any, packed: Any, w: Any, weight_total: Any, cut: Any, chosen: Any, slack: Any
) -> int:
    """The block's candidates whose bound with the goal's skills' term (the rest counted as
    perfect) reaches their partition's bar. A goal with no skill left has no candidate's
    level sum: it passes here and drops out where the exact sum is read."""
    first, end, candidates, reach = block
    last = cut.size - 1
    kept = 0
    for i in range(first, end):
        r = packed[candidates[i]]
        q = r.profile
        total = weight_total[q]
        need = (cut[min(r.partition, last)] - MARGIN) * total
        bound = w[q, 0] * (reach[i] / (5 * max(r.n_goal, 1))) + (total - w[q, 0])
        chosen[kept], slack[kept] = i, bound - need
        kept += bound >= need
    return kept


@njit(cache=True, inline="always")
def _share_pass(kept: int, rest: Any, w: Any, which: int, mentor: Any) -> int:
    """Of the `kept` still in the race, those still reaching their bar once one share
    criterion (industry, function or style) is counted exactly."""
    chosen, slack, candidates, packed = rest
    mask, lookup, ids = mentor
    out = 0
    for k in range(kept):
        slot = candidates[chosen[k]]
        r = packed[slot]
        q = r.profile
        if which == 0:
            weight, values, size = w[q, 2], r.industries, r.n_ind
        elif which == 1:
            weight, values, size = w[q, 3], r.functions, r.n_fun
        else:
            weight, values, size = w[q, 5], r.styles, r.n_sty
        held = popcount(values & mask)  # _counted, written out: as a call it is much slower here
        if values & MORE:
            held = _looked_up(lookup, ids, slot)
        left = slack[k] - weight * (1.0 - share(held, size))
        chosen[out], slack[out] = chosen[k], left
        out += left >= 0.0
    return out


@njit(cache=True, inline="always")
def _last_pass(kept: int, rest: Any, w: Any, years: int, languages: Any) -> int:
    """Of the `kept` still in the race, those still reaching their bar once experience and
    language are counted exactly."""
    chosen, slack, candidates, packed = rest
    mask, lookup, ids = languages
    out = 0
    for k in range(kept):
        slot = candidates[chosen[k]]
        r = packed[slot]
        q = r.profile
        held = popcount(r.languages & mask)  # _counted, written out (as in _share_pass)
        if r.languages & MORE:
            held = _looked_up(lookup, ids, slot)
        speaks = 1.0 if held > 0 else 0.0
        left = slack[k] - w[q, 1] * (1.0 - experience(years - r.years)) - w[q, 6] * (1.0 - speaks)
        chosen[out], slack[out] = chosen[k], left
        out += left >= 0.0
    return out


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

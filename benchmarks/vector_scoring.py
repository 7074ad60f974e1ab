"""The pair score of criteria.py, vectorised for one mentee against many mentors (candidate
mentors and the benchmark's full recompute). Same operations, same order, same floats."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.matching.domain.criteria import (
    ENOUGH_COMMON_HOURS,
    IDEAL_GAP_MAX,
    IDEAL_GAP_MIN,
    TIMEZONE_TOLERANCE_MINUTES,
)
from services.matching.domain.search.tables import (
    FloatArray,
    IntArray,
    MenteeTable,
    MentorTable,
)

SIMILAR, DIFFERENT = 1, 2


def take_rows(array: Any, slots: IntArray) -> Any:
    """array[slots] for a 2-D array; np.take is several times faster than fancy indexing here."""
    return np.take(array, slots, axis=0)


def experience_fit(gap: IntArray) -> FloatArray:
    safe_gap = gap.astype(np.float64)
    return np.where(
        gap <= 0,
        0.0,
        np.where(
            gap < IDEAL_GAP_MIN,
            gap / IDEAL_GAP_MIN,
            np.where(
                gap <= IDEAL_GAP_MAX,
                1.0,
                np.maximum(0.0, 1 - (safe_gap - IDEAL_GAP_MAX) / IDEAL_GAP_MAX),
            ),
        ),
    )


def share(count: IntArray, size: IntArray | int) -> FloatArray:
    size_array = np.asarray(size)
    return np.where(size_array > 0, count / np.where(size_array > 0, size_array, 1), 0.0)


def background_fit(
    same: IntArray, known: IntArray, dims: IntArray | int, pref: IntArray | int
) -> FloatArray:
    different = share(known - same, dims)
    similar = share(same, dims)
    return np.where(np.asarray(pref) == DIFFERENT, different, similar)


def _by_word(words: Any, combine: Any) -> Any:
    """Combine the 3 words of each week mask (faster than reducing over a length-3 axis)."""
    return combine(combine(words[..., 0], words[..., 1]), words[..., 2])


def availability_fit(
    week_a: Any, week_b: Any, offset_a: IntArray | int, offset_b: IntArray | int
) -> FloatArray:
    overlap = _by_word(np.bitwise_count(week_a & week_b).astype(np.int64), np.add)
    both = (_by_word(week_a, np.bitwise_or) != 0) & (_by_word(week_b, np.bitwise_or) != 0)
    by_hours = np.minimum(1.0, overlap / ENOUGH_COMMON_HOURS)
    by_zone = np.maximum(
        0.0, 1 - np.abs(np.asarray(offset_a) - offset_b) / TIMEZONE_TOLERANCE_MINUTES
    )
    return np.where(both, by_hours, by_zone)


def weighted_total(sims: list[FloatArray], weights: Any, weight_total: Any) -> FloatArray:
    """sum(w_c * s_c) in criteria order, then / total: exactly criteria.score_pair's arithmetic."""
    acc = weights[..., 0] * sims[0]
    for index in range(1, len(sims)):
        acc = acc + weights[..., index] * sims[index]
    result: FloatArray = acc / weight_total
    return result


CRITERIA = 8  # in criteria.py's order: skills, experience, industry, function, background,
#               style, language, availability


def _present(rows: Any, ids: Any, candidates: IntArray) -> IntArray:
    valid = ids[ids >= 0]
    if valid.size == 0:
        return np.zeros(candidates.size, np.int64)
    counts: IntArray = np.take(rows[valid], candidates, axis=1).sum(axis=0, dtype=np.int64)
    return counts


def candidate_mentors(
    table: MenteeTable, mentors: MentorTable, slot: int
) -> tuple[IntArray, IntArray]:
    """Open mentors holding at least one of the mentee's goal skills, and their level sums."""
    high = mentors.slots.high_water
    goal_ids = table.goal_skills[slot]
    valid = goal_ids[goal_ids >= 0]
    rows = mentors.rows["skills"]
    valid = valid[valid < rows.shape[0]]
    if valid.size == 0 or high == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    level_sum: IntArray = rows[valid, :high].sum(axis=0, dtype=np.int64)
    candidates = np.flatnonzero((level_sum > 0) & mentors.open[:high])
    return candidates, level_sum[candidates]


def mentee_against_mentors(
    table: MenteeTable, mentors: MentorTable, slot: int, candidates: IntArray
) -> FloatArray:
    """Scores of one owned mentee for many mentors (mentor slots)."""
    level_sum = _present_for(table, mentors, slot, "skills", table.goal_skills, candidates)
    sims = [
        mentee_similarity(criterion, table, mentors, slot, candidates, level_sum)
        for criterion in range(CRITERIA)
    ]
    row = table.profile[slot]
    return weighted_total(sims, table.profiles.weights[row], table.profiles.totals[row])


def _present_for(
    table: MenteeTable,
    mentors: MentorTable,
    slot: int,
    kind: str,
    column: Any,
    candidates: IntArray,
) -> IntArray:
    rows = mentors.rows[kind]
    ids = column[slot].astype(np.int64)
    return _present(rows, ids[ids < rows.shape[0]], candidates)


def mentee_similarity(
    criterion: int,
    table: MenteeTable,
    mentors: MentorTable,
    slot: int,
    candidates: IntArray,
    level_sum: IntArray,
) -> FloatArray:
    """One criterion's similarity between one owned mentee and many mentors."""

    def present(kind: str, column: Any) -> IntArray:
        return _present_for(table, mentors, slot, kind, column, candidates)

    if criterion == 0:
        skills: FloatArray = level_sum / (5 * table.n_goal[slot])
        return skills
    if criterion == 1:
        return experience_fit(mentors.years[candidates] - table.years[slot])
    if criterion == 2:
        return share(present("industries", table.targets_ind), table.n_ind[slot])
    if criterion == 3:
        return share(present("functions", table.targets_fun), table.n_fun[slot])
    if criterion == 4:
        return background_fit(
            present("bgpairs", table.bgpairs),
            present("bgdims", table.bgdims),
            table.n_bg[slot],
            table.pref[slot],
        )
    if criterion == 5:
        return share(present("styles", table.styles), table.n_sty[slot])
    if criterion == 6:
        return (present("languages", table.langs) > 0).astype(np.float64)
    return availability_fit(
        take_rows(mentors.week, candidates),
        table.week[slot],
        mentors.offset[candidates],
        table.offset[slot],
    )

"""Maximal marginal relevance over many mentees' pools at once, compiled."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from services.matching.domain.search.steps import popcount


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
        common += popcount(words[a, w] & words[b, w])
        either += popcount(words[a, w] | words[b, w])
    skills = common / max(either, 1)
    common, either = 0, 0
    for w in range(skill_words, words.shape[1]):
        common += popcount(words[a, w] & words[b, w])
        either += popcount(words[a, w] | words[b, w])
    result: float = (skills + common / max(either, 1)) / 2
    return result

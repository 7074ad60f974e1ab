"""Maximal marginal relevance: the K proposed mentors should be different types of mentor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple


class Candidate(NamedTuple):  # a tuple: made for every pool entry of every re-rank
    key: int | str
    score: float
    tiebreak: int


def jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def by_relevance(candidates: Sequence[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=_relevance)


def _relevance(c: Candidate) -> tuple[float, int]:
    return -c.score, c.tiebreak


# similarities(others, picked): each of the others' similarity to the picked candidate.
Similarities = Callable[[Sequence[Candidate], Candidate], list[float]]


def diversify(
    candidates: Sequence[Candidate], k: int, diversity: float, similarities: Similarities
) -> list[Candidate]:
    """Greedy MMR over the best candidates: relevance minus similarity to those already picked.

    Each candidate's similarity to the chosen ones is kept up to date with the latest pick only,
    so a ranking costs about k * pool similarities rather than k * k * pool. Ties go to the
    more relevant candidate: the pool stays in relevance order and max() keeps the first.
    """
    pool = by_relevance(candidates)
    if diversity <= 0 or len(pool) <= 1:
        return pool[:k]
    chosen = [pool.pop(0)]
    closest = similarities(pool, chosen[0])
    while pool and len(chosen) < k:
        marginal = [
            (1 - diversity) * c.score - diversity * near
            for c, near in zip(pool, closest, strict=True)
        ]
        at = max(range(len(pool)), key=marginal.__getitem__)
        picked = pool.pop(at)
        del closest[at]
        chosen.append(picked)
        if len(chosen) < k:
            latest = similarities(pool, picked)
            closest = [near if near >= s else s for near, s in zip(closest, latest, strict=True)]
    return chosen

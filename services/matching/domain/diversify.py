"""Maximal marginal relevance: the K proposed mentors should be different types of mentor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    key: int | str
    score: float
    tiebreak: int


def jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def by_relevance(candidates: Sequence[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.tiebreak))


def diversify(
    candidates: Sequence[Candidate],
    k: int,
    diversity: float,
    similarity: Callable[[Candidate, Candidate], float],
) -> list[Candidate]:
    """Greedy MMR over the best candidates: relevance minus similarity to those already picked."""
    pool = by_relevance(candidates)
    if diversity <= 0 or len(pool) <= 1:
        return pool[:k]
    chosen = [pool.pop(0)]
    while pool and len(chosen) < k:
        best = max(
            pool,
            key=lambda c: (
                (1 - diversity) * c.score - diversity * max(similarity(c, s) for s in chosen),
                c.score,
                -c.tiebreak,
            ),
        )
        pool.remove(best)
        chosen.append(best)
    return chosen


def choose(
    candidates: Sequence[Candidate],
    top_k: int,
    pool_factor: int,
    diversity: float,
    similarity: Callable[[Candidate, Candidate], float],
) -> list[Candidate]:
    pool = by_relevance(candidates)[: pool_factor * top_k]
    return diversify(pool, top_k, diversity, similarity)

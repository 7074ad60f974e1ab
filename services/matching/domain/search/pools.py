"""A mentee's pool: the best `size` of the mentors showing it that are still in the mentor
table, best first (score, then the mentor's tiebreak, then its id), which MMR picks from.

Each entry carries the mentor's slot, so MMR (SearchIndex.diversified) reads its traits with
no second look-up. The tiebreaks are looked up only when scores tie where they decide: at full
scale each look-up in a 50,000-entry dict is a cache miss, and a tail GoalSet re-ranks about
20 mentees of up to 15 entries each.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter, ne

from services.matching.domain.search.tables import MentorTable

PoolEntry = tuple[float, str, int]  # (score, mentor id, the mentor's slot): best first

_score = itemgetter(1)


def pool(mentors: MentorTable, shown_by: Mapping[str, float], size: int) -> list[PoolEntry]:
    """The best `size` of the mentors showing the mentee that are still in the table."""
    best = sorted(shown_by.items(), key=_score, reverse=True)[: size + 1]
    # With no two equal scores among the best size + 1, the scores alone give the order and
    # the cut (the rest score below the size-th): no tiebreak is needed.
    scores = list(map(_score, best))
    if all(map(ne, scores, scores[1:])):
        slot_of = mentors.slots.slot_of
        try:
            return [(score, m, slot_of[m]) for m, score in best[:size]]
        except KeyError:  # one left the table (rare): the full rule below leaves it out
            pass
    return _by_tiebreak(mentors, shown_by, size)


def _by_tiebreak(mentors: MentorTable, shown_by: Mapping[str, float], size: int) -> list[PoolEntry]:
    """pool(), ordered by score, tiebreak and id in full."""
    known, slot_of = mentors.tiebreaks, mentors.slots.slot_of
    entries = sorted((-score, known[m], m) for m, score in shown_by.items() if m in known)
    return [(-negated, m, slot_of[m]) for negated, _, m in entries[:size]]

"""A mentee's pool: the best `size` of the mentors showing it that are still in the mentor
table, best first (score, then the mentor's tiebreak, then its id), which MMR picks from.

Each entry carries the mentor's slot, so MMR (SearchIndex.diversified) reads its traits with
no second look-up: at full scale each look-up in a 50,000-entry dict is a cache miss, and a
tail GoalSet re-ranks about 20 mentees of up to 15 entries each.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.matching.domain.search.tables import MentorTable

# (-score, the mentor's tiebreak, mentor id, its slot): best first; the ids differ, so the
# slot never takes part in the order
PoolEntry = tuple[float, int, str, int]


def pool(mentors: MentorTable, shown_by: Mapping[str, float], size: int) -> list[PoolEntry]:
    """The best `size` of the mentors showing the mentee that are still in the table."""
    slot_of, tiebreak_at = mentors.slots.slot_of, mentors.tiebreak_at
    if len(shown_by) > 2 * size:
        # Shown by many: find the size-th best score first, build entries above it only
        # (at full scale each mentor looked up is a cache miss: past twice the pool,
        # sorting the scores first costs less, 13 against 18 us for 31 to 60 mentors).
        bar = sorted(shown_by.values(), reverse=True)[size - 1]
        above = [(m, score) for m, score in shown_by.items() if score >= bar]
        if all(m in slot_of for m, _ in above):
            return sorted(
                (-score, tiebreak_at[s], m, s) for m, score in above for s in (slot_of[m],)
            )[:size]
    # Mentors not in the table are left out; they are rare, so each mentor is looked up
    # once, and filtered only when one is met.
    try:
        entries = [
            (-score, tiebreak_at[s], m, s) for m, score in shown_by.items() for s in (slot_of[m],)
        ]
    except KeyError:
        entries = [
            (-score, tiebreak_at[s], m, s)
            for m, score in shown_by.items()
            if m in slot_of
            for s in (slot_of[m],)
        ]
    entries.sort()
    return entries[:size]

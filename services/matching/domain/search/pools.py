"""A mentee's pool: the best `size` of the mentors showing it that are still in the mentor
table, best first (score, then the mentor's tiebreak, then its id), which MMR picks from.

`pool` is the rule, one mentee at a time. `pools_of` is the same for the many mentees one
event re-ranks, as the compiled MMR reads them: each mentor is looked up once (its slot), and
the sort, the cut at `size` and the tiebreaks are a few array operations for the whole batch
instead of Python tuples per entry (at full scale each look-up in a 50,000-entry dict is a cache
miss). tests/unit/matching/test_pools.py proves the two equal, ties included.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from services.matching.domain.search.tables import FloatArray, IntArray, MentorTable

PoolEntry = tuple[float, int, str]  # (-score, the mentor's tiebreak, mentor id): best first


def pool(mentors: MentorTable, shown_by: Mapping[str, float], size: int) -> list[PoolEntry]:
    """The best `size` of the mentors showing the mentee that are still in the table."""
    known = mentors.tiebreaks  # and their tiebreaks
    if len(shown_by) > 2 * size:
        # Shown by many: find the size-th best score first, build entries above it only
        # (at full scale each tiebreak looked up is a cache miss: past twice the pool,
        # sorting the scores first costs less, 13 against 18 us for 31 to 60 mentors).
        bar = sorted(shown_by.values(), reverse=True)[size - 1]
        above = [(m, score) for m, score in shown_by.items() if score >= bar]
        if all(m in known for m, _ in above):
            return sorted((-score, known[m], m) for m, score in above)[:size]
    # Mentors not in the table are left out; they are rare, so each mentor is looked up
    # once, and filtered only when one is met.
    try:
        entries = [(-score, known[m], m) for m, score in shown_by.items()]
    except KeyError:
        entries = [(-score, known[m], m) for m, score in shown_by.items() if m in known]
    entries.sort()
    return entries[:size]


@dataclass
class Pools:
    """Many pools one after another: pool p is entries starts[p]:starts[p + 1], best first."""

    scores: FloatArray
    slots: IntArray  # each entry's mentor slot
    starts: IntArray

    def floors(self, size: int) -> list[float | None]:
        """Each pool's last score if it is full (a lower score cannot enter it), else None."""
        starts = self.starts.tolist()
        return [
            float(self.scores[end - 1]) if end - start == size else None
            for start, end in itertools.pairwise(starts)
        ]


def from_entries(mentors: MentorTable, pools: Sequence[Sequence[PoolEntry]]) -> Pools:
    """Pools as `pool` gives them."""
    slot_of = mentors.slots.slot_of
    entries = [entry for one in pools for entry in one]
    return Pools(
        np.array([-negated for negated, _, _ in entries], np.float64),
        np.array([slot_of[mentor_id] for _, _, mentor_id in entries], np.int64),
        np.cumsum([0, *map(len, pools)], dtype=np.int64),
    )


def pools_of(mentors: MentorTable, shown: Sequence[Mapping[str, float]], size: int) -> Pools:
    """[pool(mentors, shown_by, size) for shown_by in shown], as Pools."""
    slot_of = mentors.slots.slot_of
    scores: list[float] = []
    slots: list[int] = []
    lengths: list[int] = []
    missing = False
    for shown_by in shown:
        above = shown_by
        if len(shown_by) > 2 * size:  # as in pool(): only the mentors above the bar
            bar = sorted(shown_by.values(), reverse=True)[size - 1]
            above = {m: score for m, score in shown_by.items() if score >= bar}
        before = len(slots)
        try:
            slots.extend(map(slot_of.__getitem__, above))
        except KeyError:  # a mentor no longer in the table (rare): all, it left out below
            del slots[before:]
            above = shown_by
            slots.extend([slot_of.get(m, -1) for m in above])
            missing = True
        lengths.append(len(above))
        scores.extend(above.values())
    score = np.array(scores, np.float64)
    slot = np.array(slots, np.int64)
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    if missing:
        kept = slot >= 0
        score, slot, owner = score[kept], slot[kept], owner[kept]
        lengths = np.bincount(owner, minlength=len(lengths)).tolist()
    tiebreak = mentors.tiebreak[slot]
    # Owner first: the entries stay in their pools' order, so `owner` needs no reordering.
    order = np.lexsort((tiebreak, -score, owner))
    score, slot, tiebreak = score[order], slot[order], tiebreak[order]
    same = tiebreak[1:] == tiebreak[:-1]  # one mentor ending a pool and starting the next,
    if same.any():  # or two mentors with one tiebreak: if with one score, their ids decide
        same &= owner[1:] == owner[:-1]
        if (same & (score[1:] == score[:-1])).any():
            return from_entries(mentors, [pool(mentors, shown_by, size) for shown_by in shown])
    firsts = [0, *itertools.accumulate(lengths)]
    if max(lengths, default=0) > size:  # cut each pool at `size`
        best = np.arange(owner.size) - np.array(firsts[:-1], np.int64)[owner] < size
        score, slot = score[best], slot[best]
    starts = np.array([0, *itertools.accumulate(min(n, size) for n in lengths)], np.int64)
    return Pools(score, slot, starts)

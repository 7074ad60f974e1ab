"""The goals' musts for a goal's search: which mentors domain/musts.py rules out, found fast.

A goal's search (pruning.mentors_reaching) looks only at open mentors; those lacking one of
the goal's musts are taken as not open for it, from one vectorised pass over the mentor table's
rows. A mentor's search reads the musts from the mentee table instead (mentor_scan.best_mentees,
MenteeTable.must_*). A goal without musts adds nothing.
"""

from __future__ import annotations

import numpy as np

from services.matching.domain.musts import Must
from services.matching.domain.search.tables import BoolArray, MentorTable
from services.matching.domain.search.tracked import TrackedDict


class MustIndex:
    """The ranked mentees whose goal has musts, by slot."""

    def __init__(self) -> None:
        self.of_slot: dict[int, tuple[Must, ...]] = TrackedDict()  # frozen with the rest

    def put(self, slot: int, musts: tuple[Must, ...]) -> None:
        if musts:
            self.of_slot[slot] = musts
        else:
            self.of_slot.pop(slot, None)

    def clear(self, slot: int) -> None:
        self.of_slot.pop(slot, None)

    def mentors_meeting(self, musts: tuple[Must, ...], mentors: MentorTable) -> BoolArray:
        """Per mentor slot, whether it meets every one of these musts (none does if no mentor
        has the value). A mask, not a list of slots: a common must rules out most of a large
        table, and sorting those slots cost a goal's search more than the search itself."""
        high = mentors.slots.high_water
        meets = np.ones(high, np.bool_)
        for kind, value in musts:
            value_id = mentors.vocab[kind].ids.get(value)
            rows = mentors.rows[kind]
            if value_id is None or value_id >= rows.shape[0]:
                return np.zeros(high, np.bool_)
            meets &= rows[value_id, :high].astype(np.bool_)
        return meets

    def check_invariants(self, ranked: set[int]) -> None:
        assert set(self.of_slot) <= ranked

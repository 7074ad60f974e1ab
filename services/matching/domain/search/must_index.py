"""The goals' musts for a goal's search: which mentors domain/musts.py rules out, found fast.

A goal's search (pruning.mentors_reaching) already skips the mentor slots it is given as
excluded (feedback); those lacking one of the goal's musts are added to them, one vectorised
pass over the mentor table's rows. A mentor's search reads the musts from the mentee table
instead (kernels.best_mentees, MenteeTable.must_*). A goal without musts adds nothing.
"""

from __future__ import annotations

import numpy as np

from services.matching.domain.musts import Must
from services.matching.domain.search.tables import IntArray, MentorTable


class MustIndex:
    """The ranked mentees whose goal has musts, by slot."""

    def __init__(self) -> None:
        self.of_slot: dict[int, tuple[Must, ...]] = {}

    def put(self, slot: int, musts: tuple[Must, ...]) -> None:
        if musts:
            self.of_slot[slot] = musts
        else:
            self.of_slot.pop(slot, None)

    def clear(self, slot: int) -> None:
        self.of_slot.pop(slot, None)

    def mentors_ruled_out(self, musts: tuple[Must, ...], mentors: MentorTable) -> IntArray:
        """The mentor slots lacking one of these musts (every slot if no mentor has the value)."""
        high = mentors.slots.high_water
        meets = np.ones(high, np.bool_)
        for kind, value in musts:
            value_id = mentors.vocab[kind].ids.get(value)
            rows = mentors.rows[kind]
            if value_id is None or value_id >= rows.shape[0]:
                return np.arange(high, dtype=np.int64)
            meets &= rows[value_id, :high].astype(np.bool_)
        return np.flatnonzero(~meets).astype(np.int64)

    def check_invariants(self, ranked: set[int]) -> None:
        assert set(self.of_slot) <= ranked

"""The goals' musts for the fast search: which pairs domain/musts.py rules out, found fast.

Both searches already skip the pairs they are given as excluded (feedback); a pair whose
mentor lacks one of the goal's musts is added to those, so the search applies the rule
exactly as the batch reference does. A tenant or goal without musts adds nothing.
"""

from __future__ import annotations

import numpy as np

from services.matching.domain.musts import Must, holds
from services.matching.domain.people import Person
from services.matching.domain.search.tables import IntArray, MentorTable


class MustIndex:
    """The ranked mentees whose goal has musts, by slot and by must."""

    def __init__(self) -> None:
        self.of_slot: dict[int, tuple[Must, ...]] = {}
        self.by_must: dict[Must, set[int]] = {}

    def put(self, slot: int, musts: tuple[Must, ...]) -> None:
        self.clear(slot)
        if musts:
            self.of_slot[slot] = musts
            for must in musts:
                self.by_must.setdefault(must, set()).add(slot)

    def clear(self, slot: int) -> None:
        for must in self.of_slot.pop(slot, ()):
            slots = self.by_must[must]
            slots.discard(slot)
            if not slots:
                del self.by_must[must]

    def mentees_ruled_out(self, mentor: Person) -> list[int]:
        """The mentee slots with a must this mentor does not hold."""
        out: list[int] = []
        for must, slots in self.by_must.items():
            if not holds(mentor, must):
                out.extend(slots)
        return out

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
        for must, slots in self.by_must.items():
            assert slots and all(must in self.of_slot[s] for s in slots), must
        assert sum(map(len, self.by_must.values())) == sum(map(len, self.of_slot.values()))

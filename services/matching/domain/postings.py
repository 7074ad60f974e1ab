"""Inverted index: goal skill -> mentee slots whose goal names it.

Append-only growable arrays; entries left behind by changed goals are tolerated (callers
score exactly, so a stale entry scores zero on that skill and drops out) and swept away when
they outnumber the live ones.
"""

from __future__ import annotations

import numpy as np

from services.matching.domain.tables import PAD, IntArray, MenteeTable


class Postings:
    def __init__(self) -> None:
        self._arrays: list[IntArray] = []
        self._sizes: list[int] = []
        self._stored = 0
        self._scratch = np.zeros(0, np.bool_)

    def add(self, slot: int, skill_ids: np.ndarray, table: MenteeTable) -> None:
        for skill in skill_ids.tolist():
            if skill == PAD:
                continue
            while skill >= len(self._arrays):
                self._arrays.append(np.zeros(8, np.int64))
                self._sizes.append(0)
            size = self._sizes[skill]
            if size == self._arrays[skill].size:
                self._arrays[skill] = np.concatenate(
                    [self._arrays[skill], np.zeros(size, np.int64)]
                )
            self._arrays[skill][size] = slot
            self._sizes[skill] = size + 1
            self._stored += 1
        if self._stored > 2 * table.ranked_goal_skills + 4096:
            self._rebuild(table)

    def _rebuild(self, table: MenteeTable) -> None:
        slots = np.flatnonzero(table.ranked)
        skills = table.goal_skills[slots]
        self._arrays = [np.zeros(8, np.int64) for _ in self._arrays]
        self._sizes = [0] * len(self._arrays)
        self._stored = 0
        for column in range(skills.shape[1]):
            ids = skills[:, column]
            for skill in np.unique(ids[ids != PAD]).tolist():
                members = slots[ids == skill]
                array = self._arrays[skill]
                size = self._sizes[skill]
                if size + members.size > array.size:
                    array = np.concatenate([array[:size], np.zeros(members.size + size, np.int64)])
                array[size : size + members.size] = members
                self._arrays[skill] = array
                self._sizes[skill] = size + members.size
                self._stored += members.size

    def union(self, skill_ids: list[int], table: MenteeTable) -> IntArray:
        """Ranked mentee slots whose goal may name one of these skills (deduplicated)."""
        parts = [self._arrays[s][: self._sizes[s]] for s in skill_ids if s < len(self._arrays)]
        if not parts:
            return np.zeros(0, np.int64)
        joined = np.concatenate(parts)
        if self._scratch.size < table.ranked.size:
            self._scratch = np.zeros(table.ranked.size, np.bool_)
        self._scratch[joined] = True
        found = np.flatnonzero(self._scratch[: table.ranked.size] & table.ranked)
        self._scratch[joined] = False
        return found

"""Inverted index: goal skill -> mentee slots whose goal names it.

Append-only growable arrays; entries left behind by changed goals are tolerated (they only
raise the level sums `reach` returns, which are bounds: callers score exactly, so a stale
entry scores zero on that skill) and swept away when they outnumber the live ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from services.matching.domain.search import kernels
from services.matching.domain.search.tables import PAD, IntArray, MenteeTable

Reach = tuple[IntArray, npt.NDArray[np.int32]]  # (slots, at least their level sums)
Summed = tuple[npt.NDArray[np.int32], int]  # (per slot, at least its level sum; postings read)


class Postings:
    def __init__(self) -> None:
        self._arrays: list[IntArray] = []
        self._sizes: list[int] = []
        self._stored = 0
        self._scratch = np.zeros(0, np.int32)

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
            self.rebuild(table)

    def rebuild(self, table: MenteeTable) -> None:
        """From the table alone: after a restore, or when stale entries outnumber live ones.
        One sort of every (skill, slot) pair, so it stays well under a second at 500,000."""
        slots = np.flatnonzero(table.ranked)
        skills = table.goal_skills[slots]
        owners = np.repeat(slots, skills.shape[1])
        flat = skills.ravel().astype(np.int64)
        kept = flat != PAD
        flat, owners = flat[kept], owners[kept]
        order = np.argsort(flat, kind="stable")
        counts = np.bincount(flat, minlength=len(self._arrays)).tolist()
        bounds = np.cumsum([0, *counts]).tolist()
        owners = owners[order]
        self._arrays = [
            np.concatenate([owners[bounds[i] : bounds[i + 1]], np.zeros(8 + n // 2, np.int64)])
            for i, n in enumerate(counts)
        ]
        self._sizes = counts
        self._stored = int(flat.size)

    def holds(self, skill: int, slot: int) -> bool:
        """Whether the skill's postings name the slot."""
        if skill >= len(self._arrays):
            return False
        return bool((self._arrays[skill][: self._sizes[skill]] == slot).any())

    def summed(self, levels: Sequence[tuple[int, int]], table: MenteeTable) -> Summed:
        """Per mentee slot, at least the level sum of its goal in these (skill, level) pairs
        (summed list by list, so that the lists are never copied; a stale or repeated entry
        only raises it), and how many postings were read. The array is this index's scratch:
        the caller sets it back to 0 (summed_slots, or a mentor's search) before the next."""
        if self._scratch.size < table.ranked.size:
            self._scratch = np.zeros(table.ranked.size, np.int32)
        named = 0
        for skill, level in levels:
            if skill < len(self._arrays):
                kernels.add_level(self._scratch, self._arrays[skill][: self._sizes[skill]], level)
                named += self._sizes[skill]
        return self._scratch, named

    def reach(self, levels: Sequence[tuple[int, int]], table: MenteeTable) -> Reach:
        """Ranked mentee slots whose goal may name one of these (skill, level) pairs, ascending
        and distinct, each with at least its goal's level sum in them (summed)."""
        named = self.summed(levels, table)[1]
        found: Reach = kernels.summed_slots(self._scratch, table.ranked, named)
        return found

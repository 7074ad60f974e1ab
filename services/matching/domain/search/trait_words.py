"""What makes two mentors the same type (their skills and industries), as bit words by slot.

Re-ranking compares each pick with the rest of a mentee's pool; with the traits as rows of
uint64 words, the whole comparison runs compiled (diversity.diversified_each).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

WORD = 64
_ALL_ONES = (1 << WORD) - 1


class TraitWords:
    """Per mentor slot: the skill ids' bits in the first `skill_words` words, then the
    industry ids' bits. Widens (for everyone) when an id outgrows the words."""

    def __init__(self, capacity: int) -> None:
        self.skill_words = 1
        self.rows = np.zeros((capacity, 2), np.uint64)

    def grow(self, capacity: int) -> None:
        grown = np.zeros((capacity, self.rows.shape[1]), np.uint64)
        grown[: self.rows.shape[0]] = self.rows
        self.rows = grown

    def put(self, slot: int, skill_ids: Iterable[int], industry_ids: Iterable[int]) -> None:
        skills, industries = _mask(skill_ids), _mask(industry_ids)
        self._fit(_words(skills), _words(industries))
        row = self.rows[slot]
        row[:] = 0
        for index in range(self.skill_words):
            row[index] = (skills >> (WORD * index)) & _ALL_ONES
        for index in range(self.rows.shape[1] - self.skill_words):
            row[self.skill_words + index] = (industries >> (WORD * index)) & _ALL_ONES

    def clear(self, slot: int) -> None:
        self.rows[slot] = 0

    def _fit(self, skill_words: int, industry_words: int) -> None:
        old_skills = self.skill_words
        old_industries = self.rows.shape[1] - old_skills
        if skill_words <= old_skills and industry_words <= old_industries:
            return
        skills, industries = max(skill_words, old_skills), max(industry_words, old_industries)
        wider = np.zeros((self.rows.shape[0], skills + industries), np.uint64)
        wider[:, :old_skills] = self.rows[:, :old_skills]
        wider[:, skills : skills + old_industries] = self.rows[:, old_skills:]
        self.rows, self.skill_words = wider, skills


def _mask(ids: Iterable[int]) -> int:
    mask = 0
    for i in ids:
        mask |= 1 << i
    return mask


def _words(mask: int) -> int:
    return max(1, -(-mask.bit_length() // WORD))

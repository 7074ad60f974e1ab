"""Mentor lists searched from scratch, and which were searched ahead of their partition's copy.

A mentor's change reaches each partition as a copy of its own (ADR 0008), and each copy asks
for the mentor's lists there to be searched again. One search over the mentor's candidates
finds its best mentees in every partition at once, for about the cost of one, so the first
copy searches them all and the later copies find their lists already done.

A list is done when the search built it from the mentor's data, seats and exclusions as they
are now, and it is still the very list that search built: from then on the engine keeps it
exact in place as mentees come and go (MentorLists.insert, remove). Any change to the mentor's
inputs forgets its lists; a list put there otherwise (a restore, a list emptied and made
again) is a different object, so it is searched again. A partition where the search found
nobody is never taken as done: its mentees may come later, with lists made elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from services.matching.domain.constraints import kept_length
from services.matching.domain.engine.lists import (
    MentorLists,
    keep_within_cutoff,
    shown_counts,
)
from services.matching.domain.engine.records import ListKey
from services.matching.domain.mentor_lists import Entry, MentorList
from services.matching.domain.people import Person, tiebreak
from services.matching.domain.search import Contenders, SearchIndex

if TYPE_CHECKING:
    from services.matching.domain.engine.tenant import TenantEngine


class Searched:
    """The lists searched ahead of their partition's copy, until that copy takes them."""

    def __init__(self) -> None:
        self._ahead: dict[str, dict[int, MentorList]] = {}  # mentor -> partition -> list

    def built_ahead(self, lists: MentorLists, key: ListKey) -> None:
        """The search just built the list at `key` from the mentor's inputs now, before the
        partition's copy asked for it."""
        mentor_id, partition = key
        mentor_list = lists.get(key)
        if mentor_list is not None:
            self._ahead.setdefault(mentor_id, {})[partition] = mentor_list

    def take(self, lists: MentorLists, key: ListKey) -> bool:
        """Whether the list at `key` was searched ahead from the mentor's inputs now and is
        still that list; either way the partition's copy has come for it."""
        mentor_id, partition = key
        ahead = self._ahead.get(mentor_id)
        built = ahead.pop(partition, None) if ahead is not None else None
        if ahead is not None and not ahead:
            del self._ahead[mentor_id]
        return built is not None and lists.get(key) is built

    def forget(self, mentor_id: str, partition: int | None = None) -> None:
        """The mentor's data, seats or exclusions (in one partition, or all) changed."""
        if partition is None:
            self._ahead.pop(mentor_id, None)
        else:
            self._ahead.get(mentor_id, {}).pop(partition, None)

    def pending(self) -> int:
        """Lists searched ahead whose copy has not come yet (for tests)."""
        return sum(map(len, self._ahead.values()))


def rebuild_lists(
    engine: TenantEngine, mentor_id: str, partitions: list[int], ahead: bool = False
) -> None:
    """The mentor's lists in these partitions searched from scratch (one bounded pass), and
    with `ahead` in the others where the search finds mentees or a list is."""
    lists = engine.lists
    budget = engine.budget(mentor_id)
    mentor = engine.search.mentor(mentor_id)
    others = [p for p in range(engine.config.partitions) if p not in partitions] if ahead else []
    found: dict[int, Found] = {}
    if mentor is not None and budget > 0:
        excluded = engine.roster.excluded_by_mentor.get(mentor_id) or {}
        found = best_lists(engine, mentor, partitions + others, excluded)
    others = [
        p
        for p in others
        if (p in found and found[p].eligible > 0) or lists.get((mentor_id, p)) is not None
    ]
    partitions = sorted(partitions + others)
    fresh = {partition: MentorList(budget) for partition in partitions}
    for partition, mentor_list in fresh.items():
        if partition in found:
            mentor_list.entries, mentor_list.truncated = found[partition].listed()
    keep_within_cutoff(lists, mentor_id, fresh)
    for partition in partitions:
        lists.replace((mentor_id, partition), fresh[partition])
    for partition in partitions:  # now that the cutoff is known
        lists.trim((mentor_id, partition))
    for partition in others:
        engine.searched.built_ahead(lists, (mentor_id, partition))


@dataclass(frozen=True)
class Found:
    """One partition's best `length` mentees of a search, best first, and how many were
    eligible (exact up to length + 1)."""

    entries: list[Entry]
    eligible: int
    length: int

    def listed(self) -> tuple[list[Entry], bool]:
        """As a fresh list's entries, and whether more were eligible."""
        return self.entries, self.eligible > self.length


def best_lists(
    engine: TenantEngine, mentor: Person, wanted: list[int], excluded: Iterable[str]
) -> dict[int, Found]:
    """Per partition, the mentor's best mentees, as many as its list will keep.

    A list keeps the entries within the mentor's tenant-wide cutoff and a reserve
    (kept_length), at most the whole budget's. The budget mostly spreads over the partitions,
    and a search that keeps fewer prunes more, so the search first keeps per partition what
    a likely share would need (first_share); a partition whose share proves larger
    (`lacking`) is searched again for the whole. What each list keeps then is what one search
    for the whole budget everywhere would have kept (tests/unit/matching/test_search_share.py).
    """
    search, budget = engine.search, engine.budget(mentor.user_id)
    whole = kept_length(budget)
    first = min(whole, kept_length(first_share(budget, len(wanted))))
    best = search.best_mentees(mentor, dict.fromkeys(wanted, first), excluded)
    found = {p: _found(search, contenders, first) for p, contenders in best.items()}
    again = lacking(engine.lists, mentor.user_id, found) if first < whole else []
    if again:
        best = search.best_mentees(mentor, dict.fromkeys(again, whole), excluded)
        found |= {p: _found(search, contenders, whole) for p, contenders in best.items()}
    return found


# How far past its mean a partition's share is taken at first, in standard deviations.
SHARE_SPREAD = 3.0


def first_share(budget: int, partitions: int) -> int:
    """How many of the mentor's best `budget` a partition's first search allows for. Each
    mentee lies in one of the partitions searched at random (a hash of its id), so a
    partition's share of the best `budget` is binomial: this is its mean and SHARE_SPREAD
    standard deviations (a larger share, about one partition in a thousand, is searched
    again)."""
    if partitions <= 1:
        return budget
    chance = 1 / partitions
    spread = SHARE_SPREAD * math.sqrt(budget * chance * (1 - chance))
    return max(0, min(budget, math.ceil(budget * chance + spread)))


def _found(search: SearchIndex, contenders: Contenders, length: int) -> Found:
    return Found(top_entries(search, contenders, length), contenders.eligible, length)


def lacking(lists: MentorLists, mentor_id: str, found: Mapping[int, Found]) -> list[int]:
    """The partitions whose search may have kept fewer than their list keeps: more were
    eligible, and the cutoff over what every partition found leaves a share there whose
    kept length exceeds what it kept. Where none is, the cutoff over what was found is the
    one over every eligible mentee: a partition's entries past what it kept lie past it."""
    kept = [
        (partition, mentor_list)
        for partition in range(lists.partitions)
        if partition not in found and (mentor_list := lists.get((mentor_id, partition)))
    ]
    searched = [(p, MentorList(lists.budget(mentor_id), f.entries)) for p, f in found.items()]
    elsewhere = lists.remote.get(mentor_id, {}).values()
    _, counts = shown_counts(kept + sorted(searched), elsewhere, lists.budget(mentor_id))
    return [
        p
        for p, _, count in counts
        if p in found
        and found[p].eligible > found[p].length
        and kept_length(count) > found[p].length
    ]


def top_entries(search: SearchIndex, found: Contenders, length: int) -> list[Entry]:
    """The best `length` of the mentees found, as list entries, best first."""
    slots, totals = found.slots, found.totals
    if slots.size > length:
        threshold = np.partition(totals, slots.size - length)[slots.size - length]
        near = totals >= threshold
        slots, totals = slots[near], totals[near]
    entries = sorted(
        (-score, tiebreak(search.mentee_id(s)), s)
        for s, score in zip(slots.tolist(), totals.tolist(), strict=True)
    )
    return entries[:length]

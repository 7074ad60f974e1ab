"""Every mentor list of one tenant, with what follows from them: floors, memberships, shown-by.

A list per (mentor, partition) holds the mentor's best mentees there (mentor_lists.MentorList).
Kept with the lists, and only changed with them:
- floors: per partition and mentor slot, the lowest score that can still enter the list (what
  a goal's search compares against);
- memberships: which lists hold each mentee (what a mentee's change must revisit);
- shown_by: per mentee, the mentors whose shown part holds it, with its score there (the pool
  its ranking is drawn from). Each change to it is reported to `noticed(mentee, score)`.
"""

from __future__ import annotations

import bisect
import sys
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from services.matching.domain.mentor_lists import Entry, MentorList
from services.matching.domain.people import Person
from services.matching.domain.search import IntArray, Memberships, SearchIndex

ListKey = tuple[str, int]  # (mentor id, partition)
Share = Callable[[Person, int], int]  # a mentor's share of its exposure in one partition


class Floors:
    """Per (partition, mentor slot): the lowest score that can still enter the mentor's list,
    and whether the list is closed (full, and believed complete). A goal's search reads one
    partition's row."""

    def __init__(self, partitions: int) -> None:
        self.values = np.full((partitions, 256), 2.0)
        self.closed = np.zeros((partitions, 256), np.bool_)

    def ensure(self, capacity: int) -> None:
        if capacity > self.values.shape[1]:
            grown = np.full((self.values.shape[0], capacity), 2.0)
            grown[:, : self.values.shape[1]] = self.values
            self.values = grown
            closed = np.zeros(grown.shape, np.bool_)
            closed[:, : self.closed.shape[1]] = self.closed
            self.closed = closed

    def set(self, slot: int, partition: int, value: float, closed: bool = False) -> None:
        self.values[partition, slot] = value
        self.closed[partition, slot] = closed


class MentorLists:
    def __init__(
        self,
        partitions: int,
        search: SearchIndex,
        share: Share,
        noticed: Callable[[int, float], None],
    ) -> None:
        self.partitions = partitions
        self.search = search
        self.share = share
        self.noticed = noticed
        self.by_key: dict[ListKey, MentorList] = {}
        self.floors = Floors(partitions)
        self.member_of = Memberships()  # mentee slot -> ids of the mentors listing it
        self.shown_by: dict[int, dict[str, float]] = defaultdict(dict)
        self.changed: set[ListKey] = set()  # lists to persist

    def get(self, key: ListKey) -> MentorList | None:
        return self.by_key.get(key)

    def shown_mentees(self, mentor_id: str) -> list[int]:
        """The mentee slots the mentor's lists show, in every partition."""
        found: list[int] = []
        for partition in range(self.partitions):
            mentor_list = self.by_key.get((mentor_id, partition))
            if mentor_list is not None:
                found.extend(entry[2] for entry in mentor_list.shown())
        return found

    def floors_of(self, partition: int) -> tuple[np.ndarray, np.ndarray]:
        return self.floors.values[partition], self.floors.closed[partition]

    def fit_floors(self) -> None:
        """Room for every mentor slot of the table."""
        self.floors.ensure(self.search.mentor_capacity())

    def set_floor(self, mentor_id: str, partition: int) -> None:
        slot = self.search.mentor_slot(mentor_id)
        if slot is None:
            return
        mentor_list = self.by_key.get((mentor_id, partition))
        if mentor_list is not None:
            closed = not mentor_list.truncated and len(mentor_list.entries) >= mentor_list.length
            self.floors.set(slot, partition, mentor_list.floor(), closed)
        else:
            mentor = self.search.mentor_at(slot)
            self.floors.set(slot, partition, -1.0 if self.share(mentor, partition) > 0 else 2.0)

    def replace(self, key: ListKey, fresh: MentorList) -> None:
        """The list becomes `fresh` (an empty, complete one is dropped)."""
        old = self.by_key.get(key)
        old_shown = {e[2]: -e[0] for e in old.shown()} if old else {}
        old_members = {e[2] for e in old.entries} if old else set()
        if fresh.entries or fresh.truncated:
            self.by_key[key] = fresh
        else:
            self.by_key.pop(key, None)
        mentor_id, partition = key
        new_members = {e[2] for e in fresh.entries}
        for mentee in old_members - new_members:
            self.member_of.discard(mentee, mentor_id)
        for mentee in new_members - old_members:
            self.member_of.add(mentee, mentor_id)
        self._update_shown(mentor_id, old_shown, {e[2]: -e[0] for e in fresh.shown()})
        self.set_floor(mentor_id, partition)
        if old is not None or key in self.by_key:
            self.changed.add(key)

    def leave(self, mentee: int) -> list[str]:
        """The mentee leaves every list's memberships; the ids of the mentors that held it."""
        return sorted(self.member_of.pop(mentee))

    def remove(self, key: ListKey, mentee: int) -> bool:
        """Take a mentee out of a list in place: the first of the reserve moves up into the
        shown part. False when the reserve is spent and the list must be searched again."""
        mentor_id, partition = key
        self.member_of.discard(mentee, mentor_id)
        mentor_list = self.by_key.get(key)
        entries = mentor_list.entries if mentor_list is not None else []
        index = next((i for i, entry in enumerate(entries) if entry[2] == mentee), None)
        if mentor_list is None or index is None:
            self.set_floor(mentor_id, partition)
            return True
        if mentor_list.truncated and len(entries) <= mentor_list.share:
            return False
        removed, share = entries.pop(index), mentor_list.share
        if index < share:
            self._hide(mentee, mentor_id)
            self.noticed(mentee, -removed[0])
            if len(entries) >= share:
                moved_up = entries[share - 1]
                self.shown_by[moved_up[2]][mentor_id] = -moved_up[0]
                self.noticed(moved_up[2], -moved_up[0])
        if not entries and not mentor_list.truncated:
            del self.by_key[key]
        self.set_floor(mentor_id, partition)
        self.changed.add(key)
        return True

    def insert(self, mentor_slot: int, partition: int, entry: Entry) -> None:
        """Offer one mentee to one mentor list, in place."""
        mentor_id = self.search.mentors.slots.user_ids[mentor_slot] or ""
        key = (mentor_id, partition)
        mentor_list = self.by_key.get(key)
        if mentor_list is None:
            share = self.share(self.search.mentor_at(mentor_slot), partition)
            mentor_list = self.by_key[key] = MentorList(share)
        if not mentor_list.share:
            return
        entries = mentor_list.entries
        if mentor_list.truncated and (not entries or entry >= entries[-1]):
            return
        position = bisect.bisect_left(entries, entry)
        entries.insert(position, entry)
        mentee = entry[2]
        self.member_of.add(mentee, mentor_id)
        if position < mentor_list.share:
            self.shown_by[mentee][mentor_id] = -entry[0]
            self.noticed(mentee, -entry[0])
            if len(entries) > mentor_list.share:
                pushed = entries[mentor_list.share][2]  # was shown, now in the reserve
                lost = self._hide(pushed, mentor_id)
                if lost is not None:
                    self.noticed(pushed, lost)
        if len(entries) > mentor_list.length:
            mentor_list.truncated = True
            self.member_of.discard(entries.pop()[2], mentor_id)
        closed = not mentor_list.truncated and len(entries) >= mentor_list.length
        self.floors.set(mentor_slot, partition, mentor_list.floor(), closed)
        self.changed.add(key)

    def left_out(self, mentor_slots: IntArray, partition: int) -> None:
        """Full lists that a candidate did not enter now have candidates beyond them."""
        for slot in mentor_slots.tolist():
            key = (self.search.mentors.slots.user_ids[slot] or "", partition)
            self.by_key[key].truncated = True
            self.floors.closed[partition, slot] = False
            self.changed.add(key)

    def release(self, mentee: int) -> None:
        """The mentee's slot is freed: no mentor shows it any more."""
        self.shown_by.pop(mentee, None)

    def _update_shown(self, mentor_id: str, old: dict[int, float], new: dict[int, float]) -> None:
        for mentee in old.keys() - new.keys():
            self._hide(mentee, mentor_id)
            self.noticed(mentee, old[mentee])
        for mentee, score in new.items():
            before = old.get(mentee)
            if before == score:
                continue
            self.shown_by[mentee][mentor_id] = score
            self.noticed(mentee, score if before is None else max(score, before))

    def _hide(self, mentee: int, mentor_id: str) -> float | None:
        shown_by = self.shown_by.get(mentee)
        if shown_by is None:
            return None
        score = shown_by.pop(mentor_id, None)
        if shown_by:
            self.shown_by[mentee] = compacted(shown_by)
        else:
            del self.shown_by[mentee]
        return score

    def check_invariants(self) -> None:
        """Memberships and shown-by are the lists read the other way; floors are theirs."""
        members: dict[int, set[str]] = defaultdict(set)
        shown: dict[int, dict[str, float]] = defaultdict(dict)
        for (mentor_id, partition), mentor_list in self.by_key.items():
            entries = mentor_list.entries
            assert entries == sorted(set(entries)), (mentor_id, partition)
            assert len(entries) <= mentor_list.length, (mentor_id, partition)
            for _, _, mentee in entries:
                members[mentee].add(mentor_id)
            for score, _, mentee in mentor_list.shown():
                shown[mentee][mentor_id] = -score
            slot = self.search.mentor_slot(mentor_id)
            if slot is not None:
                closed = not mentor_list.truncated and len(entries) >= mentor_list.length
                assert self.floors.values[partition, slot] == mentor_list.floor()
                assert self.floors.closed[partition, slot] == closed, (mentor_id, partition)
        held = {mentee: set(self.member_of.of(mentee)) for mentee in self.member_of.mentees()}
        assert held == members
        assert {m: by for m, by in self.shown_by.items() if by} == shown


def compacted(shown_by: dict[str, float]) -> dict[str, float]:
    """The same, in a table sized for what it holds: Python dicts never shrink, and a mentee
    that was briefly shown by thousands of mentors (early in a build, when lists are short)
    would otherwise keep a table that large for good."""
    if sys.getsizeof(shown_by) > 1024 + 256 * len(shown_by):
        return dict(shown_by)
    return shown_by

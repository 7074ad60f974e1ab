"""Every mentor list of one tenant, with what follows from them: floors, memberships, shown-by.

A list per (mentor, partition) holds the mentor's best mentees there (mentor_lists.MentorList).
How many of them are shown follows from the mentor's tenant-wide exposure cutoff, taken over
the best entries of every partition: the lists here, and for partitions another instance owns,
their best order keys as stored (`remote`, set by the service from the shared store).
Kept with the lists, and only changed with them:
- floors: per partition and mentor slot, the lowest score that can still enter the list (what
  a goal's search compares against);
- memberships: which lists hold each mentee (what a mentee's change must revisit);
- shown_by: per mentee, the mentors whose shown part holds it, with its score there (the pool
  its ranking is drawn from). Each change to it is reported to `noticed(mentee, score)`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np

from services.matching.domain.constraints import OrderKey, exposure_cutoff, kept_length
from services.matching.domain.engine import cutoff_step
from services.matching.domain.engine.hosts import Hosts
from services.matching.domain.engine.notices import Notices
from services.matching.domain.engine.records import ListKey, MentorRecord, list_items
from services.matching.domain.engine.shown_parts import ShownParts
from services.matching.domain.mentor_lists import Entry, MentorList
from services.matching.domain.search import IntArray, Memberships, SearchIndex

UNKNOWN = cutoff_step.UNKNOWN
Budget = Callable[[str], int]  # a mentor's tenant-wide exposure budget now (0: not open)
Shown = dict[int, float]  # mentee slot -> score: what one list shows


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


class MentorLists(ShownParts):
    def __init__(
        self,
        partitions: int,
        search: SearchIndex,
        budget: Budget,
        noticed: Callable[[int, float], None],
        hosts: Hosts,
    ) -> None:
        self.partitions = partitions
        self.hosts = hosts  # each mentor's host, told of each change to a mentor's walk (walk_of)
        self.search = search
        self.budget = budget
        self.noticed = noticed
        self.records: dict[str, MentorRecord] = {}  # mentor -> its lists here and cutoff
        self.remote: dict[str, dict[int, list[OrderKey]]] = {}  # mentor -> partition -> best keys
        self.floors = Floors(partitions)
        self.member_of = Memberships()  # mentee slot -> ids of the mentors listing it
        self.shown_by: dict[int, dict[str, float]] = defaultdict(dict)
        self.changed: set[ListKey] = set()  # lists to persist
        self.notices = Notices()  # mentors whose best entries in a partition changed
        self.spent: set[ListKey] = set()  # lists to search again (MentorList.spent)

    def get(self, key: ListKey) -> MentorList | None:
        record = self.records.get(key[0])
        return None if record is None else record[key[1]]

    def items(self) -> Iterator[tuple[ListKey, MentorList]]:
        return list_items(self.records)

    def record(self, mentor_id: str) -> MentorRecord:
        record = self.records.get(mentor_id)
        if record is None:
            record = self.records[mentor_id] = MentorRecord(self.partitions)
        return record

    def shown_mentees(self, mentor_id: str) -> list[int]:
        """The mentee slots the mentor's lists show, in every partition."""
        found: list[int] = []
        for mentor_list in self.records.get(mentor_id, ()):
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
        mentor_list = self.get((mentor_id, partition))
        if mentor_list is not None:
            closed = not mentor_list.truncated and len(mentor_list.entries) >= mentor_list.length
            self.floors.set(slot, partition, mentor_list.floor(), closed)
        else:
            self.floors.set(slot, partition, -1.0 if self.budget(mentor_id) > 0 else 2.0)

    def replace(self, key: ListKey, fresh: MentorList) -> None:
        """The list becomes `fresh` (an empty, complete one is dropped)."""
        mentor_id, partition = key
        record = self.record(mentor_id)
        old = record[partition]
        before = shown_of(old.shown()) if old else {}
        old_members = {e[2] for e in old.entries} if old else set()
        record[partition] = fresh if fresh.entries or fresh.truncated else None
        new_members = {e[2] for e in fresh.entries}
        for mentee in old_members - new_members:
            self.member_of.discard(mentee, mentor_id)
        for mentee in new_members - old_members:
            self.member_of.add(mentee, mentor_id)
        if (old.best_keys() if old else []) != fresh.best_keys():
            self._best_changed(mentor_id)
        self.reshare(mentor_id, {partition: before})
        self.set_floor(mentor_id, partition)
        if old is not None or record[partition] is not None:
            self.changed.add(key)

    def leave(self, mentee: int) -> list[str]:
        """The mentee leaves every list's memberships; the ids of the mentors that held it."""
        return sorted(self.member_of.pop(mentee))

    def remove(self, key: ListKey, mentee: int) -> None:
        """Take a mentee out of a list in place: the first of the reserve moves up (a list left
        spent is noted in `spent`)."""
        mentor_id, partition = key
        self.member_of.discard(mentee, mentor_id)
        record = self.records.get(mentor_id)
        mentor_list = None if record is None else record[partition]
        entries = mentor_list.entries if mentor_list is not None else []
        index = next((i for i, entry in enumerate(entries) if entry[2] == mentee), None)
        if record is None or mentor_list is None or index is None:
            self.set_floor(mentor_id, partition)
            return
        cutoff = cutoff_step.known(record)
        shown = index < mentor_list.shown_count
        before = shown_of(mentor_list.shown()) if shown and cutoff is None else None
        left = entries.pop(index)
        if not entries and not mentor_list.truncated:
            record[partition] = None
        if index < mentor_list.budget:
            self._best_changed(mentor_id, shown or cutoff is None)
        if before is not None:  # a shown mentee left: the cutoff moves down
            self.reshare(mentor_id, {partition: before})
        elif shown and cutoff is not None:
            cutoff_step.left(self, mentor_id, record, partition, left, cutoff)
        elif mentor_list.spent() and self.budget(mentor_id) > 0:
            self.spent.add(key)
        self.set_floor(mentor_id, partition)
        self.changed.add(key)
        if shown:
            self.hosts.touch(mentor_id, left)

    def insert(self, mentor_slot: int, partition: int, entry: Entry) -> None:
        """Offer one mentee to one mentor list, in place."""
        mentor_id = self.search.mentors.slots.user_ids[mentor_slot] or ""
        record = self.records.get(mentor_id)
        mentor_list = None if record is None else record[partition]
        if record is None or mentor_list is None:
            budget = self.budget(mentor_id)
            if not budget:
                return
            record = self.record(mentor_id)
            mentor_list = record[partition] = MentorList(budget)
        entries = mentor_list.entries
        if mentor_list.truncated and (not entries or entry >= entries[-1]):
            return
        position = bisect.bisect_left(entries, entry)
        cutoff = cutoff_step.known(record)
        shown = cutoff is None or (entry[0], entry[1]) < cutoff
        before = shown_of(mentor_list.shown()) if shown and cutoff is None else None
        entries.insert(position, entry)
        self.member_of.add(entry[2], mentor_id)
        if before is not None:  # within the cutoff: it moves up
            self.reshare(mentor_id, {partition: before})
        elif shown and cutoff is not None:
            cutoff_step.entered(self, mentor_id, record, partition, entry, cutoff)
        # The partition's best changed if it entered them; told once, with what the trim changes.
        self._trim(mentor_id, mentor_list, shown if position < mentor_list.budget else None)
        closed = not mentor_list.truncated and len(entries) >= mentor_list.length
        self.floors.set(mentor_slot, partition, mentor_list.floor(), closed)
        self.changed.add((mentor_id, partition))
        if shown:
            self.hosts.touch(mentor_id, entry, cutoff)

    def trim(self, key: ListKey) -> None:
        """Keep only the shown part and its reserve (a list searched afresh holds the whole
        budget until it knows its cutoff)."""
        mentor_list = self.get(key)
        if mentor_list is not None and self._trim(key[0], mentor_list):
            self.set_floor(*key)
            self.changed.add(key)

    def _trim(self, mentor_id: str, mentor_list: MentorList, within: bool | None = None) -> bool:
        """`within`: the caller changed the partition's best (within the cutoff or not), told
        here together with what the trim changes (one notice does for both: Notices.changed)."""
        entries, kept = mentor_list.entries, mentor_list.length
        trimmed = len(entries) > kept
        if trimmed and kept < mentor_list.budget:  # some of the partition's best go, past it
            within = within is True or cutoff_step.known(self.records[mentor_id]) is None
        if within is not None:
            self._best_changed(mentor_id, within)
        if not trimmed:
            return False
        mentor_list.truncated = True
        for dropped in entries[kept:]:
            self.member_of.discard(dropped[2], mentor_id)
        del entries[kept:]
        return True

    def left_out(self, mentor_slots: IntArray, partition: int) -> None:
        """Full lists that a candidate did not enter now have candidates beyond them."""
        for slot in mentor_slots.tolist():
            mentor_id = self.search.mentors.slots.user_ids[slot] or ""
            self.records[mentor_id][partition].truncated = True  # type: ignore[union-attr]
            self.floors.closed[partition, slot] = False
            self.changed.add((mentor_id, partition))

    # ----------------------------------------------------------------- the tenant-wide cap
    def set_remote(self, mentor_id: str, best: Mapping[int, list[OrderKey]]) -> None:
        """The mentor's best order keys in partitions owned elsewhere, as stored there."""
        if best:
            self.remote[mentor_id] = dict(best)
        else:
            self.remote.pop(mentor_id, None)
        self.reshare(mentor_id)
        self.notices.read_elsewhere(mentor_id)

    def reshare(self, mentor_id: str, before: Mapping[int, Shown] | None = None) -> None:
        """Show in each of the mentor's lists here the entries within its tenant-wide cutoff.

        `before`: what the lists changed in place since the last reshare showed then; the
        other lists' entries are unchanged, only how many of them are shown may differ."""
        before = before or {}
        open_to_more = self.budget(mentor_id) > 0
        record = self.record(mentor_id)
        record.cutoff, counts = self._counts(mentor_id, record)
        for partition, mentor_list, count in counts:
            moved = count != mentor_list.shown_count
            if partition in before:
                mentor_list.shown_count = count
                new = shown_of(mentor_list.shown())
                if new != before[partition]:
                    self._update_shown(mentor_id, before[partition], new)
            elif moved:
                old = shown_of(mentor_list.shown())
                mentor_list.shown_count = count
                self._update_shown(mentor_id, old, shown_of(mentor_list.shown()))
            if open_to_more and mentor_list.spent():
                self.spent.add((mentor_id, partition))
            if moved:
                self.set_floor(mentor_id, partition)  # the kept length follows the shown part
        for partition, old in before.items():
            if old and record[partition] is None:
                self._update_shown(mentor_id, old, {})
        self.hosts.touch(mentor_id)

    def _best_changed(self, mentor_id: str, within: bool = True) -> None:
        """Other partitions are told (engine/notices.py), unless the mentor left the table
        (deleted, or no longer a mentor): its own change then reaches every partition, which
        reads the lists there again, and no notice names a person after their erasure."""
        if self.search.mentor(mentor_id) is not None:
            self.notices.changed(mentor_id, within)

    def _counts(
        self, mentor_id: str, record: MentorRecord | None = None
    ) -> tuple[OrderKey | None, list[tuple[int, MentorList, int]]]:
        """The mentor's cutoff, and each of its lists here with how many entries it shows."""
        record = record if record is not None else self.records.get(mentor_id)
        lists = record.present() if record is not None else []
        elsewhere = self.remote.get(mentor_id, {}).values()
        return shown_counts(lists, elsewhere, self.budget(mentor_id))


def shown_counts(
    lists: list[tuple[int, MentorList]], elsewhere: Iterable[list[OrderKey]], budget: int
) -> tuple[OrderKey | None, list[tuple[int, MentorList, int]]]:
    """The cutoff over the best entries of these lists and of the partitions owned elsewhere,
    and how many entries of each list are within it."""
    best = [(e[0], e[1]) for _, mentor_list in lists for e in mentor_list.entries[:budget]]
    for keys in elsewhere:
        best.extend(keys[:budget])
    cutoff = exposure_cutoff(best, budget)
    counts = []
    for partition, mentor_list in lists:
        entries = mentor_list.entries
        highest = min(len(entries), budget)
        if cutoff is not None:
            highest = bisect.bisect_right(entries, cutoff, hi=highest, key=order_key)
        counts.append((partition, mentor_list, highest))
    return cutoff, counts


def keep_within_cutoff(lists: MentorLists, mentor_id: str, fresh: Mapping[int, MentorList]) -> None:
    """Lists of the mentor searched afresh for the whole budget, before they replace its lists
    in their partitions, keep what they will keep once the cutoff is known: the part within it
    and a reserve. The cutoff over them and the mentor's other lists is the same as over what
    they keep, since what they drop lies past it. A list that comes out as before then changes
    none of its best entries, and the other partitions are not told."""
    kept = [
        (partition, mentor_list)
        for partition in range(lists.partitions)
        if partition not in fresh and (mentor_list := lists.get((mentor_id, partition)))
    ]
    elsewhere = lists.remote.get(mentor_id, {}).values()
    _, counts = shown_counts(kept + sorted(fresh.items()), elsewhere, lists.budget(mentor_id))
    for partition, mentor_list, count in counts:
        if partition in fresh and len(mentor_list.entries) > kept_length(count):
            del mentor_list.entries[kept_length(count) :]
            mentor_list.truncated = True


def shown_of(entries: list[Entry]) -> Shown:
    return {entry[2]: -entry[0] for entry in entries}


def order_key(entry: Entry) -> OrderKey:
    return entry[0], entry[1]

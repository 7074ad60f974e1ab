"""One entry entering a mentor's shown part or leaving it, applied from the mentor's last cutoff.

Most changes to a mentor list are one mentee entering it or leaving it. Within the cutoff, such a
change moves the cutoff by one key (constraints.cutoff_after_step): an entry below it pushes
out the entry at the cutoff, and an entry leaving lets the next one in. So at most one other
entry changes whether it is shown, and the partitions' best keys need not be merged again
(MentorLists.reshare). Both come to what reshare would: check_lists compares every list with
the merge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.matching.domain.constraints import OrderKey, cutoff_after_step
from services.matching.domain.mentor_lists import Entry, MentorList

if TYPE_CHECKING:
    from services.matching.domain.engine.lists import ListKey, MentorLists

UNKNOWN = (-2.0, -1)  # a cutoff not computed yet: every entry is treated as within it


def known(lists: MentorLists, mentor_id: str) -> OrderKey | None:
    """The mentor's cutoff as the last reshare set it, if one step can follow it (None: not
    computed yet, or fewer eligible mentees than the budget, when every entry is shown). Each
    change of the budget or of the lists read from elsewhere reshares, so a key here is the
    cutoff of the lists as they are (check_lists)."""
    cutoff = lists.cutoffs.get(mentor_id)
    return None if cutoff is None or cutoff is UNKNOWN else cutoff


def entered(lists: MentorLists, key: ListKey, entry: Entry, cutoff: OrderKey) -> None:
    """`entry` was just put in the list at `key`, below the mentor's cutoff: it is shown, and
    the entry at the cutoff, in whichever list here holds it, no longer is."""
    mentor_id, partition = key
    here = lists.by_key[key]
    here.shown_count += 1
    lists._update_shown(mentor_id, {}, {entry[2]: -entry[0]})
    mine = _lists_of(lists, mentor_id)
    budget = lists.budget(mentor_id)
    for other_partition, mentor_list in mine:
        count = mentor_list.shown_count
        last = mentor_list.entries[count - 1] if count else None
        if last is not None and (last[0], last[1]) == cutoff:
            mentor_list.shown_count -= 1
            lists._update_shown(mentor_id, {last[2]: -last[0]}, {})
            if other_partition != partition:
                lists.set_floor(mentor_id, other_partition)
            break
    windows = _windows(lists, mentor_id, mine, budget)
    lists.cutoffs[mentor_id] = cutoff_after_step(windows, cutoff, True)
    if here.spent():
        lists.spent.add(key)


def left(lists: MentorLists, key: ListKey, entry: Entry, cutoff: OrderKey) -> None:
    """`entry`, shown, was just taken out of the list at `key` (which may be gone since): it
    is hidden, and the first entry past the cutoff, if any list here holds it, is shown."""
    mentor_id, partition = key
    here = lists.by_key.get(key)
    if here is not None:
        here.shown_count -= 1
    lists._update_shown(mentor_id, {entry[2]: -entry[0]}, {})
    mine = _lists_of(lists, mentor_id)
    budget = lists.budget(mentor_id)
    new = cutoff_after_step(_windows(lists, mentor_id, mine, budget), cutoff, False)
    lists.cutoffs[mentor_id] = new
    for other_partition, mentor_list in mine if new is not None else ():
        count, entries = mentor_list.shown_count, mentor_list.entries
        after = entries[count] if count < min(len(entries), budget) else None
        if after is not None and (after[0], after[1]) == new:
            mentor_list.shown_count += 1
            lists._update_shown(mentor_id, {}, {after[2]: -after[0]})
            if other_partition != partition:
                lists.set_floor(mentor_id, other_partition)
            if mentor_list.spent():
                lists.spent.add((mentor_id, other_partition))
            break
    if here is not None and here.spent():
        lists.spent.add(key)


def _lists_of(lists: MentorLists, mentor_id: str) -> list[tuple[int, MentorList]]:
    return [
        (partition, mentor_list)
        for partition in range(lists.partitions)
        if (mentor_list := lists.by_key.get((mentor_id, partition))) is not None
    ]


def _windows(
    lists: MentorLists, mentor_id: str, mine: list[tuple[int, MentorList]], budget: int
) -> list[tuple[list[Entry] | list[OrderKey], int]]:
    found: list[tuple[list[Entry] | list[OrderKey], int]] = [
        (m.entries, min(len(m.entries), budget)) for _, m in mine
    ]
    for keys in lists.remote.get(mentor_id, {}).values():
        found.append((keys, min(len(keys), budget)))
    return found

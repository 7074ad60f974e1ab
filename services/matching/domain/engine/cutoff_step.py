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

from services.matching.domain.constraints import KeyWindow, OrderKey, cutoff_after_step
from services.matching.domain.engine import records
from services.matching.domain.engine.records import MentorRecord
from services.matching.domain.mentor_lists import Entry, MentorList

if TYPE_CHECKING:
    from services.matching.domain.engine.lists import MentorLists

UNKNOWN = records.UNKNOWN


def known(record: MentorRecord) -> OrderKey | None:
    """The mentor's cutoff as the last reshare set it, if one step can follow it (None: not
    computed yet, or fewer eligible mentees than the budget, when every entry is shown). Each
    change of the budget or of the lists read from elsewhere reshares, so a key here is the
    cutoff of the lists as they are (check_lists)."""
    cutoff = record.cutoff
    return None if cutoff is None or cutoff is UNKNOWN else cutoff


def entered(
    lists: MentorLists,
    mentor_id: str,
    record: MentorRecord,
    partition: int,
    entry: Entry,
    cutoff: OrderKey,
) -> None:
    """`entry` was just put in the mentor's list in `partition`, below the mentor's cutoff: it
    is shown, and the entry at the cutoff, in whichever list here holds it, no longer is."""
    here = record[partition]
    assert here is not None
    here.shown_count += 1
    _show(lists, mentor_id, entry)
    below: OrderKey | None = None
    pushed = False
    # One pass over the mentor's lists finds the entry at the cutoff and the best key left below
    # it. A list's keys below the cutoff are its shown part after the step (check_lists), so its
    # last shown entry is its best key there: the list itself need not be searched.
    for other_partition, mentor_list in enumerate(record):
        if mentor_list is None or not mentor_list.shown_count:
            continue
        entries, count = mentor_list.entries, mentor_list.shown_count
        last = entries[count - 1]
        if not pushed and last[0] == cutoff[0] and last[1] == cutoff[1]:
            pushed = True
            mentor_list.shown_count = count = count - 1
            _hide(lists, mentor_id, last)
            if other_partition != partition:
                lists.set_floor(mentor_id, other_partition)
            if not count:
                continue
            last = entries[count - 1]
        if below is None or (last[0], last[1]) > below:
            below = (last[0], last[1])
    elsewhere = _elsewhere(lists, mentor_id, cutoff, True)
    if elsewhere is not None and (below is None or elsewhere > below):
        below = elsewhere
    record.cutoff = below
    if here.spent():
        lists.spent.add((mentor_id, partition))


def left(
    lists: MentorLists,
    mentor_id: str,
    record: MentorRecord,
    partition: int,
    entry: Entry,
    cutoff: OrderKey,
) -> None:
    """`entry`, shown, was just taken out of the mentor's list in `partition` (which may be
    gone since): it is hidden, and the first entry past the cutoff, if any list here holds it,
    is shown."""
    here = record[partition]
    if here is not None:
        here.shown_count -= 1
    _hide(lists, mentor_id, entry)
    budget = lists.budget(mentor_id)
    # A list's keys at or within the cutoff are its shown part (check_lists): the first key past
    # it is the entry after that part, if within the list's best `budget`.
    new: OrderKey | None = None
    nearest: tuple[int, MentorList] | None = None
    for other_partition, mentor_list in enumerate(record):
        if mentor_list is None:
            continue
        count, entries = mentor_list.shown_count, mentor_list.entries
        if count < min(len(entries), budget):
            after = entries[count]
            if new is None or (after[0], after[1]) < new:
                new, nearest = (after[0], after[1]), (other_partition, mentor_list)
    elsewhere = _elsewhere(lists, mentor_id, cutoff, False, budget)
    if elsewhere is not None and (new is None or elsewhere < new):
        new, nearest = elsewhere, None  # it lies in a partition owned elsewhere
    record.cutoff = new
    if nearest is not None:
        other_partition, mentor_list = nearest
        mentor_list.shown_count += 1
        _show(lists, mentor_id, mentor_list.entries[mentor_list.shown_count - 1])
        if other_partition != partition:
            lists.set_floor(mentor_id, other_partition)
        if mentor_list.spent():
            lists.spent.add((mentor_id, other_partition))
    if here is not None and here.spent():
        lists.spent.add((mentor_id, partition))


def _elsewhere(
    lists: MentorLists, mentor_id: str, cutoff: OrderKey, entered: bool, budget: int = -1
) -> OrderKey | None:
    """The step's key (cutoff_after_step) among the best keys stored elsewhere, if any."""
    remote = lists.remote.get(mentor_id)
    if not remote:
        return None
    budget = budget if budget >= 0 else lists.budget(mentor_id)
    windows: list[KeyWindow] = [(keys, min(len(keys), budget)) for keys in remote.values()]
    return cutoff_after_step(windows, cutoff, entered)


def _show(lists: MentorLists, mentor_id: str, entry: Entry) -> None:
    """MentorLists._update_shown for the one entry a step shows, without building two maps."""
    lists.shown_by[entry[2]][mentor_id] = -entry[0]
    lists.noticed(entry[2], -entry[0])


def _hide(lists: MentorLists, mentor_id: str, entry: Entry) -> None:
    """MentorLists._update_shown for the one entry a step hides."""
    lists._hide(entry[2], mentor_id)
    lists.noticed(entry[2], -entry[0])

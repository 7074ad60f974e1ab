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
    budget = lists.budget(mentor_id)
    windows: list[KeyWindow] = []
    pushed = False
    # One pass over the mentor's lists: the entry at the cutoff is found in the same walk that
    # gathers each list's window (the windows are the lists themselves, read after the walk).
    for other_partition, mentor_list in enumerate(record):
        if mentor_list is None:
            continue
        entries = mentor_list.entries
        windows.append((entries, min(len(entries), budget)))
        count = mentor_list.shown_count
        if pushed or not count:
            continue
        last = entries[count - 1]
        if last[0] == cutoff[0] and last[1] == cutoff[1]:
            pushed = True
            mentor_list.shown_count -= 1
            _hide(lists, mentor_id, last)
            if other_partition != partition:
                lists.set_floor(mentor_id, other_partition)
    record.cutoff = cutoff_after_step(_with_remote(lists, mentor_id, windows, budget), cutoff, True)
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
    mine: list[tuple[int, MentorList]] = []
    windows: list[KeyWindow] = []
    for other_partition, mentor_list in enumerate(record):
        if mentor_list is not None:
            mine.append((other_partition, mentor_list))
            windows.append((mentor_list.entries, min(len(mentor_list.entries), budget)))
    new = cutoff_after_step(_with_remote(lists, mentor_id, windows, budget), cutoff, False)
    record.cutoff = new
    for other_partition, mentor_list in mine if new is not None else ():
        count, entries = mentor_list.shown_count, mentor_list.entries
        after = entries[count] if count < min(len(entries), budget) else None
        if after is not None and (after[0], after[1]) == new:
            mentor_list.shown_count += 1
            _show(lists, mentor_id, after)
            if other_partition != partition:
                lists.set_floor(mentor_id, other_partition)
            if mentor_list.spent():
                lists.spent.add((mentor_id, other_partition))
            break
    if here is not None and here.spent():
        lists.spent.add((mentor_id, partition))


def _with_remote(
    lists: MentorLists, mentor_id: str, windows: list[KeyWindow], budget: int
) -> list[KeyWindow]:
    """The windows of the lists here, and those of the best keys stored elsewhere."""
    remote = lists.remote.get(mentor_id)
    if remote:
        windows.extend((keys, min(len(keys), budget)) for keys in remote.values())
    return windows


def _show(lists: MentorLists, mentor_id: str, entry: Entry) -> None:
    """MentorLists._update_shown for the one entry a step shows, without building two maps."""
    lists.shown_by[entry[2]][mentor_id] = -entry[0]
    lists.noticed(entry[2], -entry[0])


def _hide(lists: MentorLists, mentor_id: str, entry: Entry) -> None:
    """MentorLists._update_shown for the one entry a step hides."""
    lists._hide(entry[2], mentor_id)
    lists.noticed(entry[2], -entry[0])

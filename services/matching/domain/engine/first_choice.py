"""Each open mentor's first choice: the seeker it fits best in the whole tenant (ADR 0010).

The rule (`constraints.first_choice`, which the batch reference applies too): a mentor with
exposure left is in the ranking of the seeker first in its order (best score, then the
seeker's tiebreak), after the K mentors the seeker's own ranking picks, when that ranking does
not name it already. The first entry of the mentor's lists is always within its cutoff, so the
rule never shows a mentor beyond its cap.

The first choice is held here when it is in a partition this engine owns: a mentor's lists
here give their first entries, the lists read from elsewhere their best keys. When a key from
elsewhere comes first, the owner of that partition holds the choice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from services.matching.domain.constraints import OrderKey, first_choice
from services.matching.domain.mentor_lists import Entry, MentorList

if TYPE_CHECKING:
    from services.matching.domain.engine.lists import MentorLists


class FirstChoices:
    def __init__(self, noticed: Callable[[int], None]) -> None:
        self.noticed = noticed  # the seeker slot whose guests changed (it is re-ranked)
        # mentor id -> the entry of its first choice, when here (its score is the guest's)
        self.of: dict[str, Entry] = {}
        self.guests: dict[int, set[str]] = defaultdict(set)  # slot -> mentors choosing it

    def update(self, mentor_id: str, found: Entry | None) -> None:
        """The mentor's first choice is now `found` (`chosen`)."""
        old = self.of.get(mentor_id)
        if found == old:
            return
        if old is not None:
            self._drop(old[2], mentor_id)
        if found is None:
            self.of.pop(mentor_id, None)
            return
        self.of[mentor_id] = found
        self.guests[found[2]].add(mentor_id)
        self.noticed(found[2])

    def _drop(self, slot: int, mentor_id: str) -> None:
        held = self.guests.get(slot)
        if held is not None:
            held.discard(mentor_id)
            if not held:
                del self.guests[slot]
        self.noticed(slot)

    def check(self, expected: Mapping[str, Entry]) -> None:
        assert self.of == expected, (self.of, expected)
        by_slot: dict[int, set[str]] = defaultdict(set)
        for mentor_id, entry in expected.items():
            by_slot[entry[2]].add(mentor_id)
        assert {s: g for s, g in self.guests.items() if g} == by_slot


def chosen(
    budget: int, lists: Iterable[MentorList], elsewhere: Iterable[list[OrderKey]]
) -> Entry | None:
    """The entry of the mentor's first choice if a list here holds it (None: no exposure left,
    no eligible seeker, or the first is in a partition owned elsewhere)."""
    firsts: list[Entry] = [mentor_list.entries[0] for mentor_list in lists if mentor_list.entries]
    if not firsts:
        return None
    best = min(firsts)
    remote = [keys[0] for keys in elsewhere if keys]
    keys = [(best[0], best[1]), *remote]
    return best if first_choice(keys, budget) == (best[0], best[1]) else None


def first_of(lists: MentorLists, mentor_id: str) -> Entry | None:
    """`chosen` over the mentor's lists in this engine and its best keys elsewhere now."""
    mine = [m for p in range(lists.partitions) if (m := lists.by_key.get((mentor_id, p)))]
    return chosen(lists.budget(mentor_id), mine, lists.remote.get(mentor_id, {}).values())

"""Which mentor lists are the search's own answer for the mentor's data now.

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

from services.matching.domain.engine.lists import ListKey, MentorLists
from services.matching.domain.mentor_lists import MentorList


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

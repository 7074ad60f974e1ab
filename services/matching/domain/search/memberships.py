"""Which mentor lists hold each mentee, in little memory: there is one entry per mentee."""

from __future__ import annotations

import sys
from collections.abc import Collection

from services.matching.domain.search.tracked import TrackedDict

SMALL = 8  # up to this many mentor ids, a tuple; beyond, a set


class Memberships:
    """mentee slot -> ids of the mentors whose lists hold the mentee.

    Most mentees are in a handful of lists, so a mentee's mentors are a tuple (a set is several
    times larger from its first element, and there is one entry per mentee). A mentee in more
    than SMALL lists (early in a build, while lists are short, some are in
    thousands) gets a set, so that adding stays cheap; it is copied into a smaller one as it
    leaves lists. A mentee in no list has no entry.
    """

    def __init__(self) -> None:
        self._of: dict[int, tuple[str, ...] | set[str]] = TrackedDict()  # frozen with the rest

    def add(self, mentee: int, mentor_id: str) -> None:
        held = self._of.get(mentee, ())
        if isinstance(held, set):
            held.add(mentor_id)
        elif mentor_id not in held:
            grown = (*held, mentor_id)
            self._of[mentee] = set(grown) if len(grown) > SMALL else grown

    def discard(self, mentee: int, mentor_id: str) -> None:
        held = self._of.get(mentee)
        if held is None or mentor_id not in held:
            return
        if isinstance(held, set) and len(held) > SMALL + 1:
            held.discard(mentor_id)
            if sys.getsizeof(held) > 1024 + 256 * len(held):  # sets never shrink their table
                self._of[mentee] = set(held)
        elif len(held) > 1:
            self._of[mentee] = tuple(m for m in held if m != mentor_id)
        else:
            del self._of[mentee]

    def pop(self, mentee: int) -> Collection[str]:
        """The mentee's mentors, forgetting them."""
        return self._of.pop(mentee, ())

    def mentees(self) -> Collection[int]:
        """The mentees in at least one list."""
        return self._of.keys()

    def of(self, mentee: int) -> Collection[str]:
        return self._of.get(mentee, ())

"""Per mentee, the mentors whose shown part holds it, with its score there: the pool its
ranking is drawn from (MentorLists.shown_by). Each change to it is reported to
`noticed(mentee, score)`."""

from __future__ import annotations

import sys
from collections.abc import Callable


class ShownParts:
    """What MentorLists changes in shown_by when a list's shown part changes."""

    noticed: Callable[[int, float], None]
    shown_by: dict[int, dict[str, float]]

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


def compacted(shown_by: dict[str, float]) -> dict[str, float]:
    """The same, in a table sized for what it holds: Python dicts never shrink, and a mentee
    that was briefly shown by thousands of mentors (early in a build, when lists are short)
    would otherwise keep a table that large for good."""
    if sys.getsizeof(shown_by) > 1024 + 256 * len(shown_by):
        return dict(shown_by)
    return shown_by

"""Which mentors the other partitions are told of (ADR 0010, `ExposureChanged`).

They are told when a change to a mentor's best entries in a partition reaches the mentor's
cutoff: the cutoff and the walks (engine/hosts.py), all they act on, follow only from the
entries within it. A change past it is held back (`unsent`) until this partition's owner next
reads the mentor's lists elsewhere (a notice, or the mentor's own event): each change that
moves a cutoff down, and so could bring such an entry within it, is told to every partition,
which then tells what it held back in turn.
"""

from __future__ import annotations


class Notices:
    def __init__(self) -> None:
        self.due: set[str] = set()  # mentors to tell of when this poll commits
        self.unsent: set[str] = set()  # mentors with changes past the cutoff, held back

    def changed(self, mentor_id: str, within: bool) -> None:
        if within:
            self.due.add(mentor_id)
            self.unsent.discard(mentor_id)
        elif mentor_id not in self.due:
            self.unsent.add(mentor_id)

    def read_elsewhere(self, mentor_id: str) -> None:
        """The mentor's lists elsewhere were just read here: what was held back is told."""
        if mentor_id in self.unsent:
            self.changed(mentor_id, True)

    def take(self) -> set[str]:
        due, self.due = self.due, set()
        return due

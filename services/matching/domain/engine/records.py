"""One record per mentor: its lists here, indexed by partition, and its tenant-wide cutoff.

A list operation reads the mentor's lists in every partition (the cutoff is taken over all of
them) and its cutoff. At full scale these were six look-ups of (mentor, partition) in a
300,000-entry dict and one in a 50,000-entry dict of cutoffs, each a cache miss: one look-up
of the mentor's record now reaches them all, and the record is a list (no separate list of
lists to follow), so what one operation touches lies in fewer, closer objects.
"""

from __future__ import annotations

from collections.abc import Iterator

from services.matching.domain.constraints import OrderKey
from services.matching.domain.mentor_lists import MentorList

ListKey = tuple[str, int]  # (mentor id, partition)
UNKNOWN = (-2.0, -1)  # a cutoff not computed yet: every entry is treated as within it


class MentorRecord(list[MentorList | None]):
    """The mentor's list in each partition (None where it has none here), and its cutoff as
    the last reshare or cutoff step left it (UNKNOWN until one has)."""

    __slots__ = ("cutoff",)

    def __init__(self, partitions: int) -> None:
        super().__init__([None] * partitions)
        self.cutoff: OrderKey | None = UNKNOWN

    def present(self) -> list[tuple[int, MentorList]]:
        """(partition, list) for each list the mentor has here, in partition order."""
        return [(p, mentor_list) for p, mentor_list in enumerate(self) if mentor_list is not None]


def list_items(records: dict[str, MentorRecord]) -> Iterator[tuple[ListKey, MentorList]]:
    """Every list, by (mentor id, partition), mentors in the order they were first listed."""
    for mentor_id, record in records.items():
        for partition, mentor_list in enumerate(record):
            if mentor_list is not None:
                yield (mentor_id, partition), mentor_list

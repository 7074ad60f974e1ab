"""Each mentor's best mentees in one partition, kept exact incrementally.

A list holds the true top entries among all eligible mentees of its partition, ordered by
(-score, tiebreak). The first `shown_count` are those within the mentor's tenant-wide cutoff
(constraints.exposure_cutoff), which the engine sets from every partition's best entries; a
reserve follows, which moves up when the cutoff moves down or a shown mentee leaves.
`truncated` says candidates exist beyond the list (all worse than its last entry). A truncated
list whose every entry is shown is `spent`: candidates beyond it may be within the cutoff, so
it must be searched again (for up to the whole budget, which may all go to one partition).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.matching.domain.constraints import OrderKey, kept_length
from services.matching.domain.people import tiebreak

Entry = tuple[float, int, int]  # (-score, tiebreak, mentee slot)


@dataclass(slots=True)
class MentorList:
    budget: int
    entries: list[Entry] = field(default_factory=list)
    truncated: bool = False
    shown_count: int = 0  # set by the engine from the tenant-wide cutoff

    @property
    def length(self) -> int:
        """How many entries an insert keeps: the shown ones and a reserve."""
        return kept_length(self.shown_count) if self.budget else 0

    def shown(self) -> list[Entry]:
        return self.entries[: self.shown_count]

    def best_keys(self) -> list[OrderKey]:
        """The order keys of the partition's best `budget` entries (what other partitions need)."""
        return [(e[0], e[1]) for e in self.entries[: self.budget]]

    def floor(self) -> float:
        """Lowest score a new mentee needs to be considered (-1 = anyone)."""
        if self.truncated or len(self.entries) >= self.length:
            return -self.entries[-1][0] if self.entries else -1.0
        return -1.0

    def spent(self) -> bool:
        """Truncated, with every entry shown: what lies beyond may be shown too."""
        return self.truncated and self.shown_count >= len(self.entries)

    def contains(self, slot: int) -> bool:
        return any(entry[2] == slot for entry in self.entries)


def stored_best(entries: Iterable[tuple[str, float]], budget: int) -> list[OrderKey]:
    """The best order keys of a stored list, (mentee id, score) entries, as another partition
    weighs them in the mentor's tenant-wide cap."""
    return sorted((-score, tiebreak(mentee_id)) for mentee_id, score in entries)[:budget]

"""Each mentor's best mentees in one partition, kept exact incrementally.

A list holds the true top entries among all eligible mentees of its partition, ordered by
(-score, tiebreak). It keeps the mentor's whole exposure budget and a reserve, because the
budget is tenant-wide (constraints.exposure_cutoff): all of it may go to this partition. The
first `shown` entries are those within the mentor's tenant-wide cutoff, which the engine sets
from every partition's best entries; the rest is a reserve that refills the best part when a
mentee leaves. `truncated` says candidates exist beyond the list (all worse than its last
entry); a truncated list that keeps fewer than its budget must be recomputed from scratch.
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
    length: int = field(init=False)  # fixed with the budget; read on every insert

    def __post_init__(self) -> None:
        self.length = kept_length(self.budget)

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
        """Truncated, and keeping fewer than its budget: the partition's best are not known."""
        return self.truncated and len(self.entries) < self.budget

    def contains(self, slot: int) -> bool:
        return any(entry[2] == slot for entry in self.entries)


def stored_best(entries: Iterable[tuple[str, float]], budget: int) -> list[OrderKey]:
    """The best order keys of a stored list, (mentee id, score) entries, as another partition
    weighs them in the mentor's tenant-wide cap."""
    return sorted((-score, tiebreak(mentee_id)) for mentee_id, score in entries)[:budget]

"""Each mentor's best mentees in one partition: the exposure cap, kept exact incrementally.

A list holds the true top entries among all eligible mentees of its partition, ordered by
(-score, tiebreak). The first `share` of them may be shown the mentor; the rest is a reserve
that refills the shown part when a mentee leaves. `truncated` says candidates exist beyond
the list (all worse than its last entry); a truncated list that falls below its share must be
recomputed from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.matching.domain.constraints import kept_length

Entry = tuple[float, int, int]  # (-score, tiebreak, mentee slot)


@dataclass(slots=True)
class MentorList:
    share: int
    entries: list[Entry] = field(default_factory=list)
    truncated: bool = False
    length: int = field(init=False)  # fixed with the share; read on every insert

    def __post_init__(self) -> None:
        self.length = kept_length(self.share)

    def shown(self) -> list[Entry]:
        return self.entries[: self.share]

    def floor(self) -> float:
        """Lowest score a new mentee needs to be considered (-1 = anyone)."""
        if self.truncated or len(self.entries) >= self.length:
            return -self.entries[-1][0] if self.entries else -1.0
        return -1.0

    def contains(self, slot: int) -> bool:
        return any(entry[2] == slot for entry in self.entries)

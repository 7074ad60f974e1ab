"""Hard constraints: who may never be proposed to whom, and how widely a mentor is shown."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from services.matching.domain.people import Person


@dataclass(frozen=True)
class EngineConfig:
    top_k: int = 5
    exposure_per_seat: float = 3.0  # a mentor is shown to at most this many mentees per free seat
    partitions: int = 6  # mentee partitions; each owner enforces its share of the exposure cap
    diversity: float = 0.3  # 0 = pure relevance; higher = more different mentors (MMR)
    pool_factor: int = 3  # MMR picks from the best pool_factor * top_k candidates
    search_threads: int = 2  # a mentor's search over many mentees runs in up to this many parts
    min_search_part: int = 20_000  # mentees per part, at least (fewer: not worth it)


def free_seats(mentor: Person, accepted: int) -> int:
    return max(0, mentor.capacity - accepted)


def open_to_mentees(mentor: Person, accepted: int) -> bool:
    return mentor.is_mentor and mentor.opted_in and free_seats(mentor, accepted) > 0


def allowed_pair(mentee: Person, mentor: Person) -> bool:
    """Never self, never one's own manager or direct report (same reporting line)."""
    return (
        mentor.user_id != mentee.user_id
        and mentee.manager_id != mentor.user_id
        and mentor.manager_id != mentee.user_id
    )


def exposure_budget(seats: int, config: EngineConfig) -> int:
    return math.ceil(seats * config.exposure_per_seat) if seats > 0 else 0


def partition_share(budget: int, partition: int, mentor_id: str, partitions: int) -> int:
    """The part of a mentor's budget one mentee partition may use; the shares sum to budget.

    The remainder goes to partitions chosen by the mentor's id, so small budgets are not always
    spent on partition 0.
    """
    base, extra = divmod(budget, partitions)
    first = zlib.crc32(mentor_id.encode()) % partitions
    return base + (1 if (partition - first) % partitions < extra else 0)


def kept_length(share: int) -> int:
    """How many of the best mentees a mentor list keeps: the share plus a reserve."""
    return share + max(2, share) if share > 0 else 0

"""Hard constraints: who may never be proposed to whom, and how widely a mentor is shown."""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.matching.domain.people import Person


@dataclass(frozen=True)
class EngineConfig:
    top_k: int = 5
    exposure_per_seat: float = 3.0  # a mentor is shown to at most this many mentees per free seat
    partitions: int = 6  # mentee partitions; the exposure cap holds over all of them together
    diversity: float = 0.3  # 0 = pure relevance; higher = more different mentors (MMR)
    pool_factor: int = 3  # MMR picks from the best pool_factor * top_k candidates
    search_threads: int = 2  # a mentor's search over many mentees runs in up to this many parts
    min_search_part: int = 20_000  # postings per part, at least (fewer: not worth it)
    # the most mentors a ranking names, its K and the mentors it hosts (stable_hosts): a
    # proposal carries at most 20 (shared/contracts/matches.py)
    most_named: int = 20


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


OrderKey = tuple[
    float, int
]  # (-score, tiebreak of the mentee): a mentee's place in a mentor's order


def exposure_cutoff(keys: Iterable[OrderKey], budget: int) -> OrderKey | None:
    """The exposure cap, tenant-wide: a mentor is shown to its `budget` best eligible mentees of
    the whole tenant, whatever their partitions. Given the order keys of (at least) those best
    mentees, the last key that is shown; None when fewer than `budget` are eligible (every
    eligible mentee is shown). The batch reference and the engine both cut with this."""
    best = heapq.nsmallest(budget, keys) if budget > 0 else []
    return best[-1] if len(best) == budget and budget > 0 else None


# A mentor's walk: its tiebreak, and the order keys of the seekers within its cap, best first.
Walk = tuple[int, Sequence[OrderKey]]


def guest_places(config: EngineConfig) -> int:
    """How many mentors one seeker hosts: what a proposal carries beyond the seeker's K."""
    return max(0, config.most_named - config.top_k)


def stable_hosts(walks: Mapping[str, Walk], places: int) -> dict[str, OrderKey]:
    """Each open mentor's host (ADR 0010): the seeker that shows it after its K, so that a
    mentor no ranking would name is still seen. A mentor goes to the first seeker of its walk
    with room; a seeker hosts at most `places` mentors, those it scores best (then by the
    mentor's tiebreak). Both sides order a pair by its score, so one order of all pairs,
    (-score, seeker's tiebreak, mentor's tiebreak), agrees with each side's: taking the pairs
    in that order, each when its mentor has no host yet and its seeker has room, gives the one
    stable assignment (no mentor and seeker both prefer each other to what they hold). It
    depends on the walks alone, so every partition's owner finds the same. A mentor whose
    every seeker is full of guests it scores better has none. The batch reference takes the
    hosts from here, the engine keeps them incrementally (engine/hosts.py) and is checked
    against this."""
    pairs = sorted(
        (key[0], key[1], mentor_tiebreak, mentor_id)
        for mentor_id, (mentor_tiebreak, keys) in walks.items()
        for key in keys
    )
    hosts: dict[str, OrderKey] = {}
    held: dict[int, int] = {}
    for negative, seeker, _, mentor_id in pairs:
        if mentor_id not in hosts and held.get(seeker, 0) < places:
            hosts[mentor_id] = (negative, seeker)
            held[seeker] = held.get(seeker, 0) + 1
    return hosts


def within_cap(key: OrderKey, cutoff: OrderKey | None) -> bool:
    """Whether a mentee with this order key is among those a mentor is shown to."""
    return cutoff is None or key <= cutoff


# One partition's keys in order (each may carry more after it, such as a mentee slot), with how
# many of them count toward the cutoff.
KeyWindow = tuple[Sequence[tuple[float, int, *tuple[int, ...]]], int]


def cutoff_after_step(
    windows: Iterable[KeyWindow],
    cutoff: OrderKey,
    entered: bool,
) -> OrderKey | None:
    """`exposure_cutoff` again after one key entered below `cutoff` (entered) or one at or
    within it left, found from the cutoff before instead of merging every partition's keys.

    `windows`: each partition's keys, as they are after the step, with how many of them count
    (the partition's best `budget`). The keys must be distinct, as they are when each names a
    different mentee.
    Entered: the key at the cutoff is pushed out, so the new cutoff is the best key left below
    it. Left: one fewer key is within it, so the next key past it comes in, if any (None:
    fewer keys than the budget remain, and every one is shown)."""
    if entered:
        below: OrderKey | None = None
        for keys, counted in windows:
            index = bisect.bisect_left(keys, cutoff, hi=counted)
            if index and (below is None or keys[index - 1][:2] > below):
                below = (keys[index - 1][0], keys[index - 1][1])
        return below
    past = (cutoff[0], cutoff[1], math.inf)
    after: OrderKey | None = None
    for keys, counted in windows:
        index = bisect.bisect_right(keys, past, hi=counted)
        if index < counted and (after is None or keys[index][:2] < after):
            after = (keys[index][0], keys[index][1])
    return after


def kept_length(shown: int) -> int:
    """How many of the best mentees of one partition a mentor list keeps, `shown` of them within
    the mentor's cutoff: those and a reserve. A list searched afresh keeps this for its whole
    budget, which may all go to one partition."""
    return shown + max(2, shown)

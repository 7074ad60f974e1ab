"""Each mentee's ranking: MMR over the best of the mentors that show it, kept up to date lazily,
then the mentors it hosts (engine/hosts.py) that MMR did not pick.

A mentee is marked dirty when a change may alter its ranking, and re-ranked before the
engine's call returns. A change below the mentee's pool floor (the last score of a full pool)
alters neither its pool nor its ranking, and marks nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from services.matching.domain.constraints import EngineConfig, guest_places
from services.matching.domain.engine.hosts import Hosts
from services.matching.domain.search import PoolEntry, SearchIndex

RERANKS_PER_CALL = 512  # mentees whose pools are held at once (a restore re-ranks all of them)
ShownBy = Mapping[int, Mapping[str, float]]  # mentee slot -> mentor id -> score shown at
Guests = Mapping[int, set[str]]  # mentee slot -> the mentors it hosts
EMPTY: Mapping[str, float] = {}  # shown by no mentor


class Ranked(NamedTuple):
    """One mentor of a ranking (a tuple, as a re-rank builds and compares many)."""

    mentor_id: str
    score: float


class Rankings:
    def __init__(self, config: EngineConfig, search: SearchIndex) -> None:
        self.config = config
        self.search = search
        self.hosts = Hosts(guest_places(config), lambda slot: self.dirty.add(slot))  # kept by lists
        self.guests: Guests = self.hosts.guests
        self.by_mentee: dict[str, tuple[Ranked, ...]] = {}
        self.pool_floor: dict[int, float] = {}  # mentee slot -> last score of its full pool
        self.dirty: set[int] = set()
        self.changed: set[str] = set()  # seekers whose ranking changed
        self.reranked: set[str] = set()  # seekers re-ranked (their pool may have changed)

    def get(self, mentee_id: str) -> tuple[Ranked, ...]:
        return self.by_mentee.get(mentee_id, ())

    def note(self, mentee: int, score: float) -> None:
        """A mentor at `score` joined or left the mentee's shown-by: re-rank it only if that
        reaches its pool."""
        if score >= self.pool_floor.get(mentee, -1.0):
            self.dirty.add(mentee)

    def mark(self, mentees: Iterable[int]) -> None:
        self.dirty.update(mentees)

    def release(self, mentee_id: str, slot: int) -> None:
        """The mentee is no longer ranked."""
        self.pool_floor.pop(slot, None)
        self.dirty.discard(slot)
        if self.by_mentee.pop(mentee_id, None):
            self.changed.add(mentee_id)

    def rerank_dirty(self, shown_by: ShownBy) -> None:
        """Re-rank every dirty mentee, RERANKS_PER_CALL at a time (one compiled MMR call each),
        once the hosts the lists' changes moved are settled."""
        self.hosts.settle()
        while self.dirty:
            batch = [self.dirty.pop() for _ in range(min(len(self.dirty), RERANKS_PER_CALL))]
            self._rerank(batch, shown_by)

    def _rerank(self, slots: list[int], shown_by: ShownBy) -> None:
        size = self.config.pool_factor * self.config.top_k
        mentees, pools, ranked = [], [], []
        ranked_flags, ids = self.search.mentees.ranked, self.search.mentees.slots.user_ids
        for slot in slots:
            if not ranked_flags[slot] or not (mentee_id := ids[slot]):
                continue
            ranked.append(slot)
            pool = self.search.pool(shown_by.get(slot, EMPTY), size)
            if len(pool) == size:
                self.pool_floor[slot] = -pool[-1][0]
            else:
                self.pool_floor.pop(slot, None)  # -1.0, by default: any score enters the pool
            mentees.append(mentee_id)
            pools.append(pool)
        self.reranked.update(mentees)
        picks = self.search.diversified(pools, self.config.top_k, self.config.diversity)
        for slot, mentee_id, mmr in zip(ranked, mentees, picks, strict=True):
            guests = self.guests.get(slot)
            picked = (
                with_guests(mmr, guests, shown_by.get(slot, EMPTY), self.search, self.config)
                if guests
                else mmr
            )
            before = self.by_mentee.get(mentee_id, ())
            if picked == before:  # compared as plain pairs
                continue
            self.changed.add(mentee_id)
            if picked:
                self.by_mentee[mentee_id] = tuple(itertools.starmap(Ranked, picked))
            else:
                del self.by_mentee[mentee_id]

    def pool_of(self, slot: int, shown_by: ShownBy) -> list[PoolEntry]:
        """The pool the seeker's ranking is chosen from now, best first."""
        return self.search.pool(shown_by.get(slot, {}), self.config.pool_factor * self.config.top_k)

    def check_invariants(self, shown_by: ShownBy) -> None:
        """Nothing is left dirty, and every ranking is the one its pool gives now."""
        assert not self.dirty
        size = self.config.pool_factor * self.config.top_k
        ranked = self.search.ranked_mentee_ids()
        assert self.by_mentee.keys() <= set(ranked)
        for mentee_id in ranked:
            slot = self.search.mentee_slot(mentee_id)
            assert slot is not None
            pool = self.search.pool(shown_by.get(slot, {}), size)
            fresh = self.search.diversified([pool], self.config.top_k, self.config.diversity)
            shown = shown_by.get(slot, {})
            guests = self.guests.get(slot)
            fresh[0] = with_guests(fresh[0], guests, shown, self.search, self.config)
            assert fresh[0] == self.by_mentee.get(mentee_id, ()), mentee_id
            assert self.pool_floor.get(slot) == (-pool[-1][0] if len(pool) == size else None)


def with_guests(
    picked: tuple[tuple[str, float], ...],
    guests: set[str] | None,
    shown: Mapping[str, float],
    search: SearchIndex,
    config: EngineConfig,
) -> tuple[tuple[str, float], ...]:
    """The MMR picks, then each mentor the mentee hosts that MMR did not pick, best first
    (score, then the mentor's tiebreak), up to `config.most_named` in all."""
    if not guests:
        return picked
    named = {mentor_id for mentor_id, _ in picked}
    known = search.mentors.tiebreaks
    extra = sorted(
        (-shown[m], known[m], m) for m in guests if m not in named and m in shown and m in known
    )
    room = max(0, config.most_named - len(picked))
    return picked + tuple((m, -negative) for negative, _, m in extra[:room])

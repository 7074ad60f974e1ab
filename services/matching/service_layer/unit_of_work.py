"""The ports matching's handlers use: one transaction over its store and outbox, and a loader."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal, Person
from services.matching.domain.relationships import Relationship
from shared.contracts.envelope import EventEnvelope
from shared.contracts.topics import TopicSpec
from shared.erasure import ErasureLog

PairState = Literal["accepted", "declined"]
# tenant, mentor, partition, (mentee, score) entries, truncated
StoredList = tuple[str, str, int, list[tuple[str, float]], bool]


@dataclass(frozen=True)
class StoredVersion:
    version: int
    is_mentor: bool


@dataclass(frozen=True)
class MenteeBlocks:
    declined: list[str]  # mentor ids, sorted
    relationships: list[Relationship]  # by request id


@dataclass(frozen=True)
class CurrentProposal:
    ranking_version: int
    goal_id: str
    mentor_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoredProposal:
    mentee_id: str
    partition: int
    proposal: CurrentProposal
    proposal_id: UUID


class MatchingTransaction(Protocol):
    @property
    def erasures(self) -> ErasureLog:
        """Who was erased (shared/erasure.py)."""
        ...

    async def hold_partitions(self, partitions: Sequence[int]) -> None:
        """Share these partitions' locks until commit (in this order: ascending, as a restore
        takes them); restoring a partition takes its lock alone."""

    async def first_deliveries(self, event_ids: Sequence[UUID]) -> set[UUID]:
        """Record the ids as handled; the ones not seen before (to apply once each)."""

    async def lock_people(self, tenant_id: str, user_ids: Sequence[str]) -> None:
        """`person_version` of each of these people at once (their rows locked in user id
        order): the poll's profile updates then read none of them again."""

    async def person_version(self, tenant_id: str, user_id: str) -> StoredVersion | None:
        """The stored profile's version and whether it is a mentor's, locking the row until
        commit: what a profile update needs, in one read and without the stored features."""

    async def stored_person(self, tenant_id: str, user_id: str) -> Person | None: ...

    async def save_person(self, tenant_id: str, person: Person, partition: int) -> None: ...

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        """Delete every row about the person as mentee, mentor, pair or relationship member."""

    async def save_goal_if_newer(self, tenant_id: str, goal: Goal, partition: int) -> bool:
        """Store the goal unless the mentee's stored goal of the same goal_id is as new or newer;
        True if stored (a closed goal stored again is open)."""
        ...

    async def close_goal_if_newer(
        self, tenant_id: str, mentee_id: str, goal_id: str, version: int
    ) -> bool:
        """Mark the mentee's stored goal `goal_id` closed at `version` if it is open and
        older; True if it was (a closed goal is not restored)."""
        ...

    async def save_pair(
        self, tenant_id: str, mentee_id: str, mentor_id: str, partition: int, state: PairState
    ) -> None: ...

    async def save_goals_ahead(
        self, tenant_id: str, goals: Sequence[tuple[Goal, int, bool]]
    ) -> None:
        """Store each (goal, partition, read its blocks) now, unless the stored goal is as new
        or newer (one statement for all; the goals are distinct). The first later
        `save_goal_if_newer` or `save_goal_reading_blocks` of the same goal and version answers
        from this, without storing again: the caller makes sure nothing in between writes
        these goals or their mentees' pairs and relationships (service_layer/goals_ahead.py)."""
        ...

    async def save_goal_reading_blocks(
        self, tenant_id: str, goal: Goal, partition: int
    ) -> MenteeBlocks | None:
        """`save_goal_if_newer` and, if stored, the mentee's `mentee_blocks` (one round trip
        for a goal new to the engine); None if not stored."""
        ...

    async def mentee_blocks(self, tenant_id: str, mentee_id: str) -> MenteeBlocks:
        """The mentors of the mentee's stored pairs (declined, or accepted in old records) and
        the mentee's stored relationships, any state: one read for a new goal's blocks."""
        ...

    async def excluded_seekers(
        self, tenant_id: str, mentor_id: str, partitions: Sequence[int]
    ) -> dict[int, list[str]]:
        """For each of these partitions, the open goals (seeker keys, domain/seekers.py) the
        mentor is not proposed for: each open goal of the mentees of its stored pairs, and those
        its relationships exclude it from (domain/relationships.excludes)."""
        ...

    async def save_relationship_if_newer(
        self, tenant_id: str, relationship: Relationship, partition: int
    ) -> bool:
        """Store the relationship's state unless a version as new or newer is stored; True if
        stored."""
        ...

    async def save_lists(self, lists: Sequence[StoredList]) -> None:
        """Store mentors' lists (tenant, mentor, partition, entries, truncated); an empty,
        complete list deletes the row."""

    async def lists_elsewhere(
        self, tenant_id: str, mentor_id: str, owned: Collection[int]
    ) -> dict[int, list[tuple[str, float]]]:
        """The mentor's stored lists in the partitions not in `owned`: partition -> entries."""
        ...

    def person_ref(self, tenant_id: str, user_id: str) -> str:
        """A keyed hash of the person (hex), as exposure notices name a mentor."""
        ...

    def person_refs(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, str]:
        """Every keyed hash that may stand for one of these people (each key), and whom."""
        ...

    async def current_proposals(
        self, tenant_id: str, mentee_ids: Sequence[str]
    ) -> dict[tuple[str, str], CurrentProposal]:
        """The stored proposals of these mentees, by (mentee, goal id), locked until the
        commit; absent: none yet for that goal."""
        ...

    async def save_proposals(self, tenant_id: str, proposals: Sequence[StoredProposal]) -> None: ...

    async def publish(
        self, topic: TopicSpec, event: EventEnvelope, partition: int | None = None
    ) -> None: ...

    async def publish_tombstone(self, topic: TopicSpec, tenant_id: str, user_id: str) -> None:
        """Queue a tombstone for the person's key on the compacted `topic`."""
        ...


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[MatchingTransaction]: ...


class StateLoader(Protocol):
    async def load(
        self, partitions: Collection[int], config: EngineConfig, tenant_id: str | None = None
    ) -> dict[str, TenantEngine]:
        """Engines for the owned partitions (all tenants, or one), restored without re-scoring."""

    async def claim(self, partitions: Collection[int], owner: str) -> frozenset[int]:
        """Record `owner` as the owner of these partitions, each under its exclusive lock
        (after the previous owner's last transaction on it); the ones whose record named
        `owner` already: nobody took them since its last claim."""
        ...

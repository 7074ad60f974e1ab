"""An in-memory matching store behind the same ports as the PostgreSQL adapter."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import Restorer, TenantEngine
from services.matching.domain.people import Goal, Person
from services.matching.domain.relationships import Relationship, excludes
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.unit_of_work import (
    CurrentProposal,
    MenteeBlocks,
    PairState,
    StoredList,
    StoredProposal,
    StoredVersion,
)
from shared.contracts.envelope import EventEnvelope
from shared.contracts.topics import TopicSpec
from shared.erasure import Erasure
from tests.unit.fakes import CopyOnCommitUnitOfWork, MemoryErasureLog

Key = tuple[str, str]
GoalKey = tuple[str, str, str]  # tenant, mentee, goal id


@dataclass
class Published:
    topic: TopicSpec
    event: EventEnvelope
    partition: int | None


@dataclass
class StoreState:
    processed: set[UUID] = field(default_factory=set)
    people: dict[Key, tuple[Person, int]] = field(default_factory=dict)
    goals: dict[GoalKey, tuple[Goal, int]] = field(default_factory=dict)
    closed_goals: set[GoalKey] = field(default_factory=set)
    pairs: dict[tuple[str, str, str], tuple[int, PairState]] = field(default_factory=dict)
    relationships: dict[Key, tuple[Relationship, int]] = field(default_factory=dict)
    lists: dict[tuple[str, str, int], tuple[list[tuple[str, float]], bool]] = field(
        default_factory=dict
    )
    proposals: dict[GoalKey, tuple[CurrentProposal, int]] = field(default_factory=dict)
    outbox: list[Published] = field(default_factory=list)
    erased: dict[bytes, Erasure] = field(default_factory=dict)
    tombstones: list[tuple[TopicSpec, str, str]] = field(default_factory=list)
    owners: dict[int, str] = field(default_factory=dict)  # partition -> who claimed it last


class FakeMatchingTransaction:
    def __init__(self, state: StoreState) -> None:
        self.s = state
        self.erasures = MemoryErasureLog(state.erased)
        # goals stored ahead (save_goals_ahead): their answers, each taken once
        self.ahead: dict[tuple[str, str, str, int], tuple[bool, MenteeBlocks | None]] = {}

    async def hold_partitions(self, partitions: Sequence[int]) -> None:
        """Instances share one thread here: nothing to wait for."""

    async def first_deliveries(self, event_ids: Sequence[UUID]) -> set[UUID]:
        fresh = set(event_ids) - self.s.processed
        self.s.processed |= fresh
        return fresh

    async def lock_people(self, tenant_id: str, user_ids: Sequence[str]) -> None:
        pass  # one transaction at a time: nothing to lock, and person_version reads the dict

    async def person_version(self, tenant_id: str, user_id: str) -> StoredVersion | None:
        found = self.s.people.get((tenant_id, user_id))
        return StoredVersion(found[0].version, found[0].is_mentor) if found else None

    async def stored_person(self, tenant_id: str, user_id: str) -> Person | None:
        found = self.s.people.get((tenant_id, user_id))
        return found[0] if found else None

    async def save_person(self, tenant_id: str, person: Person, partition: int) -> None:
        self.s.people[tenant_id, person.user_id] = (person, partition)

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        self.s.people.pop((tenant_id, user_id), None)
        mine = {
            k
            for k in self.s.goals.keys() | self.s.proposals.keys()
            if k[:2] == (tenant_id, user_id)
        }
        for key in mine:
            self.s.goals.pop(key, None)
            self.s.proposals.pop(key, None)
        self.s.closed_goals -= mine
        self.s.pairs = {
            k: v for k, v in self.s.pairs.items() if k[0] != tenant_id or user_id not in k[1:]
        }
        self.s.relationships = {
            k: (r, p)
            for k, (r, p) in self.s.relationships.items()
            if k[0] != tenant_id or user_id not in (r.mentee_id, r.mentor_id)
        }

    async def save_goals_ahead(
        self, tenant_id: str, goals: Sequence[tuple[Goal, int, bool]]
    ) -> None:
        for goal, partition, read in goals:
            saved = self._store_goal(tenant_id, goal, partition)
            blocks = await self.mentee_blocks(tenant_id, goal.mentee_id) if read else None
            self.ahead[tenant_id, goal.mentee_id, goal.goal_id, goal.version] = (saved, blocks)

    async def save_goal_if_newer(self, tenant_id: str, goal: Goal, partition: int) -> bool:
        ahead = self.ahead.pop((tenant_id, goal.mentee_id, goal.goal_id, goal.version), None)
        return ahead[0] if ahead is not None else self._store_goal(tenant_id, goal, partition)

    def _store_goal(self, tenant_id: str, goal: Goal, partition: int) -> bool:
        key = (tenant_id, goal.mentee_id, goal.goal_id)
        found = self.s.goals.get(key)
        if found is not None and found[0].version >= goal.version:
            return False
        self.s.goals[key] = (goal, partition)
        self.s.closed_goals.discard(key)
        return True

    async def save_goal_reading_blocks(
        self, tenant_id: str, goal: Goal, partition: int
    ) -> MenteeBlocks | None:
        # the blocks read ahead, if any; `save_goal_if_newer` takes the answer (tests wrap it)
        ahead = self.ahead.get((tenant_id, goal.mentee_id, goal.goal_id, goal.version))
        blocks = ahead[1] if ahead is not None else None
        if not await self.save_goal_if_newer(tenant_id, goal, partition):
            return None
        return blocks if blocks is not None else await self.mentee_blocks(tenant_id, goal.mentee_id)

    async def close_goal_if_newer(
        self, tenant_id: str, mentee_id: str, goal_id: str, version: int
    ) -> bool:
        key = (tenant_id, mentee_id, goal_id)
        found = self.s.goals.get(key)
        if found is None or key in self.s.closed_goals:
            return False
        goal, partition = found
        if goal.version >= version:
            return False
        self.s.goals[key] = (dataclasses.replace(goal, version=version), partition)
        self.s.closed_goals.add(key)
        return True

    async def save_pair(
        self, tenant_id: str, mentee_id: str, mentor_id: str, partition: int, state: PairState
    ) -> None:
        self.s.pairs[tenant_id, mentee_id, mentor_id] = (partition, state)

    async def mentee_blocks(self, tenant_id: str, mentee_id: str) -> MenteeBlocks:
        declined = sorted(k[2] for k in self.s.pairs if k[:2] == (tenant_id, mentee_id))
        return MenteeBlocks(declined, self._relationships_of(tenant_id, mentee_id))

    def _open_goals(self, tenant_id: str, mentee_id: str) -> list[str]:
        return [
            k[2]
            for k in self.s.goals
            if k[:2] == (tenant_id, mentee_id) and k not in self.s.closed_goals
        ]

    async def excluded_seekers(
        self, tenant_id: str, mentor_id: str, partitions: Sequence[int]
    ) -> dict[int, list[str]]:
        return {p: self._excluded_in(tenant_id, mentor_id, p) for p in partitions}

    def _excluded_in(self, tenant_id: str, mentor_id: str, partition: int) -> list[str]:
        found = {
            seeker_key(k[1], goal_id)
            for k, (p, _) in self.s.pairs.items()
            if k[0] == tenant_id and k[2] == mentor_id and p == partition
            for goal_id in self._open_goals(tenant_id, k[1])
        }
        for (tenant, _), (r, p) in self.s.relationships.items():
            if (tenant, r.mentor_id, p) == (tenant_id, mentor_id, partition):
                for goal_id in self._open_goals(tenant_id, r.mentee_id):
                    if excludes(r, goal_id):
                        found.add(seeker_key(r.mentee_id, goal_id))
        return sorted(found)

    async def save_relationship_if_newer(
        self, tenant_id: str, relationship: Relationship, partition: int
    ) -> bool:
        found = self.s.relationships.get((tenant_id, relationship.request_id))
        if found is not None and found[0].version >= relationship.version:
            return False
        self.s.relationships[tenant_id, relationship.request_id] = (relationship, partition)
        return True

    def _relationships_of(self, tenant_id: str, mentee_id: str) -> list[Relationship]:
        return sorted(
            (
                r
                for (t, _), (r, _) in self.s.relationships.items()
                if t == tenant_id and r.mentee_id == mentee_id
            ),
            key=lambda r: r.request_id,
        )

    async def save_lists(self, lists: Sequence[StoredList]) -> None:
        for tenant_id, mentor_id, partition, entries, truncated in lists:
            if not entries and not truncated:
                self.s.lists.pop((tenant_id, mentor_id, partition), None)
            else:
                self.s.lists[tenant_id, mentor_id, partition] = (list(entries), truncated)

    async def lists_elsewhere(
        self, tenant_id: str, mentor_id: str, owned: Collection[int]
    ) -> dict[int, list[tuple[str, float]]]:
        return {
            partition: list(entries)
            for (t, m, partition), (entries, _) in sorted(self.s.lists.items())
            if t == tenant_id and m == mentor_id and partition not in owned
        }

    def person_ref(self, tenant_id: str, user_id: str) -> str:
        return MemoryErasureLog.KEYS.current((tenant_id, user_id)).hex()

    def person_refs(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, str]:
        found = MemoryErasureLog.KEYS.lookup((tenant_id, user_id) for user_id in user_ids)
        return {ref.hex(): person[1] for ref, person in found.items()}

    async def current_proposals(
        self, tenant_id: str, mentee_ids: Sequence[str]
    ) -> dict[tuple[str, str], CurrentProposal]:
        wanted = set(mentee_ids)
        return {
            (k[1], k[2]): p
            for k, (p, _) in sorted(self.s.proposals.items())
            if k[0] == tenant_id and k[1] in wanted
        }

    async def save_proposals(self, tenant_id: str, proposals: Sequence[StoredProposal]) -> None:
        for p in proposals:
            key = (tenant_id, p.mentee_id, p.proposal.goal_id)
            self.s.proposals[key] = (p.proposal, p.partition)

    async def publish(
        self, topic: TopicSpec, event: EventEnvelope, partition: int | None = None
    ) -> None:
        self.s.outbox.append(Published(topic, event, partition))

    async def publish_tombstone(self, topic: TopicSpec, tenant_id: str, user_id: str) -> None:
        self.s.tombstones.append((topic, tenant_id, user_id))


def fake_unit_of_work(
    state: StoreState | None = None,
) -> CopyOnCommitUnitOfWork[StoreState, FakeMatchingTransaction]:
    return CopyOnCommitUnitOfWork(state or StoreState(), FakeMatchingTransaction)


class FakeStateLoader:
    """Restores engines from the fake store exactly as the PostgreSQL loader does."""

    def __init__(self, uow: CopyOnCommitUnitOfWork[StoreState, FakeMatchingTransaction]) -> None:
        self.uow = uow
        self.loads = 0

    async def claim(self, partitions: Collection[int], owner: str) -> frozenset[int]:
        owners = self.uow.state.owners
        unchanged = frozenset(p for p in partitions if owners.get(p) == owner)
        owners.update(dict.fromkeys(partitions, owner))
        return unchanged

    async def load(
        self, partitions: Collection[int], config: EngineConfig, tenant_id: str | None = None
    ) -> dict[str, TenantEngine]:
        self.loads += 1
        s = self.uow.state
        restorers: dict[str, Restorer] = {}

        def restorer(tenant: str) -> Restorer:
            return restorers.setdefault(tenant, Restorer(TenantEngine(config)))

        def wanted(tenant: str, partition: int | None = None) -> bool:
            in_partition = partition is None or partition in partitions
            return in_partition and tenant_id in (None, tenant)

        for (tenant, _), (stored, _) in sorted(s.people.items()):
            if stored.is_mentor and wanted(tenant):
                restorer(tenant).mentor(stored)
        for (tenant, _), (person, partition) in sorted(s.people.items()):
            if wanted(tenant, partition):
                restorer(tenant).person(person, partition)
        for (tenant, _), (relationship, partition) in sorted(s.relationships.items()):
            if wanted(tenant, partition):
                restorer(tenant).relationship(relationship, partition)
        for key, (goal, partition) in sorted(s.goals.items()):
            if wanted(key[0], partition) and key not in s.closed_goals:
                restorer(key[0]).goal(goal, partition)
        for (tenant, mentee, mentor), (partition, _) in sorted(s.pairs.items()):
            if wanted(tenant, partition):
                restorer(tenant).exclusion(mentee, mentor, partition)
        for (tenant, mentor, partition), (entries, _) in sorted(s.lists.items()):
            if partition not in partitions and wanted(tenant):
                restorer(tenant).remote_list(mentor, partition, entries)
        for (tenant, mentor, partition), (entries, truncated) in sorted(s.lists.items()):
            if wanted(tenant, partition):
                restorer(tenant).mentor_list(mentor, partition, entries, truncated)
        for (tenant, mentee, goal_id), (proposal, partition) in sorted(s.proposals.items()):
            if wanted(tenant, partition):
                restorer(tenant).proposal(mentee, goal_id, proposal.mentor_ids)
        return {tenant: r.finish() for tenant, r in restorers.items()}

"""An in-memory profile store behind the same port as the PostgreSQL adapter
(services/profile/service_layer/unit_of_work.py); tests/ports/profile_store.py runs the same
suite over both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from services.profile.service_layer.unit_of_work import (
    Admission,
    EarlierRequest,
    IdempotentRequest,
    LinkResponse,
    ProfileQuery,
    StoredGoal,
    StoredResponse,
)
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import DEFAULT_GOAL_ID, ClosingReason, GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec
from shared.erasure import Erasure
from tests.unit.builders import TENANT
from tests.unit.fakes import CopyOnCommitUnitOfWork, MemoryErasureLog
from tests.unit.relationship_fakes import MemoryRelationships, RelationshipState


@dataclass
class ProfileState:
    profiles: dict[tuple[str, str], ProfilePayload] = field(default_factory=dict)
    unsubscribed: set[tuple[str, str]] = field(default_factory=set)
    goals: dict[tuple[str, str, str], StoredGoal] = field(default_factory=dict)
    goal_limits: dict[str, int] = field(default_factory=dict)
    outbox: list[tuple[TopicSpec, EventEnvelope]] = field(default_factory=list)
    requests: dict[tuple[str, str], tuple[IdempotentRequest, StoredResponse | None]] = field(
        default_factory=dict
    )
    link_responses: set[LinkResponse] = field(default_factory=set)
    processed: set[tuple[str, UUID]] = field(default_factory=set)
    active_tenants: set[str] = field(default_factory=lambda: {TENANT})
    tombstones: list[tuple[TopicSpec, str, str]] = field(default_factory=list)
    erased: dict[bytes, Erasure] = field(default_factory=dict)
    relationships: RelationshipState = field(default_factory=RelationshipState)


class FakeProfileTransaction:
    def __init__(self, state: ProfileState) -> None:
        self.s = state
        self.erasures = MemoryErasureLog(state.erased)
        self.relationships = MemoryRelationships(state.relationships)

    async def get_profile(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> ProfilePayload | None:
        return self.s.profiles.get((tenant_id, user_id))

    async def get_profiles(
        self, tenant_id: str, user_ids: Sequence[str], *, for_update: bool = False
    ) -> dict[str, ProfilePayload]:
        found = {u: self.s.profiles.get((tenant_id, u)) for u in user_ids}
        return {u: p for u, p in found.items() if p is not None}

    async def save_profile(self, tenant_id: str, profile: ProfilePayload) -> None:
        self.s.profiles[tenant_id, profile.user_id] = profile

    async def save_profiles(self, tenant_id: str, profiles: Sequence[ProfilePayload]) -> None:
        for profile in profiles:
            await self.save_profile(tenant_id, profile)

    async def list_profiles(self, tenant_id: str, query: ProfileQuery) -> list[ProfilePayload]:
        """As the adapter: by user id, after `after_user_id`, with the role and skill filters
        (`updated_since` is not kept here: the fake has no clock)."""
        mine = sorted((u, p) for (t, u), p in self.s.profiles.items() if t == tenant_id)
        return [
            p
            for u, p in mine
            if u > query.after_user_id
            and (query.role is None or query.role in p.roles)
            and (query.skill is None or any(s.name == query.skill for s in p.skills))
        ][: query.limit]

    async def profiles_managed_by(self, tenant_id: str, manager_id: str) -> list[ProfilePayload]:
        mine = [p for (t, _), p in self.s.profiles.items() if t == tenant_id]
        return [p for p in mine if p.manager_id == manager_id]

    async def unsubscribed(self, tenant_id: str, user_ids: Sequence[str]) -> set[str]:
        return {u for u in user_ids if (tenant_id, u) in self.s.unsubscribed}

    async def mark_unsubscribed(self, tenant_id: str, user_id: str) -> None:
        self.s.unsubscribed.add((tenant_id, user_id))

    async def get_goal(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str = DEFAULT_GOAL_ID,
        *,
        for_update: bool = False,
    ) -> GoalSetPayload | None:
        stored = self.s.goals.get((tenant_id, mentee_id, goal_id))
        return stored.goal if stored is not None and stored.closed is None else None

    async def goals_of(self, tenant_id: str, mentee_id: str) -> list[StoredGoal]:
        return [
            g for (t, m, _), g in sorted(self.s.goals.items()) if (t, m) == (tenant_id, mentee_id)
        ]

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        self.s.goals[tenant_id, goal.mentee_id, goal.goal_id] = StoredGoal(goal)

    async def close_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str, version: int, reason: ClosingReason
    ) -> None:
        stored = self.s.goals[tenant_id, mentee_id, goal_id]
        goal = stored.goal.model_copy(update={"version": version})
        self.s.goals[tenant_id, mentee_id, goal_id] = StoredGoal(goal, reason)

    async def goals_and_limit(
        self, tenant_id: str, mentee_id: str
    ) -> tuple[list[StoredGoal], int | None]:
        return await self.goals_of(tenant_id, mentee_id), self.s.goal_limits.get(tenant_id)

    async def erase_person(self, tenant_id: str, user_id: str) -> None:
        self.s.profiles.pop((tenant_id, user_id), None)
        for key in [k for k in self.s.goals if k[:2] == (tenant_id, user_id)]:
            del self.s.goals[key]
        self.s.unsubscribed.discard((tenant_id, user_id))
        self.relationships.erase(tenant_id, user_id)
        self.s.requests = {
            k: v for k, v in self.s.requests.items() if (k[0], v[0].user_id) != (tenant_id, user_id)
        }
        self.s.link_responses = {
            r
            for r in self.s.link_responses
            if r.tenant_id != tenant_id or user_id not in (r.mentee_id, r.mentor_id)
        }

    async def admit_command(
        self, consumer: str, message_id: UUID, tenant_id: str, user_id: str
    ) -> Admission:
        first = (consumer, message_id) not in self.s.processed
        self.s.processed.add((consumer, message_id))
        person = (tenant_id, user_id)
        erasure = (await self.erasures.find([person])).get(person)
        return Admission(first, erasure, tenant_id in self.s.active_tenants)

    async def claim_request(self, request: IdempotentRequest) -> EarlierRequest | None:
        earlier = self.s.requests.get((request.tenant_id, request.key))
        if earlier is None:
            self.s.requests[request.tenant_id, request.key] = (request, None)
            return None
        first, response = earlier
        assert response is not None
        return EarlierRequest(first.fingerprint, response)

    async def remember_response(self, request: IdempotentRequest, response: StoredResponse) -> None:
        self.s.requests[request.tenant_id, request.key] = (request, response)

    async def first_link_response(self, response: LinkResponse) -> bool:
        first = response not in self.s.link_responses
        self.s.link_responses.add(response)
        return first

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        self.s.outbox.append((topic, event))

    async def publish_tombstone(self, topic: TopicSpec, tenant_id: str, user_id: str) -> None:
        self.s.tombstones.append((topic, tenant_id, user_id))


class FakeUnitOfWork(CopyOnCommitUnitOfWork[ProfileState, FakeProfileTransaction]):
    def __init__(self) -> None:
        super().__init__(ProfileState(), FakeProfileTransaction)

    @property
    def published(self) -> list[tuple[TopicSpec, EventEnvelope]]:
        return self.state.outbox

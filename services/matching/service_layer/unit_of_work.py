"""The port matching's handlers use: one transaction over the read model and the outbox."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec


@dataclass(frozen=True)
class CurrentProposal:
    ranking_version: int
    goal_id: str
    mentor_ids: tuple[str, ...]


class MatchingTransaction(Protocol):
    async def first_delivery(self, event_id: UUID) -> bool: ...

    async def lock_tenant(self, tenant_id: str, *, exclusive: bool) -> None:
        """Serialise with concurrent handlers until commit.

        Profile changes (which can affect every mentee of the tenant) take it exclusively;
        goal changes share it. Without it, a mentee's profile and goal handled at the same time
        by two subscribers would each miss the other's uncommitted row and rank nobody.
        """

    async def person_version(self, tenant_id: str, user_id: str) -> int | None: ...

    async def save_person(self, tenant_id: str, profile: ProfilePayload) -> None: ...

    async def get_person(self, tenant_id: str, user_id: str) -> ProfilePayload | None: ...

    async def forget_person(self, tenant_id: str, user_id: str) -> None: ...

    async def goal_version(self, tenant_id: str, mentee_id: str) -> int | None: ...

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None: ...

    async def get_goal(self, tenant_id: str, mentee_id: str) -> GoalSetPayload | None: ...

    async def mentors(self, tenant_id: str) -> list[ProfilePayload]: ...

    async def mentees_with_goals(self, tenant_id: str) -> list[str]: ...

    async def current_proposal(self, tenant_id: str, mentee_id: str) -> CurrentProposal | None: ...

    async def save_proposal(
        self, tenant_id: str, mentee_id: str, proposal: CurrentProposal, proposal_id: UUID
    ) -> None: ...

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None: ...


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[MatchingTransaction]: ...

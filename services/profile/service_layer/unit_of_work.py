"""The port the handlers talk to: one transaction over profiles, goals and the outbox."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec


class ProfileTransaction(Protocol):
    async def get_profile(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> ProfilePayload | None: ...

    async def save_profile(self, tenant_id: str, profile: ProfilePayload) -> None: ...

    async def get_goal(
        self, tenant_id: str, mentee_id: str, *, for_update: bool = False
    ) -> GoalSetPayload | None: ...

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None: ...

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        """Queue `event` in the outbox, committed with the rest of the transaction."""


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[ProfileTransaction]: ...

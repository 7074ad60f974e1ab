"""The port the handlers talk to: one transaction over profiles, goals, requests and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.profile.service_layer.relationship_port import RelationshipStore
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import DEFAULT_GOAL_ID, ClosingReason, GoalSetPayload
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import TopicSpec
from shared.erasure import Erasure, ErasureLog


@dataclass(frozen=True)
class StoredGoal:
    goal: GoalSetPayload
    closed: ClosingReason | None = None  # None: open


@dataclass(frozen=True)
class ProfileQuery:
    """One page of a tenant's profiles, in user id order, after `after_user_id`."""

    limit: int
    after_user_id: str = ""
    role: str | None = None
    skill: str | None = None
    updated_since: datetime | None = None


@dataclass(frozen=True)
class StoredResponse:
    """What a write answered, kept under its Idempotency-Key so a retry gets the same answer."""

    status: int
    body: str
    etag: str | None = None
    replayed: bool = False


@dataclass(frozen=True)
class IdempotentRequest:
    tenant_id: str
    key: str
    user_id: str
    fingerprint: bytes


@dataclass(frozen=True)
class EarlierRequest:
    fingerprint: bytes
    response: StoredResponse


@dataclass(frozen=True)
class LinkResponse:
    tenant_id: str
    mentee_id: str
    mentor_id: str
    proposal_id: UUID
    action: str


@dataclass(frozen=True)
class Admission:
    """What an ingress command's admission reads, in one go."""

    first: bool  # its id was not recorded before for this consumer (it is now)
    erasure: Erasure | None  # of the person it is about, if they were erased
    tenant_active: bool  # the tenant holds at least one usable API key


class ProfileTransaction(Protocol):
    @property
    def erasures(self) -> ErasureLog:
        """Who was erased (shared/erasure.py)."""
        ...

    @property
    def relationships(self) -> RelationshipStore:
        """Relationships, lifecycle terms and learning adjustments."""
        ...

    async def get_profile(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> ProfilePayload | None: ...

    async def get_profiles(
        self, tenant_id: str, user_ids: Sequence[str], *, for_update: bool = False
    ) -> dict[str, ProfilePayload]: ...

    async def save_profile(self, tenant_id: str, profile: ProfilePayload) -> None: ...

    async def save_profiles(self, tenant_id: str, profiles: Sequence[ProfilePayload]) -> None:
        """`save_profile` of each, in order."""

    async def list_profiles(self, tenant_id: str, query: ProfileQuery) -> list[ProfilePayload]: ...

    async def profiles_managed_by(self, tenant_id: str, manager_id: str) -> list[ProfilePayload]:
        """Profiles whose `manager_id` names this person, locked for update."""

    async def unsubscribed(self, tenant_id: str, user_ids: Sequence[str]) -> set[str]:
        """Those of `user_ids` who unsubscribed from email themselves."""

    async def mark_unsubscribed(self, tenant_id: str, user_id: str) -> None: ...

    async def get_goal(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str = DEFAULT_GOAL_ID,
        *,
        for_update: bool = False,
    ) -> GoalSetPayload | None:
        """The goal, if it is open."""

    async def goals_of(self, tenant_id: str, mentee_id: str) -> list[StoredGoal]:
        """Every goal of the mentee, open and closed, by goal id."""

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        """Store the goal as open (a closed goal set again opens again)."""

    async def close_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str, version: int, reason: ClosingReason
    ) -> None: ...

    async def goals_and_limit(
        self, tenant_id: str, mentee_id: str
    ) -> tuple[list[StoredGoal], int | None]:
        """`goals_of` the mentee and the tenant's `max_active_goals` (None: the default,
        DEFAULT_MAX_OPEN_GOALS), read together."""

    async def erase_person(self, tenant_id: str, user_id: str) -> None:
        """Delete every row that mentions the person (the outbox excepted)."""

    async def admit_command(
        self, consumer: str, message_id: UUID, tenant_id: str, user_id: str
    ) -> Admission:
        """Record `message_id` as delivered to `consumer` (`first`: not recorded before), and
        read the person's erasure and whether the tenant is active."""

    async def claim_request(self, request: IdempotentRequest) -> EarlierRequest | None:
        """None: the key is ours now; else what the earlier request with this key answered."""

    async def remember_response(
        self, request: IdempotentRequest, response: StoredResponse
    ) -> None: ...

    async def first_link_response(self, response: LinkResponse) -> bool:
        """True the first time this link response is recorded."""

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        """Queue `event` in the outbox, committed with the rest of the transaction."""

    async def publish_tombstone(self, topic: TopicSpec, tenant_id: str, user_id: str) -> None:
        """Queue a tombstone for the person's key on the compacted `topic`, after the events
        queued before it."""


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[ProfileTransaction]: ...

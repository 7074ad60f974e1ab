"""The port for relationships, per-tenant lifecycle terms and learning adjustments, reached as
`tx.relationships` inside a profile transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.profile.domain.learning import Preferences
from services.profile.domain.relationships import LifecycleTerms, Relationship, State


@dataclass(frozen=True)
class RelationshipQuery:
    """One page of a tenant's relationships, oldest request first, after a cursor."""

    limit: int
    mentee_id: str | None = None
    mentor_id: str | None = None
    state: State | None = None
    after: tuple[datetime, UUID] | None = None


@dataclass(frozen=True)
class StoredAdjustment:
    adjustment_id: UUID
    tenant_id: str
    mentee_id: str
    goal_id: str
    mentor_id: str | None
    before: Preferences
    undone: bool


@dataclass(frozen=True)
class Due:
    """A relationship whose timer has come: a reminder, an expiry or a fit check."""

    tenant_id: str
    request_id: UUID


class RelationshipStore(Protocol):
    async def get(
        self, tenant_id: str, request_id: UUID, *, for_update: bool = False
    ) -> Relationship | None: ...

    async def for_proposal(
        self, tenant_id: str, proposal_id: UUID, mentor_id: str
    ) -> Relationship | None:
        """The request made from this proposal's link to this mentor, if any."""

    async def add(self, relationship: Relationship) -> bool:
        """Insert; False when this proposal's link already made a request (a replay race)."""

    async def save(self, relationship: Relationship) -> None: ...

    async def seats_taken(self, tenant_id: str, mentor_id: str) -> int:
        """The mentor's held requests plus active relationships."""

    async def open_of(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> list[Relationship]:
        """Requested or active relationships of the person on either side, oldest first."""

    async def open_requests(self, tenant_id: str, mentee_id: str) -> int:
        """The mentee's requests waiting for a mentor's answer."""

    async def open_for_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str
    ) -> list[Relationship]:
        """The mentee's requested or active relationships for this goal."""

    async def page(self, tenant_id: str, query: RelationshipQuery) -> list[Relationship]: ...

    async def due(self, now: datetime, limit: int) -> list[Due]:
        """Relationships whose reminder, deadline or fit check has come, in any tenant."""

    async def miscounted_mentors(self) -> list[tuple[str, str]]:
        """(tenant, mentor) whose stored `seats_taken` differs from their open relationships."""

    async def terms(self, tenant_id: str, defaults: LifecycleTerms) -> LifecycleTerms:
        """The tenant's lifecycle terms: its own where set, `defaults` elsewhere."""

    async def save_adjustment(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str,
        mentor_id: str | None,
        adjustment_id: UUID,
        before: Preferences,
    ) -> None: ...

    async def get_adjustment(
        self, tenant_id: str, adjustment_id: UUID, *, for_update: bool = False
    ) -> StoredAdjustment | None: ...

    async def mark_undone(self, tenant_id: str, adjustment_id: UUID) -> None: ...

"""An in-memory relationship store behind the same port as the PostgreSQL adapter
(services/profile/service_layer/relationship_port.py), kept in the fake profile state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from services.profile.domain.learning import Preferences
from services.profile.domain.relationships import OPEN_STATES, LifecycleTerms, Relationship
from services.profile.service_layer.relationship_port import (
    Due,
    RelationshipQuery,
    StoredAdjustment,
)


@dataclass
class RelationshipState:
    rows: dict[UUID, Relationship] = field(default_factory=dict)
    adjustments: dict[UUID, StoredAdjustment] = field(default_factory=dict)
    terms: dict[str, LifecycleTerms] = field(default_factory=dict)
    seats_recorded: dict[tuple[str, str], int] = field(default_factory=dict)


class MemoryRelationships:
    def __init__(self, state: RelationshipState) -> None:
        self.s = state

    def _mine(self, tenant_id: str) -> list[Relationship]:
        rows = (r for r in self.s.rows.values() if r.tenant_id == tenant_id)
        return sorted(rows, key=lambda r: (r.requested_at, r.request_id))

    async def get(
        self, tenant_id: str, request_id: UUID, *, for_update: bool = False
    ) -> Relationship | None:
        found = self.s.rows.get(request_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def for_proposal(
        self, tenant_id: str, proposal_id: UUID, mentor_id: str
    ) -> Relationship | None:
        mine = self._mine(tenant_id)
        return next(
            (r for r in mine if (r.proposal_id, r.mentor_id) == (proposal_id, mentor_id)), None
        )

    async def add(self, relationship: Relationship) -> bool:
        r = relationship
        if await self.for_proposal(r.tenant_id, r.proposal_id, r.mentor_id):  # type: ignore[arg-type]
            return False
        self.s.rows[r.request_id] = r
        return True

    async def save(self, relationship: Relationship) -> None:
        self.s.rows[relationship.request_id] = relationship

    async def seats_taken(self, tenant_id: str, mentor_id: str) -> int:
        mine = self._mine(tenant_id)
        return sum(r.mentor_id == mentor_id and r.state in OPEN_STATES for r in mine)

    async def open_requests(self, tenant_id: str, mentee_id: str) -> int:
        mine = self._mine(tenant_id)
        return sum(r.mentee_id == mentee_id and r.state == "requested" for r in mine)

    async def open_of(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> list[Relationship]:
        return [
            r
            for r in self._mine(tenant_id)
            if user_id in (r.mentee_id, r.mentor_id) and r.state in OPEN_STATES
        ]

    async def open_for_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str
    ) -> list[Relationship]:
        return [
            r
            for r in self._mine(tenant_id)
            if (r.mentee_id, r.goal_id) == (mentee_id, goal_id) and r.state in OPEN_STATES
        ]

    async def page(self, tenant_id: str, query: RelationshipQuery) -> list[Relationship]:
        return [
            r
            for r in self._mine(tenant_id)
            if query.mentee_id in (None, r.mentee_id)
            and query.mentor_id in (None, r.mentor_id)
            and query.state in (None, r.state)
            and (query.after is None or (r.requested_at, r.request_id) > query.after)
        ][: query.limit]

    async def due(self, now: datetime, limit: int) -> list[Due]:
        def is_due(r: Relationship) -> bool:
            waiting = r.state == "requested" and (
                r.deadline <= now or (r.reminded_at is None and r.remind_at <= now)
            )
            fit = r.state == "active" and r.fit_checked_at is None
            return waiting or (fit and r.fit_check_at is not None and r.fit_check_at <= now)

        return [Due(r.tenant_id, r.request_id) for r in self.s.rows.values() if is_due(r)][:limit]

    async def miscounted_mentors(self) -> list[tuple[str, str]]:
        return []

    async def terms(self, tenant_id: str, defaults: LifecycleTerms) -> LifecycleTerms:
        return self.s.terms.get(tenant_id, defaults)

    async def save_adjustment(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str,
        mentor_id: str | None,
        adjustment_id: UUID,
        before: Preferences,
    ) -> None:
        self.s.adjustments[adjustment_id] = StoredAdjustment(
            adjustment_id, tenant_id, mentee_id, goal_id, mentor_id, before, undone=False
        )

    async def get_adjustment(
        self, tenant_id: str, adjustment_id: UUID, *, for_update: bool = False
    ) -> StoredAdjustment | None:
        found = self.s.adjustments.get(adjustment_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    async def mark_undone(self, tenant_id: str, adjustment_id: UUID) -> None:
        self.s.adjustments[adjustment_id] = replace(self.s.adjustments[adjustment_id], undone=True)

    def erase(self, tenant_id: str, user_id: str) -> None:
        self.s.rows = {
            k: r
            for k, r in self.s.rows.items()
            if r.tenant_id != tenant_id or user_id not in (r.mentee_id, r.mentor_id)
        }
        self.s.adjustments = {
            k: a
            for k, a in self.s.adjustments.items()
            if a.tenant_id != tenant_id or user_id not in (a.mentee_id, a.mentor_id)
        }

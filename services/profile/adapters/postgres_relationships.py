"""asyncpg implementation of the relationship store (service_layer/relationship_port.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.profile.domain.learning import Preferences
from services.profile.domain.relationships import LifecycleTerms, Relationship
from services.profile.service_layer.relationship_port import (
    Due,
    RelationshipQuery,
    StoredAdjustment,
)
from shared.contracts.goals import CriteriaWeights
from shared.contracts.types import MentoringStyle
from shared.db.types import DbConnection

_SELECT = (
    "SELECT request_id, tenant_id, mentee_id, mentor_id, goal_id, proposal_id, state, version,"
    " requested_at, deadline, reminded_at, started_at, fit_check_at, fit_checked_at,"
    " fit_answers, ended_at, ended_by, reason, rating, never_again FROM relationships"
)
_WRITE = (
    "INSERT INTO relationships (request_id, tenant_id, mentee_id, mentor_id, goal_id,"
    " proposal_id, state, version, requested_at, deadline, reminded_at, started_at,"
    " fit_check_at, fit_checked_at, fit_answers, ended_at, ended_by, reason, rating,"
    " never_again, remind_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
    " $14, $15::jsonb, $16, $17, $18, $19, $20, $21)"
)
_INSERT = f"{_WRITE} ON CONFLICT DO NOTHING RETURNING 1"
_SAVE = (
    f"{_WRITE} ON CONFLICT (request_id) DO UPDATE SET state = EXCLUDED.state,"
    " version = EXCLUDED.version, reminded_at = EXCLUDED.reminded_at,"
    " started_at = EXCLUDED.started_at, fit_check_at = EXCLUDED.fit_check_at,"
    " fit_checked_at = EXCLUDED.fit_checked_at, fit_answers = EXCLUDED.fit_answers,"
    " ended_at = EXCLUDED.ended_at, ended_by = EXCLUDED.ended_by, reason = EXCLUDED.reason,"
    " rating = EXCLUDED.rating, never_again = EXCLUDED.never_again, updated_at = now()"
)
_ADJUSTMENT_QUERY = (
    "SELECT adjustment_id, tenant_id, mentee_id, goal_id, mentor_id, before,"
    " undone_at IS NOT NULL AS undone FROM preference_adjustments"
    " WHERE tenant_id = $1 AND adjustment_id = $2"
)
_ADJUSTMENT = {False: _ADJUSTMENT_QUERY, True: f"{_ADJUSTMENT_QUERY} FOR UPDATE"}


def _with_lock(where: str) -> dict[bool, str]:
    """`_SELECT` with this condition, as is and locked (fixed texts: nothing interpolated)."""
    query = " ".join((_SELECT, where))
    return {False: query, True: query + " FOR UPDATE"}


_BY_ID = _with_lock("WHERE tenant_id = $1 AND request_id = $2")
_OPEN_OF = _with_lock(
    "WHERE tenant_id = $1 AND (mentee_id = $2 OR mentor_id = $2)"
    " AND state IN ('requested', 'active') ORDER BY requested_at, request_id"
)
_FOR_PROPOSAL = " ".join((_SELECT, "WHERE tenant_id = $1 AND proposal_id = $2 AND mentor_id = $3"))
_OPEN_FOR_GOAL = " ".join(
    (
        _SELECT,
        "WHERE tenant_id = $1 AND mentee_id = $2 AND goal_id = $3"
        " AND state IN ('requested', 'active')",
    )
)
_PAGE = " ".join(
    (
        _SELECT,
        "WHERE tenant_id = $1 AND ($2::text IS NULL OR mentee_id = $2)"
        " AND ($3::text IS NULL OR mentor_id = $3) AND ($4::text IS NULL OR state = $4)"
        " AND ($5::timestamptz IS NULL OR (requested_at, request_id) > ($5, $6::uuid))"
        " ORDER BY requested_at, request_id LIMIT $7",
    )
)


def _relationship(row: Any) -> Relationship:
    fields = dict(row)
    fields["fit_answers"] = json.loads(fields["fit_answers"])
    return Relationship(**fields)


def _values(r: Relationship) -> tuple[Any, ...]:
    return (
        r.request_id,
        r.tenant_id,
        r.mentee_id,
        r.mentor_id,
        r.goal_id,
        r.proposal_id,
        r.state,
        r.version,
        r.requested_at,
        r.deadline,
        r.reminded_at,
        r.started_at,
        r.fit_check_at,
        r.fit_checked_at,
        json.dumps(r.fit_answers),
        r.ended_at,
        r.ended_by,
        r.reason,
        r.rating,
        r.never_again,
        r.remind_at,
    )


class PostgresRelationships:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def get(
        self, tenant_id: str, request_id: UUID, *, for_update: bool = False
    ) -> Relationship | None:
        row = await self._conn.fetchrow(_BY_ID[for_update], tenant_id, request_id)
        return _relationship(row) if row else None

    async def for_proposal(
        self, tenant_id: str, proposal_id: UUID, mentor_id: str
    ) -> Relationship | None:
        row = await self._conn.fetchrow(
            _FOR_PROPOSAL,
            tenant_id,
            proposal_id,
            mentor_id,
        )
        return _relationship(row) if row else None

    async def add(self, relationship: Relationship) -> bool:
        inserted = await self._conn.fetchval(_INSERT, *_values(relationship))
        return inserted is not None

    async def save(self, relationship: Relationship) -> None:
        await self._conn.execute(_SAVE, *_values(relationship))

    async def seats_taken(self, tenant_id: str, mentor_id: str) -> int:
        count = await self._conn.fetchval(
            "SELECT count(*) FROM relationships WHERE tenant_id = $1 AND mentor_id = $2"
            " AND state IN ('requested', 'active')",
            tenant_id,
            mentor_id,
        )
        return int(count)

    async def open_of(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> list[Relationship]:
        rows = await self._conn.fetch(_OPEN_OF[for_update], tenant_id, user_id)
        return [_relationship(r) for r in rows]

    async def open_for_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str
    ) -> list[Relationship]:
        rows = await self._conn.fetch(_OPEN_FOR_GOAL, tenant_id, mentee_id, goal_id)
        return [_relationship(r) for r in rows]

    async def open_requests(self, tenant_id: str, mentee_id: str) -> int:
        count = await self._conn.fetchval(
            "SELECT count(*) FROM relationships WHERE tenant_id = $1 AND mentee_id = $2"
            " AND state = 'requested'",
            tenant_id,
            mentee_id,
        )
        return int(count)

    async def page(self, tenant_id: str, query: RelationshipQuery) -> list[Relationship]:
        after_at, after_id = query.after or (None, None)
        rows = await self._conn.fetch(
            _PAGE,
            tenant_id,
            query.mentee_id,
            query.mentor_id,
            query.state,
            after_at,
            after_id,
            query.limit,
        )
        return [_relationship(r) for r in rows]

    async def due(self, now: datetime, limit: int) -> list[Due]:
        rows = await self._conn.fetch(
            "(SELECT tenant_id, request_id FROM relationships"
            "  WHERE state = 'requested' AND reminded_at IS NULL AND remind_at <= $1 LIMIT $2)"
            " UNION (SELECT tenant_id, request_id FROM relationships"
            "  WHERE state = 'requested' AND deadline <= $1 LIMIT $2)"
            " UNION (SELECT tenant_id, request_id FROM relationships"
            "  WHERE state = 'active' AND fit_checked_at IS NULL AND fit_check_at <= $1 LIMIT $2)",
            now,
            limit,
        )
        return [Due(r["tenant_id"], r["request_id"]) for r in rows]

    async def miscounted_mentors(self) -> list[tuple[str, str]]:
        rows = await self._conn.fetch(
            "SELECT p.tenant_id, p.user_id FROM profiles p"
            " LEFT JOIN (SELECT tenant_id, mentor_id, count(*) AS taken FROM relationships"
            "  WHERE state IN ('requested', 'active') GROUP BY tenant_id, mentor_id) r"
            "  ON r.tenant_id = p.tenant_id AND r.mentor_id = p.user_id"
            " WHERE coalesce((p.profile ->> 'seats_taken')::int, 0) <> coalesce(r.taken, 0)"
            " ORDER BY p.tenant_id, p.user_id"
        )
        return [(r["tenant_id"], r["user_id"]) for r in rows]

    async def terms(self, tenant_id: str, defaults: LifecycleTerms) -> LifecycleTerms:
        row = await self._conn.fetchrow(
            "SELECT request_deadline_days, fit_check_days, open_requests_limit"
            " FROM tenant_settings WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return defaults
        deadline, fit_check, limit = row
        return LifecycleTerms(
            timedelta(days=deadline) if deadline else defaults.request_deadline,
            timedelta(days=fit_check) if fit_check else defaults.fit_check_after,
            limit or defaults.open_requests_limit,
        )

    async def save_adjustment(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str,
        mentor_id: str | None,
        adjustment_id: UUID,
        before: Preferences,
    ) -> None:
        document = {
            "criteria": before.criteria.model_dump(),
            "preferred_styles": list(before.preferred_styles),
        }
        await self._conn.execute(
            "INSERT INTO preference_adjustments"
            " (adjustment_id, tenant_id, mentee_id, goal_id, mentor_id, before)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            adjustment_id,
            tenant_id,
            mentee_id,
            goal_id,
            mentor_id,
            json.dumps(document),
        )

    async def get_adjustment(
        self, tenant_id: str, adjustment_id: UUID, *, for_update: bool = False
    ) -> StoredAdjustment | None:
        row = await self._conn.fetchrow(_ADJUSTMENT[for_update], tenant_id, adjustment_id)
        if row is None:
            return None
        before = json.loads(row["before"])
        preferences = Preferences(
            CriteriaWeights(**before["criteria"]),
            tuple(MentoringStyle(s) for s in before["preferred_styles"]),
        )
        fields = {k: row[k] for k in ("adjustment_id", "tenant_id", "mentee_id", "goal_id")}
        return StoredAdjustment(
            **fields, mentor_id=row["mentor_id"], before=preferences, undone=row["undone"]
        )

    async def mark_undone(self, tenant_id: str, adjustment_id: UUID) -> None:
        await self._conn.execute(
            "UPDATE preference_adjustments SET undone_at = now()"
            " WHERE tenant_id = $1 AND adjustment_id = $2",
            tenant_id,
            adjustment_id,
        )


async def erase_relationships(conn: DbConnection, tenant_id: str, user_id: str) -> None:
    """Every relationship and adjustment that names the person (after their endings were
    published)."""
    for statement in (
        "DELETE FROM relationships WHERE tenant_id = $1 AND (mentee_id = $2 OR mentor_id = $2)",
        "DELETE FROM preference_adjustments WHERE tenant_id = $1"
        " AND (mentee_id = $2 OR mentor_id = $2)",
    ):
        await conn.execute(statement, tenant_id, user_id)


async def set_tenant_terms(
    conn: DbConnection,
    tenant_id: str,
    request_deadline_days: int | None,
    fit_check_days: int | None,
    open_requests_limit: int | None,
    max_active_goals: int | None = None,
) -> None:
    """A tenant's own lifecycle terms and goal limit; a None keeps (or, new, leaves to the
    default) that one."""
    await conn.execute(
        "INSERT INTO tenant_settings"
        " (tenant_id, request_deadline_days, fit_check_days, open_requests_limit,"
        " max_active_goals)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET"
        " request_deadline_days = coalesce($2, tenant_settings.request_deadline_days),"
        " fit_check_days = coalesce($3, tenant_settings.fit_check_days),"
        " open_requests_limit = coalesce($4, tenant_settings.open_requests_limit),"
        " max_active_goals = coalesce($5, tenant_settings.max_active_goals),"
        " updated_at = now()",
        tenant_id,
        request_deadline_days,
        fit_check_days,
        open_requests_limit,
        max_active_goals,
    )


async def tenant_goal_limit(conn: DbConnection, tenant_id: str) -> int | None:
    """The tenant's `max_active_goals`; None: the default."""
    limit: int | None = await conn.fetchval(
        "SELECT max_active_goals FROM tenant_settings WHERE tenant_id = $1", tenant_id
    )
    return limit

"""A relationship's steps, as matching applies them (the rule: domain/relationships.py).

Each relationship's newest state is stored (older versions and repeats change nothing); then
the mentee's exclusions and whether their goal waits are recomputed from the store. Asking a
mentor or starting a relationship changes the mentee's ranking quietly (no email: the mentee
knows); a 'Not now', an expiry or an ending sends the next proposal at once, saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal
from services.matching.domain.relationships import Relationship, State, blocks
from services.matching.domain.seekers import mentee_of, seeker_key
from services.matching.service_layer.causes import QUIET, Told, about_mentor, merged
from services.matching.service_layer.unit_of_work import MatchingTransaction, MenteeBlocks
from shared.contracts.envelope import EventEnvelope
from shared.contracts.lifecycle import (
    FitCheckRequested,
    LifecycleEvent,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    RequestReminded,
)
from shared.contracts.matches import CauseKind, ProposalCause

if TYPE_CHECKING:
    from services.matching.service_layer.handlers import Matching

STATE_AFTER: dict[type[Any], State] = {
    MatchRequested: "requested",
    RequestReminded: "requested",
    MatchStarted: "active",
    FitCheckRequested: "active",
    RequestDeclined: "declined",
    RequestExpired: "expired",
    MatchEnded: "ended",
}
# A relationship that reached one of these states moves the mentee on: the next proposal
# goes out at once and says why.
MOVES_ON: dict[State, CauseKind] = {
    "declined": "request_declined",
    "expired": "request_expired",
    "ended": "relationship_ended",
}


def relationship_of(event: LifecycleEvent) -> Relationship:
    payload = event.payload
    return Relationship(
        request_id=str(payload.request_id),
        mentee_id=payload.mentee_id,
        mentor_id=payload.mentor_id,
        goal_id=payload.goal_id,
        state=STATE_AFTER[type(event)],
        version=payload.version,
        never_again=isinstance(event, MatchEnded) and event.payload.never_again,
    )


async def record_relationship(
    event: LifecycleEvent,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    relationship = relationship_of(event)
    if not await tx.save_relationship_if_newer(event.tenant_id, relationship, partition):
        return None  # a repeat, or a straggler behind a newer step
    await apply_blocks(tx, engine, event.tenant_id, relationship.mentee_id, partition)
    kind = MOVES_ON.get(relationship.state)
    if kind is None:
        return QUIET  # a request or a start: every goal of the mentee's changes quietly
    name = await mentor_name(tx, engine, event.tenant_id, relationship.mentor_id)
    told = told_moving_on(engine, relationship, kind, name)
    goal = (event.tenant_id, relationship.mentee_id, relationship.goal_id)
    held = matching.held.pop(goal, None)
    return told if held is None else merged(held, told)  # the adjustment says more


def told_moving_on(
    engine: TenantEngine, relationship: Relationship, kind: CauseKind, name: str | None
) -> Told:
    """About the goal the relationship was for: forced when that goal is open (an ending of a
    relationship for a closed goal changes nothing the mentee waits for)."""
    key = seeker_key(relationship.mentee_id, relationship.goal_id)
    current = key in engine.roster.goals
    cause = about_mentor(kind, relationship.mentor_id, name)
    return Told(cause, forced=current, goal_id=relationship.goal_id)


def mentor_left(event: EventEnvelope) -> Told | None:
    """A step the profile service took because the mentor was erased, seen after the erasure:
    nothing about the mentor is stored or said (their rows went with them); a waiting request
    or a relationship that ended sends the mentee's next proposal."""
    state = STATE_AFTER.get(type(event))
    kind = MOVES_ON.get(state) if state is not None else None
    if kind is None or not isinstance(event, LifecycleEvent):
        return None
    return Told(ProposalCause(kind=kind), forced=True, goal_id=event.payload.goal_id)


async def resume_waiting(
    tx: MatchingTransaction, engine: TenantEngine, tenant_id: str, partition: int
) -> None:
    """A mentor was erased: the goals of this partition that waited may have waited on a
    relationship with them, which went with their rows."""
    roster = engine.roster
    waiting = {mentee_of(key) for key in roster.paused}
    for mentee_id in sorted(m for m in waiting if roster.partition_of.get(m) == partition):
        await apply_blocks(tx, engine, tenant_id, mentee_id, partition)


async def apply_blocks(
    tx: MatchingTransaction,
    engine: TenantEngine,
    tenant_id: str,
    mentee_id: str,
    partition: int,
    goal_id: str | None = None,
) -> None:
    """Recompute from the store whom the mentee is not proposed and whether the goal waits,
    for `goal_id` (default: each open goal the engine holds for them)."""
    goal_ids = [goal_id] if goal_id is not None else engine.roster.goal_ids(mentee_id)
    if goal_ids:
        stored = await tx.mentee_blocks(tenant_id, mentee_id)
        _set_blocks(engine, stored, mentee_id, partition, goal_ids)


def _set_blocks(
    engine: TenantEngine, stored: MenteeBlocks, mentee_id: str, partition: int, goals: list[str]
) -> None:
    for goal in goals:
        found = blocks(goal, stored.declined, stored.relationships)
        key = seeker_key(mentee_id, goal)
        engine.set_blocks(key, partition, found.excluded, found.paused)


async def store_goal(
    tx: MatchingTransaction, engine: TenantEngine, tenant_id: str, goal: Goal, partition: int
) -> bool:
    """Store the goal unless the stored one is as new or newer (False then). A goal the engine
    does not hold yet gets its blocks first (`apply_blocks`: they depend on the goal), read by
    the statement that stores it."""
    if seeker_key(goal.mentee_id, goal.goal_id) in engine.roster.goals:
        return await tx.save_goal_if_newer(tenant_id, goal, partition)
    stored = await tx.save_goal_reading_blocks(tenant_id, goal, partition)
    if stored is not None:
        _set_blocks(engine, stored, goal.mentee_id, partition, [goal.goal_id])
    return stored is not None


async def mentor_name(
    tx: MatchingTransaction, engine: TenantEngine, tenant_id: str, mentor_id: str
) -> str | None:
    """The mentor's display name, for the proposal email's line about them."""
    mentor = engine.mentor(mentor_id) or await tx.stored_person(tenant_id, mentor_id)
    return mentor.display_name if mentor is not None else None

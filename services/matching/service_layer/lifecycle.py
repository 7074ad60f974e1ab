"""A relationship's steps, as matching applies them (the rule: domain/relationships.py).

Each relationship's newest state is stored (older versions and repeats change nothing); then
the mentee's exclusions and whether their goal waits are recomputed from the store. Asking a
mentor or starting a relationship changes the mentee's ranking quietly (no email: the mentee
knows); a 'Not now', an expiry or an ending sends the next proposal at once, saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.matching.domain.engine import TenantEngine
from services.matching.domain.relationships import Relationship, State, blocks
from services.matching.service_layer.causes import QUIET, Told, about_mentor, merged
from services.matching.service_layer.unit_of_work import MatchingTransaction
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
        return QUIET
    name = await mentor_name(tx, engine, event.tenant_id, relationship.mentor_id)
    told = told_moving_on(engine, relationship, kind, name)
    held = matching.held.pop((event.tenant_id, relationship.mentee_id), None)
    return told if held is None else merged(held, told)  # the adjustment says more


def told_moving_on(
    engine: TenantEngine, relationship: Relationship, kind: CauseKind, name: str | None
) -> Told:
    """Forced when it is about the mentee's current goal (an ending of a relationship for an
    earlier goal changes nothing the mentee waits for)."""
    goal = engine.roster.goals.get(relationship.mentee_id)
    current = goal is not None and goal.goal_id == relationship.goal_id
    return Told(about_mentor(kind, relationship.mentor_id, name), forced=current)


def mentor_left(event: EventEnvelope) -> Told | None:
    """A step the profile service took because the mentor was erased, seen after the erasure:
    nothing about the mentor is stored or said (their rows went with them); a waiting request
    or a relationship that ended sends the mentee's next proposal."""
    state = STATE_AFTER.get(type(event))
    kind = MOVES_ON.get(state) if state is not None else None
    return None if kind is None else Told(ProposalCause(kind=kind), forced=True)


async def resume_waiting(
    tx: MatchingTransaction, engine: TenantEngine, tenant_id: str, partition: int
) -> None:
    """A mentor was erased: the goals of this partition that waited may have waited on a
    relationship with them, which went with their rows."""
    roster = engine.roster
    for mentee_id in sorted(m for m in roster.paused if roster.partition_of.get(m) == partition):
        await apply_blocks(tx, engine, tenant_id, mentee_id, partition)


async def apply_blocks(
    tx: MatchingTransaction,
    engine: TenantEngine,
    tenant_id: str,
    mentee_id: str,
    partition: int,
    goal_id: str | None = None,
) -> None:
    """Recompute from the store whom the mentee is not proposed and whether their goal waits,
    for `goal_id` (default: the goal the engine holds)."""
    if goal_id is None:
        goal = engine.roster.goals.get(mentee_id)
        goal_id = goal.goal_id if goal else None
    declined = await tx.declined_mentors(tenant_id, mentee_id)
    found = blocks(goal_id, declined, await tx.relationships_of(tenant_id, mentee_id))
    engine.set_blocks(mentee_id, partition, found.excluded, found.paused)


async def mentor_name(
    tx: MatchingTransaction, engine: TenantEngine, tenant_id: str, mentor_id: str
) -> str | None:
    """The mentor's display name, for the proposal email's line about them."""
    mentor = engine.mentor(mentor_id) or await tx.stored_person(tenant_id, mentor_id)
    return mentor.display_name if mentor is not None else None

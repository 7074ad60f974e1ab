"""Turn a changed ranking into a MatchProposed, when the change is material or the mentee's
own event asks for an answer, with the cause the email states in one line."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.matching.domain import criteria
from services.matching.domain.engine import TenantEngine
from services.matching.domain.engine.relaxed import unmet_musts
from services.matching.domain.engine.tenant import explain
from services.matching.service_layer.causes import FIRST_FOR_GOAL, OTHERS_CHANGED, Told
from services.matching.service_layer.unit_of_work import (
    CurrentProposal,
    MatchingTransaction,
    StoredProposal,
)
from shared.contracts.matches import (
    CriterionReason,
    MatchProposed,
    MatchProposedPayload,
    MustAlternative,
    ProposalCause,
    ProposedMentor,
    UnmetMust,
)
from shared.contracts.topics import PROPOSALS
from shared.tracing import continued_trace

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer


def is_material(current: CurrentProposal | None, goal_id: str, mentor_ids: tuple[str, ...]) -> bool:
    """A different set of mentors or a new goal; a reordering or a score wiggle is not."""
    if current is None:
        return bool(mentor_ids)
    return current.goal_id != goal_id or set(current.mentor_ids) != set(mentor_ids)


def is_due(
    current: CurrentProposal | None,
    goal_id: str,
    mentor_ids: tuple[str, ...],
    forced: bool,
    musts_unmet: bool = False,
) -> bool:
    """Material, or forced by the mentee's own event: then even the same mentors (or none, once
    a proposal for the goal went out, or when the goal's musts are why there is none) are
    sent, so the mentee hears what followed."""
    if is_material(current, goal_id, mentor_ids):
        return True
    return forced and (bool(mentor_ids) or current is not None or musts_unmet)


def cause_of(current: CurrentProposal | None, goal_id: str, told: Told | None) -> ProposalCause:
    """The told cause; the first proposal for a goal is `goal_set` unless the mentee's own
    event says more than that their profile changed."""
    first = current is None or current.goal_id != goal_id
    said = told.cause if told is not None else None
    if first and (said is None or said.kind in ("profile_changed", "others_changed")):
        return FIRST_FOR_GOAL
    return said or OTHERS_CHANGED


def is_awaited(current: CurrentProposal | None, goal_id: str, by_mentee: bool) -> bool:
    """The mentee waits for it: it answers their own event, or it is the first proposal with
    mentors for this goal. Otherwise other people's changes refreshed one they already have."""
    return by_mentee or current is None or current.goal_id != goal_id or not current.mentor_ids


def reasons(engine: TenantEngine, mentee_id: str, mentor_id: str) -> list[CriterionReason]:
    score, goal, mentee, mentor = explain(engine, mentee_id, mentor_id)
    return [
        CriterionReason(criterion=name, contribution=round(part, 4), explanation=sentence)
        for name, part, sentence in criteria.reasons(goal, mentee, mentor, score)
    ]


def proposed_mentors(engine: TenantEngine, mentee_id: str) -> list[ProposedMentor]:
    proposed = []
    for rank, ranked in enumerate(engine.ranking(mentee_id), start=1):
        mentor = engine.mentor(ranked.mentor_id)
        assert mentor is not None
        proposed.append(
            ProposedMentor(
                mentor_id=ranked.mentor_id,
                display_name=mentor.display_name,
                headline=mentor.headline,
                rank=rank,
                score=round(ranked.score, 4),
                reasons=reasons(engine, mentee_id, ranked.mentor_id),
            )
        )
    return proposed


async def propose(
    tx: MatchingTransaction,
    engine: TenantEngine,
    tenant_id: str,
    causes: Mapping[str, Cause],
) -> None:
    """Propose each of these mentees whose ranking changed materially (or whose own event
    forces an answer): their stored proposals read in one query, the new ones written in one
    `executemany`, each MatchProposed published in the trace of the event behind it (a quiet
    one is stored only)."""
    currents = await tx.current_proposals(tenant_id, sorted(causes))
    made = [
        (mentee_id, made)
        for mentee_id in sorted(causes)
        if (made := _next_proposal(engine, mentee_id, currents.get(mentee_id), causes[mentee_id]))
        is not None
    ]
    await tx.save_proposals(tenant_id, [made.stored for _, made in made])
    for mentee_id, next_one in made:
        stored = next_one.stored
        cause = causes[mentee_id]
        if cause.told is not None and cause.told.cause is None:
            continue  # quiet
        current = currents.get(mentee_id)
        goal_id = stored.proposal.goal_id
        awaited = is_awaited(current, goal_id, cause.told is not None)
        said = cause_of(current, goal_id, cause.told)
        event = _event(tenant_id, next_one, cause.correlation_id, awaited, said)
        with continued_trace(cause.trace_headers, cause.tracer, "matching propose"):
            await tx.publish(PROPOSALS, event)


@dataclass(frozen=True)
class Cause:
    """The event that last changed a mentee's ranking (its correlation id and trace), and what
    the mentee's own events of this transaction told (None: only other people's changed it)."""

    correlation_id: str | None
    trace_headers: Mapping[str, str]
    tracer: Tracer | None = None
    told: Told | None = None


@dataclass(frozen=True)
class NextProposal:
    stored: StoredProposal
    mentors: list[ProposedMentor]
    unmet_musts: list[UnmetMust]


def _next_proposal(
    engine: TenantEngine, mentee_id: str, current: CurrentProposal | None, cause: Cause
) -> NextProposal | None:
    goal = engine.roster.goals.get(mentee_id)
    mentor_ids = tuple(r.mentor_id for r in engine.ranking(mentee_id))
    goal_id = goal.goal_id if goal else current.goal_id if current else ""
    forced = cause.told is not None and cause.told.forced
    if mentee_id not in engine.roster.partition_of:
        return None
    unmet = [] if mentor_ids else told_musts(engine, mentee_id)
    if not is_due(current, goal_id, mentor_ids, forced, bool(unmet)):
        return None
    proposal = CurrentProposal(
        ranking_version=(current.ranking_version if current else 0) + 1,
        goal_id=goal_id,
        mentor_ids=mentor_ids,
    )
    stored = StoredProposal(
        mentee_id, engine.roster.partition_of[mentee_id], proposal, uuid.uuid4()
    )
    return NextProposal(stored, proposed_mentors(engine, mentee_id), unmet)


def told_musts(engine: TenantEngine, mentee_id: str) -> list[UnmetMust]:
    """The goal's musts when they are why it has no mentor (domain/engine/relaxed.py)."""
    return [
        UnmetMust.model_validate(
            {
                "kind": relaxed.must[0],
                "value": relaxed.must[1],
                "met_by_nobody": relaxed.met_by_nobody,
                "alternatives": [_alternative(engine, r.mentor_id) for r in relaxed.alternatives],
            }
        )
        for relaxed in unmet_musts(engine, mentee_id)
    ]


def _alternative(engine: TenantEngine, mentor_id: str) -> MustAlternative:
    mentor = engine.mentor(mentor_id)
    assert mentor is not None
    return MustAlternative(
        mentor_id=mentor_id, display_name=mentor.display_name, headline=mentor.headline
    )


def _event(
    tenant_id: str,
    made: NextProposal,
    correlation_id: str | None,
    awaited: bool,
    cause: ProposalCause,
) -> MatchProposed:
    stored, mentors = made.stored, made.mentors
    payload = MatchProposedPayload(
        mentee_id=stored.mentee_id,
        goal_id=stored.proposal.goal_id,
        proposal_id=stored.proposal_id,
        ranking_version=stored.proposal.ranking_version,
        mentors=mentors,
        awaited=awaited,
        cause=cause,
        unmet_musts=made.unmet_musts,
    )
    return MatchProposed(
        tenant_id=tenant_id, key=stored.mentee_id, payload=payload, correlation_id=correlation_id
    )

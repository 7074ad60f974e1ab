"""Turn a changed ranking into a MatchProposed, when the change is material."""

from __future__ import annotations

import uuid

from services.matching.domain.criteria import explain
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import CRITERIA
from services.matching.service_layer.unit_of_work import CurrentProposal, MatchingTransaction
from shared.contracts.matches import (
    CriterionReason,
    MatchProposed,
    MatchProposedPayload,
    ProposedMentor,
)
from shared.contracts.topics import PROPOSALS

MAX_REASONS = 4


def is_material(current: CurrentProposal | None, goal_id: str, mentor_ids: tuple[str, ...]) -> bool:
    """A different set of mentors or a new goal; a reordering or a score wiggle is not."""
    if current is None:
        return bool(mentor_ids)
    return current.goal_id != goal_id or set(current.mentor_ids) != set(mentor_ids)


def reasons(engine: TenantEngine, mentee_id: str, mentor_id: str) -> list[CriterionReason]:
    score, goal, mentee, mentor = engine.explain(mentee_id, mentor_id)
    ranked = sorted(
        (c for c in zip(CRITERIA, score.contributions, strict=True) if c[1] > 0),
        key=lambda c: -c[1],
    )
    return [
        CriterionReason(
            criterion=name,
            contribution=round(contribution, 4),
            explanation=explain(goal, mentee, mentor, name),
        )
        for name, contribution in ranked[:MAX_REASONS]
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
    mentee_id: str,
    correlation_id: str | None,
) -> None:
    goal = engine.goals.get(mentee_id)
    current = await tx.current_proposal(tenant_id, mentee_id)
    mentor_ids = tuple(r.mentor_id for r in engine.ranking(mentee_id))
    goal_id = goal.goal_id if goal else current.goal_id if current else ""
    if not is_material(current, goal_id, mentor_ids) or mentee_id not in engine.partition_of:
        return
    proposal = CurrentProposal(
        ranking_version=(current.ranking_version if current else 0) + 1,
        goal_id=goal_id,
        mentor_ids=mentor_ids,
    )
    proposal_id = uuid.uuid4()
    partition = engine.partition_of[mentee_id]
    await tx.save_proposal(tenant_id, mentee_id, partition, proposal, proposal_id)
    payload = MatchProposedPayload(
        mentee_id=mentee_id,
        goal_id=goal_id,
        proposal_id=proposal_id,
        ranking_version=proposal.ranking_version,
        mentors=proposed_mentors(engine, mentee_id),
    )
    event = MatchProposed(
        tenant_id=tenant_id, key=mentee_id, payload=payload, correlation_id=correlation_id
    )
    await tx.publish(PROPOSALS, event)

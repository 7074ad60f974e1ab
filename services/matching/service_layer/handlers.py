"""Event handlers: update the read model, re-rank the mentees a change can affect."""

from __future__ import annotations

import uuid

from services.matching.domain.scoring import rank_mentors
from services.matching.service_layer.unit_of_work import (
    CurrentProposal,
    MatchingTransaction,
    UnitOfWork,
)
from shared.contracts.goals import GoalSet
from shared.contracts.matches import MatchProposed, MatchProposedPayload, ProposedMentor
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import PROPOSALS


async def record_profile(event: ProfileUpdated, uow: UnitOfWork, top_k: int) -> None:
    profile = event.payload
    async with uow.transaction() as tx:
        await tx.lock_tenant(event.tenant_id, exclusive=True)
        if not await tx.first_delivery(event.event_id):
            return
        known = await tx.person_version(event.tenant_id, profile.user_id)
        if known is not None and known >= profile.version:
            return  # an older or repeated update never overwrites a newer one
        await tx.save_person(event.tenant_id, profile.model_copy(update={"email": None}))
        affected = set()
        if profile.is_mentee:
            affected.add(profile.user_id)
        if profile.is_mentor or known is not None:
            affected.update(await tx.mentees_with_goals(event.tenant_id))
        for mentee_id in sorted(affected):
            await rerank(tx, event.tenant_id, mentee_id, top_k, event.correlation_id)


async def forget_profile(event: ProfileDeleted, uow: UnitOfWork, top_k: int) -> None:
    async with uow.transaction() as tx:
        await tx.lock_tenant(event.tenant_id, exclusive=True)
        if not await tx.first_delivery(event.event_id):
            return
        await tx.forget_person(event.tenant_id, event.payload.user_id)
        for mentee_id in await tx.mentees_with_goals(event.tenant_id):
            await rerank(tx, event.tenant_id, mentee_id, top_k, event.correlation_id)


async def record_goal(event: GoalSet, uow: UnitOfWork, top_k: int) -> None:
    goal = event.payload
    async with uow.transaction() as tx:
        await tx.lock_tenant(event.tenant_id, exclusive=False)
        if not await tx.first_delivery(event.event_id):
            return
        known = await tx.goal_version(event.tenant_id, goal.mentee_id)
        if known is not None and known >= goal.version:
            return
        await tx.save_goal(event.tenant_id, goal)
        await rerank(tx, event.tenant_id, goal.mentee_id, top_k, event.correlation_id)


async def rerank(
    tx: MatchingTransaction, tenant_id: str, mentee_id: str, top_k: int, correlation_id: str | None
) -> None:
    """Rank mentors for the mentee's goal; publish `MatchProposed` only when the set changed."""
    goal = await tx.get_goal(tenant_id, mentee_id)
    mentee = await tx.get_person(tenant_id, mentee_id)
    if goal is None or mentee is None or not mentee.is_mentee:
        return  # parked: ranked once both the goal and the mentee's profile are known
    ranked = rank_mentors(goal, mentee, await tx.mentors(tenant_id), top_k)
    current = await tx.current_proposal(tenant_id, mentee_id)
    mentor_ids = tuple(s.mentor.user_id for s in ranked)
    if current and current.mentor_ids == mentor_ids and current.goal_id == goal.goal_id:
        return
    if not ranked and current is None:
        return
    proposal = CurrentProposal(
        ranking_version=(current.ranking_version if current else 0) + 1,
        goal_id=goal.goal_id,
        mentor_ids=mentor_ids,
    )
    proposal_id = uuid.uuid4()
    await tx.save_proposal(tenant_id, mentee_id, proposal, proposal_id)
    payload = MatchProposedPayload(
        mentee_id=mentee_id,
        goal_id=goal.goal_id,
        proposal_id=proposal_id,
        ranking_version=proposal.ranking_version,
        mentors=[
            ProposedMentor(
                mentor_id=s.mentor.user_id,
                display_name=s.mentor.display_name,
                headline=s.mentor.headline,
                rank=rank,
                score=s.score,
                reasons=list(s.reasons),
            )
            for rank, s in enumerate(ranked, start=1)
        ],
    )
    await tx.publish(
        PROPOSALS,
        MatchProposed(
            tenant_id=tenant_id, key=mentee_id, payload=payload, correlation_id=correlation_id
        ),
    )

"""The integrators' reads (ADR 0011): a goal's current proposal with each mentor's
per-criterion contributions and reasons, why a mentor is not in it, and the ranking other
weights would give. Read from the committed store in one snapshot; nothing is written or
published, so a read never moves a ranking, a proposal or an offset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.matching.domain import criteria
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.explaining import (
    MenteeGoal,
    StoredEntries,
    exclusion,
    others_best,
    ranking,
)
from services.matching.domain.people import CRITERIA, Person
from shared.contracts.matches import CriterionReason
from shared.contracts.reads import (
    CriterionComparison,
    CriterionScore,
    Exclusion,
    Explanation,
    Preview,
    ProposalsPage,
    RankedMentor,
    ScoreLine,
)


class NotFound(Exception):  # noqa: N818 - reads as a verdict
    """No such goal or mentor in this tenant (the same answer for another tenant's)."""


@dataclass(frozen=True)
class SentProposal:
    goal_id: str
    ranking_version: int
    proposal_id: UUID
    mentor_ids: tuple[str, ...]
    proposed_at: datetime


class ReadSnapshot(Protocol):
    """One consistent, read-only view of matching's store."""

    async def mentee_goal(
        self, tenant_id: str, mentee_id: str, goal_id: str
    ) -> MenteeGoal | None: ...

    async def proposal(self, tenant_id: str, mentee_id: str, goal_id: str) -> SentProposal | None:
        """The proposal last stored for this goal; None before the first."""
        ...

    async def mentors(self, tenant_id: str, mentor_ids: Sequence[str]) -> dict[str, Person]:
        """These people (mentors or not) of the tenant; the unknown ones are left out."""
        ...

    async def mentors_holding(self, tenant_id: str, skills: Sequence[str]) -> dict[str, Person]:
        """Every mentor of the tenant who holds one of these skills."""
        ...

    async def mentor_lists(
        self, tenant_id: str, mentor_ids: Sequence[str]
    ) -> dict[str, list[StoredEntries]]:
        """Per mentor, its stored list of best mentees in each partition."""
        ...


class ReadStore(Protocol):
    def snapshot(self) -> AbstractAsyncContextManager[ReadSnapshot]: ...


async def _goal(db: ReadSnapshot, tenant_id: str, mentee_id: str, goal_id: str) -> MenteeGoal:
    view = await db.mentee_goal(tenant_id, mentee_id, goal_id)
    if view is None:
        raise NotFound("No such goal")
    return view


def ranked_mentor(view: MenteeGoal, mentor: Person, rank: int) -> RankedMentor:
    score = criteria.score_pair(view.goal, view.mentee, mentor)
    return RankedMentor(
        mentor_id=mentor.user_id,
        display_name=mentor.display_name,
        headline=mentor.headline,
        rank=rank,
        score=round(score.total, 4),
        contributions=[
            CriterionScore(criterion=name, contribution=round(part, 4))
            for name, part in zip(CRITERIA, score.contributions, strict=True)
        ],
        reasons=[
            CriterionReason(criterion=name, contribution=round(part, 4), explanation=sentence)
            for name, part, sentence in criteria.reasons(view.goal, view.mentee, mentor, score)
        ],
    )


def _ranked(
    view: MenteeGoal, mentor_ids: Sequence[str], people: Mapping[str, Person]
) -> list[RankedMentor]:
    """In this order, ranks from 1; a mentor erased since the proposal is left out."""
    present = [people[m] for m in mentor_ids if m in people]
    return [ranked_mentor(view, mentor, rank) for rank, mentor in enumerate(present, start=1)]


@dataclass(frozen=True)
class Reads:
    store: ReadStore
    config: EngineConfig

    async def proposals(
        self, tenant_id: str, mentee_id: str, goal_id: str, after: int, limit: int
    ) -> ProposalsPage:
        """The mentors last proposed for this goal, best first, from rank `after` + 1."""
        async with self.store.snapshot() as db:
            view = await _goal(db, tenant_id, mentee_id, goal_id)
            sent = await db.proposal(tenant_id, mentee_id, goal_id)
            ids = sent.mentor_ids if sent else ()
            people = await db.mentors(tenant_id, ids)
        everyone = _ranked(view, ids, people)
        page = everyone[after : after + limit]
        more = after + limit < len(everyone)
        return ProposalsPage(
            mentee_id=mentee_id,
            goal_id=goal_id,
            proposal_id=sent.proposal_id if sent else None,
            ranking_version=sent.ranking_version if sent else 0,
            proposed_at=sent.proposed_at if sent else None,
            waiting=sent is not None and not sent.mentor_ids and not view.blocks.paused,
            paused=view.blocks.paused,
            items=page,
            next_cursor=str(after + limit) if more else None,  # a rank: made opaque at the edge
        )

    async def explain(
        self, tenant_id: str, mentee_id: str, goal_id: str, mentor_id: str
    ) -> Explanation:
        async with self.store.snapshot() as db:
            view = await _goal(db, tenant_id, mentee_id, goal_id)
            sent = await db.proposal(tenant_id, mentee_id, goal_id)
            proposed = sent.mentor_ids if sent else ()
            people = await db.mentors(tenant_id, [mentor_id, *proposed])
            if mentor_id not in people:
                raise NotFound("No such mentor")
            lists = await db.mentor_lists(tenant_id, [mentor_id])
        mentor = people[mentor_id]
        best = others_best(view.key, mentor, lists.get(mentor_id, []), self.config)
        excluded = exclusion(view, mentor, best, self.config)
        if excluded is not None:
            return Explanation(
                mentor_id=mentor_id,
                proposed=False,
                excluded_by=Exclusion.model_validate(
                    {"rule": excluded.rule, "detail": excluded.detail}
                ),
                summary=f"Not proposed: {excluded.detail}.",
            )
        return compared(view, mentor, _ranked(view, proposed, people))

    async def preview(
        self,
        tenant_id: str,
        mentee_id: str,
        goal_id: str,
        weights: tuple[float, ...],
        musts: tuple[tuple[str, str], ...] | None = None,
    ) -> Preview:
        """The ranking these weights (and musts, when given) would give: computed, never
        stored or published."""
        async with self.store.snapshot() as db:
            goal = await _goal(db, tenant_id, mentee_id, goal_id)
            view = goal.with_weights(weights, musts)
            mentors = await db.mentors_holding(tenant_id, view.goal.skills)
            lists = await db.mentor_lists(tenant_id, sorted(mentors))
        best = {
            m: others_best(view.key, mentor, lists.get(m, []), self.config)
            for m, mentor in mentors.items()
        }
        # The batch reference costs about 40 ms per 1,000 candidate mentors: off the event
        # loop, which keeps consuming events meanwhile.
        ids = await asyncio.to_thread(ranking, view, mentors, best, self.config)
        return Preview(
            mentee_id=mentee_id,
            goal_id=goal_id,
            waiting=view.blocks.paused,
            items=_ranked(view, ids, mentors),
        )


def compared(view: MenteeGoal, mentor: Person, proposed: list[RankedMentor]) -> Explanation:
    """No hard rule: the mentor's score next to the last proposed mentor's, criterion by
    criterion, and in one sentence why that puts them in or out."""
    mine = ranked_mentor(view, mentor, 1)
    placed = next((p for p in proposed if p.mentor_id == mentor.user_id), None)
    last = proposed[-1] if proposed else None
    theirs = {c.criterion: c.contribution for c in last.contributions} if last else {}
    name = mentor.display_name
    if placed is not None:
        summary = f"{name} is proposed, at rank {placed.rank}."
    elif last is None:
        summary = f"Nobody is proposed for this goal now; {name} scores {mine.score}."
    elif mine.score < last.score:
        summary = (
            f"{name} scores {mine.score}, below {last.display_name} ({last.score}),"
            " the last mentor proposed."
        )
    else:
        summary = (
            f"{name} scores {mine.score}, not below {last.display_name} ({last.score}), but a"
            " proposal holds different types of mentor, and mentors like "
            f"{name} are already in it."
        )
    return Explanation(
        mentor_id=mentor.user_id,
        proposed=placed is not None,
        excluded_by=None,
        summary=summary,
        mentor=ScoreLine(
            mentor_id=mentor.user_id,
            display_name=name,
            score=mine.score,
            rank=placed.rank if placed else None,
        ),
        last_proposed=ScoreLine(
            mentor_id=last.mentor_id,
            display_name=last.display_name,
            score=last.score,
            rank=last.rank,
        )
        if last
        else None,
        criteria=[
            CriterionComparison(
                criterion=c.criterion, mentor=c.contribution, last_proposed=theirs.get(c.criterion)
            )
            for c in mine.contributions
        ],
        reasons=mine.reasons,
    )

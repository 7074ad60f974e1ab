"""Turn a goal's changed ranking into a MatchProposed, when the change is material or the
mentee's own event asks for an answer, with the cause the email states in one line.

One proposal per (tenant, mentee, goal_id), each with its own growing ranking_version. A
goal's first ranking is always proposed, even an empty one (it waits: the mentee is told).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.matching.domain import criteria
from services.matching.domain.engine import TenantEngine
from services.matching.domain.engine.proposed import proposed
from services.matching.domain.engine.rankings import Ranked
from services.matching.domain.engine.relaxed import unmet_musts
from services.matching.domain.engine.tenant import explain, is_open
from services.matching.domain.seekers import mentee_of, split_seeker
from services.matching.service_layer.causes import FIRST_FOR_GOAL, OTHERS_CHANGED, Told
from services.matching.service_layer.unit_of_work import (
    CurrentProposal,
    MatchingTransaction,
    StoredProposal,
)
from shared.contracts.matches import (
    MatchProposed,
    MustAlternative,
    ProposalCause,
    UnmetMust,
)
from shared.contracts.topics import PROPOSALS
from shared.tracing import continued_trace

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer


def is_material(current: CurrentProposal | None, mentor_ids: tuple[str, ...]) -> bool:
    """The goal's first ranking (even an empty one: the mentee hears that the goal waits), or
    a different set of mentors; a reordering or a score wiggle is not."""
    return current is None or set(current.mentor_ids) != set(mentor_ids)


def is_due(current: CurrentProposal | None, mentor_ids: tuple[str, ...], forced: bool) -> bool:
    """Material, or forced by the mentee's own event: then even the same mentors (or none) are
    sent, so the mentee hears what followed."""
    return forced or is_material(current, mentor_ids)


def cause_of(current: CurrentProposal | None, told: Told | None) -> ProposalCause:
    """The told cause; the first proposal for a goal is `goal_set` unless the mentee's own
    event says more than that their profile changed."""
    said = told.cause if told is not None else None
    if current is None and (said is None or said.kind in ("profile_changed", "others_changed")):
        return FIRST_FOR_GOAL
    return said or OTHERS_CHANGED


def is_awaited(current: CurrentProposal | None, by_mentee: bool) -> bool:
    """The mentee waits for it: it answers their own event, or it is the first proposal for
    this goal, or the first with mentors after it waited. Otherwise other people's changes
    refreshed one they already have."""
    return by_mentee or current is None or not current.mentor_ids


def reasons(engine: TenantEngine, key: str, mentor_id: str) -> list[dict[str, Any]]:
    """A CriterionReason's fields per criterion (validated with the whole event)."""
    score, goal, mentee, mentor = explain(engine, key, mentor_id)
    return [
        {"criterion": name, "contribution": round(part, 4), "explanation": sentence}
        for name, part, sentence in criteria.reasons(goal, mentee, mentor, score)
    ]


def proposed_mentors(
    engine: TenantEngine, shown: tuple[Ranked, ...], key: str
) -> list[dict[str, Any]]:
    """A ProposedMentor's fields per mentor shown. As plain values, so that the event is
    validated in one `model_validate` call: building each reason's and mentor's model on its
    own cost more than the validation (a proposal holds dozens)."""
    found = []
    for rank, ranked in enumerate(shown, start=1):
        mentor = engine.mentor(ranked.mentor_id)
        assert mentor is not None
        found.append(
            {
                "mentor_id": ranked.mentor_id,
                "display_name": mentor.display_name,
                "headline": mentor.headline,
                "rank": rank,
                "score": round(ranked.score, 4),
                "reasons": reasons(engine, key, ranked.mentor_id),
            }
        )
    return found


async def propose(
    tx: MatchingTransaction,
    engine: TenantEngine,
    tenant_id: str,
    causes: Mapping[str, Cause],
) -> None:
    """Propose each of these goals (seekers, domain/seekers.py) whose ranking changed
    materially (or whose mentee's own event forces an answer): their stored proposals read in
    one query, the new ones written in one `executemany`, each MatchProposed published in the
    trace of the event behind it (a quiet one is stored only). One proposal per goal, with its
    own ranking_version."""
    currents = await tx.current_proposals(tenant_id, sorted({mentee_of(k) for k in causes}))
    made = [
        (key, made)
        for key in sorted(causes)
        if (made := _next_proposal(engine, key, currents.get(split_seeker(key)), causes[key]))
        is not None
    ]
    await tx.save_proposals(tenant_id, [made.stored for _, made in made])
    for key, next_one in made:
        cause = causes[key]
        if cause.told is not None and cause.told.cause is None:
            continue  # quiet
        if key in engine.roster.paused:
            # The goal waits on an active relationship: its mentee has a mentor for it. Their
            # own change is stored and shows in the proposal the relationship's end sends.
            continue
        current = currents.get(split_seeker(key))
        awaited = is_awaited(current, cause.told is not None)
        said = cause_of(current, cause.told)
        event = _event(engine, key, tenant_id, next_one, cause.correlation_id, awaited, said)
        with continued_trace(cause.trace_headers, cause.tracer, "matching propose"):
            await tx.publish(PROPOSALS, event)


@dataclass(frozen=True)
class Cause:
    """The event that last changed a goal's ranking (its correlation id and trace), and what
    the mentee's own events of this transaction told (None: only other people's changed it)."""

    correlation_id: str | None
    trace_headers: Mapping[str, str]
    tracer: Tracer | None = None
    told: Told | None = None


@dataclass(frozen=True)
class NextProposal:
    """What is stored; the mentors' reasons and unmet musts are composed only for a proposal
    that is published (a quiet or paused one is stored only)."""

    stored: StoredProposal
    shown: tuple[Ranked, ...]
    ranked: bool  # the goal is open and ranked (its unmet musts say why nobody is shown)


def _next_proposal(
    engine: TenantEngine, key: str, current: CurrentProposal | None, cause: Cause
) -> NextProposal | None:
    """None when nothing is due. A goal that is closed, or waits on an active relationship,
    and was never proposed has nothing to say (its mentee knows why)."""
    mentee_id, goal_id = split_seeker(key)
    if mentee_id not in engine.roster.partition_of:
        return None
    ranked = is_open(engine, key)
    if current is None and not ranked:
        return None
    shown = proposed(engine, key)  # spread across the mentee's goals
    mentor_ids = tuple(r.mentor_id for r in shown)
    # a closed goal is never answered (its mentee closed it), only its stored proposal emptied
    forced = cause.told is not None and cause.told.forced and key in engine.roster.goals
    if not is_due(current, mentor_ids, forced):
        return None
    proposal = CurrentProposal(
        ranking_version=(current.ranking_version if current else 0) + 1,
        goal_id=goal_id,
        mentor_ids=mentor_ids,
    )
    stored = StoredProposal(
        mentee_id, engine.roster.partition_of[mentee_id], proposal, uuid.uuid4()
    )
    return NextProposal(stored, shown, ranked)


def told_musts(engine: TenantEngine, key: str) -> list[UnmetMust]:
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
        for relaxed in unmet_musts(engine, key)
    ]


def _alternative(engine: TenantEngine, mentor_id: str) -> MustAlternative:
    mentor = engine.mentor(mentor_id)
    assert mentor is not None
    return MustAlternative(
        mentor_id=mentor_id, display_name=mentor.display_name, headline=mentor.headline
    )


def _event(
    engine: TenantEngine,
    key: str,
    tenant_id: str,
    made: NextProposal,
    correlation_id: str | None,
    awaited: bool,
    cause: ProposalCause,
) -> MatchProposed:
    stored = made.stored
    mentors = proposed_mentors(engine, made.shown, key)
    unmet = told_musts(engine, key) if made.ranked and not made.shown else []
    payload = {
        "mentee_id": stored.mentee_id,
        "goal_id": stored.proposal.goal_id,
        "proposal_id": stored.proposal_id,
        "ranking_version": stored.proposal.ranking_version,
        "mentors": mentors,
        "awaited": awaited,
        "cause": cause,
        "unmet_musts": unmet,
    }
    return MatchProposed.model_validate(
        {
            "tenant_id": tenant_id,
            "key": stored.mentee_id,
            "payload": payload,
            "correlation_id": correlation_id,
        }
    )

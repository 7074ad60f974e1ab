"""Relationship handlers: a request, the mentor's answer, an ending, a fit answer.

Locks are taken in one order everywhere (the mentor's profile row, then the relationship row),
so two moves on one relationship wait for each other instead of deadlocking. The mentor's
`seats_taken` is recounted from the relationships after each move (one definition), and a new
count is published as the mentor's `ProfileUpdated` in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.profile.domain import relationships as rel
from services.profile.domain.commands import (
    AnswerFit,
    AnswerRequest,
    EndRelationship,
    RequestIntro,
)
from services.profile.domain.model import ProfileNotFound, open_to_mentees, with_seats
from services.profile.domain.relationships import (
    LifecycleTerms,
    Move,
    Refusal,
    Relationship,
    Requester,
)
from services.profile.service_layer.learning import learn_from
from services.profile.service_layer.lifecycle_events import event_for
from services.profile.service_layer.unit_of_work import ProfileTransaction, UnitOfWork
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import FEEDBACK, PROFILES


class UnknownRelationship(Exception):  # noqa: N818
    """No such relationship in this tenant, or the link's holder is not one of its two people."""


@dataclass(frozen=True)
class Lifecycle:
    """What every lifecycle handler needs besides the command and the time: the store, and the
    service-wide terms a tenant may override."""

    uow: UnitOfWork
    defaults: LifecycleTerms

    async def terms(self, tx: ProfileTransaction, tenant_id: str) -> LifecycleTerms:
        return await tx.relationships.terms(tenant_id, self.defaults)


@dataclass(frozen=True)
class RequestOutcome:
    relationship: Relationship | None  # the request (new or earlier), None when refused
    refusal: Refusal | None
    terms: LifecycleTerms
    replayed: bool = False


async def announce_seats(
    tx: ProfileTransaction, tenant_id: str, mentor_id: str, correlation_id: str | None
) -> None:
    """Publish the mentor's profile when its seat count changed (the mentor row is locked)."""
    mentor = await tx.get_profile(tenant_id, mentor_id, for_update=True)
    if mentor is None:
        return  # erased: nobody to count seats for
    counted = with_seats(mentor, await tx.relationships.seats_taken(tenant_id, mentor_id))
    if counted is not mentor:
        await tx.save_profile(tenant_id, counted)
        event = ProfileUpdated(
            tenant_id=tenant_id, key=mentor_id, payload=counted, correlation_id=correlation_id
        )
        await tx.publish(PROFILES, event)


async def store_move(
    tx: ProfileTransaction, move: Relationship, correlation_id: str | None, **flags: bool
) -> None:
    await tx.relationships.save(move)
    await tx.publish(FEEDBACK, event_for(move, correlation_id, **flags))


async def request_intro(cmd: RequestIntro, life: Lifecycle, now: datetime) -> RequestOutcome:
    """The mentee's "Request an intro": hold one of the mentor's seats and ask them, or say
    why not."""
    tenant, mentee_id, mentor_id = cmd.tenant_id, cmd.mentee_id, cmd.mentor_id
    correlation_id = cmd.correlation_id
    async with life.uow.transaction() as tx:
        terms = await life.terms(tx, tenant)
        mentor = await tx.get_profile(tenant, mentor_id, for_update=True)  # the seat lock
        if mentor is None or await tx.get_profile(tenant, mentee_id) is None:
            raise ProfileNotFound()
        earlier = await tx.relationships.for_proposal(tenant, cmd.proposal_id, mentor_id)
        if earlier is not None:
            return RequestOutcome(earlier, None, terms, replayed=True)
        # Locked after the mentor, as closing the goal locks them (goals.close_goal_in): a
        # request and the goal's closing are ordered, and the request never outlives the goal.
        if await tx.get_goal(tenant, mentee_id, cmd.goal_id, for_update=True) is None:
            return RequestOutcome(None, Refusal.GOAL_CLOSED, terms)
        open_for_goal = await tx.relationships.open_for_goal(tenant, mentee_id, cmd.goal_id)
        facts = Requester(
            mentor_capacity=mentor.capacity,
            mentor_open_to_mentees=open_to_mentees(mentor),
            mentor_reachable=bool(mentor.email and mentor.notification_preferences.email_opt_in),
            seats_taken=await tx.relationships.seats_taken(tenant, mentor_id),
            mentee_open_requests=await tx.relationships.open_requests(tenant, mentee_id),
            open_with_this_mentor=any(r.mentor_id == mentor_id for r in open_for_goal),
            active_for_goal=any(r.state == "active" for r in open_for_goal),
        )
        if (refused := rel.refusal(facts, terms)) is not None:
            return RequestOutcome(None, refused, terms)
        made = rel.request(tenant, mentee_id, mentor_id, cmd.goal_id, cmd.proposal_id, now, terms)
        if not await tx.relationships.add(made):  # the same link, followed at the same moment
            raise RetryLater()
        await tx.publish(FEEDBACK, event_for(made, correlation_id))
        await announce_seats(tx, tenant, mentor_id, correlation_id)
        return RequestOutcome(made, None, terms)


class RetryLater(Exception):  # noqa: N818
    """Another click of the same link won a race; its request stands (the page reloads it)."""


async def locked_relationship(
    tx: ProfileTransaction, tenant_id: str, request_id: UUID
) -> Relationship:
    """The relationship, locked after its mentor's profile row (the one lock order)."""
    found = await tx.relationships.get(tenant_id, request_id)
    if found is None:
        raise UnknownRelationship()
    await tx.get_profile(tenant_id, found.mentor_id, for_update=True)
    locked = await tx.relationships.get(tenant_id, request_id, for_update=True)
    if locked is None:
        raise UnknownRelationship()
    return locked


async def answer_request(cmd: AnswerRequest, life: Lifecycle, now: datetime) -> Move:
    """The mentor's "Accept" (MatchStarted) or "Not now" (RequestDeclined); a late answer
    expires the request instead (RequestExpired, once), and a repeated one changes nothing."""
    async with life.uow.transaction() as tx:
        r = await locked_relationship(tx, cmd.tenant_id, cmd.request_id)
        if r.party(cmd.mentor_id) != "mentor":
            raise UnknownRelationship()
        terms = await life.terms(tx, cmd.tenant_id)
        move = rel.accept(r, now, terms) if cmd.accepted else rel.decline(r, now)
        if move.changed:
            await store_move(tx, move.after, cmd.correlation_id)
            if move.after.state != "active":  # declined or expired: the seat is free
                await announce_seats(tx, cmd.tenant_id, r.mentor_id, cmd.correlation_id)
        return move


@dataclass(frozen=True)
class Ended:
    move: Move
    learned: bool = False  # the reason adjusted the mentee's goal (PreferencesAdjusted)


async def end_relationship_in(tx: ProfileTransaction, cmd: EndRelationship, now: datetime) -> Ended:
    r = await locked_relationship(tx, cmd.tenant_id, cmd.request_id)
    if cmd.actor_id is not None and r.party(cmd.actor_id) is None:
        raise UnknownRelationship()
    move = rel.end(r, cmd.ending, now)
    learned = None
    if move.changed:
        await store_move(tx, move.after, cmd.correlation_id)
        await announce_seats(tx, cmd.tenant_id, r.mentor_id, cmd.correlation_id)
        if cmd.learn:
            reason = cmd.ending.reason
            learned = await learn_from(tx, r, reason, "relationship_ended", cmd.correlation_id)
    return Ended(move, learned is not None)


async def end_relationship(cmd: EndRelationship, life: Lifecycle, now: datetime) -> Ended:
    """MatchEnded, the seat freed, and what the reason teaches (PreferencesAdjusted); ending
    twice, or from both sides at once, ends once."""
    async with life.uow.transaction() as tx:
        return await end_relationship_in(tx, cmd, now)


async def answer_fit(cmd: AnswerFit, life: Lifecycle) -> Move:
    """The answer to the fit check ("going well" / "not a good fit"), recorded; it publishes
    nothing by itself."""
    async with life.uow.transaction() as tx:
        r = await locked_relationship(tx, cmd.tenant_id, cmd.request_id)
        if r.party(cmd.actor_id) is None:
            raise UnknownRelationship()
        move = rel.answer_fit(r, cmd.actor_id, cmd.answer)
        if move.changed:
            await tx.relationships.save(move.after)
        return move


async def withdraw_request(tx: ProfileTransaction, cmd: RequestIntro, now: datetime) -> bool:
    """The mentee said "Not for me" to a mentor they had asked: the waiting request ends
    (MatchEnded by the mentee) and its seat is free; an active relationship is left alone.
    True when a request was withdrawn."""
    return await withdraw_requests_for_goal(
        tx, cmd.tenant_id, cmd.mentee_id, cmd.goal_id, now, cmd.correlation_id, cmd.mentor_id
    )


async def withdraw_requests_for_goal(
    tx: ProfileTransaction,
    tenant_id: str,
    mentee_id: str,
    goal_id: str,
    now: datetime,
    correlation_id: str | None,
    mentor_id: str | None = None,
) -> bool:
    """The mentee's requests for the goal still waiting for an answer (to `mentor_id`, or to
    anyone) end, withdrawn by the mentee, and free their seats. True when one was withdrawn."""
    withdrawn = False
    for found in await tx.relationships.open_for_goal(tenant_id, mentee_id, goal_id):
        if found.state != "requested" or mentor_id not in (None, found.mentor_id):
            continue
        r = await locked_relationship(tx, tenant_id, found.request_id)
        move = rel.end(r, rel.Ending("mentee"), now, withdraw=True)
        if move.changed:
            await store_move(tx, move.after, correlation_id)
            await announce_seats(tx, tenant_id, r.mentor_id, correlation_id)
            withdrawn = True
    return withdrawn


async def _mentor_left(
    tx: ProfileTransaction, r: Relationship, now: datetime, correlation_id: str | None
) -> None:
    """A waiting request whose mentor left: declined (`mentor_left`), so matching proposes the
    mentee someone else; past its deadline it expires instead."""
    move = rel.decline(r, now)
    if move.changed:
        await store_move(tx, move.after, correlation_id, mentor_left=not move.expired)


async def withdraw_waiting_requests(
    tx: ProfileTransaction,
    tenant_id: str,
    mentor_id: str,
    now: datetime,
    correlation_id: str | None,
) -> int:
    """The mentor closed to mentees (no longer opted in, or no longer a mentor): their waiting
    requests are declined as `mentor_left`; active relationships go on. Returns the seats still
    taken. The mentor's row is locked by the caller."""
    for r in await tx.relationships.open_of(tenant_id, mentor_id, for_update=True):
        if r.mentor_id == mentor_id and r.state == "requested":
            await _mentor_left(tx, r, now, correlation_id)
    return await tx.relationships.seats_taken(tenant_id, mentor_id)


async def close_for_erasure(
    tx: ProfileTransaction, tenant_id: str, user_id: str, now: datetime, correlation_id: str | None
) -> None:
    """The person is being erased: a mentor's waiting requests are declined (`mentor_left`, so
    the mentee is matched again), everything else open ends (`system`), and the other mentors'
    seats are counted again."""
    waiting = await tx.relationships.open_of(tenant_id, user_id)
    for mentor_id in sorted({r.mentor_id for r in waiting} - {user_id}):
        await tx.get_profile(tenant_id, mentor_id, for_update=True)  # the one lock order
    for r in await tx.relationships.open_of(tenant_id, user_id, for_update=True):
        if r.mentor_id == user_id and r.state == "requested":
            await _mentor_left(tx, r, now, correlation_id)
            continue
        move = rel.end(r, rel.Ending("system"), now)
        if move.changed:
            await store_move(tx, move.after, correlation_id)
        if r.mentor_id != user_id:  # an erased mentor's profile is not published again
            await announce_seats(tx, tenant_id, r.mentor_id, correlation_id)

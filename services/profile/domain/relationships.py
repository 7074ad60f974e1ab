"""A relationship from "Request an intro" to its end: the states, the moves between them and
the seat rule. No I/O: the handlers load a relationship, ask what a move does, store the answer.

    requested --mentor accepts before the deadline--> active --either side ends--> ended
    requested --mentor says "Not now" / leaves-----> declined
    requested --deadline passes---------------------> expired
    requested --the mentee is erased----------------> ended (system)

Every move that publishes an event raises `version` by one, so consumers order a
relationship's events and drop repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from uuid import UUID, uuid4

from shared.contracts.lifecycle import EndingReason

State = Literal["requested", "active", "declined", "expired", "ended"]
STATES: tuple[State, ...] = ("requested", "active", "declined", "expired", "ended")
OPEN_STATES: tuple[State, ...] = ("requested", "active")  # each holds one of the mentor's seats
EndedBy = Literal["mentee", "mentor", "integrator", "system"]
FitAnswer = Literal["good", "bad"]


@dataclass(frozen=True)
class LifecycleTerms:
    """One tenant's timings and limits (defaults in ProfileSettings, overrides per tenant)."""

    request_deadline: timedelta = timedelta(days=5)
    fit_check_after: timedelta = timedelta(days=14)
    open_requests_limit: int = 3


@dataclass(frozen=True)
class Relationship:
    request_id: UUID
    tenant_id: str
    mentee_id: str
    mentor_id: str
    goal_id: str
    proposal_id: UUID | None
    state: State
    version: int
    requested_at: datetime
    deadline: datetime
    reminded_at: datetime | None = None
    started_at: datetime | None = None
    fit_check_at: datetime | None = None
    fit_checked_at: datetime | None = None
    fit_answers: dict[str, FitAnswer] = field(default_factory=dict)
    ended_at: datetime | None = None
    ended_by: EndedBy | None = None
    reason: EndingReason | None = None
    rating: int | None = None
    never_again: bool = False

    @property
    def remind_at(self) -> datetime:
        """Half-way to the deadline: the one reminder."""
        return self.requested_at + (self.deadline - self.requested_at) / 2

    def party(self, user_id: str) -> Literal["mentee", "mentor"] | None:
        if user_id == self.mentee_id:
            return "mentee"
        if user_id == self.mentor_id:
            return "mentor"
        return None

    def _next(self, **changes: object) -> Relationship:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]


class Refusal(StrEnum):
    """Why a request was not made: each is a page that says what happens instead."""

    NO_SEAT = "no_seat"
    UNREACHABLE = "unreachable"  # the mentor has no email address or opted out of email
    LIMIT_REACHED = "limit_reached"
    ALREADY_ASKED = "already_asked"
    HAS_MENTOR = "has_mentor"
    GOAL_CLOSED = "goal_closed"  # the mentee closed (or never held) the goal the link is for


@dataclass(frozen=True)
class Requester:
    """What the seat rule and the limit need to know at the moment of a request, all read
    with the mentor's row locked."""

    mentor_capacity: int
    mentor_open_to_mentees: bool
    mentor_reachable: bool  # an email address, and email not opted out: they can be asked
    seats_taken: int  # the mentor's held requests plus active relationships
    mentee_open_requests: int  # the mentee's requests waiting for an answer
    open_with_this_mentor: bool  # a request or relationship with this mentor for this goal
    active_for_goal: bool  # the mentee already has a mentor for this goal


def has_free_seat(capacity: int, seats_taken: int) -> bool:
    """The one seat rule: held requests plus active relationships stay below capacity."""
    return seats_taken < capacity


def refusal(facts: Requester, terms: LifecycleTerms) -> Refusal | None:
    if facts.open_with_this_mentor:
        return Refusal.ALREADY_ASKED
    if facts.active_for_goal:
        return Refusal.HAS_MENTOR
    if not facts.mentor_open_to_mentees or not has_free_seat(
        facts.mentor_capacity, facts.seats_taken
    ):
        return Refusal.NO_SEAT
    if not facts.mentor_reachable:
        return Refusal.UNREACHABLE
    if facts.mentee_open_requests >= terms.open_requests_limit:
        return Refusal.LIMIT_REACHED
    return None


def request(
    tenant_id: str,
    mentee_id: str,
    mentor_id: str,
    goal_id: str,
    proposal_id: UUID | None,
    now: datetime,
    terms: LifecycleTerms,
) -> Relationship:
    return Relationship(
        request_id=uuid4(),
        tenant_id=tenant_id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        goal_id=goal_id,
        proposal_id=proposal_id,
        state="requested",
        version=1,
        requested_at=now,
        deadline=now + terms.request_deadline,
    )


class Answer(StrEnum):
    """What a mentor's answer, an ending or a fit answer did."""

    DONE = "done"  # it changed the relationship now
    REPEATED = "repeated"  # the same answer was given before: nothing changes
    TOO_LATE = "too_late"  # the deadline passed before the answer
    CLOSED = "closed"  # the relationship is in another state: nothing changes


@dataclass(frozen=True)
class Move:
    answer: Answer
    before: Relationship
    after: Relationship

    @property
    def changed(self) -> bool:
        return self.after is not self.before

    @property
    def expired(self) -> bool:
        """The answer came late and expired the request on the way (RequestExpired)."""
        return self.changed and self.after.state == "expired"


def _move(before: Relationship, answer: Answer, after: Relationship | None = None) -> Move:
    return Move(answer, before, after or before)


def expire(r: Relationship, now: datetime) -> Relationship | None:
    """The request expires once its deadline has passed without an answer."""
    if r.state == "requested" and now >= r.deadline:
        return r._next(state="expired")
    return None


def accept(r: Relationship, now: datetime, terms: LifecycleTerms) -> Move:
    if r.state == "requested":
        if (expired := expire(r, now)) is not None:
            return _move(r, Answer.TOO_LATE, expired)
        started = r._next(state="active", started_at=now, fit_check_at=now + terms.fit_check_after)
        return _move(r, Answer.DONE, started)
    answers = {"active": Answer.REPEATED, "expired": Answer.TOO_LATE}
    return _move(r, answers.get(r.state, Answer.CLOSED))


def decline(r: Relationship, now: datetime) -> Move:
    """The mentor says "Not now" (or leaves); too late once the deadline has passed."""
    if r.state == "requested":
        if (expired := expire(r, now)) is not None:
            return _move(r, Answer.TOO_LATE, expired)
        return _move(r, Answer.DONE, r._next(state="declined"))
    answers = {"declined": Answer.REPEATED, "expired": Answer.TOO_LATE}
    return _move(r, answers.get(r.state, Answer.CLOSED))


def remind(r: Relationship, now: datetime) -> Relationship | None:
    """The mentor is reminded once, half-way to the deadline, while the request waits."""
    if r.state == "requested" and r.reminded_at is None and r.remind_at <= now < r.deadline:
        return r._next(reminded_at=now)
    return None


def check_fit(r: Relationship, now: datetime) -> Relationship | None:
    """Both are asked once, `fit_check_after` into the relationship."""
    due = r.fit_check_at is not None and r.fit_check_at <= now
    if r.state == "active" and r.fit_checked_at is None and due:
        return r._next(fit_checked_at=now)
    return None


def answer_fit(r: Relationship, user_id: str, answer: FitAnswer) -> Move:
    """Recorded for the one who answered; publishes nothing ("not a good fit" leads to the
    ending form, which does)."""
    if r.state != "active" or r.party(user_id) is None:
        return _move(r, Answer.CLOSED)
    if r.fit_answers.get(user_id) == answer:
        return _move(r, Answer.REPEATED)
    after = replace(r, fit_answers={**r.fit_answers, user_id: answer})
    return _move(r, Answer.DONE, after)


@dataclass(frozen=True)
class Ending:
    by: EndedBy
    reason: EndingReason | None = None
    rating: int | None = None
    never_again: bool = False


def end(r: Relationship, ending: Ending, now: datetime, *, withdraw: bool = False) -> Move:
    """Either side ends an active relationship. A waiting request ends only by withdrawal: the
    system's (one of the two was erased) or the mentee's (they said "Not for me" to the mentor
    after asking). Ending twice ends once."""
    withdrawn = r.state == "requested" and (withdraw or ending.by == "system")
    if r.state == "active" or withdrawn:
        after = r._next(
            state="ended",
            ended_at=now,
            ended_by=ending.by,
            reason=ending.reason,
            rating=ending.rating,
            never_again=ending.never_again,
        )
        return _move(r, Answer.DONE, after)
    return _move(r, Answer.REPEATED if r.state == "ended" else Answer.CLOSED)

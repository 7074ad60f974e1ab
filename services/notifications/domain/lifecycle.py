"""Which lifecycle emails an event brings, to whom, and what each says. No I/O.

A relationship's events (shared/contracts/lifecycle.py) become emails:
- MatchRequested: the mentor is asked (who asks, the goal, why they were suggested, the deadline,
  Accept / Not now);
- RequestReminded: the mentor is asked once more, the same way;
- MatchStarted: both are introduced, each with the other's address (shared only now);
- FitCheckRequested: both are asked whether it is going well;
- MatchEnded: the other side is told (both, when an integrator or the system ended it); a
  relationship that never started was a request, withdrawn: the mentor is told that.
RequestDeclined and RequestExpired email nobody here: the mentee hears about them in the next
proposal email, which matching sends with the cause.

Every email from the introduction on carries an "end the relationship" link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.notifications.domain.email import Contact
from shared.contracts.lifecycle import (
    FitCheckRequested,
    LifecycleEvent,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestReminded,
)

LifecycleKind = Literal[
    "mentor_request",
    "request_reminder",
    "request_withdrawn",
    "introduction",
    "fit_check",
    "relationship_ended",
]
# A newer event of the relationship withdraws these while they wait: the question is settled.
ASKING: tuple[LifecycleKind, ...] = ("mentor_request", "request_reminder")
Role = Literal["mentor", "mentee"]


class LifecycleEmail(BaseModel):
    """One lifecycle email as stored with its row (the `lifecycle` column) and rendered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: LifecycleKind
    request_id: UUID
    version: int
    mentee_id: str
    mentor_id: str
    goal_id: str
    recipient_id: str
    recipient_role: Role
    other_id: str | None = None  # None when the other person left Mentorlink
    other_name: str | None = None
    other_email: str | None = None  # the introduction only
    other_emailed: bool = True  # the other person receives emails (not opted out)
    goal_statement: str | None = None
    reasons: list[str] = []  # why the mentor was suggested, in the mentor's terms
    deadline: datetime | None = None
    fit_check_at: datetime | None = None
    ended_by: str | None = None

    @property
    def ends_with_link(self) -> bool:
        """The relationship has started: the email offers to end it."""
        return self.kind in ("introduction", "fit_check")


@dataclass(frozen=True)
class Facts:
    """What the store knows when the event arrives: each person's contact (None when unknown or
    erased), the goal statement, and the reasons the mentee was shown for this mentor."""

    contacts: dict[str, Contact | None]
    goal_statement: str | None
    reasons: list[str]
    erased: frozenset[str] = frozenset()
    started: bool = True  # the relationship started (MatchStarted was seen)


def recipients(event: LifecycleEvent, started: bool = True) -> list[tuple[str, Role]]:
    """Who is emailed about the event: (user id, role)."""
    p = event.payload
    mentor: tuple[str, Role] = (p.mentor_id, "mentor")
    mentee: tuple[str, Role] = (p.mentee_id, "mentee")
    if isinstance(event, MatchRequested | RequestReminded):
        return [mentor]
    if isinstance(event, MatchEnded) and not started:
        return [mentor]  # a request withdrawn: the mentor was asked, the mentee withdrew it
    if isinstance(event, MatchStarted | FitCheckRequested):
        return [mentee, mentor]
    if isinstance(event, MatchEnded):
        ended_by = event.payload.ended_by
        if ended_by == "mentee":
            return [mentor]
        if ended_by == "mentor":
            return [mentee]
        return [mentee, mentor]
    return []  # RequestDeclined, RequestExpired: the next proposal email tells the mentee


def kind_of(event: LifecycleEvent, started: bool = True) -> LifecycleKind | None:
    if isinstance(event, MatchEnded) and not started:
        return "request_withdrawn"
    if isinstance(event, MatchRequested):
        return "mentor_request"
    if isinstance(event, RequestReminded):
        return "request_reminder"
    if isinstance(event, MatchStarted):
        return "introduction"
    if isinstance(event, FitCheckRequested):
        return "fit_check"
    if isinstance(event, MatchEnded):
        return "relationship_ended"
    return None


def plan_emails(event: LifecycleEvent, facts: Facts) -> list[LifecycleEmail]:
    """The emails `event` brings, given what the store knows. Nobody erased is emailed, and
    nobody erased is named."""
    kind = kind_of(event, facts.started)
    if kind is None:
        return []
    p = event.payload
    emails = []
    for recipient, role in recipients(event, facts.started):
        if recipient in facts.erased:
            continue
        other = p.mentee_id if role == "mentor" else p.mentor_id
        known = None if other in facts.erased else facts.contacts.get(other)
        emails.append(
            LifecycleEmail(
                kind=kind,
                request_id=p.request_id,
                version=p.version,
                mentee_id=p.mentee_id,
                mentor_id=p.mentor_id,
                goal_id=p.goal_id,
                recipient_id=recipient,
                recipient_role=role,
                other_id=other if known else None,
                other_name=known.display_name if known else None,
                other_email=known.email if known and kind == "introduction" else None,
                other_emailed=bool(known and known.reachable),
                goal_statement=facts.goal_statement if p.mentee_id not in facts.erased else None,
                reasons=facts.reasons if role == "mentor" and kind in ASKING else [],
                deadline=getattr(p, "deadline", None),
                fit_check_at=getattr(p, "fit_check_at", None),
                ended_by=event.payload.ended_by if isinstance(event, MatchEnded) else None,
            )
        )
    return emails


# The proposal's reasons speak to the mentee ("senior in kubernetes, one of your goal skills").
# The mentor reads the same facts about themselves, said of the mentee; "when you are both
# available" reads the same from either side.
_BOTH = re.compile(r"(\byou are both\b)")
_FOR_MENTOR = (
    (re.compile(r"\byou (asked|prefer|want|are|were|have|need)\b"), r"they \1"),
    (re.compile(r"\byour\b"), "their"),
    (re.compile(r"\byou\b"), "them"),
)


def mentor_side(explanation: str) -> str:
    """A reason the mentee was shown, as the mentor reads it: "5 years further along than
    you" becomes "5 years further along than them"."""
    out = []
    for part in _BOTH.split(explanation):
        if not _BOTH.fullmatch(part):
            for pattern, replacement in _FOR_MENTOR:
                part = pattern.sub(replacement, part)
        out.append(part)
    return "".join(out)

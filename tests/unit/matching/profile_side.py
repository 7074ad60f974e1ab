"""The profile service's side of relationships, for the property test: who asked whom, each
relationship's state and version, and the seats that follow (held + active), published as
the profile service does: the lifecycle event, then the mentor's profile with `seats_taken`.

It keeps the seat rule (a request only while held + active < capacity) and the erasure rules
(an erased mentee's relationships end and free their seats; an erased mentor's pending
requests are declined with `mentor_left` and its active ones end).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.matching.domain.relationships import HOLDING, State
from shared.contracts.envelope import EventEnvelope
from shared.contracts.lifecycle import (
    FitCheckRequested,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    RequestReminded,
)

DEADLINE = "2026-12-11T18:00:00Z"
NEXT: dict[str, tuple[frozenset[State], State | None, type[EventEnvelope]]] = {
    # answer: from which states, to which state (None: unchanged), with which event
    "accept": (frozenset({"requested"}), "active", MatchStarted),
    "not_now": (frozenset({"requested"}), "declined", RequestDeclined),
    "expire": (frozenset({"requested"}), "expired", RequestExpired),
    "remind": (frozenset({"requested"}), None, RequestReminded),
    "fit_check": (frozenset({"active"}), None, FitCheckRequested),
    "end": (frozenset({"active"}), "ended", MatchEnded),
    "end_never_again": (frozenset({"active"}), "ended", MatchEnded),
}
ANSWERS = tuple(NEXT)


@dataclass
class Held:
    request_id: str
    mentee_id: str
    mentor_id: str
    goal_id: str
    state: State = "requested"
    version: int = 1


@dataclass
class ProfileSide:
    """`publish` submits an event; `republish_mentor(mentor_id, seats)` the mentor's profile."""

    tenant: str
    publish: Callable[[EventEnvelope], None]
    republish_mentor: Callable[[str, int], None]
    relationships: list[Held] = field(default_factory=list)
    sent: list[EventEnvelope] = field(default_factory=list)  # for replays

    def seats(self, mentor_id: str) -> int:
        return sum(1 for r in self.relationships if r.mentor_id == mentor_id and r.state in HOLDING)

    def request(self, mentee_id: str, mentor_id: str, goal_id: str, capacity: int) -> None:
        """'Request an intro': refused when the mentor is full or the pair already has one open."""
        open_pair = any(
            (r.mentee_id, r.mentor_id) == (mentee_id, mentor_id) and r.state in HOLDING
            for r in self.relationships
        )
        if open_pair or mentee_id == mentor_id or self.seats(mentor_id) >= capacity:
            return
        held = Held(str(uuid.uuid4()), mentee_id, mentor_id, goal_id)
        self.relationships.append(held)
        self._send(MatchRequested, held)
        self.republish_mentor(mentor_id, self.seats(mentor_id))

    def answer(self, index: int, answer: str) -> None:
        """The answer to one of the relationships it applies to (the index-th, round)."""
        before, after, kind = NEXT[answer]
        open_ones = [r for r in self.relationships if r.state in before]
        if not open_ones:
            return
        held = open_ones[index % len(open_ones)]
        held.version += 1
        freed = after is not None and after not in HOLDING
        held.state = after or held.state
        extra: dict[str, Any] = {}
        if kind is MatchEnded:
            extra = {"ended_by": "mentee", "never_again": answer == "end_never_again"}
        self._send(kind, held, **extra)
        if freed:
            self.republish_mentor(held.mentor_id, self.seats(held.mentor_id))

    def erase(self, user_id: str) -> None:
        """Before the ProfileDeleted: end what the person was part of, free the seats."""
        mentors = set()
        for held in self.relationships:
            if user_id not in (held.mentee_id, held.mentor_id) or held.state not in HOLDING:
                continue
            held.version += 1
            if held.state == "requested" and held.mentor_id == user_id:
                held.state = "declined"
                self._send(RequestDeclined, held, declined_by="mentor_left")
            else:
                held.state = "ended"
                self._send(MatchEnded, held, ended_by="system")
            mentors.add(held.mentor_id)
        self.relationships = [
            r for r in self.relationships if user_id not in (r.mentee_id, r.mentor_id)
        ]
        for mentor_id in sorted(mentors - {user_id}):
            self.republish_mentor(mentor_id, self.seats(mentor_id))

    def replay(self, index: int, fresh_id: bool) -> None:
        """A duplicate (the same event id) or a straggler (a copy with a new id)."""
        if self.sent:
            event = self.sent[index % len(self.sent)]
            self.publish(event.model_copy(update={"event_id": uuid.uuid4()}) if fresh_id else event)

    def _send(self, kind: type[EventEnvelope], held: Held, **extra: Any) -> None:
        payload: dict[str, Any] = {
            "request_id": held.request_id,
            "mentee_id": held.mentee_id,
            "mentor_id": held.mentor_id,
            "goal_id": held.goal_id,
            "version": held.version,
            **extra,
        }
        if kind in (MatchRequested, RequestReminded, RequestExpired):
            payload |= {"proposal_id": str(uuid.uuid4()), "deadline": DEADLINE}
        if kind is MatchStarted:
            payload["fit_check_at"] = DEADLINE
        event = kind.model_validate(
            {"tenant_id": self.tenant, "key": held.mentee_id, "payload": payload}
        )
        self.sent.append(event)
        self.publish(event)

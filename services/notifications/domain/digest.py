"""The digest rule over one poll of proposals, worked out in memory (ADR 0003, ADR 0009).

Everything here is per goal (ADR 0012): a mentee holding several goals gets a proposal, a
ranking version and a waiting email for each, and one goal's proposals never replace or
withdraw another goal's email.

The store reads what a poll needs once (which events are new, each goal's newest ranking
version, which emails exist already) and writes the outcome in a few set-based statements. This
module decides that outcome so it equals applying the poll's proposals one at a time, in order:
- an event seen before, or earlier in the same poll, is a duplicate and changes nothing;
- a ranking version not above the goal's newest is stale;
- every other proposal replaces its goal's waiting email and becomes the waiting email
  itself, keeping the due time of the one it replaced, or its own window if that comes sooner
  (the rate limit or quiet hours may have put the replaced one off; the dispatcher decides
  those again for the new email). So several proposals of one goal in one poll leave the last
  one waiting and the earlier ones superseded. An empty proposal (no
  suitable mentor left) is an email too: it tells the mentee they are on the waiting list.
  Only a proposal that the erasure of its mentors emptied here is no email: it withdraws the
  waiting one (matching ranks again and proposes), and creates no state for an unknown goal.
- an email is awaited (claimed before refreshes) if its proposal is, or if the email it
  replaced was: a mentee still waiting for an answer keeps waiting for the newer one.
- a refresh (its cause: only other people changed) that replaces a waiting email keeps that
  email's cause, so "Grace cannot take you on now" or a learning adjustment with its undo link
  is still said: the refresh's ranking came after it and still reflects it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

GoalKey = tuple[str, str, str]  # tenant_id, mentee_id, goal_id


class Outcome(enum.Enum):
    DUPLICATE = "duplicate"  # the event was handled before (or earlier in the poll)
    STALE = "stale"  # the ranking version is not newer: nothing changes
    EMPTIED = "emptied"  # its mentors were erased: the waiting email is withdrawn, none is queued
    TAKEN = "taken"  # an email for this proposal exists already: the waiting one is withdrawn
    QUEUED = "queued"  # a new email row


@dataclass(frozen=True)
class Proposed:
    """What the digest rule needs to know about one proposal of the poll."""

    event_id: UUID
    goal: GoalKey
    proposal_id: UUID
    ranking_version: int
    sendable: bool  # False: its mentors were erased after matching proposed them
    dedupe_key: str
    awaited: bool = True
    cause: str | None = None  # the proposal's cause (JSON), what its email says changed
    refresh: bool = False  # its cause says only that other people changed


@dataclass(frozen=True)
class Waiting:
    """When a waiting email is due, whether the mentee is waiting for it, and the cause it
    says (JSON)."""

    due_at: datetime
    awaited: bool
    cause: str | None = None


class _Stored(enum.Enum):
    WAITING = "the email waiting in the store, if any"


STORED = _Stored.WAITING


@dataclass
class NewRow:
    """An email row the poll inserts: `item` is its proposal's index in the poll. It keeps the
    due time of what it replaced: the stored waiting email (`STORED`), an earlier row of this
    poll (its index in `PollPlan.rows`), or nothing (None: a new digest window)."""

    item: int
    due_from: _Stored | int | None
    superseded_by: UUID | None = None  # replaced by a later proposal of the same poll


@dataclass
class PollPlan:
    outcomes: list[Outcome] = field(default_factory=list)  # one per proposal, in poll order
    versions: dict[GoalKey, int] = field(default_factory=dict)  # each advanced goal's newest
    # goals whose stored waiting email (if any) is replaced, by their poll's first proposal
    supersede: dict[GoalKey, UUID] = field(default_factory=dict)
    rows: list[NewRow] = field(default_factory=list)


def plan_poll(
    poll: Sequence[Proposed],
    first_seen: Collection[UUID],
    versions: Mapping[GoalKey, int],
    taken: Collection[str],
) -> PollPlan:
    """The outcome of `poll`, given the events the store had not seen (`first_seen`), the
    newest ranking version it knows per goal, and the dedupe keys it holds (`taken`)."""
    running = _Running(first_seen, dict(versions), set(taken))
    for index, proposed in enumerate(poll):
        running.plan.outcomes.append(running.apply(index, proposed))
    return running.plan


class _Running:
    """The poll applied so far: what one proposal at a time would have left in the store."""

    def __init__(self, first_seen: Collection[UUID], newest: dict[GoalKey, int], keys: set[str]):
        self.plan = PollPlan()
        self.first_seen = first_seen
        self.seen: set[UUID] = set()
        self.newest = newest
        self.keys = keys
        self.waiting: dict[GoalKey, _Stored | int | None] = {}  # a row index, if a row waits

    def apply(self, index: int, proposed: Proposed) -> Outcome:
        if proposed.event_id not in self.first_seen or proposed.event_id in self.seen:
            return Outcome.DUPLICATE
        self.seen.add(proposed.event_id)
        goal, plan = proposed.goal, self.plan
        current = self.newest.get(goal)
        if current is None and not proposed.sendable:
            return Outcome.STALE  # emptied by an erasure, it only withdraws: no new state
        if current is not None and current >= proposed.ranking_version:
            return Outcome.STALE
        self.newest[goal] = plan.versions[goal] = proposed.ranking_version
        replaced = self.waiting.get(goal, STORED)
        if replaced is STORED:
            plan.supersede[goal] = proposed.proposal_id
        elif isinstance(replaced, int):
            plan.rows[replaced].superseded_by = proposed.proposal_id
        self.waiting[goal] = None
        if not proposed.sendable:
            return Outcome.EMPTIED
        if proposed.dedupe_key in self.keys:
            return Outcome.TAKEN
        self.keys.add(proposed.dedupe_key)
        self.waiting[goal] = len(plan.rows)
        plan.rows.append(NewRow(index, replaced))
        return Outcome.QUEUED


def waiting_rows(
    plan: PollPlan,
    poll: Sequence[Proposed],
    replaced: Mapping[GoalKey, Waiting],
    new_window: Callable[[], datetime],
) -> list[Waiting]:
    """When each of `plan.rows` is due and whether it is awaited, given the stored waiting
    emails that the poll replaced (`replaced`, per goal)."""
    rows: list[Waiting] = []
    for row in plan.rows:
        proposed = poll[row.item]
        if row.due_from is STORED:
            kept = replaced.get(proposed.goal)
        elif isinstance(row.due_from, int):
            kept = rows[row.due_from]
        else:
            kept = None
        if kept is None:
            rows.append(Waiting(new_window(), proposed.awaited, proposed.cause))
        else:
            cause = kept.cause if proposed.refresh and kept.cause else proposed.cause
            due = min(kept.due_at, new_window())
            rows.append(Waiting(due, proposed.awaited or kept.awaited, cause))
    return rows

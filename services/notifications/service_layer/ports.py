"""Ports of the notifications service: its store, its mailer, its delivery log, its clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol
from uuid import UUID

from services.notifications.domain.delivery import SendResult
from services.notifications.domain.digest import GoalKey, Waiting
from services.notifications.domain.email import Contact
from services.notifications.domain.lifecycle import LifecycleEmail
from shared.contracts.matches import MatchProposed, MatchProposedPayload
from shared.erasure import Erasure, ErasureLog, Person

Clock = Callable[[], datetime]
# Named points in the life of a proposal where the kill test stops the process (crash_points.py).
Checkpoint = Callable[[str], None]
# Starts the `released` record: it is written to the database connection in the next turn of
# the event loop, ahead of anything scheduled after the call returns. The mailer calls it just
# before it writes the end of the message (ADR 0003).
Release = Callable[[], Awaitable[None]]


def no_checkpoint(_point: str) -> None:
    """Production: checkpoints do nothing."""


@dataclass(frozen=True)
class ProposalOrigin:
    """Where a MatchProposed was read, and its original bytes: what a dead letter carries."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsumedProposal:
    event: MatchProposed
    origin: ProposalOrigin


@dataclass(frozen=True)
class NewEmail:
    dedupe_key: str
    message_id: str
    tenant_id: str
    proposal: MatchProposedPayload
    correlation_id: str | None
    origin: ProposalOrigin
    due_at: datetime
    superseded_by: UUID | None = None  # replaced by a later proposal of the same poll
    awaited: bool = True  # claimed before the refreshes (digest.Waiting)


@dataclass(frozen=True)
class NewLifecycleEmail:
    """A lifecycle email to queue: what it says, and the event it came from (its dead letter)."""

    dedupe_key: str
    message_id: str
    tenant_id: str
    email: LifecycleEmail
    correlation_id: str | None
    origin: ProposalOrigin


@dataclass(frozen=True)
class LifecycleFacts:
    """What the store knows about a relationship's people when one of its events arrives."""

    contacts: dict[str, Contact]  # of the two people, by user id, when known
    goal_statement: str | None
    explanations: list[str]  # the reasons the mentee was shown for this mentor, if any


@dataclass(frozen=True)
class GoalStatement:
    """A goal's statement at a goal version: quoted in its proposal emails and to the mentor."""

    tenant_id: str
    mentee_id: str
    goal_id: str
    version: int
    statement: str


@dataclass(frozen=True)
class PollState:
    """What the store knew when a poll of proposals began (read in one statement)."""

    first_seen: frozenset[UUID]  # the poll's event ids it had not handled before
    versions: dict[GoalKey, int]  # the newest ranking version per goal it has a digest for
    taken: frozenset[str]  # the poll's dedupe keys that already have an email row
    erased: dict[Person, Erasure] = field(default_factory=dict)  # of the poll's people


@dataclass(frozen=True)
class ClaimedEmail:
    """A claimed email, with what the claim read alongside it: the mentee's contact (None if
    none arrived yet) and when the mentee's emails went out within the rate-limit period."""

    id: int
    tenant_id: str
    mentee_id: str  # the recipient
    message_id: str
    proposal: MatchProposedPayload | None
    attempts: int
    created_at: datetime
    correlation_id: str | None
    contact: Contact | None
    recent_sends: tuple[datetime, ...]
    # a newer proposal of the same goal went out already (e.g. this one's lease expired after a
    # crash while the newer one, sent first, was waiting): it is superseded, not sent
    outdated: bool = False
    # the proposal's goal was closed (GoalClosed) after the proposal was made: it is not sent
    goal_closed: bool = False
    # a lifecycle email (domain/lifecycle.py) instead of a proposal; `proposal` is then None
    lifecycle: LifecycleEmail | None = None
    # a proposal's goal in the mentee's words (goal_statements), so the email names the goal
    goal_statement: str | None = None

    @property
    def order(self) -> int:
        """One recipient's emails go out in this order: lifecycle emails, then rankings."""
        return self.proposal.ranking_version if self.proposal else 0

    @property
    def subject_id(self) -> UUID:
        """The proposal, or the relationship, the email is about (logs)."""
        if self.proposal:
            return self.proposal.proposal_id
        assert self.lifecycle is not None
        return self.lifecycle.request_id


@dataclass(frozen=True)
class Delivery:
    """One row of the delivery log, as support sees it (no address, no name)."""

    id: int
    mentee_id: str
    proposal_id: UUID
    ranking_version: int
    state: str
    reason: str | None
    attempts: int
    message_id: str
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    kind: str = "proposal"
    goal_id: str | None = None  # None: a relationship's email whose row does not say its goal


@dataclass(frozen=True)
class DeliveryQuery:
    tenant_id: str
    mentee_id: str | None = None
    proposal_id: UUID | None = None
    before_id: int | None = None  # keyset pagination: newest first
    limit: int = 50
    goal_id: str | None = None


class NotificationsTransaction(Protocol):
    @property
    def erasures(self) -> ErasureLog:
        """Who was erased (shared/erasure.py)."""
        ...

    async def first_delivery(self, event_id: UUID) -> bool: ...

    async def first_deliveries(self, event_ids: Sequence[UUID]) -> set[UUID]:
        """Record the events as handled; return those not handled before (one statement)."""
        ...

    async def contact_version(self, tenant_id: str, user_id: str) -> int | None: ...

    async def save_contacts(self, contacts: Sequence[tuple[Contact, int]]) -> None:
        """Store each contact at its version, unless that version or a newer one is stored
        already (one statement; at most one contact per person)."""
        ...

    async def forget_person(self, tenant_id: str, user_id: str) -> None: ...

    async def begin_proposals(
        self,
        event_ids: Sequence[UUID],
        goals: Sequence[GoalKey],
        dedupe_keys: Sequence[str],
        people: Sequence[Person] = (),
    ) -> PollState:
        """Record the events as handled (idempotency) and lock the goals' digests for the
        rest of the transaction; return which events were new, the goals' newest ranking
        versions, which dedupe keys are taken and which of `people` were erased."""
        ...

    async def settle_digests(
        self, versions: Mapping[GoalKey, int], supersede: Mapping[GoalKey, UUID]
    ) -> dict[GoalKey, Waiting]:
        """Record each goal's newest ranking version (only ever upwards) and mark the waiting
        email of each goal in `supersede` superseded by that proposal (another goal's waiting
        email stays); returns when each
        superseded email was due and whether it was awaited."""
        ...

    async def queue_emails(self, emails: Sequence[NewEmail]) -> int:
        """Insert the emails in order (queued, or superseded when `superseded_by` is set);
        an existing dedupe key inserts nothing. Returns how many were inserted."""
        ...

    async def save_goal_statements(self, goals: Sequence[GoalStatement]) -> None:
        """Keep each statement unless its goal version or a newer one is stored already (one
        statement; at most one per goal)."""
        ...

    async def close_goal(self, tenant_id: str, mentee_id: str, goal_id: str, version: int) -> int:
        """The goal was closed at goal version `version`: unless a newer GoalSet opened it
        again, its waiting proposal email is withdrawn (`superseded`), and later claims of its
        proposal emails do not send them. The mentee's other goals are untouched. Returns how
        many emails were withdrawn."""
        ...

    async def advance_relationship(
        self, tenant_id: str, request_id: UUID, version: int, started: bool
    ) -> bool | None:
        """Record the relationship's newest event version, and that it `started` (once true,
        it stays); return whether it started, or None (nothing recorded) when `version` is not
        newer than the one stored."""
        ...

    async def lifecycle_facts(
        self,
        tenant_id: str,
        people: tuple[str, str],
        goal_id: str,
        proposal_id: UUID | None,
    ) -> LifecycleFacts:
        """The contacts of `people` (mentee, mentor), the mentee's goal statement and, with a
        proposal, the reasons its email gave for the mentor."""
        ...

    async def withdraw_asking(self, tenant_id: str, request_id: UUID) -> None:
        """A waiting request or reminder of the relationship is withdrawn (`superseded`)."""
        ...

    async def queue_lifecycle_emails(self, emails: Sequence[NewLifecycleEmail]) -> int:
        """Insert the emails, queued and due now; an existing dedupe key inserts nothing."""
        ...


class LeaseLost(Exception):  # noqa: N818 - reads as a verdict
    """This claim's lease ran out, and another claim took the email (or may): only the
    current lease holder may record it `released`, so this sender must not end the message."""


class SendRecords(Protocol):
    """What one send slot reads and writes between claims, in order, over one connection."""

    async def recent_sends(
        self, tenant_id: str, mentee_id: str, since: datetime
    ) -> list[datetime]: ...

    async def mark_sent(self, claims: Sequence[tuple[int, int]]) -> None:
        """(email, attempt) pairs: `sent`, while that claim holds the email (`sending` when its
        `released` record was lost, or `released`); rows claimed again since are left alone."""
        ...

    async def begin_mark_released(self, email_id: int, attempt: int) -> Awaitable[None]:
        """Record the email `released` (counts as sent) if claim number `attempt` still holds
        its lease, and return an awaitable of the commit; raise LeaseLost if it does not. The
        row stays locked until the commit, which is written to the connection in the next turn
        of the event loop, before anything the caller schedules later; from then on, a killed
        process still gets it committed. Anything recorded next waits for it."""
        ...

    # The outcomes below are written only while claim number `attempt` still holds the email
    # (`sending`, or `released` by it); after another claim took it, they change nothing.
    async def mark_failed(self, email_id: int, attempt: int, state: str, reason: str) -> None: ...

    async def give_up(self, email_id: int, attempt: int, reason: str) -> None:
        """Mark failed and, in the same transaction, queue the dead letter for the proposal."""
        ...

    async def reschedule(
        self,
        email_id: int,
        attempt: int,
        delay_s: float,
        reason: str,
        *,
        count_attempt: bool = True,
    ) -> None: ...


class NotificationsStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[NotificationsTransaction]: ...

    async def claim_due(
        self, limit: int, lease_s: float, sends_within_s: float, refresh_hold_s: float
    ) -> list[ClaimedEmail]:
        """Claim up to `limit` due emails, each with its mentee's contact and sends of the last
        `sends_within_s` seconds: the awaited ones first, then by due time. A refresh due for
        `refresh_hold_s` counts as awaited from then on."""
        ...

    def send_records(self) -> AbstractAsyncContextManager[SendRecords]:
        """Records for one send slot, kept for as long as the slot runs."""
        ...


class DeliveryLog(Protocol):
    async def deliveries(self, query: DeliveryQuery) -> list[Delivery]: ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage, release: Release) -> SendResult:
        """Deliver `message`. `release` is awaited once the server has all of the message but
        its end; the end is written in the next turn of the event loop, right after the record,
        so the two are committed together as nearly as two sockets allow. A `release` that
        raises ends the conversation without the end of the message: the server discards it."""
        ...

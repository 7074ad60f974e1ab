"""The sending step of the dispatcher: one claimed email, sent or given its outcome.

The `released` record is written to the database connection right before the end of the
message is written to the server (docs/adr/0003-email-delivery.md); the server's reply then
decides `sent`, or the refusal's outcome in place of the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from services.notifications.domain.delivery import Outcome, retry_delay
from services.notifications.domain.email import Contact, Sender, compose
from services.notifications.domain.lifecycle_email import compose_lifecycle
from services.notifications.domain.lifecycle_links import lifecycle_links
from services.notifications.domain.links import LinkSigner, proposal_links
from services.notifications.domain.schedule import (
    RateLimit,
    answers_own_step,
    later_of,
    quiet_until,
    rate_limited_until,
)
from services.notifications.service_layer.ports import (
    Checkpoint,
    ClaimedEmail,
    Clock,
    LeaseLost,
    Mailer,
    SendRecords,
    no_checkpoint,
)
from services.notifications.service_layer.sent_records import SentRecords
from shared.logs import bind_event
from shared.metrics import EMAILS

log = logging.getLogger(__name__)
SERVICE = "notifications"


@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int
    retry_base_s: float
    retry_max_s: float
    lease_s: float
    contact_wait_s: float
    rate_limit: RateLimit
    batch_size: int = 20  # claimed and unfinished at most (`run`); one claim (`dispatch_once`)
    concurrency: int = 1
    poll_interval_s: float = 1.0
    refresh_hold_s: float = 60.0  # the longest a due refresh waits behind awaited emails


@dataclass(frozen=True)
class DispatchTools:
    """What the dispatcher writes with: the sender identity, link signing, the clocks."""

    sender: Sender
    signer: LinkSigner
    clock: Clock
    checkpoint: Checkpoint = no_checkpoint
    # links expire on the profile service's clock (shared/clock.py: an offset clock in tests)
    link_clock: Clock | None = None


@dataclass(frozen=True)
class Claimed:
    email: ClaimedEmail
    # False when an earlier email of the mentee may have gone out after the claim read its
    # sends: the rate limit then reads them again.
    sends_current: bool


class Delivery:
    """Sends claimed emails: suppressed, deferred, sent or failed, each recorded."""

    def __init__(
        self,
        mailer: Mailer,
        tools: DispatchTools,
        policy: DispatchPolicy,
        sent_records: SentRecords,
    ) -> None:
        self._mailer = mailer
        self._tools = tools
        self._policy = policy
        self._sent_records = sent_records

    async def deliver(self, claimed: Claimed, records: SendRecords) -> bool:
        """Send the email, or record why not; True when it went out."""
        email, contact = claimed.email, claimed.email.contact
        bind_event(email.subject_id, email.correlation_id)
        if email.outdated:
            await records.mark_failed(
                email.id, email.attempts, "superseded", "a newer proposal was sent first"
            )
        elif email.goal_closed:
            await records.mark_failed(
                email.id, email.attempts, "superseded", "withdrawn: the goal was closed"
            )
        elif contact is None:
            await self._wait_for_contact(email, records)
        elif not contact.reachable:
            reason = "mentee opted out of email" if contact.email else "mentee has no email address"
            await records.mark_failed(email.id, email.attempts, "suppressed", reason)
        elif not await self._deferred(claimed, contact, records):
            return await self._send(email, contact, records)
        return False

    async def _wait_for_contact(self, email: ClaimedEmail, records: SendRecords) -> None:
        waited = self._tools.clock() - email.created_at
        if waited > timedelta(seconds=self._policy.contact_wait_s):
            await records.mark_failed(
                email.id, email.attempts, "failed", "no contact details for mentee"
            )
        else:
            await records.reschedule(
                email.id, email.attempts, 0.5, "waiting for contact details", count_attempt=False
            )

    async def _deferred(self, claimed: Claimed, contact: Contact, records: SendRecords) -> bool:
        """Quiet hours and the rate limit postpone the email (without counting an attempt)."""
        email, now = claimed.email, self._tools.clock()
        quiet = quiet_until(
            now, contact.timezone, contact.quiet_hours_start, contact.quiet_hours_end
        )
        limit = self._policy.rate_limit
        limited = None  # lifecycle emails answer the recipient's own step: no rate limit
        if email.proposal is not None and not answers_own_step(email.proposal.cause):
            sends = email.recent_sends
            if not claimed.sends_current:
                since = now - limit.period
                sends = tuple(await records.recent_sends(email.tenant_id, email.mentee_id, since))
            limited = rate_limited_until(sends, now, limit)
        until = later_of(quiet, limited)
        if until is None:
            return False
        reason = "quiet hours" if until == quiet else "rate limit"
        await records.reschedule(
            email.id,
            email.attempts,
            _seconds(until - now),
            f"deferred: {reason}",
            count_attempt=False,
        )
        log.info("%s email deferred until %s: %s", _kind(email), until.isoformat(), reason)
        return True

    def _compose(self, email: ClaimedEmail, contact: Contact) -> EmailMessage:
        now, signer, sender = self._tools.clock(), self._tools.signer, self._tools.sender
        signed = (self._tools.link_clock or self._tools.clock)()
        if email.lifecycle is not None:
            about = email.lifecycle
            links = lifecycle_links(email.tenant_id, about, signer, signed)
            return compose_lifecycle(about, contact, sender, email.message_id, links, now)
        assert email.proposal is not None
        offers = proposal_links(email.tenant_id, email.proposal, signer, signed)
        return compose(
            email.proposal, contact, sender, email.message_id, offers, now, email.goal_statement
        )

    async def _send(self, email: ClaimedEmail, contact: Contact, records: SendRecords) -> bool:
        try:
            message = self._compose(email, contact)
        except ValueError as exc:  # e.g. an address that cannot be encoded without SMTPUTF8
            await records.mark_failed(
                email.id, email.attempts, "failed", f"cannot compose: {type(exc).__name__}"
            )
            log.warning("proposal email cannot be composed: %s", type(exc).__name__)
            return False
        recording: list[Awaitable[None]] = []

        async def release() -> None:
            recording.append(await records.begin_mark_released(email.id, email.attempts))

        try:
            result = await self._mailer.send(message, release)
        except LeaseLost:  # the message was not ended; the email is another claim's to record
            EMAILS.labels(SERVICE, "lease_lost").inc()
            log.warning("proposal email not sent: its lease ran out before the end of the message")
            return False
        await _settled(recording)  # whatever is written next must come after it
        if result.outcome is Outcome.SENT:
            await self._sent_records.record(email.id, email.attempts)
            self._tools.checkpoint("sent_recorded")
            EMAILS.labels(SERVICE, "sent").inc()
            # the delivery log and the metric count each send: a line per email is for debugging
            log.debug("proposal email sent (attempt %d)", email.attempts)
            return True
        elif result.outcome is Outcome.PERMANENT:
            await records.mark_failed(email.id, email.attempts, "failed", result.detail)
            EMAILS.labels(SERVICE, "failed").inc()
            log.warning("proposal email failed permanently: %s", result.detail)
        elif email.attempts >= self._policy.max_attempts:
            await records.give_up(
                email.id,
                email.attempts,
                f"gave up after {email.attempts} attempts: {result.detail}",
            )
            EMAILS.labels(SERVICE, "dead_lettered").inc()
            log.warning("proposal email dead-lettered after %d attempts", email.attempts)
        else:
            delay = retry_delay(email.attempts, self._policy.retry_base_s, self._policy.retry_max_s)
            await records.reschedule(email.id, email.attempts, delay, result.detail)
            EMAILS.labels(SERVICE, "retry").inc()
            log.info("proposal email deferred %.1fs: %s", delay, result.detail)
        return False


async def _settled(recording: list[Awaitable[None]]) -> None:
    """Wait for the `released` record, if the mailer released one. A failed one changes
    nothing: `sent` or the refusal's outcome is written next either way."""
    if not recording:
        return
    try:
        await asyncio.shield(recording[0])  # a shutdown must not cancel the record mid-way
    except Exception as exc:
        log.warning("released record not committed: %s", type(exc).__name__)


def _kind(email: ClaimedEmail) -> str:
    return email.lifecycle.kind if email.lifecycle else "proposal"


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def utc_now() -> datetime:
    return datetime.now(UTC)

"""Send queued emails: claim, send, record the outcome.

A claim commits `state = sending` with a lease before the SMTP conversation. The `released`
record (which counts as sent) is written to the database connection right before the end of the
message is written to the server, in one turn of the event loop with nothing awaited between,
so a crash leaves both or neither on their way (docs/adr/0003-email-delivery.md). The server's
reply then decides: `sent`, or the refusal's outcome in place of the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.notifications.domain.delivery import Outcome, retry_delay
from services.notifications.domain.email import Contact, Sender, compose
from services.notifications.domain.links import LinkSigner, proposal_links
from services.notifications.domain.schedule import (
    RateLimit,
    later_of,
    quiet_until,
    rate_limited_until,
)
from services.notifications.service_layer.ports import (
    Checkpoint,
    ClaimedEmail,
    Clock,
    Mailer,
    NotificationsStore,
    no_checkpoint,
)
from shared.errors import TRANSIENT_ERRORS
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
    batch_size: int = 20
    concurrency: int = 1
    poll_interval_s: float = 1.0


@dataclass(frozen=True)
class DispatchTools:
    """What the dispatcher writes with: the sender identity, link signing, the clock."""

    sender: Sender
    signer: LinkSigner
    clock: Clock
    checkpoint: Checkpoint = no_checkpoint


class Dispatcher:
    def __init__(
        self,
        store: NotificationsStore,
        mailer: Mailer,
        tools: DispatchTools,
        policy: DispatchPolicy,
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._tools = tools
        self._policy = policy
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                handled = await self.dispatch_once()
                failures = 0
            except TRANSIENT_ERRORS as exc:
                failures += 1
                log.warning("dispatcher waiting for a dependency: %s", type(exc).__name__)
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))
                continue
            if handled:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._policy.poll_interval_s)

    async def dispatch_once(self) -> int:
        claimed = await self._store.claim_due(self._policy.batch_size, self._policy.lease_s)
        if claimed:
            self._tools.checkpoint("claimed")
        by_mentee: dict[tuple[str, str], list[ClaimedEmail]] = {}
        for email in claimed:
            by_mentee.setdefault((email.tenant_id, email.mentee_id), []).append(email)
        slots = asyncio.Semaphore(self._policy.concurrency)

        async def deliver_in_order(emails: list[ClaimedEmail]) -> None:
            async with slots:  # the rate limit reads this mentee's sends: one at a time
                for email in emails:
                    await self._deliver(email)

        outcomes = await asyncio.gather(
            *(deliver_in_order(emails) for emails in by_mentee.values()), return_exceptions=True
        )
        for outcome in outcomes:  # all finished; the first failure decides (e.g. an outage)
            if isinstance(outcome, BaseException):
                raise outcome
        return len(claimed)

    async def _deliver(self, email: ClaimedEmail) -> None:
        bind_event(email.proposal.proposal_id, email.correlation_id)
        contact = await self._store.contact(email.tenant_id, email.mentee_id)
        if contact is None:
            await self._wait_for_contact(email)
        elif not contact.reachable:
            reason = "mentee opted out of email" if contact.email else "mentee has no email address"
            await self._store.mark_failed(email.id, "suppressed", reason)
        elif not await self._deferred(email, contact):
            await self._send(email, contact)

    async def _wait_for_contact(self, email: ClaimedEmail) -> None:
        waited = self._tools.clock() - email.created_at
        if waited > timedelta(seconds=self._policy.contact_wait_s):
            await self._store.mark_failed(email.id, "failed", "no contact details for mentee")
        else:
            await self._store.reschedule(
                email.id, 0.5, "waiting for contact details", count_attempt=False
            )

    async def _deferred(self, email: ClaimedEmail, contact: Contact) -> bool:
        """Quiet hours and the rate limit postpone the email (without counting an attempt)."""
        now = self._tools.clock()
        quiet = quiet_until(
            now, contact.timezone, contact.quiet_hours_start, contact.quiet_hours_end
        )
        limit = self._policy.rate_limit
        sends = await self._store.recent_sends(email.tenant_id, email.mentee_id, now - limit.period)
        limited = rate_limited_until(sends, now, limit)
        until = later_of(quiet, limited)
        if until is None:
            return False
        reason = "quiet hours" if until == quiet else "rate limit"
        await self._store.reschedule(
            email.id, _seconds(until - now), f"deferred: {reason}", count_attempt=False
        )
        log.info("proposal email deferred until %s: %s", until.isoformat(), reason)
        return True

    async def _send(self, email: ClaimedEmail, contact: Contact) -> None:
        now = self._tools.clock()
        links = proposal_links(email.tenant_id, email.proposal, self._tools.signer, now)
        try:
            message = compose(
                email.proposal, contact, self._tools.sender, email.message_id, links, now
            )
        except ValueError as exc:  # e.g. an address that cannot be encoded without SMTPUTF8
            await self._store.mark_failed(
                email.id, "failed", f"cannot compose: {type(exc).__name__}"
            )
            log.warning("proposal email cannot be composed: %s", type(exc).__name__)
            return
        recording: list[Awaitable[None]] = []

        async def release() -> None:
            recording.append(await self._store.begin_mark_released(email.id))

        result = await self._mailer.send(message, release)
        await _settled(recording)  # whatever is written next must come after it
        if result.outcome is Outcome.SENT:
            await self._record_sent(email.id)
            self._tools.checkpoint("sent_recorded")
            self.sent += 1
            EMAILS.labels(SERVICE, "sent").inc()
            log.info("proposal email sent (attempt %d)", email.attempts)
        elif result.outcome is Outcome.PERMANENT:
            await self._store.mark_failed(email.id, "failed", result.detail)
            EMAILS.labels(SERVICE, "failed").inc()
            log.warning("proposal email failed permanently: %s", result.detail)
        elif email.attempts >= self._policy.max_attempts:
            await self._store.give_up(
                email.id, f"gave up after {email.attempts} attempts: {result.detail}"
            )
            EMAILS.labels(SERVICE, "dead_lettered").inc()
            log.warning("proposal email dead-lettered after %d attempts", email.attempts)
        else:
            delay = retry_delay(email.attempts, self._policy.retry_base_s, self._policy.retry_max_s)
            await self._store.reschedule(email.id, delay, result.detail)
            EMAILS.labels(SERVICE, "retry").inc()
            log.info("proposal email deferred %.1fs: %s", delay, result.detail)

    async def _record_sent(self, email_id: int) -> None:
        """The server has the email: recording that waits out an outage rather than giving up,
        since a claim left unrecorded would expire and the email be sent again. The retries stay
        frequent (a connection attempt each), so the record commits within a quarter second of
        PostgreSQL's return: a crash in that time would still send a second copy."""
        delay = 0.05
        while True:
            try:
                await self._store.mark_sent(email_id)
                return
            except TRANSIENT_ERRORS as exc:
                log.warning("sent email not recorded yet, retrying: %s", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(0.25, delay * 2)


async def _settled(recording: list[Awaitable[None]]) -> None:
    """Wait for the `released` record, if the mailer released one. A failed one changes
    nothing: `sent` or the refusal's outcome is written next either way."""
    if not recording:
        return
    try:
        await asyncio.shield(recording[0])  # a shutdown must not cancel the record mid-way
    except Exception as exc:
        log.warning("released record not committed: %s", type(exc).__name__)


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def utc_now() -> datetime:
    return datetime.now(UTC)

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
from collections import deque
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
    LeaseLost,
    Mailer,
    NotificationsStore,
    SendRecords,
    no_checkpoint,
)
from shared.errors import TRANSIENT_ERRORS
from shared.logs import bind_event
from shared.metrics import EMAILS
from shared.supervision import Heartbeat

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
    """What the dispatcher writes with: the sender identity, link signing, the clock."""

    sender: Sender
    signer: LinkSigner
    clock: Clock
    checkpoint: Checkpoint = no_checkpoint


@dataclass(frozen=True)
class _Claimed:
    email: ClaimedEmail
    # False when an earlier email of the mentee may have gone out after the claim read its
    # sends: the rate limit then reads them again.
    sends_current: bool


MenteeKey = tuple[str, str]


class Dispatcher:
    """Claims continuously while send slots are free; each slot holds its own store records
    and takes one mentee's emails at a time, in claim order."""

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
        self._room = asyncio.Event()
        self.sent = 0
        self._reset()

    def _reset(self) -> None:
        """Forget claims in hand: after a restart their leases run out and they are claimed
        again, in order."""
        self._chains: dict[MenteeKey, deque[_Claimed]] = {}  # claimed, not finished
        self._ready: asyncio.Queue[MenteeKey] = asyncio.Queue()  # chains waiting for a slot
        self._finished_while_claiming: set[MenteeKey] = set()
        self._outstanding = 0
        self._sent = _SentRecords(self._store)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, heartbeat: Heartbeat | None = None) -> None:
        """Claim and send until cancelled. An error that is not temporary ends it; the
        supervisor (shared/supervision.py) starts it again, with nothing in hand."""
        self._reset()
        try:
            async with asyncio.TaskGroup() as slots:
                for _ in range(self._policy.concurrency):
                    slots.create_task(self._slot(until_idle=False))
                await self._claim_continuously(heartbeat or Heartbeat())
        finally:
            await self._sent.stop()

    async def dispatch_once(self) -> int:
        """Claim one batch and deliver all of it (tests and tools; `run` claims continuously)."""
        claimed = await self._claim(self._policy.batch_size)
        workers = min(self._policy.concurrency, claimed)
        outcomes = await asyncio.gather(
            *(self._slot(until_idle=True) for _ in range(workers)), return_exceptions=True
        )
        await self._sent.stop()
        for outcome in outcomes:  # all finished; the first failure decides
            if isinstance(outcome, BaseException):
                raise outcome
        return claimed

    async def _claim_continuously(self, heartbeat: Heartbeat) -> None:
        least = max(1, min(self._policy.batch_size, self._policy.concurrency) // 2)
        failures = 0
        while True:
            heartbeat.beat()
            room = self._policy.batch_size - self._outstanding
            if room < least:  # slots busy and enough waiting for them
                self._room.clear()
                with contextlib.suppress(TimeoutError):  # a turn now and then: the heartbeat
                    await asyncio.wait_for(self._room.wait(), self._policy.poll_interval_s)
                continue
            self._wake.clear()
            try:
                claimed = await self._claim(room)
                failures = 0
            except TRANSIENT_ERRORS as exc:
                failures += 1
                log.warning("dispatcher waiting for a dependency: %s", type(exc).__name__)
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))
                continue
            if claimed < room:  # nothing else due now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._policy.poll_interval_s)

    async def _claim(self, limit: int) -> int:
        self._finished_while_claiming.clear()
        period = self._policy.rate_limit.period.total_seconds()
        claimed = _each_mentee_oldest_first(
            await self._store.claim_due(
                limit, self._policy.lease_s, period, self._policy.refresh_hold_s
            )
        )
        if claimed:
            self._tools.checkpoint("claimed")
        for email in claimed:
            key = (email.tenant_id, email.mentee_id)
            chain = self._chains.get(key)
            if chain is not None:
                chain.append(_Claimed(email, sends_current=False))
            else:
                current = key not in self._finished_while_claiming
                self._chains[key] = deque([_Claimed(email, current)])
                self._ready.put_nowait(key)
        self._outstanding += len(claimed)
        return len(claimed)

    async def _slot(self, until_idle: bool) -> None:
        async with self._store.send_records() as records:
            failures = 0
            while not (until_idle and self._ready.empty()):
                key = await self._ready.get()
                try:
                    await self._send_chain(key, records)
                    failures = 0
                except TRANSIENT_ERRORS as exc:  # the rest of the chain waits for its lease
                    failures += 1
                    log.warning("send slot waiting for a dependency: %s", type(exc).__name__)
                    if not until_idle:
                        await asyncio.sleep(min(5.0, 0.1 * 2**failures))

    async def _send_chain(self, key: MenteeKey, records: SendRecords) -> None:
        """One mentee's emails, one at a time: the rate limit reads this mentee's sends."""
        chain = self._chains[key]
        try:
            while chain:
                await self._deliver(chain[0], records)
                chain.popleft()
                self._finished(key)
        finally:
            del self._chains[key]
            for _ in chain:
                self._finished(key)

    def _finished(self, key: MenteeKey) -> None:
        self._finished_while_claiming.add(key)
        self._outstanding -= 1
        self._room.set()

    async def _deliver(self, claimed: _Claimed, records: SendRecords) -> None:
        email, contact = claimed.email, claimed.email.contact
        bind_event(email.proposal.proposal_id, email.correlation_id)
        if email.outdated:
            await records.mark_failed(
                email.id, email.attempts, "superseded", "a newer proposal was sent first"
            )
        elif contact is None:
            await self._wait_for_contact(email, records)
        elif not contact.reachable:
            reason = "mentee opted out of email" if contact.email else "mentee has no email address"
            await records.mark_failed(email.id, email.attempts, "suppressed", reason)
        elif not await self._deferred(claimed, contact, records):
            await self._send(email, contact, records)

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

    async def _deferred(self, claimed: _Claimed, contact: Contact, records: SendRecords) -> bool:
        """Quiet hours and the rate limit postpone the email (without counting an attempt)."""
        email, now = claimed.email, self._tools.clock()
        quiet = quiet_until(
            now, contact.timezone, contact.quiet_hours_start, contact.quiet_hours_end
        )
        limit = self._policy.rate_limit
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
        log.info("proposal email deferred until %s: %s", until.isoformat(), reason)
        return True

    async def _send(self, email: ClaimedEmail, contact: Contact, records: SendRecords) -> None:
        now = self._tools.clock()
        links = proposal_links(email.tenant_id, email.proposal, self._tools.signer, now)
        try:
            message = compose(
                email.proposal, contact, self._tools.sender, email.message_id, links, now
            )
        except ValueError as exc:  # e.g. an address that cannot be encoded without SMTPUTF8
            await records.mark_failed(
                email.id, email.attempts, "failed", f"cannot compose: {type(exc).__name__}"
            )
            log.warning("proposal email cannot be composed: %s", type(exc).__name__)
            return
        recording: list[Awaitable[None]] = []

        async def release() -> None:
            recording.append(await records.begin_mark_released(email.id, email.attempts))

        try:
            result = await self._mailer.send(message, release)
        except LeaseLost:  # the message was not ended; the email is another claim's to record
            EMAILS.labels(SERVICE, "lease_lost").inc()
            log.warning("proposal email not sent: its lease ran out before the end of the message")
            return
        await _settled(recording)  # whatever is written next must come after it
        if result.outcome is Outcome.SENT:
            await self._sent.record(email.id)
            self._tools.checkpoint("sent_recorded")
            self.sent += 1
            EMAILS.labels(SERVICE, "sent").inc()
            log.info("proposal email sent (attempt %d)", email.attempts)
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


def _each_mentee_oldest_first(claimed: list[ClaimedEmail]) -> list[ClaimedEmail]:
    """Claims come awaited first; one mentee's emails still go out in ranking order (an older
    one may be in the claim when its lease expired), each mentee where its first email was."""
    first_at: dict[MenteeKey, int] = {}
    for index, email in enumerate(claimed):
        first_at.setdefault((email.tenant_id, email.mentee_id), index)
    return sorted(
        claimed,
        key=lambda e: (first_at[(e.tenant_id, e.mentee_id)], e.proposal.ranking_version),
    )


class _SentRecords:
    """Writes `sent` for every email whose 250 came while the previous write was on its way, in
    one statement: under load, one round trip and one commit serve several emails. Each sender
    waits for its own record. The writer keeps its connection until `stop`."""

    def __init__(self, store: NotificationsStore) -> None:
        self._store = store
        self._due: dict[int, asyncio.Future[None]] = {}
        self._more = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def record(self, email_id: int) -> None:
        recorded = asyncio.get_running_loop().create_future()
        self._due[email_id] = recorded
        self._more.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await recorded

    async def stop(self) -> None:
        """At shutdown: a `sent` record not written yet leaves `released`, which is true."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.wait([writer])

    async def _write(self) -> None:
        async with self._store.send_records() as records:
            while True:
                await self._more.wait()
                self._more.clear()
                batch, self._due = self._due, {}
                try:
                    await _record_sent(records, list(batch))
                except BaseException as exc:  # nobody may wait forever for a record
                    for recorded in (*batch.values(), *self._due.values()):
                        _settle(recorded, exc)
                    self._due.clear()
                    raise
                for recorded in batch.values():
                    _settle(recorded)


def _settle(future: asyncio.Future[None], failure: BaseException | None = None) -> None:
    if future.done():
        return
    if failure is None:
        future.set_result(None)
    elif isinstance(failure, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(failure)


async def _record_sent(records: SendRecords, email_ids: list[int]) -> None:
    """The server has the emails: recording that waits out an outage rather than giving up,
    since an email whose `released` record did not commit would be claimed again when its lease
    expires. The retries stay frequent (a connection attempt each), so the record commits within
    a quarter second of PostgreSQL's return: a crash in that time would still send a second
    copy."""
    delay = 0.05
    while True:
        try:
            await records.mark_sent(email_ids)
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

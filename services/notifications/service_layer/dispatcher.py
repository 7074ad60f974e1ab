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

from services.notifications.service_layer.ports import (
    ClaimedEmail,
    Mailer,
    NotificationsStore,
    SendRecords,
)
from services.notifications.service_layer.sending import (
    Claimed,
    Delivery,
    DispatchPolicy,
    DispatchTools,
)
from services.notifications.service_layer.sent_records import SentRecords
from shared.errors import TRANSIENT_ERRORS
from shared.supervision import Heartbeat

log = logging.getLogger(__name__)
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
        self._chains: dict[MenteeKey, deque[Claimed]] = {}  # claimed, not finished
        self._ready: asyncio.Queue[MenteeKey] = asyncio.Queue()  # chains waiting for a slot
        self._finished_while_claiming: set[MenteeKey] = set()
        self._outstanding = 0
        self._sent = SentRecords(self._store)
        self._delivery = Delivery(self._mailer, self._tools, self._policy, self._sent)

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
        # A claim is one statement and one parse of its rows, whatever its size: claims of a
        # slot count each (not of two emails at a time, as with half a slot count), while
        # enough wait for the slots to send during the claim (batch_size: three slot counts).
        least = max(1, min(self._policy.batch_size, self._policy.concurrency))
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
                chain.append(Claimed(email, sends_current=False))
            else:
                current = key not in self._finished_while_claiming
                self._chains[key] = deque([Claimed(email, current)])
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
                if await self._delivery.deliver(chain[0], records):
                    self.sent += 1
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


def _each_mentee_oldest_first(claimed: list[ClaimedEmail]) -> list[ClaimedEmail]:
    """Claims come awaited first; one mentee's emails still go out in ranking order (an older
    one may be in the claim when its lease expired), each mentee where its first email was."""
    first_at: dict[MenteeKey, int] = {}
    for index, email in enumerate(claimed):
        first_at.setdefault((email.tenant_id, email.mentee_id), index)
    return sorted(
        claimed,
        key=lambda e: (first_at[(e.tenant_id, e.mentee_id)], e.order),
    )

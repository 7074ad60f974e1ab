"""`sent` records written in batches, each sender waiting for its own."""

from __future__ import annotations

import asyncio
import logging

from services.notifications.service_layer.ports import NotificationsStore, SendRecords
from shared.errors import TRANSIENT_ERRORS

log = logging.getLogger(__name__)


class SentRecords:
    """Writes `sent` for every email whose 250 came while the previous write was on its way, in
    one statement: under load, one round trip and one commit serve several emails. Each sender
    waits for its own record. The writer keeps its connection until `stop`."""

    def __init__(self, store: NotificationsStore) -> None:
        self._store = store
        self._due: dict[tuple[int, int], asyncio.Future[None]] = {}
        self._more = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def record(self, email_id: int, attempt: int) -> None:
        recorded = asyncio.get_running_loop().create_future()
        self._due[email_id, attempt] = recorded
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


async def _record_sent(records: SendRecords, claims: list[tuple[int, int]]) -> None:
    """The server has the emails: recording that waits out an outage rather than giving up,
    since an email whose `released` record did not commit would be claimed again when its lease
    expires. The retries stay frequent (a connection attempt each), so the record commits within
    a quarter second of PostgreSQL's return: a crash in that time would still send a second
    copy."""
    delay = 0.05
    while True:
        try:
            await records.mark_sent(claims)
            return
        except TRANSIENT_ERRORS as exc:
            log.warning("sent email not recorded yet, retrying: %s", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(0.25, delay * 2)

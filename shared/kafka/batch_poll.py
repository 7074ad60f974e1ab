"""A batch subscriber's poll that waits for records instead of sleeping after an empty one.

FastStream 0.7.8's `BatchSubscriber.get_msg` asks aiokafka for up to `batch_timeout_ms` of
records and, when none came, sleeps as long again before it asks once more. aiokafka's
`getmany` already returns as soon as a fetch brings records, so the sleep only delays the
first record after a quiet spell, and a short timeout (to keep that delay small) woke every
idle subscriber about 50 times a second. Without the sleep, the wait can be long (an idle
subscriber polls about once a second, `KAFKA_BATCH_POLL_MS`) and the first record is handled
as soon as it is fetched. Which records a poll returns, and when offsets are committed, does
not change.
"""

from __future__ import annotations

import time
from itertools import chain
from typing import TYPE_CHECKING, Any

import anyio
from faststream.kafka.subscriber.usecase import BatchSubscriber

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def _get_msg(self: Any, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
    assert consumer, "You should setup subscriber at first."
    timeout_s = self.batch_timeout_ms / 1000
    started = time.monotonic()
    messages = await consumer.getmany(
        timeout_ms=self.batch_timeout_ms, max_records=self.max_records
    )
    if not messages:
        # getmany waits the whole timeout for records unless the consumer is being closed or
        # rebalanced: a poll that came back empty sooner sleeps the rest, so that no state of
        # the consumer turns this loop into a busy one.
        rest = timeout_s - (time.monotonic() - started)
        if rest > 0:
            await anyio.sleep(rest)
        return ()
    return tuple(chain(*messages.values()))


def poll_without_sleeping() -> None:
    """Every batch subscriber of this process polls as above (idempotent)."""
    BatchSubscriber.get_msg = _get_msg  # type: ignore[method-assign]

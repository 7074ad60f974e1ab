"""Consumer defaults written once: at-least-once acking and dead-letter routing."""

from __future__ import annotations

from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from shared.kafka.dead_letter import DeadLetter, DeadLetterMiddleware
from shared.kafka.progress import PartitionProgress
from shared.kafka.retry import RetryPolicy
from shared.settings import KafkaSettings


def install_dead_letter(
    broker: KafkaBroker,
    service: str,
    retry: RetryPolicy | None = None,
    progress: PartitionProgress | None = None,
) -> DeadLetterMiddleware:
    """Route invalid and poison messages of every subscriber of `broker` to `<topic>.dlq`."""

    async def publish(letter: DeadLetter) -> None:
        await broker.publish(
            letter.value, topic=letter.topic, key=letter.key, headers=letter.headers()
        )

    middleware = DeadLetterMiddleware(service, publish, retry, progress)
    broker.add_middleware(middleware)
    return middleware


def subscriber_options(group_id: str, kafka: KafkaSettings | None = None) -> dict[str, Any]:
    """Commit only after the handler (and its transaction) finished; nack (seek back) on error.

    Handlers run one message at a time per subscriber, so the commit of the consumed position
    that FastStream's ack performs never covers an unfinished message.
    """
    tuning = kafka or KafkaSettings()
    return {
        "group_id": group_id,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": tuning.fetch_max_wait_ms,
        "fetch_min_bytes": tuning.fetch_min_bytes,
        "max_poll_records": 100,
        # Only batch subscribers read it (single-message ones ignore it).
        "batch_timeout_ms": tuning.batch_poll_ms,
        "session_timeout_ms": tuning.session_timeout_ms,
        "heartbeat_interval_ms": tuning.heartbeat_interval_ms,
    }

"""Build a FastStream KafkaBroker with the project's delivery policy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from shared.kafka.batch_poll import poll_without_sleeping
from shared.kafka.connection import ssl_context
from shared.settings import KafkaSettings


def _security(settings: KafkaSettings) -> BaseSecurity | None:
    context = ssl_context(settings)
    use_ssl = context is not None
    if settings.sasl_mechanism:
        username = settings.sasl_username or ""
        password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
        sasl = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }[settings.sasl_mechanism]
        return sasl(username, password, ssl_context=context, use_ssl=use_ssl)
    if context is not None:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return None


def build_broker(
    settings: KafkaSettings,
    client_id: str,
    middlewares: Sequence[Any] = (),
    graceful_timeout: float = 15.0,
) -> KafkaBroker:
    acks: Any = "all" if settings.acks == "all" else int(settings.acks)
    poll_without_sleeping()
    return KafkaBroker(
        settings.servers(),
        client_id=client_id,
        acks=acks,
        enable_idempotence=settings.enable_idempotence,
        request_timeout_ms=int(settings.connect_timeout_s * 1000),
        security=_security(settings),
        middlewares=tuple(middlewares),
        graceful_timeout=graceful_timeout,
        logger=logging.getLogger("faststream.kafka"),
        log_level=logging.DEBUG,  # per-message lines; our own handlers log what matters
    )


async def start_broker(broker: KafkaBroker) -> None:
    """`broker.start()`, with its subscribers started together.

    FastStream 0.7 starts them one after another, and each consumer's start waits for its
    group join: on Apache Kafka `group.initial.rebalance.delay.ms` (3 s by default), on the
    embedded Tansu broker half the session timeout. Together, a service with four consumer
    groups waits for one join, not four.
    """
    await broker.connect()
    await asyncio.gather(*(subscriber.start() for subscriber in broker.subscribers))
    for publisher in broker.publishers:
        await publisher.start()
    broker.running = True

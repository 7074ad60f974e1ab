"""The notifications service's AsyncAPI: what it consumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from faststream.kafka import KafkaBroker

from services.notifications.entrypoints.consumers import ConsumerDeps, document_router
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import NotificationsStore
from services.notifications.settings import SERVICE_NAME
from shared.kafka.dead_letter import DeadLetter, DeadLetterMiddleware
from shared.settings import KafkaSettings


async def _never_published(letter: DeadLetter) -> None:
    raise AssertionError("the document broker consumes nothing")


def document_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = KafkaBroker(kafka.bootstrap_servers)
    deps = ConsumerDeps(
        store=cast(NotificationsStore, None),
        policy=QueuePolicy("example.org", timedelta(0)),
        clock=lambda: datetime.now(UTC),
        on_queued=lambda: None,
    )
    dead_letters = DeadLetterMiddleware(SERVICE_NAME, _never_published)
    broker.include_router(document_router(kafka, deps, dead_letters))
    return broker

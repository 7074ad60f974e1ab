"""The notifications service's AsyncAPI: what it consumes."""

from __future__ import annotations

from typing import cast

from faststream.kafka import KafkaBroker

from services.notifications.entrypoints.consumers import build_router
from services.notifications.service_layer.ports import NotificationsStore
from shared.settings import KafkaSettings


def document_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = KafkaBroker(kafka.bootstrap_servers)
    broker.include_router(
        build_router(kafka, cast(NotificationsStore, None), "example.org", lambda: None)
    )
    return broker

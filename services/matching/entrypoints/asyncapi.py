"""The matching service's AsyncAPI: what it consumes and what it publishes."""

from __future__ import annotations

from typing import cast

from faststream.kafka import KafkaBroker

from services.matching.entrypoints.consumers import build_router
from services.matching.service_layer.unit_of_work import UnitOfWork
from shared.contracts.matches import MatchProposed
from shared.contracts.topics import PROPOSALS
from shared.settings import KafkaSettings


def document_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = KafkaBroker(kafka.bootstrap_servers)
    broker.include_router(build_router(kafka, cast(UnitOfWork, None), top_k=5))
    broker.publisher(
        PROPOSALS.qualified(kafka.topic_prefix),
        title="matching/MatchProposed",
        schema=MatchProposed,
        description=f"{PROPOSALS.description} Key: {PROPOSALS.key}.",
    )
    return broker

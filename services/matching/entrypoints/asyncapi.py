"""The matching service's AsyncAPI: what it consumes and what it publishes."""

from __future__ import annotations

from typing import cast

from faststream.kafka import KafkaBroker

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.events import ExposureChanged, MentorChanged
from services.matching.entrypoints.consumers import PartitionOwnership, build_router
from services.matching.service_layer.handlers import Matching
from services.matching.service_layer.topics import MENTOR_FEED
from services.matching.service_layer.unit_of_work import StateLoader, UnitOfWork
from services.matching.settings import SERVICE_NAME
from shared.contracts.matches import MatchProposed
from shared.contracts.topics import PROPOSALS
from shared.kafka.dead_letter import DeadLetter, DeadLetterMiddleware
from shared.settings import KafkaSettings


async def _never_published(letter: DeadLetter) -> None:
    raise AssertionError("the document broker consumes nothing")


def document_broker(kafka: KafkaSettings) -> KafkaBroker:
    broker = KafkaBroker(kafka.bootstrap_servers)
    matching = Matching(cast(UnitOfWork, None), cast(StateLoader, None), EngineConfig())
    dead_letters = DeadLetterMiddleware(SERVICE_NAME, _never_published)
    broker.include_router(build_router(kafka, matching, PartitionOwnership(matching), dead_letters))
    broker.publisher(
        MENTOR_FEED.qualified(kafka.topic_prefix),
        title="matching/MentorChanged",
        schema=MentorChanged,
        description=f"{MENTOR_FEED.description} Key: {MENTOR_FEED.key}.",
    )
    broker.publisher(
        MENTOR_FEED.qualified(kafka.topic_prefix),
        title="matching/ExposureChanged",
        schema=ExposureChanged,
        description=f"{MENTOR_FEED.description} Key: {MENTOR_FEED.key}.",
    )
    broker.publisher(
        PROPOSALS.qualified(kafka.topic_prefix),
        title="matching/MatchProposed",
        schema=MatchProposed,
        description=f"{PROPOSALS.description} Key: {PROPOSALS.key}.",
    )
    return broker

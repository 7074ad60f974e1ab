"""FastStream subscribers: validate, hand off to a handler, return."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from services.notifications.service_layer import handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import (
    Checkpoint,
    Clock,
    ConsumedProposal,
    NotificationsStore,
    ProposalOrigin,
    no_checkpoint,
)
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import PROFILES, PROPOSALS, ProfileEvent
from shared.kafka.batch import BatchHandling, consume_batch, headers_of, raw_bodies
from shared.kafka.consumer import subscriber_options
from shared.kafka.dead_letter import DeadLetterMiddleware
from shared.logs import bind_event
from shared.settings import KafkaSettings

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer


@dataclass(frozen=True)
class ConsumerDeps:
    store: NotificationsStore
    policy: QueuePolicy
    clock: Clock
    on_queued: Callable[[], None]
    checkpoint: Checkpoint = no_checkpoint
    tracer: Tracer | None = None


def parse_proposal(record: Any) -> ConsumedProposal:
    value = record.value or b""
    origin = ProposalOrigin(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        value=value,
        headers=headers_of(record),
    )
    return ConsumedProposal(MatchProposed.model_validate_json(value), origin)


def proposal_handling(deps: ConsumerDeps) -> BatchHandling[ConsumedProposal]:
    async def handle(batch: Sequence[ConsumedProposal]) -> None:
        deps.checkpoint("proposal_consumed")
        queued = await handlers.record_proposals(
            batch, deps.store, deps.policy, deps.clock, deps.tracer
        )
        deps.checkpoint("proposal_recorded")
        if queued:
            deps.on_queued()

    return BatchHandling(parse_proposal, handle, lambda consumed: consumed.event)


def build_router(
    kafka: KafkaSettings, deps: ConsumerDeps, dead_letters: DeadLetterMiddleware
) -> KafkaRouter:
    router = KafkaRouter()
    group = kafka.group("notifications")
    handling = proposal_handling(deps)

    @router.subscriber(
        PROFILES.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.profiles", kafka),
        title="notifications/on_profiles",
        description=PROFILES.description,
    )
    async def on_profiles(event: ProfileEvent) -> None:
        bind_event(event.event_id, event.correlation_id)
        if isinstance(event, ProfileUpdated):
            await handlers.record_contact(event, deps.store)
        else:
            await handlers.forget_person(event, deps.store)

    @router.subscriber(
        PROPOSALS.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.proposals", kafka),
        batch=True,
        decoder=raw_bodies,
        title="notifications/on_proposals",
        description=f"{PROPOSALS.description} Each poll's proposals are queued in one transaction.",
    )
    async def on_proposals(bodies: list[bytes], message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)  # a batch subscriber
        await consume_batch(records, handling, dead_letters)

    return router

"""FastStream subscribers: validate, hand off to a handler, return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from services.notifications.service_layer import handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import (
    Checkpoint,
    Clock,
    NotificationsStore,
    ProposalOrigin,
    no_checkpoint,
)
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import PROFILES, PROPOSALS, ProfileEvent
from shared.kafka.consumer import subscriber_options
from shared.logs import bind_event
from shared.settings import KafkaSettings


@dataclass(frozen=True)
class ConsumerDeps:
    store: NotificationsStore
    policy: QueuePolicy
    clock: Clock
    on_queued: Callable[[], None]
    checkpoint: Checkpoint = no_checkpoint


def origin_of(message: KafkaMessage) -> ProposalOrigin:
    record = message.raw_message
    assert not isinstance(record, tuple)  # these subscribers are not batch subscribers
    return ProposalOrigin(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        value=message.body,
        headers={k: v.decode(errors="replace") for k, v in record.headers or ()},
    )


def build_router(kafka: KafkaSettings, deps: ConsumerDeps) -> KafkaRouter:
    router = KafkaRouter()
    group = kafka.group("notifications")

    @router.subscriber(
        PROFILES.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.profiles"),
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
        **subscriber_options(f"{group}.proposals"),
        title="notifications/on_proposals",
        description=PROPOSALS.description,
    )
    async def on_proposals(event: MatchProposed, message: KafkaMessage) -> None:
        bind_event(event.event_id, event.correlation_id)
        deps.checkpoint("proposal_consumed")
        queued = await handlers.record_proposal(
            event, origin_of(message), deps.store, deps.policy, deps.clock
        )
        deps.checkpoint("proposal_recorded")
        if queued:
            deps.on_queued()

    return router

"""FastStream subscribers: validate, hand off to a handler, return."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaRouter

from services.notifications.service_layer import handlers
from services.notifications.service_layer.ports import NotificationsStore
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import PROFILES, PROPOSALS, ProfileEvent
from shared.kafka.consumer import subscriber_options
from shared.logs import bind_event
from shared.settings import KafkaSettings


def build_router(
    kafka: KafkaSettings,
    store: NotificationsStore,
    message_id_domain: str,
    on_queued: Callable[[], None],
) -> KafkaRouter:
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
            await handlers.record_contact(event, store)
        else:
            await handlers.forget_contact(event, store)

    @router.subscriber(
        PROPOSALS.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.proposals"),
        title="notifications/on_proposals",
        description=PROPOSALS.description,
    )
    async def on_proposals(event: MatchProposed) -> None:
        bind_event(event.event_id, event.correlation_id)
        if await handlers.record_proposal(event, store, message_id_domain):
            on_queued()

    return router

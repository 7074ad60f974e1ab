"""FastStream subscribers: validate, hand off to a handler, return."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from services.matching.service_layer import handlers
from services.matching.service_layer.unit_of_work import UnitOfWork
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import GOALS, PROFILES, ProfileEvent
from shared.kafka.consumer import subscriber_options
from shared.logs import bind_event
from shared.settings import KafkaSettings


def build_router(kafka: KafkaSettings, uow: UnitOfWork, top_k: int) -> KafkaRouter:
    router = KafkaRouter()
    group = kafka.group("matching")

    @router.subscriber(
        PROFILES.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.profiles"),
        title="matching/on_profiles",
        description=PROFILES.description,
    )
    async def on_profiles(event: ProfileEvent) -> None:
        bind_event(event.event_id, event.correlation_id)
        if isinstance(event, ProfileUpdated):
            await handlers.record_profile(event, uow, top_k)
        else:
            await handlers.forget_profile(event, uow, top_k)

    @router.subscriber(
        GOALS.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.goals"),
        title="matching/on_goals",
        description=GOALS.description,
    )
    async def on_goals(event: GoalSet) -> None:
        bind_event(event.event_id, event.correlation_id)
        await handlers.record_goal(event, uow, top_k)

    return router

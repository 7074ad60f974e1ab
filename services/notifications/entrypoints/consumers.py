"""FastStream subscribers: validate, hand off to a handler, return."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from services.notifications.service_layer import handlers, lifecycle_handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import (
    Checkpoint,
    Clock,
    ConsumedProposal,
    NotificationsStore,
    ProposalOrigin,
    no_checkpoint,
)
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalClosed
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import (
    FEEDBACK,
    GOALS,
    PROFILES,
    PROPOSALS,
    FeedbackEvent,
    GoalEvent,
    ProfileEvent,
)
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
    origin = _origin(record)
    return ConsumedProposal(MatchProposed.model_validate_json(origin.value), origin)


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

    @router.subscriber(
        GOALS.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.goals", kafka),
        title="notifications/on_goals",
        description=f"{GOALS.description} The goal statement is quoted to the mentor asked and "
        "names the goal in proposal emails; a closed goal's pending proposal email is withdrawn.",
    )
    async def on_goals(event: GoalEvent) -> None:
        bind_event(event.event_id, event.correlation_id)
        if isinstance(event, GoalClosed):
            await lifecycle_handlers.close_goal(event, deps.store)
        else:
            await lifecycle_handlers.record_goal(event, deps.store)

    @router.subscriber(
        FEEDBACK.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.feedback", kafka),
        title="notifications/on_feedback",
        description=f"{FEEDBACK.description} Relationship events become emails "
        "(docs/lifecycle.md); answers to proposals are matching's.",
    )
    async def on_feedback(event: FeedbackEvent, message: KafkaMessage) -> None:
        if isinstance(event, MatchAccepted | MatchDeclined):
            return  # answers to proposals: matching's
        bind_event(event.event_id, event.correlation_id)
        origin = _origin(message.raw_message)
        domain = deps.policy.message_id_domain
        if await lifecycle_handlers.record_lifecycle(event, origin, deps.store, domain):
            deps.on_queued()

    return router


def _origin(record: Any) -> ProposalOrigin:
    return ProposalOrigin(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        value=record.value or b"",
        headers=headers_of(record),
    )

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
from shared.contracts.matches import MatchProposed
from shared.contracts.topics import (
    FEEDBACK,
    GOAL_EVENT,
    GOALS,
    PROFILE_EVENT,
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
    _read_profiles_and_goals(router, kafka, deps, dead_letters)
    _read_proposals_and_feedback(router, kafka, deps, dead_letters)
    return router


def document_router(
    kafka: KafkaSettings, deps: ConsumerDeps, dead_letters: DeadLetterMiddleware
) -> KafkaRouter:
    """What the service consumes, as integrators see it: the profiles and goals subscribers
    read polls as raw records, so their own signatures would document a list of bytes."""
    router = KafkaRouter()
    group = kafka.group("notifications")

    @router.subscriber(PROFILES.qualified(kafka.topic_prefix), **_profiles(kafka, group))
    async def on_profiles(event: ProfileEvent) -> None:
        raise AssertionError("documentation only")

    @router.subscriber(GOALS.qualified(kafka.topic_prefix), **_goals(kafka, group))
    async def on_goals(event: GoalEvent) -> None:
        raise AssertionError("documentation only")

    _read_proposals_and_feedback(router, kafka, deps, dead_letters)
    return router


def _profiles(kafka: KafkaSettings, group: str) -> dict[str, Any]:
    return {
        **subscriber_options(f"{group}.profiles", kafka),
        "title": "notifications/on_profiles",
        "description": f"{PROFILES.description} Each poll is applied in one transaction.",
    }


def _goals(kafka: KafkaSettings, group: str) -> dict[str, Any]:
    return {
        **subscriber_options(f"{group}.goals", kafka),
        "title": "notifications/on_goals",
        "description": f"{GOALS.description} The goal statement is quoted to the mentor asked "
        "and names the goal in proposal emails; a closed goal's pending proposal email is "
        "withdrawn. Each poll is applied in one transaction.",
    }


def _read_profiles_and_goals(
    router: KafkaRouter,
    kafka: KafkaSettings,
    deps: ConsumerDeps,
    dead_letters: DeadLetterMiddleware,
) -> None:
    group = kafka.group("notifications")
    profile_handling = BatchHandling(
        lambda record: PROFILE_EVENT.validate_json(record.value or b""),
        lambda events: handlers.record_profiles(events, deps.store),
        _itself,
    )
    goal_handling = BatchHandling(
        lambda record: GOAL_EVENT.validate_json(record.value or b""),
        lambda events: lifecycle_handlers.record_goals(events, deps.store),
        _itself,
    )

    @router.subscriber(
        PROFILES.qualified(kafka.topic_prefix),
        **_profiles(kafka, group),
        batch=True,
        decoder=raw_bodies,
    )
    async def on_profiles(bodies: list[bytes], message: KafkaMessage) -> None:
        # a tombstone follows the ProfileDeleted that erased the person: not an event
        records = [r for r in _records(message) if r.value is not None]
        if records:
            await consume_batch(records, profile_handling, dead_letters)

    @router.subscriber(
        GOALS.qualified(kafka.topic_prefix),
        **_goals(kafka, group),
        batch=True,
        decoder=raw_bodies,
    )
    async def on_goals(bodies: list[bytes], message: KafkaMessage) -> None:
        await consume_batch(_records(message), goal_handling, dead_letters)


def _read_proposals_and_feedback(
    router: KafkaRouter,
    kafka: KafkaSettings,
    deps: ConsumerDeps,
    dead_letters: DeadLetterMiddleware,
) -> None:
    group = kafka.group("notifications")
    handling = proposal_handling(deps)

    @router.subscriber(
        PROPOSALS.qualified(kafka.topic_prefix),
        **subscriber_options(f"{group}.proposals", kafka),
        batch=True,
        decoder=raw_bodies,
        title="notifications/on_proposals",
        description=f"{PROPOSALS.description} Each poll's proposals are queued in one transaction.",
    )
    async def on_proposals(bodies: list[bytes], message: KafkaMessage) -> None:
        await consume_batch(_records(message), handling, dead_letters)

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


def _records(message: KafkaMessage) -> tuple[Any, ...]:
    records = message.raw_message
    assert isinstance(records, tuple)  # a batch subscriber
    return records


def _itself(event: Any) -> Any:
    return event


def _origin(record: Any) -> ProposalOrigin:
    return ProposalOrigin(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        value=record.value or b"",
        headers=headers_of(record),
    )

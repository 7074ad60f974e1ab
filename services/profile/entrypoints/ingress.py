"""The ingress topic: integrators' commands, validated, staged, applied once (fairly between
tenants, service_layer/ingress_queue.py), re-emitted canonically.

Anything that can never be applied is dead-lettered with a machine-readable reason (schema
violations when a poll is staged; the refusals below by name when applied) and the original
bytes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from services.profile.domain import commands
from services.profile.domain.goal_clarity import VagueGoal
from services.profile.domain.model import (
    NotAMentee,
    ProfileNotFound,
    TooManyGoals,
    VersionConflict,
)
from services.profile.domain.musts import ContradictoryMusts
from services.profile.service_layer.ingress import UnknownTenant, handle_ingress_command
from services.profile.service_layer.ingress_queue import (
    IngressQueue,
    IngressWorker,
    Origin,
    Refusal,
    StagedCommand,
)
from services.profile.service_layer.unit_of_work import UnitOfWork
from shared.contracts import ingress as wire
from shared.contracts.goals import DEFAULT_GOAL_ID
from shared.contracts.topics import INGRESS
from shared.erasure import REPLAY_DEAD_LETTERED_MS
from shared.kafka.batch import BatchHandling, consume_batch, headers_of, raw_bodies
from shared.kafka.consumer import subscriber_options
from shared.kafka.dead_letter import DeadLetterMiddleware
from shared.logs import bind_event
from shared.settings import KafkaSettings

_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REFUSALS: dict[type[Exception], str] = {
    UnknownTenant: "unknown_tenant",
    VersionConflict: "version_conflict",
    NotAMentee: "not_a_mentee",
    ProfileNotFound: "unknown_user",
    VagueGoal: "vague_goal",
    ContradictoryMusts: "contradictory_musts",
    TooManyGoals: "too_many_goals",
}


def _detail(exc: Exception) -> str:
    if isinstance(exc, VagueGoal):
        return "statement names nothing concrete: " + " ".join(a.suggestion for a in exc.advice)
    return str(exc) or type(exc).__name__


def to_domain(
    command: wire.UpsertProfile | wire.SetGoal | wire.DeleteProfile, correlation: str
) -> commands.UpsertProfile | commands.SetGoal | commands.DeleteProfile:
    tenant, user, version = command.tenant_id, command.user_id, command.expected_version
    if isinstance(command, wire.UpsertProfile):
        return commands.UpsertProfile(tenant, user, command.profile, version, correlation)
    if isinstance(command, wire.SetGoal):
        # The ingress command predates several goals: it sets the default goal, as v1 did.
        goal = command.goal.model_copy(update={"goal_id": DEFAULT_GOAL_ID})
        return commands.SetGoal(tenant, user, goal, correlation, version)
    return commands.DeleteProfile(tenant, user, version, correlation)


def _correlation(headers: dict[str, str], command_id: str) -> str:
    given = headers.get("correlation_id")
    if given and _CORRELATION.match(given):
        return given
    return f"ingress-{command_id}"


def _dead_lettered_at(headers: dict[str, str]) -> datetime | None:
    """When a replayed command first failed (set by `dlq replay`), or None."""
    value = headers.get(REPLAY_DEAD_LETTERED_MS)
    if not value or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _produced_at(record: Any) -> datetime | None:
    """The record's timestamp (CreateTime: the producer's clock when it sent the command)."""
    timestamp = getattr(record, "timestamp", None)
    if not isinstance(timestamp, int) or timestamp <= 0:
        return None
    return datetime.fromtimestamp(timestamp / 1000, UTC)


def parse_staged(record: Any) -> StagedCommand:
    """A record as a staged command; ValidationError for one that can never be valid."""
    value = record.value or b""
    command = wire.INGRESS_COMMAND.validate_json(value)
    origin = Origin(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        value,
        headers_of(record),
        _produced_at(record),
    )
    return StagedCommand(command.tenant_id, command.user_id, command.command_id, origin)


def ingress_applier(uow: UnitOfWork) -> Callable[[StagedCommand], Awaitable[Refusal | None]]:
    """Apply one staged command once; the refusal to dead-letter it with, if any."""

    async def apply(staged: StagedCommand) -> Refusal | None:
        command = wire.INGRESS_COMMAND.validate_json(staged.origin.value)
        correlation = _correlation(staged.origin.headers, str(command.command_id))
        bind_event(command.command_id, correlation)
        if staged.origin.key != command.user_id.encode():
            return Refusal("key_mismatch", "the message key must equal user_id")
        domain = to_domain(command, correlation)
        made_at = _dead_lettered_at(staged.origin.headers) or staged.origin.produced_at
        try:
            await handle_ingress_command(command.command_id, domain, uow, made_at)
        except tuple(REFUSALS) as exc:
            return Refusal(REFUSALS[type(exc)], _detail(exc))
        return None

    return apply


INGRESS_DESCRIPTION = (
    f"{INGRESS.description} Key: {INGRESS.key}. Each poll is staged in one transaction; "
    "commands are applied in rounds, a few per tenant at a time (ADR 0006)."
)


def document_ingress(broker: KafkaBroker, kafka: KafkaSettings) -> None:
    """The ingress topic as integrators see it: one command per message. (The subscriber that
    runs reads polls as raw records, so its own signature would document a list of bytes.)"""

    @broker.subscriber(
        INGRESS.qualified(kafka.topic_prefix),
        title="profile/on_ingress",
        description=INGRESS_DESCRIPTION,
    )
    async def on_ingress(command: wire.IngressCommand) -> None:
        raise AssertionError("documentation only")


def build_ingress_router(
    kafka: KafkaSettings,
    queue: IngressQueue,
    worker: IngressWorker,
    dead_letters: DeadLetterMiddleware,
) -> KafkaRouter:
    router = KafkaRouter()

    async def stage(batch: Sequence[StagedCommand]) -> None:
        await queue.stage(batch)
        worker.staged.set()

    handling = BatchHandling(parse_staged, stage, lambda staged: staged)

    @router.subscriber(
        INGRESS.qualified(kafka.topic_prefix),
        **subscriber_options(kafka.group("profile.ingress"), kafka),
        batch=True,
        decoder=raw_bodies,
        title="profile/on_ingress",
        description=INGRESS_DESCRIPTION,
    )
    async def on_ingress(bodies: list[bytes], message: KafkaMessage) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)  # a batch subscriber
        await consume_batch(records, handling, dead_letters)

    return router

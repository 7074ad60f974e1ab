"""The ingress topic: integrators' commands, validated, applied once, re-emitted canonically.

Anything that can never be applied is dead-lettered with a machine-readable reason (schema
violations by the shared middleware; the refusals below by name) and the original bytes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from services.profile.domain import commands
from services.profile.domain.goal_clarity import VagueGoal
from services.profile.domain.model import NotAMentee, ProfileNotFound, VersionConflict
from services.profile.service_layer.ingress import UnknownTenant, handle_ingress_command
from services.profile.service_layer.unit_of_work import UnitOfWork
from shared.contracts import ingress as wire
from shared.contracts.topics import INGRESS
from shared.erasure import REPLAY_DEAD_LETTERED_MS
from shared.errors import InvalidEvent
from shared.kafka.consumer import subscriber_options
from shared.logs import bind_event
from shared.settings import KafkaSettings

_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REFUSALS: dict[type[Exception], str] = {
    UnknownTenant: "unknown_tenant",
    VersionConflict: "version_conflict",
    NotAMentee: "not_a_mentee",
    ProfileNotFound: "unknown_user",
    VagueGoal: "vague_goal",
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
        return commands.SetGoal(tenant, user, command.goal, correlation, version)
    return commands.DeleteProfile(tenant, user, version, correlation)


def _correlation(message: KafkaMessage, command_id: str) -> str:
    given = message.headers.get("correlation_id")
    if isinstance(given, str) and _CORRELATION.match(given):
        return given
    return f"ingress-{command_id}"


def _dead_lettered_at(message: KafkaMessage) -> datetime | None:
    """When a replayed command first failed (set by `dlq replay`), or None."""
    value = message.headers.get(REPLAY_DEAD_LETTERED_MS)
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if not isinstance(value, str) or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def build_ingress_router(kafka: KafkaSettings, uow: UnitOfWork) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        INGRESS.qualified(kafka.topic_prefix),
        **subscriber_options(kafka.group("profile.ingress"), kafka),
        title="profile/on_ingress",
        description=f"{INGRESS.description} Key: {INGRESS.key}.",
    )
    async def on_ingress(command: wire.IngressCommand, message: KafkaMessage) -> None:
        correlation = _correlation(message, str(command.command_id))
        bind_event(command.command_id, correlation)
        record = message.raw_message
        key = None if isinstance(record, tuple) else record.key
        if key != command.user_id.encode():
            raise InvalidEvent("key_mismatch", "the message key must equal user_id")
        domain = to_domain(command, correlation)
        try:
            await handle_ingress_command(
                command.command_id, domain, uow, _dead_lettered_at(message)
            )
        except tuple(REFUSALS) as exc:
            raise InvalidEvent(REFUSALS[type(exc)], _detail(exc)) from exc

    return router

"""Ingress commands from integrators' producers: authorise, apply once, re-emit canonically."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.profile.domain.commands import DeleteProfile, SetGoal, UpsertProfile
from services.profile.service_layer.handlers import (
    delete_profile_in,
    set_goal_in,
    upsert_profile_in,
)
from services.profile.service_layer.unit_of_work import UnitOfWork

INGRESS_CONSUMER = "profile.ingress"


class UnknownTenant(Exception):  # noqa: N818 - reads as a verdict
    """The command names a tenant that holds no usable API key."""


async def handle_ingress_command(
    command_id: UUID,
    command: UpsertProfile | SetGoal | DeleteProfile,
    uow: UnitOfWork,
    made_at: datetime | None = None,
) -> bool:
    """Apply `command` once per `command_id`; False when it was applied before, or when it was
    made before its person's erasure (`made_at`, shared/erasure.py: the Kafka record's
    timestamp, or for a replayed dead letter when the original failed), so that a command
    still in the topic or replayed from a dead letter recreates nobody."""
    subject = command.mentee_id if isinstance(command, SetGoal) else command.user_id
    async with uow.transaction() as tx:
        admission = await tx.admit_command(INGRESS_CONSUMER, command_id, command.tenant_id, subject)
        if not admission.first:
            return False
        erasure = admission.erasure
        if made_at is not None and erasure is not None and erasure.hides(made_at):
            return False
        if not admission.tenant_active:
            raise UnknownTenant(command.tenant_id)
        if isinstance(command, UpsertProfile):
            await upsert_profile_in(tx, command)
        elif isinstance(command, SetGoal):
            await set_goal_in(tx, command)
        else:
            await delete_profile_in(tx, command)
    return True

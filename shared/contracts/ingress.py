"""Ingress commands: what integrators may publish straight to Kafka instead of calling the API.

Commands are imperative and come from outside; the profile service validates them, stores
the result and re-emits the canonical ProfileUpdated / GoalSet / ProfileDeleted events.
An invalid command goes to `<ingress topic>.dlq` with a machine-readable reason.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.contracts.goals import GoalFields
from shared.contracts.profiles import ProfileFields
from shared.contracts.types import TenantId, UserId


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command_id: UUID = Field(
        default_factory=uuid4,
        description="Unique per command; a re-sent command with the same id has one effect.",
        examples=["0b7e3c52-8d1f-4d0c-9d8e-4b8f6f1f2a11"],
    )
    schema_version: Literal[1] = 1
    tenant_id: TenantId
    user_id: UserId = Field(description="Also the Kafka message key.")
    expected_version: int | None = Field(
        default=None,
        ge=0,
        description="Optimistic concurrency: apply only if the stored version equals this "
        "(0 = must not exist yet). Omit to apply unconditionally.",
    )


class UpsertProfile(_Command):
    """Create or replace a person's profile."""

    command_type: Literal["UpsertProfile"] = "UpsertProfile"
    profile: ProfileFields


class SetGoal(_Command):
    """Set or replace a mentee's goal (user_id is the mentee)."""

    command_type: Literal["SetGoal"] = "SetGoal"
    goal: GoalFields


class DeleteProfile(_Command):
    """Erase a person: every service forgets them."""

    command_type: Literal["DeleteProfile"] = "DeleteProfile"


IngressCommand: TypeAlias = Annotated[
    UpsertProfile | SetGoal | DeleteProfile, Field(discriminator="command_type")
]
INGRESS_COMMAND: TypeAdapter[UpsertProfile | SetGoal | DeleteProfile] = TypeAdapter(IngressCommand)

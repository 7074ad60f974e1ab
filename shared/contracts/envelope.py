"""The envelope every Mentorlink event travels in."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.types import TenantId, UserId, UtcDatetime


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventEnvelope(BaseModel):
    """Fields common to every event. Subclasses pin `event_type`, `schema_version` and `payload`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(
        default_factory=uuid4,
        description="Unique id of this event; consumers use it to drop redeliveries.",
        examples=["6f1c1f2e-2b9a-4f55-8b8c-3d2f0f4b7a10"],
    )
    event_type: str = Field(description="The event's name; selects the payload schema.")
    schema_version: int = Field(description="Version of this event type's payload schema.")
    occurred_at: UtcDatetime = Field(
        default_factory=utc_now,
        description="When the change happened, in UTC (ISO 8601).",
        examples=["2026-11-25T18:42:00Z"],
    )
    tenant_id: TenantId
    key: UserId = Field(
        description="The person the event is about; it is also the Kafka message key "
        "(`tenant_id/key` on the compacted profiles topic), so one person's events stay in "
        "order on one partition.",
        examples=["u-1042"],
    )
    correlation_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Ties together everything caused by one request, "
        "from the API call to the email.",
        examples=["req-7f3a9c"],
    )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

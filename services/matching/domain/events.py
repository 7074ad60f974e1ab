"""Matching's own event: a mentor changed, so every mentee partition refreshes that mentor.

Profile events arrive on the mentor's own partition, but the mentor's lists live in every
mentee partition. The owner of the profile partition stores the change and fans one
MentorChanged out to each partition of `matching.mentors`; each partition's owner then
refreshes the mentor there, in order with that partition's goals and feedback. When the
mentor's best mentees in one partition change, every partition is told with an
ExposureChanged (the exposure cap is tenant-wide, so they read those lists again). It names the
mentor by a keyed hash, not by id: it follows other people's events, and may be written after
the mentor's erasure was asked for but before matching handled it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventEnvelope
from shared.contracts.types import UserId


class MentorChangedPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mentor_id: UserId
    partition: int = Field(ge=0, description="The mentee partition this copy is for.")
    reason: Literal["profile", "seats", "deleted"]


class MentorChanged(EventEnvelope):
    event_type: Literal["MentorChanged"] = "MentorChanged"
    schema_version: Literal[1] = 1
    payload: MentorChangedPayload


class ExposureChangedPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mentor_ref: str = Field(
        description="HMAC-SHA256 of (tenant, mentor id) under the first ERASURE_HASH_KEYS key,"
        " hex: the mentor, never by id.",
        examples=["9f2c" + "0" * 60],
    )
    partition: int = Field(ge=0, description="The mentee partition this copy is for.")


class ExposureChanged(EventEnvelope):
    """A mentor's best mentees in some partition changed: read its lists there again."""

    event_type: Literal["ExposureChanged"] = "ExposureChanged"
    schema_version: Literal[1] = 1
    payload: ExposureChangedPayload

"""Matching's own event: a mentor changed, so every mentee partition refreshes that mentor.

Profile events arrive on the mentor's own partition, but the mentor's lists live in every
mentee partition. The owner of the profile partition stores the change and fans one
MentorChanged out to each partition of `matching.mentors`; each partition's owner then
refreshes the mentor there, in order with that partition's goals and feedback. When the
mentor's best mentees in one partition change, the other partitions are told the same way
(reason `exposure`): the exposure cap is tenant-wide, so they re-read those lists.
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
    reason: Literal["profile", "seats", "deleted", "exposure"] = Field(
        description="What changed: the mentor's profile, seats taken, the mentor deleted, or"
        " (exposure) the mentor's best mentees in another partition, which take part of the"
        " mentor's tenant-wide exposure cap.",
        examples=["profile", "exposure"],
    )


class MentorChanged(EventEnvelope):
    event_type: Literal["MentorChanged"] = "MentorChanged"
    schema_version: Literal[1] = 1
    payload: MentorChangedPayload

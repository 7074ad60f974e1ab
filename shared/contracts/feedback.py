"""MatchAccepted and MatchDeclined: what a mentee did with a proposal.

The profile service publishes them when a mentee follows a signed link in a proposal email.
Both are keyed by mentee id, so they share a partition with that mentee's goals.
"""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.types import UserId


class MatchFeedbackPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mentee_id: UserId
    mentor_id: UserId
    proposal_id: UUID = Field(description="The proposal whose link the mentee followed.")
    goal_id: str = Field(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


class _Feedback(EventEnvelope):
    payload: MatchFeedbackPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        payload = self.payload
        if self.key != payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        if payload.mentee_id == payload.mentor_id:
            raise ValueError("mentee_id and mentor_id must differ")
        return self


class MatchAccepted(_Feedback):
    """The mentee asked for an intro: matching takes one unit of the mentor's capacity."""

    event_type: Literal["MatchAccepted"] = "MatchAccepted"
    schema_version: Literal[1] = 1
    payload: MatchFeedbackPayload


class MatchDeclinedPayload(MatchFeedbackPayload):
    reason: Literal["not_a_fit", "no_time", "other"] | None = Field(
        default=None, description="Optional reason the mentee chose."
    )


class MatchDeclined(_Feedback):
    """'Not for me': matching never proposes this mentor to this mentee again."""

    event_type: Literal["MatchDeclined"] = "MatchDeclined"
    schema_version: Literal[1] = 1
    payload: MatchDeclinedPayload

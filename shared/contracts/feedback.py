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
    """Superseded by `MatchRequested` (shared/contracts/lifecycle.py): the profile service no
    longer publishes it. Consumers still read the records already on the topic: each stands for
    a request that the mentor accepted at once (an active relationship)."""

    event_type: Literal["MatchAccepted"] = "MatchAccepted"
    schema_version: Literal[1] = 1
    payload: MatchFeedbackPayload


class MatchDeclinedPayload(MatchFeedbackPayload):
    reason: (
        Literal[
            "not_a_fit",
            "no_time",
            "other",
            "style",
            "availability",
            "expertise",
            "chemistry",
        ]
        | None
    ) = Field(
        default=None,
        description="Optional reason the mentee chose. Version 2 added the reasons an ending "
        "can give (`style`, `availability`, `expertise`, `chemistry`); the learning rule "
        "applies them, more gently than after an ended relationship.",
        examples=["style"],
    )


class MatchDeclined(_Feedback):
    """'Not for me': matching never proposes this mentor to this mentee again."""

    event_type: Literal["MatchDeclined"] = "MatchDeclined"
    schema_version: Literal[1, 2] = 2
    payload: MatchDeclinedPayload

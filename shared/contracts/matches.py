"""MatchProposed: a ranked choice of mentors for one mentee's goal."""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.types import DisplayText, UserId


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionReason(_Strict):
    criterion: str = Field(max_length=32, examples=["skills"])
    contribution: float = Field(description="This criterion's share of the score.")
    explanation: str = Field(
        max_length=200, examples=["senior in kubernetes, one of your goal skills"]
    )


class ProposedMentor(_Strict):
    mentor_id: UserId
    display_name: DisplayText
    headline: DisplayText | None = None
    rank: int = Field(ge=1)
    score: float = Field(ge=0)
    reasons: list[CriterionReason] = Field(default_factory=list, max_length=16)


class MatchProposedPayload(_Strict):
    mentee_id: UserId
    goal_id: str = Field(max_length=64)
    proposal_id: UUID = Field(
        description="Identifies this proposal; notifications email each once."
    )
    ranking_version: int = Field(ge=1, description="Monotonic per mentee; a lower one is stale.")
    mentors: list[ProposedMentor] = Field(max_length=20)
    awaited: bool = Field(
        default=True,
        description="True when the mentee is waiting for this proposal: it answers their own "
        "event (a goal, their profile, a decline or an accept) or is the first with mentors "
        "for their goal. False when other people's changes (a mentor's profile or seats, a "
        "fuller mentor list) refreshed a proposal they already have. Notifications sends "
        "awaited proposals first.",
        examples=[True],
    )


class MatchProposed(EventEnvelope):
    event_type: Literal["MatchProposed"] = "MatchProposed"
    schema_version: Literal[1] = 1
    payload: MatchProposedPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        return self

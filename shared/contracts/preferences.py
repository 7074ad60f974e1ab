"""PreferencesAdjusted: what an ending or a decline taught, applied to the mentee's goal.

The profile service applies its documented learning rule (docs/lifecycle.md) and publishes the
goal as it now is, with the adjustment that made it so. It travels on the goals topic, keyed by
the mentee id, and its `version` is the goal's version: matching orders it with `GoalSet` and
re-ranks exactly as on a goal change. An undo is one more adjustment that restores the weights
and styles from before the adjustment it names.
"""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSetPayload
from shared.contracts.lifecycle import EndingReason
from shared.contracts.types import MentoringStyle, UserId


class WeightChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion: str = Field(max_length=32, examples=["availability"])
    before: float = Field(ge=0, le=1, examples=[0.3])
    after: float = Field(ge=0, le=1, examples=[0.6])


class Adjustment(BaseModel):
    """Why the goal's weights or styles changed, in terms an email can say in one sentence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    adjustment_id: UUID = Field(
        description="Names this adjustment; an undo link carries it.",
        examples=["5d0c3f4e-1f7b-4a8c-9d2e-7a6b5c4d3e2f"],
    )
    trigger: Literal["relationship_ended", "proposal_declined", "undo"] = Field(
        description="An ended relationship teaches more than a declined proposal; `undo` "
        "restores what an earlier adjustment changed."
    )
    reason: EndingReason | None = Field(default=None, examples=["style"])
    mentor_id: UserId | None = Field(
        default=None, description="The mentor whose ending or decline taught this."
    )
    undoes: UUID | None = Field(default=None, description="With `undo`: the adjustment undone.")
    weights: list[WeightChange] = Field(default_factory=list, max_length=16)
    styles_favoured: list[MentoringStyle] = Field(
        default_factory=list, description="Styles now preferred that were not before."
    )
    styles_avoided: list[MentoringStyle] = Field(
        default_factory=list, description="Styles no longer preferred."
    )


class PreferencesAdjustedPayload(GoalSetPayload):
    adjustment: Adjustment


class PreferencesAdjusted(EventEnvelope):
    """The mentee's goal after a learning adjustment (or its undo); matching re-ranks."""

    event_type: Literal["PreferencesAdjusted"] = "PreferencesAdjusted"
    schema_version: Literal[1] = 1
    payload: PreferencesAdjustedPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        return self

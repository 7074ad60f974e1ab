"""GoalSet: what a mentee wants to grow and what they want from a mentor."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.musts import Musts
from shared.contracts.types import LongText, MentoringStyle, Slug, UserId


class CriteriaWeights(BaseModel):
    """How much each criterion matters to the mentee, 0 (ignore) to 1 (essential)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skills: float = Field(default=1.0, ge=0, le=1)
    experience: float = Field(default=0.5, ge=0, le=1)
    industry: float = Field(default=0.3, ge=0, le=1)
    function: float = Field(default=0.3, ge=0, le=1)
    background: float = Field(default=0.3, ge=0, le=1)
    style: float = Field(default=0.4, ge=0, le=1)
    language: float = Field(default=0.5, ge=0, le=1)
    availability: float = Field(default=0.3, ge=0, le=1)


class GoalFields(BaseModel):
    """What a mentee states about their goal; the profile service adds mentee id and version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goal_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    statement: LongText = Field(
        description="The goal in the mentee's words.",
        examples=["Lead the migration of our payments platform to Kubernetes within 6 months"],
    )
    target_skills: list[Slug] = Field(min_length=1, max_length=20, examples=[["kubernetes"]])
    timeframe_months: int = Field(ge=1, le=36, examples=[6])
    target_industries: list[Slug] = Field(default_factory=list, max_length=10)
    target_functions: list[Slug] = Field(default_factory=list, max_length=10)
    background_preference: Literal["similar", "different", "no_preference"] = Field(
        default="no_preference",
        description="A mentor with a similar background, or one with a different perspective.",
    )
    preferred_styles: list[MentoringStyle] = Field(default_factory=list, max_length=6)
    criteria: CriteriaWeights = Field(default_factory=CriteriaWeights)
    musts: Musts = Field(
        default_factory=Musts,
        description="Hard requirements beside the weights: a mentor lacking one is never "
        "proposed for this goal. Default: no musts.",
        examples=[{"languages": ["de"], "industries": [], "styles": ["sounding_board"]}],
    )


class GoalSetPayload(GoalFields):
    mentee_id: UserId
    version: int = Field(ge=1, description="Per-mentee goal version; older ones are ignored.")


class GoalSet(EventEnvelope):
    """A mentee set or changed their goal; matching ranks mentors for it."""

    event_type: Literal["GoalSet"] = "GoalSet"
    schema_version: Literal[1] = 1
    payload: GoalSetPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        return self

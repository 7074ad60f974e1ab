"""GoalSet and GoalClosed: the goals a mentee holds, each with its own id and lifecycle.

A mentee may hold several goals (per-tenant limit, default 3). Version 2 of `GoalSet` keys a
goal by (tenant, mentee, goal_id) and carries its `horizon`. Version 1, from producers older
than several goals, meant "the mentee's one goal": it still validates and is read as the goal
`DEFAULT_GOAL_ID` (its own `goal_id` is replaced), so a v1 event updates the same goal the old
single-goal route writes (docs/adr/0012-several-goals-per-mentee.md).
"""

from __future__ import annotations

from typing import Any, Literal, Self

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


DEFAULT_GOAL_ID = "default"
GOAL_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
Horizon = Literal["career", "role", "project"]
HORIZONS: tuple[str, ...] = ("career", "role", "project")


class GoalFields(BaseModel):
    """What a mentee states about their goal; the profile service adds mentee id and version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goal_id: str = Field(
        default=DEFAULT_GOAL_ID,
        min_length=1,
        max_length=64,
        pattern=GOAL_ID_PATTERN,
        description="Names the goal among the mentee's goals. The per-goal routes take it from "
        "the path; the single-goal route and v1 events always mean `default`.",
        examples=["platform-lead"],
    )
    horizon: Horizon = Field(
        default="career",
        description="How long a mentor is wanted for: a whole career, one role, or one project.",
        examples=["project"],
    )
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
    version: int = Field(
        ge=1,
        description="The goal's version, per (mentee, goal_id), counting its GoalSet and "
        "GoalClosed events; older ones are ignored.",
    )


def _as_default_goal(data: Any) -> Any:
    """A v1 event's payload read as the mentee's default goal (v1 knew one goal per mentee)."""
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        return data
    payload = data.get("payload")
    if isinstance(payload, dict):
        payload = {**payload, "goal_id": DEFAULT_GOAL_ID}
        payload.pop("horizon", None)  # v1 had none: the default (career)
    elif isinstance(payload, GoalSetPayload):
        payload = payload.model_copy(update={"goal_id": DEFAULT_GOAL_ID, "horizon": "career"})
    return {**data, "payload": payload}


class GoalSet(EventEnvelope):
    """A mentee set or changed one of their goals; matching ranks mentors for it.

    Version 2 (what the profile service publishes) names the goal by `goal_id` and carries its
    `horizon`. Version 1 is still read: its payload becomes the goal `default` with horizon
    `career`, whatever `goal_id` it carried.
    """

    event_type: Literal["GoalSet"] = "GoalSet"
    schema_version: Literal[1, 2] = Field(
        default=2, description="2 since several goals per mentee; 1 is read as the default goal."
    )
    payload: GoalSetPayload

    @model_validator(mode="before")
    @classmethod
    def _upcast_v1(cls, data: Any) -> Any:
        return _as_default_goal(data)

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        return self


ClosingReason = Literal["achieved", "abandoned", "replaced"]


class GoalClosedPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mentee_id: UserId
    goal_id: str = Field(min_length=1, max_length=64, pattern=GOAL_ID_PATTERN)
    version: int = Field(
        ge=2,
        description="The goal's next version after its last GoalSet: consumers order it with "
        "the goal's GoalSet events and ignore older ones.",
    )
    reason: ClosingReason = Field(
        description="`achieved`, `abandoned` (the mentee deleted it) or `replaced`.",
        examples=["abandoned"],
    )


class GoalClosed(EventEnvelope):
    """A mentee's goal ended: matching drops its ranking and proposes nothing more for it. A
    later GoalSet with a higher version for the same goal id opens it again."""

    event_type: Literal["GoalClosed"] = "GoalClosed"
    schema_version: Literal[1] = 1
    payload: GoalClosedPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        return self

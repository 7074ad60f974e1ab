"""The integrators' read API over matching (ADR 0011): current proposals, why a mentor is not
proposed, and what other weights would give.

The profile service is the public edge: it authenticates the tenant's API key and forwards the
read to matching's internal routes below, with the tenant taken from the key, never from the
caller. Both sides speak these models; matching computes, profile relays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.goals import CriteriaWeights
from shared.contracts.matches import CriterionReason
from shared.contracts.musts import Musts
from shared.contracts.types import DisplayText, UserId

# Matching's internal routes (not published outside the cluster; bearer MATCHING_READ_TOKEN).
INTERNAL_PREFIX = "/internal/v1/tenants/{tenant_id}/mentees/{mentee_id}/goals/{goal_id}"
PROPOSALS_PATH = INTERNAL_PREFIX + "/proposals"
EXPLAIN_PATH = INTERNAL_PREFIX + "/explain"
PREVIEW_PATH = INTERNAL_PREFIX + "/preview"
PAGE_SIZE_MAX = 50


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionScore(_Strict):
    criterion: str = Field(max_length=32, examples=["skills"])
    contribution: float = Field(
        description="This criterion's share of the score (weight * similarity / weight total); "
        "the contributions sum to the score.",
        examples=[0.4167],
    )


class RankedMentor(_Strict):
    mentor_id: UserId
    display_name: DisplayText
    headline: DisplayText | None = None
    rank: int = Field(ge=1)
    score: float = Field(ge=0, examples=[0.7312])
    contributions: list[CriterionScore] = Field(
        description="Every criterion, in the scoring order (docs/adr/0005)."
    )
    reasons: list[CriterionReason] = Field(
        description="The sentences the proposal email gives for this mentor."
    )


class ProposalsPage(_Strict):
    mentee_id: UserId
    goal_id: str
    proposal_id: UUID | None = Field(
        description="The proposal these mentors were sent in; null before the first one."
    )
    ranking_version: int = Field(
        ge=0, description="Grows with every proposal for this goal (per mentee and goal_id)."
    )
    proposed_at: datetime | None = None
    waiting: bool = Field(
        default=False,
        description="On the waiting list: the goal is open, no relationship for it is active, "
        "and nobody suitable can be proposed now (its current proposal is empty). Its next "
        "proposal follows as soon as a suitable mentor appears or frees a seat.",
    )
    paused: bool = Field(
        default=False,
        description="The goal receives no proposals now: a relationship for it is active.",
    )
    items: list[RankedMentor]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


ExclusionRule = Literal[
    "same_person",
    "reporting_line",
    "declined",
    "in_relationship",
    "not_again_for_goal",
    "goal_waiting",
    "not_a_mentor",
    "not_taking_mentees",
    "no_free_seat",
    "no_goal_skill",
    "unmet_must",
    "exposure_cap",
]


class Exclusion(_Strict):
    rule: ExclusionRule = Field(
        description="The hard rule that keeps this mentor out (docs/integrators.md lists them)."
    )
    detail: str = Field(
        max_length=300, examples=["Grace Hopper has no free seat: 2 of 2 are taken"]
    )


class ScoreLine(_Strict):
    mentor_id: UserId
    display_name: DisplayText
    score: float
    rank: int | None = Field(description="Place in the current proposal; null if not in it.")


class CriterionComparison(_Strict):
    criterion: str = Field(max_length=32)
    mentor: float = Field(description="The asked-about mentor's contribution.")
    last_proposed: float | None = Field(
        description="The last proposed mentor's contribution; null when nobody is proposed."
    )


class Explanation(_Strict):
    mentor_id: UserId
    proposed: bool = Field(description="The mentor is in the current proposal.")
    excluded_by: Exclusion | None = Field(
        description="Set when a hard rule excludes the mentor; then there is no comparison."
    )
    summary: str = Field(max_length=400, description="The answer in one sentence.")
    mentor: ScoreLine | None = None
    last_proposed: ScoreLine | None = None
    criteria: list[CriterionComparison] = Field(default_factory=list)
    reasons: list[CriterionReason] = Field(default_factory=list)


class PreviewRequest(_Strict):
    """Other weights (and musts) for the same goal: the ranking they would give, and nothing
    else."""

    criteria: CriteriaWeights = Field(
        description="0 (ignore) to 1 (essential) per criterion; at least one above 0."
    )
    musts: Musts | None = Field(
        default=None,
        description="Other must-haves to try instead of the goal's own; left out, the goal's own"
        " musts hold. `{}` tries the goal with none.",
        examples=[{"languages": ["de"]}],
    )

    @field_validator("criteria")
    @classmethod
    def _some_weight(cls, criteria: CriteriaWeights) -> CriteriaWeights:
        # Each weight is already a number from 0 to 1 (NaN and infinities fail that too);
        # all of them 0 would rank by nothing.
        if not any(w > 0 for w in criteria.model_dump().values()):
            raise ValueError("at least one weight must be above 0")
        return criteria


class Preview(_Strict):
    mentee_id: UserId
    goal_id: str
    waiting: bool = Field(
        description="A relationship for this goal is active: it receives no proposals now "
        "(ProposalsPage.paused)."
    )
    items: list[RankedMentor] = Field(description="The ranking these weights would give.")

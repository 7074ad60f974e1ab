"""MatchProposed: a ranked choice of mentors for one mentee's goal."""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.preferences import Adjustment
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


class MustAlternative(_Strict):
    mentor_id: UserId
    display_name: DisplayText
    headline: DisplayText | None = None


class UnmetMust(_Strict):
    """One of the goal's musts, when no mentor meets them all: whether anyone meets it, and
    whom the mentee could get by dropping it."""

    kind: Literal["languages", "industries", "styles"] = Field(
        description="Which list of the goal's `musts` it is in.", examples=["languages"]
    )
    value: str = Field(max_length=64, examples=["de"])
    met_by_nobody: bool = Field(
        description="True: no mentor with a free seat and one of the goal's skills meets this "
        "must, even on its own."
    )
    alternatives: list[MustAlternative] = Field(
        default_factory=list,
        max_length=3,
        description="Without this must (the others kept): the best-scored mentors with a free "
        "seat and one of the goal's skills who meet the other musts, best first. Empty: "
        "dropping this must alone would not help.",
    )


CauseKind = Literal[
    "goal_set",
    "goal_changed",
    "preferences_changed",
    "preferences_adjusted",
    "profile_changed",
    "proposal_declined",
    "request_declined",
    "request_expired",
    "relationship_ended",
    "others_changed",
]


class ProposalCause(_Strict):
    """What made this proposal, so the email can say in one line what changed."""

    kind: CauseKind = Field(
        description="`goal_set`: a new goal. `goal_changed`: the same goal restated (statement, "
        "skills, timeframe). `preferences_changed`: the mentee changed weights, styles or "
        "background preference. `preferences_adjusted`: the learning rule changed them after an "
        "ending or a decline (see `adjustment`). `profile_changed`: the mentee's profile. "
        "`proposal_declined`: the mentee said 'Not for me'. `request_declined` / "
        "`request_expired`: the mentor said 'Not now' or did not answer in time. "
        "`relationship_ended`: the mentee's relationship ended. `others_changed`: other people "
        "(mentors joining, leaving or filling up).",
        examples=["request_declined"],
    )
    changed: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="With `goal_changed` / `preferences_changed`: the goal fields that changed.",
        examples=[["preferred_styles"]],
    )
    mentor_id: UserId | None = Field(
        default=None, description="The mentor the cause is about (who declined, who ended)."
    )
    mentor_name: DisplayText | None = Field(default=None, examples=["Grace Hopper"])
    adjustment: Adjustment | None = Field(
        default=None, description="With `preferences_adjusted`: what the learning rule changed."
    )


class MatchProposedPayload(_Strict):
    """One goal's proposal: matching ranks each open goal of a mentee apart and publishes one
    MatchProposed per (tenant, mentee, goal_id). A goal with nobody to propose gets an empty
    `mentors` list whenever it becomes empty, its first ranking included: it is on the waiting
    list, and the next proposal follows when a suitable mentor appears or frees a seat."""

    mentee_id: UserId
    goal_id: str = Field(max_length=64, description="The goal this proposal answers.")
    proposal_id: UUID = Field(
        description="Identifies this proposal; notifications email each once."
    )
    ranking_version: int = Field(
        ge=1,
        description="Monotonic per (mentee, goal_id): a lower one for the same goal is stale. "
        "Order and deduplicate proposals per goal, never per mentee (each goal counts its own).",
    )
    mentors: list[ProposedMentor] = Field(max_length=20)
    awaited: bool = Field(
        default=True,
        description="True when the mentee is waiting for this proposal: it answers their own "
        "event (a goal, their profile, a decline or an accept), is the first for the goal, or "
        "is the first with mentors after an empty one. False when other people's changes "
        "(a mentor's profile or seats, a fuller mentor list) refreshed a proposal they "
        "already have. Notifications sends awaited proposals first.",
        examples=[True],
    )
    cause: ProposalCause | None = Field(
        default=None,
        description="What made this proposal (schema version 2). None in version 1 records.",
    )
    unmet_musts: list[UnmetMust] = Field(
        default_factory=list,
        max_length=9,
        description="Set only on an empty proposal whose goal has musts that no mentor with a "
        "free seat meets together, while mentors without those musts exist: each must, "
        "whether anyone meets it, and whom dropping it would give (schema version 3). "
        "Empty otherwise, and in older records.",
    )


class MatchProposed(EventEnvelope):
    """Version 2 added `cause`, version 3 `unmet_musts`; older records still validate."""

    event_type: Literal["MatchProposed"] = "MatchProposed"
    schema_version: Literal[1, 2, 3] = 3
    payload: MatchProposedPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        return self

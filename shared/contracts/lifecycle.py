"""The relationship lifecycle: a mentee asks, the mentor answers, a relationship starts and ends.

The profile service owns every relationship and publishes these events through its outbox. They
travel on the feedback topic, keyed by the mentee id, so they share a partition (and its order)
with that mentee's goals and answers to proposals. One `request_id` names a relationship for its
whole life, from the request to its end; `version` orders that relationship's events, so a
consumer applies each relationship's newest state and drops repeats and stragglers.

Seats are counted in one place, the profile service: a held request or an active relationship
takes one of the mentor's seats, and the mentor's `ProfileUpdated` carries `seats_taken`.
"""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.types import UserId, UtcDatetime

GoalId = str
GOAL_ID_FIELD = Field(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", examples=["goal-k8s"])

EndingReason = Literal["style", "availability", "expertise", "chemistry", "goal_reached", "other"]
ENDING_REASONS: tuple[EndingReason, ...] = (
    "style",
    "availability",
    "expertise",
    "chemistry",
    "goal_reached",
    "other",
)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RelationshipPayload(_Strict):
    """Who, for which goal, and which relationship this is."""

    request_id: UUID = Field(
        description="Names the relationship from the request to its end.",
        examples=["0b7e4c8e-9a51-4d0c-8a0f-2f0d9d1f5b11"],
    )
    mentee_id: UserId
    mentor_id: UserId
    goal_id: GoalId = GOAL_ID_FIELD
    version: int = Field(
        ge=1,
        description="Per-relationship version, increasing with every event of this relationship; "
        "an older or repeated one changes nothing.",
        examples=[1],
    )


class _RelationshipEvent(EventEnvelope):
    payload: RelationshipPayload

    @model_validator(mode="after")
    def _key_is_mentee(self) -> Self:
        if self.key != self.payload.mentee_id:
            raise ValueError("key must equal payload.mentee_id")
        if self.payload.mentee_id == self.payload.mentor_id:
            raise ValueError("mentee_id and mentor_id must differ")
        return self


class MatchRequestedPayload(RelationshipPayload):
    proposal_id: UUID = Field(description="The proposal whose 'Request an intro' link was used.")
    deadline: UtcDatetime = Field(
        description="The mentor's answer is awaited until then; after it the request expires.",
        examples=["2026-12-11T18:42:00Z"],
    )


class MatchRequested(_RelationshipEvent):
    """A mentee asked a proposed mentor for an introduction; one of the mentor's seats is held."""

    event_type: Literal["MatchRequested"] = "MatchRequested"
    schema_version: Literal[1] = 1
    payload: MatchRequestedPayload


class RequestReminded(_RelationshipEvent):
    """Half the deadline passed without an answer: the mentor is reminded once."""

    event_type: Literal["RequestReminded"] = "RequestReminded"
    schema_version: Literal[1] = 1
    payload: MatchRequestedPayload


class MatchStartedPayload(RelationshipPayload):
    fit_check_at: UtcDatetime = Field(
        description="When both are asked whether the relationship is going well.",
        examples=["2026-12-20T18:42:00Z"],
    )


class MatchStarted(_RelationshipEvent):
    """The mentor accepted: the relationship is active and the two are introduced."""

    event_type: Literal["MatchStarted"] = "MatchStarted"
    schema_version: Literal[1] = 1
    payload: MatchStartedPayload


class RequestDeclinedPayload(RelationshipPayload):
    declined_by: Literal["mentor", "mentor_left"] = Field(
        default="mentor",
        description="`mentor`: the mentor answered 'Not now'. `mentor_left`: the mentor's "
        "profile was erased or closed to mentees while the request waited.",
    )


class RequestDeclined(_RelationshipEvent):
    """The mentor said 'Not now' (or left): the seat is free, the mentee is matched again."""

    event_type: Literal["RequestDeclined"] = "RequestDeclined"
    schema_version: Literal[1] = 1
    payload: RequestDeclinedPayload


class RequestExpired(_RelationshipEvent):
    """The deadline passed without an answer: the seat is free, the mentee is matched again."""

    event_type: Literal["RequestExpired"] = "RequestExpired"
    schema_version: Literal[1] = 1
    payload: MatchRequestedPayload


class FitCheckRequested(_RelationshipEvent):
    """Some days into the relationship, both are asked whether it is going well."""

    event_type: Literal["FitCheckRequested"] = "FitCheckRequested"
    schema_version: Literal[1] = 1
    payload: RelationshipPayload


class MatchEndedPayload(RelationshipPayload):
    ended_by: Literal["mentee", "mentor", "integrator", "system"] = Field(
        description="Who ended it; `system` when one of the two was erased."
    )
    reason: EndingReason | None = Field(
        default=None, description="Why, as chosen by the one who ended it.", examples=["style"]
    )
    rating: int | None = Field(default=None, ge=1, le=5, description="Optional 1-5 rating.")
    never_again: bool = Field(
        default=False, description="'Don't match us again': the pair is never proposed again."
    )


class MatchEnded(_RelationshipEvent):
    """The relationship is over: the mentor's seat is free."""

    event_type: Literal["MatchEnded"] = "MatchEnded"
    schema_version: Literal[1] = 1
    payload: MatchEndedPayload


LifecycleEvent = (
    MatchRequested
    | RequestReminded
    | MatchStarted
    | RequestDeclined
    | RequestExpired
    | FitCheckRequested
    | MatchEnded
)
LIFECYCLE_EVENTS: tuple[type[EventEnvelope], ...] = (
    MatchRequested,
    RequestReminded,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    FitCheckRequested,
    MatchEnded,
)

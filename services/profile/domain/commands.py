"""What callers ask the profile service to do (HTTP, ingress topic, CSV import, email links)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.profile.domain.relationships import Ending, FitAnswer
from shared.contracts.goals import ClosingReason, GoalFields
from shared.contracts.profiles import ProfileFields


@dataclass(frozen=True)
class UpsertProfile:
    tenant_id: str
    user_id: str
    fields: ProfileFields
    expected_version: int | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class SetGoal:
    tenant_id: str
    mentee_id: str
    fields: GoalFields
    correlation_id: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class DeleteProfile:
    tenant_id: str
    user_id: str
    expected_version: int | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class RequestIntro:
    """The mentee followed "Request an intro" in a proposal email."""

    tenant_id: str
    mentee_id: str
    mentor_id: str
    proposal_id: UUID
    goal_id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class DeclineProposal(RequestIntro):
    """The mentee followed "Not for me" in a proposal email, perhaps with a reason."""

    reason: str | None = None  # one of MatchDeclined v2's reasons


@dataclass(frozen=True)
class Unsubscribe:
    """The person asked for no more email; sticky until they opt in again themselves."""

    tenant_id: str
    user_id: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class AnswerRequest:
    """The mentor followed "Accept" or "Not now" in the request email."""

    tenant_id: str
    request_id: UUID
    mentor_id: str
    accepted: bool
    correlation_id: str | None = None


@dataclass(frozen=True)
class EndRelationship:
    """Either side (link) or an integrator (API) ends a relationship.

    `learn` says whether the reason speaks for the mentee, and so feeds the learning rule."""

    tenant_id: str
    request_id: UUID
    ending: Ending
    actor_id: str | None = None  # the person following a link; None for an integrator
    learn: bool = False
    correlation_id: str | None = None


@dataclass(frozen=True)
class AnswerFit:
    tenant_id: str
    request_id: UUID
    actor_id: str
    answer: FitAnswer


@dataclass(frozen=True)
class UndoAdjustment:
    tenant_id: str
    mentee_id: str
    adjustment_id: UUID
    correlation_id: str | None = None


@dataclass(frozen=True)
class CloseGoal:
    tenant_id: str
    mentee_id: str
    goal_id: str
    reason: ClosingReason = "abandoned"
    correlation_id: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class WidenGoal:
    """The mentee followed "Widen my criteria" in the email that found nobody for `goal_id`."""

    tenant_id: str
    mentee_id: str
    goal_id: str
    proposal_id: UUID
    correlation_id: str | None = None

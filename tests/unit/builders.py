"""Small builders of valid contract objects for unit tests (override any field by keyword)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from shared.contracts.goals import (
    GoalClosed,
    GoalClosedPayload,
    GoalFields,
    GoalSet,
    GoalSetPayload,
)
from shared.contracts.matches import (
    CriterionReason,
    MatchProposed,
    MatchProposedPayload,
    ProposedMentor,
)
from shared.contracts.profiles import (
    ProfileDeleted,
    ProfileDeletedPayload,
    ProfileFields,
    ProfilePayload,
    ProfileUpdated,
)

TENANT = "acme"


def profile_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "roles": ["mentor"],
        "display_name": "Grace Hopper",
        "email": "grace@example.org",
        "skills": [{"name": "kubernetes", "level": 5}],
        "capacity": 3,
    }
    fields.update(overrides)
    return fields


def mentor(user_id: str, version: int = 1, **overrides: Any) -> ProfilePayload:
    return ProfilePayload.model_validate(
        {**profile_fields(**overrides), "user_id": user_id, "version": version}
    )


def mentee(user_id: str, version: int = 1, **overrides: Any) -> ProfilePayload:
    defaults: dict[str, Any] = {
        "roles": ["mentee"],
        "display_name": "Ada Lovelace",
        "email": "ada@example.org",
        "skills": [],
        "capacity": 0,
    }
    return ProfilePayload.model_validate(
        {**profile_fields(**{**defaults, **overrides}), "user_id": user_id, "version": version}
    )


def goal_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "goal_id": "g1",
        "statement": "Lead our migration to Kubernetes",
        "target_skills": ["kubernetes"],
        "timeframe_months": 6,
    }
    fields.update(overrides)
    return fields


def goal(mentee_id: str, version: int = 1, **overrides: Any) -> GoalSetPayload:
    return GoalSetPayload.model_validate(
        {**goal_fields(**overrides), "mentee_id": mentee_id, "version": version}
    )


def in_tenant(envelope: dict[str, Any]) -> dict[str, Any]:
    """Envelope fields for a builder: TENANT unless the test names another."""
    return {"tenant_id": TENANT, **envelope}


def profile_updated(payload: ProfilePayload, **envelope: Any) -> ProfileUpdated:
    return ProfileUpdated(**in_tenant(envelope), key=payload.user_id, payload=payload)


def profile_deleted(user_id: str, **envelope: Any) -> ProfileDeleted:
    payload = ProfileDeletedPayload(user_id=user_id)
    return ProfileDeleted(**in_tenant(envelope), key=user_id, payload=payload)


def goal_set(payload: GoalSetPayload, **envelope: Any) -> GoalSet:
    return GoalSet(**in_tenant(envelope), key=payload.mentee_id, payload=payload)


def goal_closed(
    mentee_id: str, goal_id: str, version: int = 2, reason: str = "abandoned", **envelope: Any
) -> GoalClosed:
    payload = GoalClosedPayload.model_validate(
        {"mentee_id": mentee_id, "goal_id": goal_id, "version": version, "reason": reason}
    )
    return GoalClosed(**in_tenant(envelope), key=mentee_id, payload=payload)


def proposal(mentee_id: str = "u-mentee", **overrides: Any) -> MatchProposedPayload:
    fields: dict[str, Any] = {
        "mentee_id": mentee_id,
        "goal_id": "g1",
        "proposal_id": uuid4(),
        "ranking_version": 1,
        "mentors": [
            ProposedMentor(
                mentor_id="u-grace",
                display_name="Grace Hopper",
                headline="Principal engineer",
                rank=1,
                score=1.0,
                reasons=[
                    CriterionReason(
                        criterion="skills",
                        contribution=1.0,
                        explanation="expert in kubernetes, one of your goal skills",
                    )
                ],
            )
        ],
    }
    fields.update(overrides)
    return MatchProposedPayload.model_validate(fields)


def match_proposed(payload: MatchProposedPayload, **envelope: Any) -> MatchProposed:
    return MatchProposed(**in_tenant(envelope), key=payload.mentee_id, payload=payload)


def as_profile_fields(**overrides: Any) -> ProfileFields:
    return ProfileFields.model_validate(profile_fields(**overrides))


def as_goal_fields(**overrides: Any) -> GoalFields:
    return GoalFields.model_validate(goal_fields(**overrides))

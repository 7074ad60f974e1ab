from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.goals import GoalFields
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

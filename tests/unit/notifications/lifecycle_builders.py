"""Lifecycle events for tests: one relationship of mentee `u-ada` with mentor `u-grace`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from shared.contracts.lifecycle import (
    FitCheckRequested,
    MatchEnded,
    MatchEndedPayload,
    MatchRequested,
    MatchRequestedPayload,
    MatchStarted,
    MatchStartedPayload,
    RelationshipPayload,
    RequestDeclined,
    RequestDeclinedPayload,
    RequestExpired,
    RequestReminded,
)
from tests.unit.builders import TENANT

NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)


@dataclass
class Relationship:
    mentee_id: str = "u-ada"
    mentor_id: str = "u-grace"
    goal_id: str = "g1"
    proposal_id: UUID = field(default_factory=uuid4)
    request_id: UUID = field(default_factory=uuid4)
    tenant_id: str = TENANT

    def _base(self, version: int) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "mentee_id": self.mentee_id,
            "mentor_id": self.mentor_id,
            "goal_id": self.goal_id,
            "version": version,
        }

    def _envelope(self, **envelope: Any) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "key": self.mentee_id, **envelope}

    def _asking(self, version: int) -> MatchRequestedPayload:
        return MatchRequestedPayload(
            **self._base(version),
            proposal_id=self.proposal_id,
            deadline=NOW + timedelta(days=5),
        )

    def requested(self, version: int = 1, **envelope: Any) -> MatchRequested:
        return MatchRequested(**self._envelope(**envelope), payload=self._asking(version))

    def reminded(self, version: int = 2, **envelope: Any) -> RequestReminded:
        return RequestReminded(**self._envelope(**envelope), payload=self._asking(version))

    def declined(self, version: int = 2, **envelope: Any) -> RequestDeclined:
        payload = RequestDeclinedPayload(**self._base(version))
        return RequestDeclined(**self._envelope(**envelope), payload=payload)

    def expired(self, version: int = 2, **envelope: Any) -> RequestExpired:
        return RequestExpired(**self._envelope(**envelope), payload=self._asking(version))

    def started(self, version: int = 2, **envelope: Any) -> MatchStarted:
        payload = MatchStartedPayload(**self._base(version), fit_check_at=NOW + timedelta(days=14))
        return MatchStarted(**self._envelope(**envelope), payload=payload)

    def fit_check(self, version: int = 3, **envelope: Any) -> FitCheckRequested:
        payload = RelationshipPayload(**self._base(version))
        return FitCheckRequested(**self._envelope(**envelope), payload=payload)

    def ended(self, by: str = "mentee", version: int = 4, **envelope: Any) -> MatchEnded:
        payload = MatchEndedPayload(**self._base(version), ended_by=by, reason="style")  # type: ignore[arg-type]
        return MatchEnded(**self._envelope(**envelope), payload=payload)

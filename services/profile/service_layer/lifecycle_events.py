"""The lifecycle event a relationship's new state publishes (shared/contracts/lifecycle.py)."""

from __future__ import annotations

from typing import Any

from services.profile.domain.relationships import Relationship
from shared.contracts.lifecycle import (
    FitCheckRequested,
    LifecycleEvent,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    RequestReminded,
)


def _common(r: Relationship) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "mentee_id": r.mentee_id,
        "mentor_id": r.mentor_id,
        "goal_id": r.goal_id,
        "version": r.version,
    }


def _with_proposal(r: Relationship) -> dict[str, Any]:
    assert r.proposal_id is not None  # a request always comes from a proposal's link
    return {**_common(r), "proposal_id": r.proposal_id, "deadline": r.deadline}


def event_for(
    r: Relationship,
    correlation_id: str | None,
    *,
    reminded: bool = False,
    mentor_left: bool = False,
) -> LifecycleEvent:
    """The event that announces `r` as it is now."""
    envelope: dict[str, Any] = {
        "tenant_id": r.tenant_id,
        "key": r.mentee_id,
        "correlation_id": correlation_id,
    }
    if r.state == "requested" and reminded:
        return RequestReminded(payload=_with_proposal(r), **envelope)
    if r.state == "requested":
        return MatchRequested(payload=_with_proposal(r), **envelope)
    if r.state == "active" and r.fit_checked_at is not None:
        return FitCheckRequested(payload=_common(r), **envelope)
    if r.state == "active":
        return MatchStarted(payload={**_common(r), "fit_check_at": r.fit_check_at}, **envelope)
    if r.state == "declined":
        declined_by = "mentor_left" if mentor_left else "mentor"
        return RequestDeclined(payload={**_common(r), "declined_by": declined_by}, **envelope)
    if r.state == "expired":
        return RequestExpired(payload=_with_proposal(r), **envelope)
    ending = {
        "ended_by": r.ended_by,
        "reason": r.reason,
        "rating": r.rating,
        "never_again": r.never_again,
    }
    return MatchEnded(payload={**_common(r), **ending}, **envelope)

"""Whether an open goal is on the waiting list: matching ranks, so only matching knows whether
it found anyone suitable. The goal API asks it through the read forwarding (ADR 0011) for the
goal's proposals read, whose `waiting` is the one definition, and answers even when matching
cannot be reached.

`waiting` in the goal API means:
- `true`: matching's current proposal for the goal names nobody (nobody suitable, the musts met
  by nobody, or everyone declined): the mentee was sent the waiting-list email for it, and the
  next proposal follows when a suitable mentor appears;
- `false`: matching proposed mentors for the goal (a goal with an active relationship keeps its
  last proposal), or has not ranked it yet;
- `null`: matching could not be asked (no address configured, unreachable, too slow, or an
  error): the goal API does not know, and says so rather than fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import Request

from services.profile.adapters.matching_reads import MatchingReads, MatchingUnavailable
from services.profile.entrypoints.http_reads import matching_path
from shared.contracts.reads import PROPOSALS_PATH, ProposalsPage


async def goal_waiting(
    request: Request, tenant: str, mentee_id: str, goal_id: str, correlation: str
) -> bool | None:
    reads: MatchingReads | None = getattr(request.app.state, "matching_reads", None)
    if reads is None:
        return None
    path = matching_path(PROPOSALS_PATH, tenant, mentee_id, goal_id)
    try:
        answer = await reads.ask("GET", path, {"limit": 1}, None, correlation)
    except MatchingUnavailable:
        return None
    if answer.status == 404:
        return False  # matching holds no ranking of this goal yet
    if answer.status != 200:
        return None
    return ProposalsPage.model_validate(answer.body).waiting


async def goals_waiting(
    request: Request, tenant: str, mentee_id: str, goal_ids: Sequence[str], correlation: str
) -> list[bool | None]:
    """`goal_waiting` of each goal, asked together (a mentee holds a few goals at most)."""
    return list(
        await asyncio.gather(
            *(goal_waiting(request, tenant, mentee_id, g, correlation) for g in goal_ids)
        )
    )

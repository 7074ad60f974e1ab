"""What the engines hold, as metrics counted when /metrics is scraped (a walk over the owned
engines, no query): the waiting list (goals with no mentor to propose) and the mentors a goal
can be ranked against."""

from __future__ import annotations

from services.matching.domain.engine.tenant import waiting_goals
from services.matching.service_layer.handlers import Matching
from shared.metrics import GOALS_WAITING, MENTORS_HELD, Refresher

SERVICE = "matching"


def waiting_refresher(matching: Matching) -> Refresher:
    async def refresh() -> None:
        engines = list(matching.engines.values())
        GOALS_WAITING.labels(SERVICE).set(sum(len(waiting_goals(e)) for e in engines))

    return refresh


def mentors_refresher(matching: Matching) -> Refresher:
    async def refresh() -> None:
        engines = list(matching.engines.values())
        MENTORS_HELD.labels(SERVICE).set(sum(len(e.search.mentors.slots.slot_of) for e in engines))

    return refresh

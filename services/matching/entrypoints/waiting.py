"""The waiting list as a metric: goals with no mentor to propose, counted when /metrics is
scraped (a walk over the owned engines' goals, no query)."""

from __future__ import annotations

from services.matching.domain.engine.tenant import waiting_goals
from services.matching.service_layer.handlers import Matching
from shared.metrics import GOALS_WAITING, Refresher

SERVICE = "matching"


def waiting_refresher(matching: Matching) -> Refresher:
    async def refresh() -> None:
        engines = list(matching.engines.values())
        GOALS_WAITING.labels(SERVICE).set(sum(len(waiting_goals(e)) for e in engines))

    return refresh

"""/metrics answers while a dependency its scrape-time gauges ask is out of reach.

The consumer-lag gauge asks the group coordinator for committed offsets, and aiokafka retries
that until a coordinator answers: with the coordinator's node frozen, a scrape waited as long as
the node stayed silent (`make bench-failover`: one service's counters unreadable for 22-24 s
at every frozen leader). A scrape must answer with the last known values instead.
"""

from __future__ import annotations

import asyncio

from prometheus_client import Gauge

from shared.metrics import REFRESH_TIMEOUT_S, render

SEEN = Gauge("mentorlink_test_scrape_seen", "A gauge a quick refresher sets.", ["service"])


async def test_a_refresher_that_never_returns_does_not_hold_the_scrape() -> None:
    async def silent_dependency() -> None:
        await asyncio.Event().wait()  # a coordinator that never answers

    async def quick() -> None:
        SEEN.labels("test").set(7)

    body, _ = await asyncio.wait_for(
        render({"consumer_lag": silent_dependency, "backlog": quick}),
        timeout=REFRESH_TIMEOUT_S + 5.0,
    )
    assert b'mentorlink_test_scrape_seen{service="test"} 7.0' in body


async def test_a_slow_refresher_keeps_its_last_value() -> None:
    SEEN.labels("slow").set(3)

    async def slow() -> None:
        await asyncio.sleep(REFRESH_TIMEOUT_S * 20)
        SEEN.labels("slow").set(4)

    body, _ = await asyncio.wait_for(render({"slow": slow}), timeout=REFRESH_TIMEOUT_S + 5.0)
    assert b'mentorlink_test_scrape_seen{service="slow"} 3.0' in body

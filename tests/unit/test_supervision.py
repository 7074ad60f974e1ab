"""Background loops are restarted with backoff, and /healthz fails while one is down or stuck."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from shared.http.health import health_router
from shared.metrics import LOOP_RESTARTS
from shared.supervision import Heartbeat, SupervisionPolicy, Supervisor, supervisor
from tests.support.polling import eventually

FAST = SupervisionPolicy(
    restart_base_s=0.01, restart_max_s=0.04, stable_after_s=0.3, unhealthy_after_s=0.2
)


@pytest.fixture
async def loops() -> AsyncIterator[Supervisor]:
    async with supervisor("svc", FAST) as running:
        yield running


async def healthz(loops: Supervisor) -> httpx.Response:
    app = FastAPI()
    app.include_router(health_router({}, loops))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get("/healthz")


def test_restart_backoff_doubles_up_to_its_cap() -> None:
    policy = SupervisionPolicy(restart_base_s=1, restart_max_s=8)
    assert [policy.restart_delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]


async def test_a_crashed_loop_is_restarted_and_counted(loops: Supervisor) -> None:
    starts: list[int] = []
    before = LOOP_RESTARTS.labels("svc", "flaky")._value.get()

    async def flaky(beat: Heartbeat) -> None:
        starts.append(1)
        if len(starts) < 3:
            raise RuntimeError("read-only transaction")  # an error nobody classified
        while True:
            await beat.sleep(0.01)

    loops.start("flaky", flaky)
    await eventually(lambda: len(starts) == 3 and loops.running(), timeout=5, what="restarts")
    assert loops.restarts("flaky") == 2
    assert LOOP_RESTARTS.labels("svc", "flaky")._value.get() - before == 2
    assert (await healthz(loops)).status_code == 200


async def test_a_loop_that_keeps_crashing_fails_liveness(loops: Supervisor) -> None:
    async def broken(beat: Heartbeat) -> None:
        raise RuntimeError("always")

    loops.start("broken", broken)
    assert (await healthz(loops)).status_code == 200  # not yet past the limit
    response = await eventually(
        lambda: _unhealthy(loops), timeout=5, what="liveness failing for a dead loop"
    )
    assert "broken" in response.json()["loops"]
    assert response.json()["loops"]["broken"].startswith("down for")


async def test_a_loop_that_returns_is_restarted_too(loops: Supervisor) -> None:
    runs: list[int] = []

    async def returns(beat: Heartbeat) -> None:
        runs.append(1)

    loops.start("returns", returns)
    await eventually(lambda: len(runs) >= 2, timeout=5, what="restart after return")


async def test_a_stuck_loop_fails_liveness(loops: Supervisor) -> None:
    stuck = asyncio.Event()

    async def hangs(beat: Heartbeat) -> None:
        beat.beat()
        await stuck.wait()  # e.g. a query to a black-holed database, without a timeout

    loops.start("hangs", hangs)
    response = await eventually(lambda: _unhealthy(loops), timeout=5, what="stuck detected")
    assert response.json()["loops"]["hangs"].startswith("no heartbeat for")


async def test_an_announced_long_sleep_is_not_stuck() -> None:
    now = [0.0]
    loops = Supervisor("svc", FAST, clock=lambda: now[0])
    sleeping = asyncio.Event()

    async def hourly(beat: Heartbeat) -> None:
        while True:
            sleeping.set()
            await beat.sleep(3600)

    loops.start("hourly", hourly)
    try:
        await eventually(sleeping.is_set, timeout=5, what="loop asleep")
        now[0] += 3600
        assert loops.problems() == {}
        now[0] += 1  # past the announced hour and the limit: a sleep that never ended
        assert loops.problems()["hourly"].startswith("no heartbeat for")
    finally:
        await loops.stop()


async def test_a_loop_up_long_enough_after_a_crash_counts_as_recovered(loops: Supervisor) -> None:
    crashed: list[int] = []

    async def once(beat: Heartbeat) -> None:
        if not crashed:
            crashed.append(1)
            raise RuntimeError("once")
        while True:
            await beat.sleep(0.01)

    loops.start("once", once)
    await eventually(lambda: loops.restarts("once") == 1 and loops.running(), timeout=5)
    await eventually(lambda: _healthy(loops), timeout=5, what="recovered")
    assert loops.problems() == {}


async def _unhealthy(loops: Supervisor) -> httpx.Response | None:
    response = await healthz(loops)
    return response if response.status_code == 503 else None


async def _healthy(loops: Supervisor) -> bool:
    return (await healthz(loops)).status_code == 200

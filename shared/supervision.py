"""Background loops (outbox relay, email dispatcher, purges) kept running, and watched.

A loop that ends, by an exception nobody classified or by returning, is restarted after an
exponential backoff with a cap, and each restart is counted. A loop is *down* from the moment
it ended until it has run `stable_after_s` again, and *stuck* when it has not beaten its
heartbeat for `unhealthy_after_s` (outside a sleep it announced). Either state lasting longer
than `unhealthy_after_s` fails /healthz, the liveness probe, so the orchestrator restarts the
process when restarting the loop inside it does not help.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from shared.metrics import LOOP_RESTARTS

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Heartbeat:
    """What a loop calls on every turn, and around its long sleeps."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.last = clock()
        self._quiet_until = self.last

    def beat(self) -> None:
        self.last = self._clock()

    async def sleep(self, seconds: float) -> None:
        """Sleep without counting as stuck (an hourly purge waits an hour on purpose)."""
        self.beat()
        self._quiet_until = self.last + seconds
        await asyncio.sleep(seconds)
        self.beat()

    def silent_for(self) -> float:
        return self._clock() - max(self.last, self._quiet_until)


Loop = Callable[[Heartbeat], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class SupervisionPolicy:
    restart_base_s: float = 1.0
    restart_max_s: float = 60.0
    stable_after_s: float = 30.0  # a loop up this long has recovered: backoff and down reset
    unhealthy_after_s: float = 120.0

    def restart_delay(self, failures: int) -> float:
        return float(min(self.restart_max_s, self.restart_base_s * 2 ** max(0, failures - 1)))


@dataclass
class _Supervised:
    name: str
    loop: Loop
    heartbeat: Heartbeat
    running_since: float | None = None
    down_since: float | None = None
    restarts: int = 0
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    def __init__(
        self, service: str, policy: SupervisionPolicy | None = None, clock: Clock = time.monotonic
    ) -> None:
        self.service = service
        self.policy = policy or SupervisionPolicy()
        self._clock = clock
        self._loops: dict[str, _Supervised] = {}

    def start(self, name: str, loop: Loop) -> None:
        supervised = _Supervised(name, loop, Heartbeat(self._clock))
        supervised.task = asyncio.create_task(self._keep_running(supervised), name=name)
        self._loops[name] = supervised

    def restarts(self, name: str) -> int:
        return self._loops[name].restarts

    def running(self) -> bool:
        """Every loop is running now (not waiting to be restarted): readiness."""
        return all(s.running_since is not None for s in self._loops.values())

    def problems(self) -> dict[str, str]:
        """Loops down or stuck longer than allowed: liveness fails while this is not empty."""
        now, limit = self._clock(), self.policy.unhealthy_after_s
        found = {}
        for s in self._loops.values():
            up_for = now - s.running_since if s.running_since is not None else 0.0
            if s.down_since is not None and up_for >= self.policy.stable_after_s:
                s.down_since = None  # recovered
            if s.down_since is not None and now - s.down_since > limit:
                found[s.name] = f"down for {now - s.down_since:.0f}s"
            elif s.running_since is not None and s.heartbeat.silent_for() > limit:
                found[s.name] = f"no heartbeat for {s.heartbeat.silent_for():.0f}s"
        return found

    async def stop(self, name: str | None = None) -> None:
        """Stop one loop, or all of them; stopping a stopped loop does nothing."""
        names = [name] if name is not None else list(self._loops)
        stopping = [self._loops.pop(n) for n in names if n in self._loops]
        for s in stopping:
            if s.task is not None:
                s.task.cancel()
        for s in stopping:
            if s.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await s.task

    async def _keep_running(self, s: _Supervised) -> None:
        failures = 0
        while True:
            started = s.running_since = self._clock()
            s.heartbeat = Heartbeat(self._clock)
            try:
                await s.loop(s.heartbeat)
                log.error("background loop %s returned; restarting it", s.name)
            except Exception:
                log.exception("background loop %s crashed; restarting it", s.name)
            now = self._clock()
            s.running_since = None
            if now - started >= self.policy.stable_after_s:
                failures, s.down_since = 0, None
            if s.down_since is None:
                s.down_since = now
            failures += 1
            s.restarts += 1
            LOOP_RESTARTS.labels(self.service, s.name).inc()
            await asyncio.sleep(self.policy.restart_delay(failures))


@asynccontextmanager
async def supervisor(
    service: str, policy: SupervisionPolicy | None = None
) -> AsyncIterator[Supervisor]:
    loops = Supervisor(service, policy)
    try:
        yield loops
    finally:
        await loops.stop()

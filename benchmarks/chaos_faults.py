"""The chaos run's faults, in one thread: SIGKILL + restart of services at random moments, an
Apache Kafka outage and a PostgreSQL outage. One fault at a time, so a restart never races an
outage; a service that exits without being killed is restarted and reported."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devenv.processes import ApacheKafka, PostgresCluster, ServiceProcess, http_get

Log = Callable[[str], None]
READY_TIMEOUT_S = 180.0


@dataclass
class FaultReport:
    kills: dict[str, int] = field(default_factory=dict)
    outages: list[str] = field(default_factory=list)
    unexpected_exits: list[str] = field(default_factory=list)
    not_ready_seen: dict[str, bool] = field(default_factory=dict)  # during the PostgreSQL outage
    errors: list[str] = field(default_factory=list)

    @property
    def kill_count(self) -> int:
        return sum(self.kills.values())


@dataclass
class Schedule:
    """(seconds from start, fault) pairs; every service is killed at least once."""

    at: list[tuple[float, str]]

    @classmethod
    def random(
        cls, rng: random.Random, duration_s: float, kills: int, services: list[str]
    ) -> Schedule:
        victims = [services[i % len(services)] for i in range(kills)]
        rng.shuffle(victims)
        at = [(rng.uniform(0.05, 0.9) * duration_s, f"kill {name}") for name in victims]
        at += [(0.3 * duration_s, "outage kafka"), (0.6 * duration_s, "outage postgres")]
        return cls(sorted(at))


@dataclass
class Faults:
    services: dict[str, ServiceProcess]
    kafka: ApacheKafka
    postgres: PostgresCluster
    outage_s: float
    log: Log
    report: FaultReport = field(default_factory=FaultReport)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, schedule: Schedule) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(schedule,), daemon=True)
        thread.start()
        return thread

    def _run(self, schedule: Schedule) -> None:
        started = time.monotonic()
        for at, fault in schedule.at:
            while time.monotonic() - started < at:
                self.supervise()
                time.sleep(0.5)
            try:
                self.apply(fault)
            except Exception as error:  # recorded and reported; the next faults still run
                self.report.errors.append(f"{fault}: {type(error).__name__}: {error}")
                self.log(f"[red]{fault}: {error}")
        self.done.set()

    def apply(self, fault: str) -> None:
        kind, name = fault.split()
        if kind == "kill":
            self.kill(self.services[name])
        elif name == "kafka":
            self.outage("kafka", self.kafka.stop, self.kafka.start)
        else:
            self.outage("postgres", self.postgres.stop, self.postgres.start)

    def kill(self, service: ServiceProcess) -> None:
        service.kill()
        self.report.kills[service.name] = self.report.kills.get(service.name, 0) + 1
        self.log(f"SIGKILL {service.name} (kill {self.report.kill_count}); restarting")
        service.start()
        service.wait_ready(READY_TIMEOUT_S)
        self.log(f"{service.name} ready again")

    def outage(self, name: str, stop: Callable[[], None], start: Callable[[], None]) -> None:
        self.log(f"stopping {name} for {self.outage_s:.0f}s")
        began = time.monotonic()
        stop()
        ends = time.monotonic() + self.outage_s
        while time.monotonic() < ends:
            if name == "postgres":
                self.observe_readiness()
            time.sleep(1)
        start()
        self.report.outages.append(f"{name} {time.monotonic() - began:.0f}s")
        self.log(f"{name} started again ({time.monotonic() - began:.0f}s after the stop began)")
        self.wait_all_ready()

    def observe_readiness(self) -> None:
        for service in self.services.values():
            if service.alive and not service.ready():
                self.report.not_ready_seen[service.name] = True
            self.report.not_ready_seen.setdefault(service.name, False)

    def supervise(self) -> None:
        """Restart a service that exited on its own (a bug to report, not a fault we caused)."""
        for service in self.services.values():
            if not service.alive:
                code = service.process.returncode if service.process else None
                self.report.unexpected_exits.append(f"{service.name} exit {code}")
                self.log(f"[yellow]{service.name} exited on its own ({code}); restarting")
                service.start()

    def wait_all_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self.supervise()
            if all(s.ready() for s in self.services.values()):
                self.log("all services ready")
                return
            time.sleep(0.5)
        stuck = {
            s.name: http_get(s.url("/readyz"))[1].decode()
            for s in self.services.values()
            if not s.ready()
        }
        raise TimeoutError(f"not ready after {READY_TIMEOUT_S:.0f}s: {stuck}")

"""The chaos run's faults, in one thread, one at a time (a restart never races another fault):
- SIGKILL of a service, restarted at once;
- SIGKILL of the Kafka broker, restarted on the same data directory (log recovery);
- SIGKILL of the PostgreSQL postmaster and its backends, restarted (crash recovery);
- PostgreSQL read-only for a while, its client sessions terminated: a failover as a client
  sees it (`default_transaction_read_only` on, then off again);
- a network fault on one service's path to Kafka or PostgreSQL (benchmarks/chaos_net.py).
A service that exits without being killed is restarted and reported."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from benchmarks.chaos_net import NetFault, Toxiproxy, random_net_fault
from devenv.processes import ApacheKafka, PostgresCluster, ServiceProcess, http_get

Log = Callable[[str], None]
Fault = str | NetFault  # "kill <service>", "kill-broker", "kill-db", "readonly"
READY_TIMEOUT_S = 180.0
STUCK_TIMEOUT_S = 15.0  # once a service stayed unready that long, the run has already failed
DOWN_S = 3.0  # how long a SIGKILLed broker or database stays down before its restart


@dataclass
class FaultCounts:
    kills: int
    broker_kills: int
    db_kills: int
    readonly_s: float
    net_faults: int


@dataclass
class FaultReport:
    kills: dict[str, int] = field(default_factory=dict)
    broker_kills: int = 0
    db_kills: int = 0
    readonly_s: float = 0.0
    net_faults: dict[str, int] = field(default_factory=dict)  # by kind
    unexpected_exits: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def kill_count(self) -> int:
        return sum(self.kills.values())

    @property
    def net_fault_count(self) -> int:
        return sum(self.net_faults.values())


@dataclass
class Schedule:
    """(seconds from start, fault) pairs; every service is killed at least once."""

    at: list[tuple[float, Fault]]

    @classmethod
    def random(
        cls, rng: random.Random, duration_s: float, counts: FaultCounts, services: list[str]
    ) -> Schedule:
        """Service kills and network faults at random moments; the broker kills, database
        kills and the read-only spell spread over the first two thirds, so that the workload
        still runs into what they leave behind (faults run one at a time and fall behind)."""
        infra: list[Fault] = ["kill-broker"] * counts.broker_kills
        infra += ["kill-db"] * counts.db_kills + (["readonly"] if counts.readonly_s > 0 else [])
        rng.shuffle(infra)
        at = [((i + 0.5) / len(infra) * 0.65 * duration_s, f) for i, f in enumerate(infra)]
        others: list[Fault] = [f"kill {services[i % len(services)]}" for i in range(counts.kills)]
        others += [random_net_fault(rng, services) for _ in range(counts.net_faults)]
        at += [(rng.uniform(0.05, 0.9) * duration_s, fault) for fault in others]
        return cls(sorted(at, key=lambda pair: pair[0]))


@dataclass
class Faults:
    services: dict[str, ServiceProcess]
    kafka: ApacheKafka
    postgres: PostgresCluster
    proxy: Toxiproxy
    readonly_s: float
    log: Log
    report: FaultReport = field(default_factory=FaultReport)
    ready_timeout_s: float = READY_TIMEOUT_S

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

    def apply(self, fault: Fault) -> None:
        if isinstance(fault, NetFault):
            self.log(str(fault))
            self.proxy.apply(fault)
            self.report.net_faults[fault.kind] = self.report.net_faults.get(fault.kind, 0) + 1
        elif fault.startswith("kill "):
            self.kill(self.services[fault.split()[1]])
        elif fault == "kill-broker":
            self.report.broker_kills += 1
            self.crash("kafka", self.kafka.kill, self.kafka.start)
        elif fault == "kill-db":
            self.report.db_kills += 1
            self.crash("postgres", self.postgres.kill, self.postgres.start)
        else:
            self.read_only()

    def kill(self, service: ServiceProcess) -> None:
        service.kill()
        self.report.kills[service.name] = self.report.kills.get(service.name, 0) + 1
        self.log(f"SIGKILL {service.name} (kill {self.report.kill_count}); restarting")
        service.start()
        service.wait_ready(READY_TIMEOUT_S)
        self.log(f"{service.name} ready again")

    def crash(self, name: str, kill: Callable[[], None], start: Callable[[], None]) -> None:
        began = time.monotonic()
        kill()
        self.log(f"SIGKILL {name}; restarting it in {DOWN_S:.0f}s")
        time.sleep(DOWN_S)
        start()
        self.log(f"{name} started again ({time.monotonic() - began:.0f}s after the SIGKILL)")
        self.wait_all_ready()

    def read_only(self) -> None:
        self.log(f"PostgreSQL read-only for {self.readonly_s:.0f}s, sessions terminated")
        began = time.monotonic()
        asyncio.run(set_read_only(self.postgres.url, True))
        try:
            time.sleep(self.readonly_s)
        finally:
            asyncio.run(set_read_only(self.postgres.url, False))
        self.report.readonly_s += time.monotonic() - began
        self.log("PostgreSQL writable again")
        self.wait_all_ready()

    def supervise(self) -> None:
        """Restart a service that exited on its own (a bug to report, not a fault we caused)."""
        for service in self.services.values():
            if not service.alive:
                code = service.process.returncode if service.process else None
                self.report.unexpected_exits.append(f"{service.name} exit {code}")
                self.log(f"[yellow]{service.name} exited on its own ({code}); restarting")
                service.start()

    def wait_all_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            self.supervise()
            if all(s.ready() for s in self.services.values()):
                return
            time.sleep(0.5)
        stuck = {
            s.name: http_get(s.url("/readyz"))[1].decode()
            for s in self.services.values()
            if not s.ready()
        }
        timeout, self.ready_timeout_s = self.ready_timeout_s, STUCK_TIMEOUT_S
        raise TimeoutError(f"not ready after {timeout:.0f}s: {stuck}")


async def set_read_only(database_url: str, on: bool) -> None:
    """As a failover looks to a client: new transactions are read-only, and every other client
    session is cut (they reconnect to a server that refuses writes until `on` is False)."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SET default_transaction_read_only = off")  # this session
        if on:
            await connection.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            await connection.execute("ALTER SYSTEM RESET default_transaction_read_only")
        await connection.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)  # the postmaster rereads the file when it handles the SIGHUP
        if on:
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
    finally:
        await connection.close()

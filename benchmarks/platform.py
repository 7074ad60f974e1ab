"""The whole platform as processes for a benchmark run: Apache Kafka (or one named), a fresh
PostgreSQL, an SMTP sink in its own process and the three services, stopped at the end."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.system_window import Arrivals
from devenv.processes import (
    Infrastructure,
    ServiceProcess,
    infrastructure,
    service_env,
    service_processes,
    start_all,
    stop_all,
)
from devenv.sink_process import SinkProcess
from services.notifications.settings import NotificationsSettings

# The system under test, whose CPU the work-per-core figures divide by; the generator and the
# SMTP sink are measured apart.
SUT = ("profile", "matching", "notifications", "kafka", "postgres")
PRODUCTION_DIGEST_S = float(NotificationsSettings.model_fields["digest_window_s"].default)


@dataclass
class Platform:
    env: dict[str, str]
    kafka_servers: str
    database_url: str
    services: dict[str, ServiceProcess]
    process_names: dict[int, str]  # pid -> what it runs, for the CPU and memory lines


@contextlib.contextmanager
def platform(
    run_dir: Path, kafka: str | None, prefix: str, digest_window_s: float, arrivals: Arrivals
) -> Iterator[Platform]:
    with infrastructure(run_dir, kafka) as infra, SinkProcess(arrivals.record) as sink:
        env = service_env(
            infra.kafka_servers,
            infra.postgres.url,
            sink.port,
            prefix,
            NOTIFICATIONS_DIGEST_WINDOW_S=f"{digest_window_s:g}",
            NOTIFICATIONS_RATE_LIMIT_EMAILS="1000000",
        )
        services = service_processes(env, run_dir / "logs")
        try:
            start_all(services)
            names = process_names(infra, sink, services)
            yield Platform(env, infra.kafka_servers, infra.postgres.url, services, names)
        finally:
            stop_all(services)


def process_names(
    infra: Infrastructure, sink: SinkProcess, services: dict[str, ServiceProcess]
) -> dict[int, str]:
    """The run's processes by pid: the CPU lines charge each process (and its children) to
    one of these names."""
    pids = {
        "generator": os.getpid(),
        "kafka": infra.kafka.pid() if infra.kafka else None,
        "postgres": infra.postgres.pid(),
        "smtp_sink": sink.pid,
        **{name: s.process.pid if s.process else None for name, s in services.items()},
    }
    return {pid: name for name, pid in pids.items() if pid is not None}

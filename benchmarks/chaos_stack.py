"""The chaos run's platform: PostgreSQL, Apache Kafka, toxiproxy and the three services.

Each service reaches Kafka and PostgreSQL only through its own two proxies. Kafka tells a
client which address to use for the broker, so each service's proxy forwards to a broker
listener of its own that advertises that proxy's port: a client that bootstraps through the
proxy keeps going through it. The run's own clients (the workload, the lag and dead-letter
readers, the read-only switch) use the direct addresses and see no network fault.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.chaos_net import Toxiproxy
from devenv.infra import free_port
from devenv.processes import (
    SERVICES,
    ApacheKafka,
    Listener,
    PostgresCluster,
    ServiceProcess,
    service_env,
)


@dataclass
class Stack:
    kafka: ApacheKafka
    postgres: PostgresCluster
    proxy: Toxiproxy
    services: dict[str, ServiceProcess]

    @property
    def kafka_servers(self) -> str:
        return self.kafka.bootstrap_servers


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


@contextlib.contextmanager
def stack(
    run_dir: Path, smtp_port: int, topic_prefix: str, extra_env: dict[str, str]
) -> Iterator[Stack]:
    """Everything started (the services not yet: `start_all`), and stopped again on exit."""
    postgres = PostgresCluster(run_dir / "postgres")
    kafka = ApacheKafka(run_dir / "kafka")
    with contextlib.ExitStack() as stop, Toxiproxy(run_dir / "logs" / "toxiproxy.log") as proxy:
        services: dict[str, ServiceProcess] = {}
        for name in SERVICES:
            listener = Listener(name.upper(), free_port(), 0)
            kafka_port = proxy.proxy(f"{name}-kafka", listener.port)
            kafka.listeners.append(Listener(listener.name, listener.port, kafka_port))
            pg_port = proxy.proxy(f"{name}-postgres", postgres.port)
            env = service_env(
                f"127.0.0.1:{kafka_port}",
                _with_port(postgres.url, pg_port),
                smtp_port,
                topic_prefix,
                **extra_env,
            )
            services[name] = ServiceProcess(
                name, free_port(), env, run_dir / "logs" / f"{name}.log"
            )
        postgres.init()
        postgres.start()
        stop.callback(postgres.stop)
        kafka.start()
        stop.callback(kafka.stop)
        yield Stack(kafka, postgres, proxy, services)

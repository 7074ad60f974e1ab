"""Notifications alone: CPU per email, without Kafka.

`uv run --frozen python -m benchmarks.notifications [--mentees 2000] [--poll 20]`

Recorded events (benchmarks/notifications_events.py: each mentee's profile, goal and the
MatchProposed one matching engine made for it) are handed to the service's own handlers, poll
by poll, against a fresh PostgreSQL (devenv PostgresCluster) and an aiosmtpd sink in its own
process, and the service's dispatcher sends them over SMTP with the service's settings. Kafka
is left out: each poll is the records a subscriber would hand over, parsed as it parses them.

1. contacts and goal statements are recorded (untimed);
2. `consume`: the MatchProposed records, `--poll` at a time, parsed and queued;
3. `send`: the dispatcher claims, composes and sends until the sink holds every email.
CPU is psutil's, per process: this one (the service's code), PostgreSQL, the sink apart.
`emails_per_notifications_core_s` = emails / (this process's CPU in steps 2 and 3).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.cpu import CpuWindow
from benchmarks.notifications_events import CACHE, recorded
from devenv.processes import PostgresCluster
from devenv.sink_process import SinkProcess
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.bootstrap import MIGRATIONS, build_dispatcher, send_slot_pool
from services.notifications.entrypoints.consumers import ConsumerDeps, proposal_handling
from services.notifications.service_layer import handlers, lifecycle_handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.sending import utc_now
from services.notifications.settings import (
    SCHEMA,
    SERVICE_NAME,
    NotificationsSettings,
    SmtpSettings,
)
from shared.clock import SystemClock
from shared.contracts.topics import GOAL_EVENT, PROFILE_EVENT
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.erasure import ErasureKeys
from shared.logs import JsonFormatter, configure_logging
from shared.settings import DatabaseSettings


@dataclass(frozen=True)
class Record:
    """What the subscriber hands the handling of a poll: an aiokafka ConsumerRecord's fields."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    key: bytes | None = None


class Arrived:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def record(self, _at: float, recipients: list[str]) -> None:
        with self._lock:
            self.count += 1


def polls(values: Sequence[bytes], size: int, topic: str) -> list[list[Record]]:
    records = [Record(topic, i % 6, i, value) for i, value in enumerate(values)]
    return [records[i : i + size] for i in range(0, len(records), size)]


async def _timed(window: CpuWindow, step: Callable[[], Any]) -> tuple[float, dict[str, float]]:
    """The step's wall time and CPU per process, and this process's user and system time
    apart (`own_user`, `own_system`: the system time is mostly the sockets')."""
    before = os.times()
    window.start()
    await step()
    wall, used = window.stop_seconds()
    after = os.times()
    used["own_user"], used["own_system"] = after.user - before.user, after.system - before.system
    return wall, used


async def run(
    args: argparse.Namespace, pg: PostgresCluster, sink: SinkProcess, arrived: Arrived
) -> None:
    events = recorded(args.mentors, args.mentees, args.seed)
    settings = NotificationsSettings(
        db=DatabaseSettings(database_url=pg.url),
        smtp=SmtpSettings(host=sink.host, port=sink.port),
        digest_window_s=0,
        rate_limit_emails=1_000_000,
    )
    _log_as_the_service(settings.log_level, pg.data_dir.parent / "notifications.log")
    pool = await create_pool(settings.db, SCHEMA)
    await apply_migrations(pool, SCHEMA, MIGRATIONS)
    slot_pool = await create_pool(send_slot_pool(settings), SCHEMA)
    store = PostgresNotificationsStore(
        pool, SERVICE_NAME, slot_pool, ErasureKeys(settings.erasure.keys())
    )
    mailer = SmtpMailer(settings.smtp)
    dispatcher = build_dispatcher(settings, store, mailer, SystemClock())
    policy = QueuePolicy(settings.message_id_domain, timedelta(0))
    deps = ConsumerDeps(store, policy, utc_now, lambda: None)
    handling = proposal_handling(deps)

    for poll in polls(events.profiles, 500, "profiles"):
        await handlers.record_profiles([PROFILE_EVENT.validate_json(r.value) for r in poll], store)
    for poll in polls(events.goals, 500, "goals"):
        goals = [GOAL_EVENT.validate_json(r.value) for r in poll]
        await lifecycle_handlers.record_goals(goals, store)

    async def consume() -> None:
        for poll in polls(events.proposals, args.poll, "matching.proposals"):
            await handling.handle([handling.parse(record) for record in poll])

    expected = len(events.proposals)

    async def send() -> None:
        task = asyncio.create_task(dispatcher.run())
        deadline = time.monotonic() + args.timeout
        while arrived.count < expected and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # the sink's arrivals come from a thread
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    named = {os.getpid(): "notifications", pg.pid() or 0: "postgres", sink.pid or 0: "smtp_sink"}
    window = CpuWindow(named)
    consumed_s, consumed = await _timed(window, consume)
    sent_s, sent = await _timed(window, send)
    await mailer.close()
    await slot_pool.close()
    await pool.close()
    _report(args, expected, arrived.count, (consumed_s, consumed), (sent_s, sent))


def _log_as_the_service(level: str, path: Path) -> None:
    """The service's JSON log lines at its level (each sent email writes one), to a file."""
    configure_logging(SERVICE_NAME, level)
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter(SERVICE_NAME))
    logging.getLogger().handlers[:] = [handler]


def _report(
    args: argparse.Namespace,
    expected: int,
    emails: int,
    consumed: tuple[float, dict[str, float]],
    sent: tuple[float, dict[str, float]],
) -> None:
    cpu = consumed[1]["notifications"] + sent[1]["notifications"]
    load = os.getloadavg()[0]
    print(f"load_average={load:.2f} proposals={expected} emails={emails} poll={args.poll}")
    for name, (wall, used) in (("consume", consumed), ("send", sent)):
        parts = " ".join(f"cpu_{k}_s={v:.3f}" for k, v in sorted(used.items()))
        print(f"{name}: wall_s={wall:.2f} {parts}")
    postgres = consumed[1].get("postgres", 0) + sent[1].get("postgres", 0)
    print(
        f"consume_cpu_ms_per_proposal={1000 * consumed[1]['notifications'] / expected:.3f}"
        f" send_cpu_ms_per_email={1000 * sent[1]['notifications'] / max(1, emails):.3f}"
        f" postgres_cpu_ms_per_email={1000 * postgres / max(1, emails):.3f}"
    )
    print(f"emails_per_notifications_core_s={emails / cpu:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentors", type=int, default=300)
    parser.add_argument("--mentees", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--poll", type=int, default=20, help="records per poll")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    recorded(args.mentors, args.mentees, args.seed)  # before the platform: the engine's work
    for name in ("LINK_SIGNING_KEYS", "ERASURE_HASH_KEYS"):  # one random key per run
        os.environ.setdefault(name, secrets.token_urlsafe(32))
    run_dir = CACHE / time.strftime("%Y%m%d-%H%M%S")
    pg = PostgresCluster(run_dir / "postgres")
    pg.init()
    pg.start()
    arrived = Arrived()
    try:
        with SinkProcess(arrived.record) as sink:
            asyncio.run(run(args, pg, sink, arrived))
    finally:
        pg.stop()


if __name__ == "__main__":
    main()

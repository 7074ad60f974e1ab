"""`make bench-system`: the whole pipeline under a fixed GoalSet rate, as separate processes.

Apache Kafka, PostgreSQL, the three services and an SMTP sink. The load generator publishes
what the profile service would (ProfileUpdated and GoalSet) straight to their topics:
1. seed: mentors, then mentees (with an email address), and wait until both consumers have them;
2. measure: GoalSet for a fresh mentee every 1/rate s, plus a share of profile updates (mentors
   and mentees re-published with a new version); goal→email latency is from the moment the
   GoalSet is handed to the producer to the moment the SMTP sink accepts the mentee's email;
3. burst: matching stopped, a burst of new goal versions published, matching restarted; its
   events/s is how fast its consumed counter climbs (notifications is stopped meanwhile so the
   two do not share the CPU); then a plain aiokafka consumer reads the same goals topic in a
   fresh group (the ceiling for a Python consumer here).
The final lines are read by other tools; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from rich.console import Console
from rich.live import Live

from benchmarks import wire
from benchmarks.cpu import CpuWindow
from benchmarks.kafka_io import Publisher, bare_consume, topic_size
from devenv.processes import (
    ROOT,
    Infrastructure,
    ServiceProcess,
    infrastructure,
    metric_sum,
    service_env,
    service_processes,
    start_all,
    stop_all,
)
from devenv.sink_process import SinkProcess
from shared.contracts.topics import GOALS
from shared.settings import KafkaSettings

TENANT = "bench"
CONSUMED = "mentorlink_events_consumed_total"
LAG = "mentorlink_consumer_lag"
console = Console(stderr=True)


@dataclass
class Arrivals:
    """When the sink accepted the first email for each recipient (wall clock, seconds)."""

    first: dict[str, float] = field(default_factory=dict)
    total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, accepted_at: float, recipients: list[str]) -> None:
        with self._lock:
            self.total += 1
            for recipient in recipients:
                self.first.setdefault(recipient.lower(), accepted_at)


@dataclass
class Run:
    args: argparse.Namespace
    kafka: KafkaSettings
    services: dict[str, ServiceProcess]
    arrivals: Arrivals
    rng: random.Random
    database_url: str
    mentors: list[str] = field(default_factory=list)
    mentees: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    published_at: dict[str, float] = field(default_factory=dict)  # mentee email -> time
    goal_event_ids: dict[str, UUID] = field(default_factory=dict)  # mentee id -> measured goal
    process_names: dict[int, str] = field(default_factory=dict)  # pid -> what it runs
    cpu_percent: dict[str, float] = field(default_factory=dict)  # while goals were published

    def topic(self, name: str) -> str:
        return f"{self.kafka.topic_prefix}{name}"

    def consumed(self, service: str, topic: str) -> float:
        text = self.services[service].metrics()
        return metric_sum(text, CONSUMED, service=service, topic=self.topic(topic))

    def lag(self, service: str) -> float:
        """Messages the service's groups have not committed yet (-1: no answer)."""
        text = self.services[service].metrics()
        return metric_sum(text, LAG, service=service) if text else -1

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """One query on the run's PostgreSQL, on a connection of its own."""
        connection = await asyncpg.connect(self.database_url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    async def count(self, sql: str, *args: object) -> int:
        return int((await self.fetch(sql, *args))[0][0])

    async def emails_waiting(self) -> int:
        return await self.count(
            "SELECT count(*) FROM notifications.emails WHERE tenant_id = $1"
            " AND state IN ('queued', 'sending')",
            TENANT,
        )

    async def proposed(self) -> int:
        """Measured mentees that have a non-empty proposal in matching's table."""
        return await self.count(
            "SELECT count(*) FROM matching.proposals WHERE tenant_id = $1"
            " AND mentee_id = any($2::text[]) AND cardinality(mentor_ids) > 0",
            TENANT,
            self.mentees,
        )


async def wait_until(check: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{what} not reached within {timeout_s}s")


async def seed(run: Run, publisher: Publisher) -> None:
    args = run.args
    run.mentors = [f"mentor-{i}" for i in range(args.mentors)]
    run.mentees = [f"mentee-{i}" for i in range(int(args.rate * args.duration))]
    for user_id in run.mentors:
        fields = wire.mentor(run.rng, user_id)
        await publisher.publish(
            run.topic("profiles"), wire.profile_updated(TENANT, user_id, fields, 1)
        )
    for user_id in run.mentees:
        fields = wire.mentee(run.rng, user_id)
        await publisher.publish(
            run.topic("profiles"), wire.profile_updated(TENANT, user_id, fields, 1)
        )
    await publisher.flush()
    run.versions = dict.fromkeys(run.mentors + run.mentees, 1)
    total = len(run.mentors) + len(run.mentees)
    with Live(console=console, transient=True) as live:

        def seeded() -> bool:
            done = {s: run.consumed(s, "profiles") for s in ("matching", "notifications")}
            lag = run.lag("matching")
            live.update(f"seed: {total} profiles published; consumed {done}; matching lag {lag}")
            return all(count >= total for count in done.values()) and lag == 0

        await wait_until(seeded, "seed consumed", args.seed_timeout)
    console.print(f"seeded {len(run.mentors)} mentors and {len(run.mentees)} mentees")


async def profile_update(run: Run, publisher: Publisher) -> None:
    """Re-publish a mentor, or a mentee who already has a goal, with a new version."""
    with_goals = [m for m in run.mentees if wire.email_address(m) in run.published_at]
    if with_goals and run.rng.random() < 0.5:
        user_id, fields = (m := run.rng.choice(with_goals)), wire.mentee(run.rng, m)
    else:
        user_id, fields = (m := run.rng.choice(run.mentors)), wire.mentor(run.rng, m)
    run.versions[user_id] += 1
    event = wire.profile_updated(TENANT, user_id, fields, run.versions[user_id])
    await publisher.publish(run.topic("profiles"), event)


async def measure(run: Run, publisher: Publisher) -> None:
    args = run.args
    interval, started = 1 / args.rate, time.monotonic()
    update_every = max(1, round(1 / args.update_share)) if args.update_share > 0 else 0
    cpu = CpuWindow(run.process_names)
    cpu.start()
    with Live(console=console, transient=True) as live:
        for index, mentee_id in enumerate(run.mentees):
            delay = started + index * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            fields = wire.goal(run.rng, mentee_id, 1)
            event = wire.goal_set(TENANT, mentee_id, fields, 1, f"bench-{index}")
            run.goal_event_ids[mentee_id] = event.event_id
            run.published_at[wire.email_address(mentee_id)] = time.time()
            await publisher.publish(run.topic("goals"), event)
            if update_every and index % update_every == update_every - 1:
                await profile_update(run, publisher)
            if index % 50 == 0:
                live.update(progress(run, time.monotonic() - started))
        await publisher.flush()
        elapsed = time.monotonic() - started
        run.cpu_percent = cpu.stop()

        deadline = time.monotonic() + args.drain_timeout
        while time.monotonic() < deadline and not await drained(run):
            live.update(progress(run, time.monotonic() - started))
            await asyncio.sleep(1)
    run.args.achieved_rate = len(run.mentees) / elapsed


async def drained(run: Run) -> bool:
    """Both consumers caught up, every measured mentee with a proposal got an email, and no
    email waits (refreshes included)."""
    if run.lag("matching") != 0 or run.lag("notifications") != 0:
        return False
    return len(latencies_ms(run)) >= await run.proposed() and await run.emails_waiting() == 0


def latencies_ms(run: Run) -> list[float]:
    first = dict(run.arrivals.first)
    return [
        (first[email] - sent) * 1000 for email, sent in run.published_at.items() if email in first
    ]


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def progress(run: Run, elapsed: float) -> str:
    latencies = latencies_ms(run)
    p50 = percentile(latencies, 0.5) if latencies else float("nan")
    p99 = percentile(latencies, 0.99) if latencies else float("nan")
    return (
        f"{elapsed:5.1f}s goals published {len(run.published_at)}/{len(run.mentees)}  "
        f"mentees emailed {len(latencies)}  emails {run.arrivals.total}  "
        f"p50 {p50:.0f} ms  p99 {p99:.0f} ms"
    )


STAGE_TIMES = """
SELECT g.mentee_id,
       extract(epoch FROM p.processed_at),
       extract(epoch FROM min(e.created_at)),
       extract(epoch FROM min(e.sent_at))
FROM unnest($1::text[], $2::uuid[]) AS g (mentee_id, event_id)
JOIN matching.processed_events p ON p.consumer = 'matching' AND p.event_id = g.event_id
JOIN notifications.emails e ON e.tenant_id = $3 AND e.mentee_id = g.mentee_id
GROUP BY g.mentee_id, p.processed_at
"""


QUEUED_TO_SENT = """
SELECT awaited, extract(epoch FROM sent_at - created_at) * 1000
FROM notifications.emails WHERE tenant_id = $1 AND sent_at IS NOT NULL
"""


async def queue_waits(run: Run) -> dict[str, float]:
    """Queued → sent for every email of the run, awaited ones and refreshes apart: what
    answering the waiting mentees first costs the others."""
    rows = await run.fetch(QUEUED_TO_SENT, TENANT)
    waits: dict[str, float] = {}
    for kind, awaited in (("awaited", True), ("refresh", False)):
        values = [float(ms) for is_awaited, ms in rows if is_awaited is awaited]
        waits[f"emails_{kind}_sent"] = len(values)
        if values:
            waits[f"emails_{kind}_queued_to_sent_p50_ms"] = percentile(values, 0.5)
            waits[f"emails_{kind}_queued_to_sent_p99_ms"] = percentile(values, 0.99)
    return waits


async def stage_latencies(run: Run) -> dict[str, float]:
    """Where each emailed goal's time went, from both services' tables (one clock).

    Matching and notifications stamp rows with their transaction's start: a poll's
    transaction for matching, a poll of proposals for notifications."""
    rows = await run.fetch(
        STAGE_TIMES, list(run.goal_event_ids), list(run.goal_event_ids.values()), TENANT
    )
    arrived = dict(run.arrivals.first)
    spans: dict[str, list[float]] = {"picked": [], "queued": [], "sent": [], "accepted": []}
    for mentee_id, picked, queued, sent in rows:
        email = wire.email_address(mentee_id)
        if sent is None or email not in arrived:
            continue
        marks = (run.published_at[email], float(picked), float(queued), float(sent), arrived[email])
        for name, start, end in zip(spans, marks, marks[1:], strict=False):
            spans[name].append((end - start) * 1000)
    return {
        f"stage_{name}_{label}_ms": percentile(values, q)
        for name, values in spans.items()
        if values
        for label, q in (("p50", 0.5), ("p99", 0.99))
    }


async def burst(run: Run, publisher: Publisher) -> float:
    """Matching's events/s draining a backlog of `--burst` goals published while it was stopped:
    new goal versions of the measured mentees, round after round if there are fewer of them."""
    matching = run.services["matching"]
    run.services["notifications"].stop()
    matching.stop()
    for index in range(run.args.burst):
        mentee_id = run.mentees[index % len(run.mentees)]
        version = 2 + index // len(run.mentees)
        fields = wire.goal(run.rng, mentee_id, version)
        event = wire.goal_set(TENANT, mentee_id, fields, version, f"bench-burst-{index}")
        await publisher.publish(run.topic("goals"), event)
    await publisher.flush()
    matching.start()
    matching.wait_ready()
    # Timed from the moment it is ready (state restored, partitions assigned): its counter
    # restarted with the process, so it counts exactly the burst.
    ready_at, count = time.monotonic(), 0.0
    deadline = ready_at + run.args.drain_timeout
    with Live(console=console, transient=True) as live:
        while count < run.args.burst and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            count = run.consumed("matching", "goals")
            live.update(f"burst: matching consumed {count:.0f}/{run.args.burst} goals")
    if count < run.args.burst:
        raise TimeoutError(f"matching consumed {count:.0f} of the burst's {run.args.burst} goals")
    return count / (time.monotonic() - ready_at)


async def bench(run: Run) -> dict[str, float]:
    async with Publisher(run.kafka) as publisher:
        await seed(run, publisher)
        await measure(run, publisher)
        latencies = latencies_ms(run)
        if not latencies:
            raise RuntimeError("no measured mentee got an email")
        console.print(progress(run, 0).split("  ", 1)[1])
        stages = await stage_latencies(run)
        waits = await queue_waits(run)
        matching_rate = await burst(run, publisher)
    goals_topic = GOALS.qualified(run.kafka.topic_prefix)
    bare = await bare_consume(run.kafka, goals_topic, await topic_size(run.kafka, goals_topic))
    return {
        "rate_per_s": run.args.achieved_rate,
        "goal_to_email_p50_ms": percentile(latencies, 0.5),
        "goal_to_email_p99_ms": percentile(latencies, 0.99),
        "goals_emailed": len(latencies),
        "goals_without_email": len(run.mentees) - len(latencies),
        **stages,
        **waits,
        **{f"cpu_{name}_pct": share for name, share in run.cpu_percent.items()},
        "matching_events_per_s": matching_rate,
        "bare_consumer_events_per_s": bare.per_s,
        "matching_vs_bare_consumer": matching_rate / bare.per_s if bare.per_s else 0.0,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="GoalSet per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of GoalSet stream")
    parser.add_argument("--mentors", type=int, default=500)
    parser.add_argument(
        "--update-share",
        type=float,
        default=0.1,
        help="profile updates per GoalSet (half mentors, half mentees)",
    )
    parser.add_argument("--burst", type=int, default=3000, help="goals in the matching burst")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kafka", default=None, help="use this Apache Kafka (host:port) instead of starting one"
    )
    parser.add_argument("--seed-timeout", type=float, default=600.0)
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    run_dir = ROOT / ".cache" / "bench-system" / time.strftime("%Y%m%d-%H%M%S")
    prefix = f"bench-{secrets.token_hex(3)}."
    console.print(f"run directory {run_dir} (service logs in logs/)")
    arrivals = Arrivals()
    with infrastructure(run_dir, args.kafka) as infra, SinkProcess(arrivals.record) as sink:
        env = service_env(
            infra.kafka_servers,
            infra.postgres.url,
            sink.port,
            prefix,
            NOTIFICATIONS_DIGEST_WINDOW_S="0",
            NOTIFICATIONS_RATE_LIMIT_EMAILS="1000000",
        )
        services = service_processes(env, run_dir / "logs")
        try:
            console.print(f"Apache Kafka {infra.kafka_servers}; starting the three services ...")
            start_all(services)
            kafka = KafkaSettings(bootstrap_servers=infra.kafka_servers, topic_prefix=prefix)
            rng = random.Random(args.seed)
            run = Run(args, kafka, services, arrivals, rng, infra.postgres.url)
            run.process_names = process_names(infra, sink, services)
            results = asyncio.run(bench(run))
        finally:
            stop_all(services)
    print_results(results)


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


FINAL_LINES = (
    "rate_per_s",
    "goal_to_email_p50_ms",
    "goal_to_email_p99_ms",
    "matching_events_per_s",
    "bare_consumer_events_per_s",
    "matching_vs_bare_consumer",
)


def print_results(results: dict[str, float]) -> None:
    """Extra figures first; the run ends with the six lines other tools read, in this order."""
    extras = [name for name in results if name not in FINAL_LINES]
    for name in (*extras, *FINAL_LINES):
        value = results[name]
        shown = f"{value:.4f}" if name == "matching_vs_bare_consumer" else f"{value:.0f}"
        print(f"{name}={shown}", flush=True)


if __name__ == "__main__":
    main()

"""One window of `make bench-system`: fresh mentees seeded, GoalSets offered at a fixed rate for
the window, then the drain, until every one of the window's mentees has an email or nothing is
left in flight. The CPU of every process of the run is taken over the whole of it, drain
included.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
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
from benchmarks.engine_replay import EventLog
from benchmarks.kafka_io import Publisher
from devenv.processes import ServiceProcess, metric_sum
from services.matching.domain.people import Person
from tests.support import population

TENANT = "bench"
CONSUMED = "mentorlink_events_consumed_total"
LAG = "mentorlink_consumer_lag"
OUTBOX = "mentorlink_outbox_backlog"
QUIET_CHECKS = 6  # half-second checks with nothing in flight before a drain gives up
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
    topic_prefix: str
    services: dict[str, ServiceProcess]
    arrivals: Arrivals
    rng: random.Random
    database_url: str
    process_names: dict[int, str]  # pid -> what it runs
    people: dict[str, Person] = field(default_factory=dict)
    published_at: dict[str, float] = field(default_factory=dict)  # mentee email -> time
    goal_event_ids: dict[str, UUID] = field(default_factory=dict)  # mentee id -> its goal
    log: EventLog = field(default_factory=EventLog)
    profiles_published: int = 0

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def consumed(self, service: str, topic: str) -> float:
        text = self.services[service].metrics()
        return metric_sum(text, CONSUMED, service=service, topic=self.topic(topic))

    def lag(self, service: str) -> float:
        """Messages the service's groups have not committed yet (-1: no answer)."""
        text = self.services[service].metrics()
        return metric_sum(text, LAG, service=service) if text else -1

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    async def emails_waiting(self) -> int:
        rows = await self.fetch(
            "SELECT count(*) FROM notifications.emails WHERE tenant_id = $1"
            " AND state IN ('queued', 'sending')",
            TENANT,
        )
        return int(rows[0][0])

    async def publish_profile(self, publisher: Publisher, person: Person) -> None:
        self.people[person.user_id] = person
        self.log.add(person)
        fields = wire.profile_fields(person)
        event = wire.profile_updated(TENANT, person.user_id, fields, person.version)
        await publisher.publish(self.topic("profiles"), event)
        self.profiles_published += 1


@dataclass(frozen=True)
class Window:
    rate: float
    offered: float  # GoalSets/s achieved by the generator, first to last
    mentees: list[str]
    latencies_ms: list[float]  # of the mentees who got an email
    delivered: float  # emailed mentees per second (delivered_per_second)
    emails: int  # every email the sink accepted in the window, refreshes included
    seconds: float  # the window, drain included
    cpu_s: dict[str, float]  # per process name, drain included; `busy` the machine's
    load: tuple[float, float]  # 1-minute load average at the start and the end

    @property
    def without_email(self) -> int:
        return len(self.mentees) - len(self.latencies_ms)

    def p99_ms(self, minus_ms: float = 0.0) -> float:
        return percentile(self.latencies_ms, 0.99) - minus_ms


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


async def wait_until(check: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{what} not reached within {timeout_s}s")


async def seed_profiles(run: Run, publisher: Publisher, people: list[Person]) -> None:
    """Publish profiles and wait until both consumers have them (untimed)."""
    for person in people:
        await run.publish_profile(publisher, person)
    await publisher.flush()

    def seeded() -> bool:
        done = [run.consumed(s, "profiles") for s in ("matching", "notifications")]
        return all(c >= run.profiles_published for c in done) and run.lag("matching") == 0

    await wait_until(seeded, f"{len(people)} profiles consumed", run.args.seed_timeout)


async def profile_update(run: Run, publisher: Publisher) -> None:
    """A new version of a mentor, or of a mentee who already has a goal."""
    with_goals = list(run.goal_event_ids)
    if with_goals and run.rng.random() < 0.5:
        user_id = run.rng.choice(with_goals)
        drawn = population.mentee(run.rng, user_id)
    else:
        user_id = run.rng.choice([p for p, person in run.people.items() if person.is_mentor])
        drawn = population.mentor(run.rng, user_id)
    version = run.people[user_id].version + 1
    await run.publish_profile(publisher, dataclasses.replace(drawn, version=version))


async def offer(run: Run, publisher: Publisher, rate: float, mentees: list[str]) -> float:
    """A GoalSet for each mentee, one every 1/rate s, with the share of profile updates."""
    share = run.args.update_share
    update_every = max(1, round(1 / share)) if share > 0 else 0
    interval, started = 1 / rate, time.monotonic()
    for index, mentee_id in enumerate(mentees):
        delay = started + index * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        goal = population.goal(run.rng, mentee_id, 1)
        run.log.add(goal)
        event = wire.goal_set(TENANT, mentee_id, wire.goal_fields(goal), 1, f"bench-{mentee_id}")
        run.goal_event_ids[mentee_id] = event.event_id
        run.published_at[wire.email_address(mentee_id)] = time.time()
        await publisher.publish(run.topic("goals"), event)
        if update_every and index % update_every == update_every - 1:
            await profile_update(run, publisher)
    await publisher.flush()
    sent = [run.published_at[wire.email_address(m)] for m in mentees]
    return per_second(sent)


def per_second(moments: list[float]) -> float:
    """Events per second, first to last."""
    span = max(moments, default=0.0) - min(moments, default=0.0)
    return (len(moments) - 1) / span if span > 0 else 0.0


def delivered_per_second(sent: dict[str, float], arrived: dict[str, float]) -> float:
    """Mentees emailed per second: the offered span stretched by how much the latency grew
    across the window (median of the last fifth against the first fifth, by publishing time).

    A backlog that grows makes each goal wait longer than the one before, and the slope gives
    the pipeline's pace; a constant delay (the digest window) or jitter stretches the first to
    last email span without being lost throughput, and the medians leave them out."""
    emailed = sorted((sent[e], arrived[e] - sent[e]) for e in arrived)
    fifth = len(emailed) // 5
    if fifth < 1:
        return per_second(list(arrived.values()))
    first, last = emailed[:fifth], emailed[-fifth:]
    spread = statistics.median(t for t, _ in last) - statistics.median(t for t, _ in first)
    growth = statistics.median(w for _, w in last) - statistics.median(w for _, w in first)
    slope = max(0.0, growth / spread) if spread > 0 else 0.0
    span = max(sent.values()) - min(sent.values())
    return (len(emailed) - 1) / (span * (1 + slope)) if span > 0 else 0.0


async def in_flight(run: Run) -> float:
    """Work the pipeline still holds: goals matching has not consumed, uncommitted records,
    matching's unpublished outbox rows, emails queued or being sent (0: nothing)."""
    unconsumed = len(run.goal_event_ids) - run.consumed("matching", "goals")
    lags = [run.lag("matching"), run.lag("notifications")]
    backlog = metric_sum(run.services["matching"].metrics(), OUTBOX)
    if unconsumed > 0 or any(lag != 0 for lag in lags) or backlog > 0:
        return 1.0
    return await run.emails_waiting()


async def drain(run: Run, mentees: list[str], live: Live) -> None:
    """Until every mentee has an email, or nothing is in flight and no email came for a few
    checks in a row (an answer that is not coming), or the drain timeout."""
    emails = [wire.email_address(m) for m in mentees]
    deadline, quiet, before = time.monotonic() + run.args.drain_timeout, 0, -1
    while time.monotonic() < deadline:
        emailed = sum(1 for e in emails if e in run.arrivals.first)
        live.update(f"drain: {emailed}/{len(mentees)} mentees emailed")
        if emailed == len(mentees):
            return
        quiet = quiet + 1 if await in_flight(run) == 0 and emailed == before else 0
        before = emailed
        if quiet >= QUIET_CHECKS:
            return
        await asyncio.sleep(0.5)


async def measure_window(run: Run, publisher: Publisher, rate: float, seconds: float) -> Window:
    first = len(run.goal_event_ids)
    mentees = [f"mentee-{i}" for i in range(first, first + max(2, round(rate * seconds)))]
    await seed_profiles(run, publisher, [population.mentee(run.rng, m) for m in mentees])
    run.log.mark_window()
    emails_before, load_before = run.arrivals.total, _load()
    cpu = CpuWindow(run.process_names)
    cpu.start()
    with Live(console=console, transient=True) as live:
        live.update(f"offering {len(mentees)} GoalSets at {rate:g}/s")
        offered = await offer(run, publisher, rate, mentees)
        await drain(run, mentees, live)
    window_s, cpu_s = cpu.stop_seconds()
    sent = {wire.email_address(m): run.published_at[wire.email_address(m)] for m in mentees}
    arrived = {e: run.arrivals.first[e] for e in sent if e in run.arrivals.first}
    latencies = [(arrived[e] - sent[e]) * 1000 for e in arrived]
    return Window(
        rate=rate,
        offered=offered,
        mentees=mentees,
        latencies_ms=latencies,
        delivered=delivered_per_second(sent, arrived),
        emails=run.arrivals.total - emails_before,
        seconds=window_s,
        cpu_s=cpu_s,
        load=(load_before, _load()),
    )


def _load() -> float:
    return os.getloadavg()[0]

"""`make bench-scale`: a second matching instance joins while the state is live and goals arrive.

The population of `make bench-matching` is written to PostgreSQL (COPY, with each goal's
proposal), a matching instance restores it, and goals keep arriving at `--rate` per second on
every partition. After `--before-s` a second instance starts; the run goes on `--after-s`
after it owns its partitions, then drains. From each event's processing time (its
`processed_events` row) it prints:
- `scale_out_stall_s`: the longest an event of a partition that did not move waited to be
  processed, sent from the second instance's start to the end of the load (`wait_before_s`:
  the same before that start, every partition: the noise floor);
- `moved_partition_ready_s`: the same on the partitions that moved;
- `stayed_gap_s` and `gap_before_s`: the longest time between two events processed on one
  partition (the arrivals' own gaps included: at a low rate they are the larger part);
- `recovery_s`: the loader restoring every partition of the same state in a fresh process (as
  `make bench-matching` times it);
- `other_events_per_s_before` / `_after`: the events other than the goals processed per second
  (exposure notices, mentor copies): two instances send each other notices one never sends
  itself, work that grows when the second joins;
- CPU seconds per process over the window (the SUT: both instances, Kafka and PostgreSQL; the
  generator apart), and the load average, which says whether the machine was quiet.

Each goal's partition, send and processing time go to `goals.csv` in the run folder, beside
the instances' logs. `--reuse-state` reads the state an earlier run of the same population
saved (binary COPY files under .cache/bench-scale): the build takes minutes at 1/10 here.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg

import benchmarks.measure
import benchmarks.recovery
from benchmarks import matching, wire
from benchmarks.cpu import CpuWindow
from benchmarks.kafka_io import Publisher
from benchmarks.recovery import MIGRATIONS, TENANT, recover_in_child, write_state
from devenv.infra import free_port
from devenv.processes import ROOT, ServiceProcess, infrastructure, service_env
from services.matching.domain.engine import TenantEngine
from services.matching.domain.engine.proposed import proposed
from services.matching.domain.seekers import mentee_of
from shared.contracts.topics import DEFAULT_PARTITIONS, GOALS
from shared.db.migrations import apply_migrations
from shared.kafka.partitioner import person_partitioner
from shared.settings import KafkaSettings

SCHEMA = "matching"
PREFIX = "scale."
OWNS = re.compile(r"matching owns partitions \[([\d, ]*)\]")


def say(message: str) -> None:
    print(message, flush=True)


def kafka_partition(user_id: str, partitions: int = DEFAULT_PARTITIONS) -> int:
    """Where the producers put a person's records (the state must be stored there too)."""
    every = list(range(partitions))
    return person_partitioner(user_id.encode(), every, every)


def build(args: argparse.Namespace) -> TenantEngine:
    # The bench-matching population, partitioned as Kafka partitions the goals sent later.
    benchmarks.measure.partition_of = kafka_partition
    setattr(benchmarks.recovery, "partition_of", kafka_partition)  # noqa: B010 - imported by name
    engine, _, _ = matching.build(args, random.Random(args.seed))
    return engine


def proposal_rows(engine: TenantEngine) -> Iterator[tuple[object, ...]]:
    """Each ranked goal's proposal as the service would have stored it: a restore then finds
    nothing to propose again (Restorer.finish)."""
    for key in engine.search.ranked_mentee_ids():
        mentee_id, goal = mentee_of(key), engine.roster.goals[key]
        mentor_ids = [r.mentor_id for r in proposed(engine, key)]
        partition = engine.roster.partition_of[mentee_id]
        yield (TENANT, mentee_id, partition, goal.goal_id, 1, uuid.uuid4(), mentor_ids)


async def write_proposals(url: str, engine: TenantEngine) -> None:
    conn = await asyncpg.connect(url)
    try:
        columns = ["tenant_id", "mentee_id", "partition", "goal_id", "ranking_version"]
        await conn.copy_records_to_table(
            "proposals",
            records=proposal_rows(engine),
            columns=[*columns, "proposal_id", "mentor_ids"],
            schema_name=SCHEMA,
        )
    finally:
        await conn.close()


@dataclass
class Load:
    """Goals sent: event id -> (partition, when sent)."""

    sent: dict[uuid.UUID, tuple[int, float]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def generate(
    kafka: KafkaSettings, mentee_ids: Sequence[str], rate: float, load: Load
) -> None:
    """A new version of a random mentee's goal, `rate` times a second, on every partition."""
    rng = random.Random(7)
    topic = GOALS.qualified(kafka.topic_prefix)
    version = 1
    async with Publisher(kafka) as publisher:
        next_at = time.monotonic()
        while not load.stop.is_set():
            version += 1
            mentee_id = rng.choice(mentee_ids)
            fields = wire.goal(rng, mentee_id, version)
            event = wire.goal_set(TENANT, mentee_id, fields, version, f"scale-{version}")
            load.sent[event.event_id] = (kafka_partition(mentee_id), time.time())
            await publisher.publish(topic, event)
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def ownership(log: Path) -> list[tuple[float, frozenset[int]]]:
    """(when, partitions) for each assignment the instance logged."""
    found = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        match = OWNS.search(str(entry.get("msg", "")))
        if match:
            numbers = frozenset(int(p) for p in match.group(1).split(",") if p.strip())
            found.append((datetime.fromisoformat(entry["ts"]).timestamp(), numbers))
    return found


async def processed(url: str) -> dict[uuid.UUID, float]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT event_id, processed_at FROM matching.processed_events")
    finally:
        await conn.close()
    return {r["event_id"]: r["processed_at"].timestamp() for r in rows}


def longest_gap(times: Sequence[float], start: float, end: float) -> float:
    """The longest time without processing within [start, end] (each end counts as one)."""
    inside = sorted(t for t in times if start <= t <= end)
    points = [start, *inside, end]
    return max((b - a for a, b in itertools.pairwise(points)), default=0.0)


async def wait_for(check: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.5)


def owns(instance: ServiceProcess, partitions: frozenset[int] | None = None) -> bool:
    """The instance logged an assignment (of exactly these partitions, if named)."""
    return any(partitions in (None, owned) for _, owned in ownership(instance.log_path))


@dataclass
class Run:
    load: Load
    done: dict[uuid.UUID, float]  # event id -> when processed
    moved: frozenset[int]
    window: tuple[float, float]  # the second instance's start, the end of the load
    assignments: tuple[int, int]  # logged by each: 2 and 1 unless one was expelled
    cpu: tuple[float, dict[str, float]]


CACHED = ("people", "goals", "mentor_lists", "proposals")


def cache_dir(args: argparse.Namespace) -> Path:
    folder = ROOT / ".cache" / "bench-scale" / f"state-{args.mentors}-{args.mentees}-{args.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cached_ids(folder: Path) -> list[str] | None:
    path = folder / "mentee_ids.json"
    return json.loads(path.read_text()) if path.exists() else None


def cache_ids(folder: Path, mentee_ids: list[str]) -> None:
    (folder / "mentee_ids.json").write_text(json.dumps(mentee_ids))


async def save_state(url: str, folder: Path, mentee_ids: list[str]) -> None:
    """The written tables as binary COPY files: a later `--reuse-state` run skips the build
    (minutes at 1/10 on this machine) and measures the same population."""
    conn = await asyncpg.connect(url)
    try:
        for table in CACHED:
            await conn.copy_from_table(
                table, output=folder / f"{table}.bin", schema_name=SCHEMA, format="binary"
            )
    finally:
        await conn.close()
    cache_ids(folder, mentee_ids)


async def load_state(url: str, folder: Path) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await apply_migrations(pool, SCHEMA, MIGRATIONS)
        async with pool.acquire() as conn:
            for table in CACHED:
                await conn.copy_to_table(
                    table, source=folder / f"{table}.bin", schema_name=SCHEMA, format="binary"
                )
            await conn.execute(f'ANALYZE "{SCHEMA}".people, "{SCHEMA}".goals')
    finally:
        await pool.close()


async def population(args: argparse.Namespace, url: str) -> list[str]:
    """The state written to the store; the mentees' ids (the generator's keys)."""
    folder = cache_dir(args)
    saved = cached_ids(folder) if args.reuse_state else None
    if saved is not None:
        say(f"state: read from {folder} (--reuse-state: built by an earlier run)")
        await load_state(url, folder)
        return saved
    engine = build(args)
    say(f"state: {await write_state(url, SCHEMA, engine)} written")
    await write_proposals(url, engine)
    mentee_ids = list(engine.roster.profiles)
    del engine
    await save_state(url, folder, mentee_ids)
    return mentee_ids


async def scale_out(args: argparse.Namespace, run_dir: Path) -> None:
    with infrastructure(run_dir) as infra:
        url = infra.postgres.url
        mentee_ids = await population(args, url)
        recovered = await asyncio.to_thread(recover_in_child, url, SCHEMA, DEFAULT_PARTITIONS)
        say(f"recovery: {recovered} load_avg={os.getloadavg()[0]:.1f}")
        timeout = {"KAFKA_SESSION_TIMEOUT_MS": str(args.session_timeout_ms)}
        env = service_env(
            infra.kafka_servers, url, 1, PREFIX, **timeout if args.session_timeout_ms else {}
        )
        first, second = (
            ServiceProcess("matching", free_port(), env, run_dir / f"matching-{n}.log")
            for n in ("first", "second")
        )
        names = {os.getpid(): "generator", infra.postgres.pid() or 0: "postgres"}
        names[(infra.kafka.pid() if infra.kafka else None) or 0] = "kafka"
        try:
            run = await two_instances(
                args, url, infra.kafka_servers, (first, second), names, mentee_ids
            )
        finally:
            second.stop()
            first.stop()
    write_timeline(run, run_dir / "goals.csv")
    report(run, float(str(recovered["recovery_s"])))


async def two_instances(
    args: argparse.Namespace,
    url: str,
    servers: str,
    instances: tuple[ServiceProcess, ServiceProcess],
    names: dict[int, str],
    mentee_ids: list[str],
) -> Run:
    first, second = instances
    every = frozenset(range(DEFAULT_PARTITIONS))
    first.start()
    await wait_for(lambda: owns(first, every), "the first owns every partition", args.timeout_s)
    say(f"first instance: {ownership(first.log_path)} load_avg={os.getloadavg()[0]:.1f}")
    kafka = KafkaSettings(bootstrap_servers=servers, topic_prefix=PREFIX)
    load = Load()
    generator = asyncio.create_task(generate(kafka, mentee_ids, args.rate, load))
    await asyncio.sleep(args.before_s)
    second.start()
    joined_at = time.time()
    names[first.process.pid if first.process else 0] = "matching_first"
    names[second.process.pid if second.process else 0] = "matching_second"
    cpu = CpuWindow(names)
    cpu.start()
    await wait_for(lambda: owns(second), "the second owns its partitions", args.timeout_s)
    await asyncio.sleep(args.after_s)
    load.stop.set()
    await generator
    ended_at = time.time()
    await wait_for(  # the goals (processed_events also holds the fan-out and notices)
        lambda: load.sent.keys() <= asyncio.run(processed(url)).keys(), "the drain", args.timeout_s
    )
    cpu_used = cpu.stop_seconds()
    moved = ownership(second.log_path)[-1][1]
    say(f"second instance: {ownership(second.log_path)}")
    say(f"first instance: {ownership(first.log_path)}")
    assignments = (len(ownership(first.log_path)), len(ownership(second.log_path)))
    window = (joined_at, ended_at)
    return Run(load, await processed(url), moved, window, assignments, cpu_used)


def longest_wait(run: Run, partitions: Collection[int], start: float, end: float) -> float:
    """The longest an event of these partitions sent within [start, end] waited to be
    processed (a partition that does nothing while events wait: the gap in its processing)."""
    waits = [
        run.done[event_id] - sent_at
        for event_id, (partition, sent_at) in run.load.sent.items()
        if partition in partitions and start <= sent_at <= end
    ]
    return max(waits, default=0.0)


def write_timeline(run: Run, path: Path) -> None:
    """Each goal's partition, send and processing time, in seconds from the second instance's
    start: where a stall sits, against the instances' log lines."""
    joined_at = run.window[0]
    rows = sorted(
        (sent_at - joined_at, partition, run.done[event_id] - joined_at)
        for event_id, (partition, sent_at) in run.load.sent.items()
    )
    lines = [f"{partition},{sent:.3f},{done:.3f}" for sent, partition, done in rows]
    path.write_text("\n".join(["partition,sent_s,processed_s", *lines]) + "\n")
    say(f"timeline: {path}")


def others_per_s(run: Run, began_at: float) -> dict[str, str]:
    """Events other than the goals sent (exposure notices, mentor copies) processed per second,
    before the second instance's start and after it: one instance holding every partition
    sends itself no exposure notice (ADR 0013), two send each other one for every list that
    changes within a cutoff."""
    joined_at, ended_at = run.window
    others = [at for event_id, at in run.done.items() if event_id not in run.load.sent]
    before = sum(began_at <= at < joined_at for at in others) / max(joined_at - began_at, 1e-9)
    after = sum(joined_at <= at <= ended_at for at in others) / max(ended_at - joined_at, 1e-9)
    return {
        "other_events_per_s_before": f"{before:.1f}",
        "other_events_per_s_after": f"{after:.1f}",
    }


def report(run: Run, recovery_s: float) -> None:
    by_partition: dict[int, list[float]] = {}
    for event_id, (partition, _) in run.load.sent.items():
        by_partition.setdefault(partition, []).append(run.done[event_id])
    joined_at, ended_at = run.window
    began_at = min(sent_at for _, sent_at in run.load.sent.values())
    before = (began_at, joined_at)
    every = sorted(by_partition)
    stayed = [p for p in every if p not in run.moved]
    stall = longest_wait(run, stayed, joined_at, ended_at)
    seconds, used = run.cpu
    sut = sum(v for k, v in used.items() if k not in ("busy", "generator"))
    lines = {
        "goals": len(run.load.sent),
        "moved_partitions": ",".join(map(str, sorted(run.moved))),
        "assignments_first": run.assignments[0],
        "assignments_second": run.assignments[1],
        "scale_out_stall_s": f"{stall:.2f}",
        "moved_partition_ready_s": f"{longest_wait(run, run.moved, joined_at, ended_at):.2f}",
        "recovery_s": f"{recovery_s:.2f}",
        "stall_per_recovery": f"{stall / recovery_s:.3f}",
        "wait_before_s": f"{longest_wait(run, by_partition, began_at, joined_at):.2f}",
        "stayed_gap_s": f"{max(longest_gap(by_partition[p], *run.window) for p in stayed):.2f}",
        "gap_before_s": f"{max(longest_gap(by_partition[p], *before) for p in every):.2f}",
        **others_per_s(run, began_at),
        "window_s": f"{seconds:.1f}",
        "sut_cpu_s": f"{sut:.1f}",
        **{f"cpu_s_{name}": f"{value:.1f}" for name, value in sorted(used.items())},
        "load_avg_1m": f"{os.getloadavg()[0]:.1f}",
    }
    for key, value in lines.items():
        say(f"{key}={value}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentors", type=int, default=50_000)
    parser.add_argument("--mentees", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--rate", type=float, default=20.0, help="goals per second, all partitions")
    parser.add_argument("--before-s", type=float, default=20.0, help="load before the join")
    parser.add_argument("--after-s", type=float, default=30.0, help="load after the join")
    parser.add_argument("--timeout-s", type=float, default=900.0)
    parser.add_argument(
        "--reuse-state",
        action="store_true",
        help="read the stored state an earlier run of the same --mentors, --mentees and --seed "
        "saved under .cache/bench-scale instead of building it again",
    )
    parser.add_argument(
        "--session-timeout-ms",
        type=int,
        default=0,
        help="the instances' KAFKA_SESSION_TIMEOUT_MS (0: the default): a version that restores in "
        "aiokafka's assignment callback, which sends no heartbeat, needs it above its restore",
    )
    args = parser.parse_args(argv)
    args.several_goals_share, args.dress = 0.0, lambda goal: goal  # bench-matching's default
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    say(
        f"bench-scale: {args.mentors} mentors, {args.mentees} mentees, {args.rate:g} goals/s,"
        f" session timeout {args.session_timeout_ms or 'default'} ms"
    )
    run_dir = ROOT / ".cache" / "bench-scale" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    say(f"run folder (logs): {run_dir}")
    asyncio.run(scale_out(args, run_dir))


if __name__ == "__main__":
    main()

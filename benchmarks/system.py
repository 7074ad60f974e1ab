"""`make bench-system`: the whole pipeline as separate processes, at the rates it can sustain.

Apache Kafka, PostgreSQL, the three services and an SMTP sink. The load generator publishes
what the profile service would (ProfileUpdated and GoalSet) straight to their topics. Mentors
are seeded once; every window seeds mentees of its own, offers each one GoalSet at a fixed
rate (plus a share of profile updates) and waits for the drain (`benchmarks/system_window.py`).
1. search (`benchmarks/rate_search.py`): short windows at rising rates find the highest rate
   whose p99 goal→email (beyond the digest window) stays within the bound and the most the
   pipeline delivers once delivered stops following offered;
2. a long window at the sustainable rate, where the CPU figures are taken (psutil, every
   process of the run, drain included), and its p99 set against the short window's;
3. the long window's events replayed into one matching engine in this process, for the CPU
   the engine alone spends on the same work.
The final lines are key=value; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import secrets
import time

from rich.console import Console

from benchmarks import wire
from benchmarks.cpu import CpuWindow
from benchmarks.engine_replay import engine_cpu_s
from benchmarks.kafka_io import Publisher
from benchmarks.platform import PRODUCTION_DIGEST_S, SUT, platform
from benchmarks.rate_search import Probe, RateSearch
from benchmarks.system_stages import queue_waits, stage_latencies
from benchmarks.system_window import (
    Arrivals,
    Run,
    Window,
    measure_window,
    percentile,
    seed_profiles,
)
from devenv.processes import ROOT, metric_sum
from shared.settings import KafkaSettings
from tests.support import population

console = Console(stderr=True)


def probe_of(window: Window, digest_ms: float) -> Probe:
    return Probe(
        window.rate,
        window.offered,
        window.delivered,
        window.p99_ms(digest_ms),
        window.without_email,
    )


def say_window(kind: str, window: Window, digest_ms: float) -> None:
    console.print(
        f"{kind}: rate {window.rate:g}/s, offered {window.offered:.1f}/s,"
        f" delivered {window.delivered:.1f}/s, p99 beyond the digest window"
        f" {window.p99_ms(digest_ms):.0f} ms, {window.without_email} of {len(window.mentees)}"
        f" without email, {window.seconds:.0f} s with the drain,"
        f" load average {window.load[0]:.1f} -> {window.load[1]:.1f}"
    )


async def bench(run: Run) -> dict[str, float]:
    args, digest_ms = run.args, run.args.digest_window_s * 1000
    kafka = KafkaSettings(bootstrap_servers=args.kafka_servers, topic_prefix=run.topic_prefix)
    search = RateSearch(args.p99_bound_ms, args.follow_share, args.start_rate, args.max_rate)
    search.refine = args.refine
    async with Publisher(kafka) as publisher:
        mentors = [population.mentor(run.rng, f"mentor-{i}") for i in range(args.mentors)]
        await seed_profiles(run, publisher, mentors)
        console.print(f"seeded {len(mentors)} mentors")
        idle = await idle_cpu(run, args.idle_s)
        short: dict[float, Window] = {}
        while (rate := search.next_rate()) is not None:
            short[rate] = await measure_window(run, publisher, rate, args.short_s)
            say_window("probe", short[rate], digest_ms)
            search.probes.append(probe_of(short[rate], digest_ms))
        chosen = search.sustainable()
        at = chosen.rate if chosen else args.start_rate
        long = await measure_window(run, publisher, at, args.long_s)
        say_window("long window", long, digest_ms)
        stages = await stage_latencies(run, long.mentees)
        waits = await queue_waits(run, long.mentees)
    emailed_now = sum(1 for m in long.mentees if wire.email_address(m) in run.arrivals.first)
    waiting = metric_sum(run.services["matching"].metrics(), "mentorlink_goals_waiting")
    if not long.latencies_ms:
        raise RuntimeError("no mentee of the long window got an email")
    engine_s = engine_cpu_s(run.log)
    saturated = search.saturated()
    return {
        **{f"probe_{p.rate:g}_delivered_per_s": p.delivered for p in search.probes},
        **{f"probe_{p.rate:g}_p99_ms": p.p99_ms for p in search.probes},
        **stages,
        **waits,
        **cpu_lines(long),
        **{f"idle_cpu_{name}_per_s": cpu for name, cpu in sorted(idle.items())},
        "engine_cpu_s": engine_s,
        "digest_window_s": args.digest_window_s,
        "p99_bound_ms": args.p99_bound_ms,
        "short_window_s": args.short_s,
        "long_window_s": args.long_s,
        "load_average_start": long.load[0],
        "load_average_end": long.load[1],
        "sustainable_rate": chosen.rate if chosen else 0.0,
        "saturation_rate": search.saturation_rate(),
        "saturation_reached_at_offered": saturated.offered if saturated else math.nan,
        "measured_at_rate": at,
        "goals_emailed_after_drain": emailed_now - len(long.latencies_ms),
        "goals_waiting_in_matching": waiting,
        **figures(long, short[at], engine_s, digest_ms),
    }


async def idle_cpu(run: Run, seconds: float) -> dict[str, float]:
    """CPU seconds per second each process spends with nothing offered (polls, timers): the
    floor under every window's figures."""
    window = CpuWindow(run.process_names)
    window.start()
    await asyncio.sleep(seconds)
    length, used = window.stop_seconds()
    return {name: cpu / length for name, cpu in used.items()}


def cpu_lines(window: Window) -> dict[str, float]:
    return {f"cpu_{name}_s": seconds for name, seconds in sorted(window.cpu_s.items())}


def figures(long: Window, short: Window, engine_s: float, digest_ms: float) -> dict[str, float]:
    cpu = long.cpu_s
    sut_s = sum(cpu.get(name, 0.0) for name in SUT)
    matching_s = cpu.get("matching", math.nan)
    return {
        "offered_rate": long.offered,
        "delivered_rate": long.delivered,
        "goal_to_email_p50_ms": percentile(long.latencies_ms, 0.5),
        "goal_to_email_p99_ms": long.p99_ms(),
        "goals_emailed": len(long.latencies_ms),
        "goals_without_email": long.without_email,
        "sut_cpu_s": sut_s,
        "goals_per_sut_core_s": len(long.latencies_ms) / sut_s if sut_s else math.nan,
        "emails_per_notifications_core_s": long.emails / cpu.get("notifications", math.nan),
        "matching_service_vs_engine": matching_s / engine_s if engine_s else math.nan,
        "broker_cpu_per_matching_cpu": cpu.get("kafka", math.nan) / matching_s,
        "latency_duration_stability": long.p99_ms(digest_ms) / short.p99_ms(digest_ms),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--mentors", type=int, default=500)
    add("--start-rate", type=float, default=5.0, help="the search's first GoalSet/s")
    add("--max-rate", type=float, default=640.0, help="the search doubles no further")
    add("--refine", type=int, default=2, help="halvings of the gap at the latency bound")
    add("--short-s", type=float, default=20.0, help="each search window's GoalSet stream")
    add("--long-s", type=float, default=60.0, help="the window at the sustainable rate")
    add("--p99-bound-ms", type=float, default=250.0, help="p99 goal→email beyond the digest")
    add("--follow-share", type=float, default=0.9, help="delivered/offered below: saturated")
    add(
        "--digest-window-s",
        type=float,
        default=PRODUCTION_DIGEST_S,
        help=f"NOTIFICATIONS_DIGEST_WINDOW_S (production default {PRODUCTION_DIGEST_S:g})",
    )
    add("--idle-s", type=float, default=10.0, help="the window with nothing offered")
    add("--update-share", type=float, default=0.1, help="profile updates per GoalSet")
    add("--seed", type=int, default=7)
    add("--kafka", default=None, help="use this Apache Kafka (host:port): its CPU is not counted")
    add("--seed-timeout", type=float, default=600.0)
    add("--drain-timeout", type=float, default=900.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    run_dir = ROOT / ".cache" / "bench-system" / time.strftime("%Y%m%d-%H%M%S")
    prefix = f"bench-{secrets.token_hex(3)}."
    console.print(f"run directory {run_dir} (service logs in logs/); starting the platform ...")
    arrivals = Arrivals()
    with platform(run_dir, args.kafka, prefix, args.digest_window_s, arrivals) as running:
        args.kafka_servers = running.kafka_servers
        rng = random.Random(args.seed)
        run = Run(
            args,
            prefix,
            running.services,
            arrivals,
            rng,
            running.database_url,
            running.process_names,
        )
        results = asyncio.run(bench(run))
    print_results(results)


def print_results(results: dict[str, float]) -> None:
    for name, value in results.items():
        shown = f"{value:.0f}" if abs(value) >= 100 or name.endswith("_ms") else f"{value:.3g}"
        print(f"{name}={shown}", flush=True)


if __name__ == "__main__":
    main()

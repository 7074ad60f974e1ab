"""`make bench-failover`: leader and primary failovers in the production shape, under load.

Three Kafka nodes and a PostgreSQL primary with a synchronous standby (devenv/cluster.py), the
three services with KAFKA_PROFILE=production, and the chaos run's seeded workload (mentors,
mentees, goals — about half of all actions set a goal — and link answers) at a steady --rate.
Each round applies every --broker-faults kind (SIGKILL the leader broker; SIGSTOP it, a vanished
machine) and then a database fault (benchmarks/failover_faults.py), --faults rounds, one after
another while the workload runs (the run fails if the workload ended before the last).
When everything has drained, the chaos run's account compares the platform with the truth: the
batch reference fed from the workload's own record of what it asked for, against the latest
email each mentee received and matching's stored proposals; every dead letter is read.
`--runs` repeats the whole run, each on a fresh cluster. Last line: broker_failovers=…
db_failovers=… lost=… duplicate_emails=… rankings_equal_truth=… leader_gap_p99_s=…
leader_gap_faults=… frozen_leader_gap_p99_s=… frozen_leader_gap_faults=… db_gap_p99_s=…
db_gap_faults=… runs=… db_replication=synchronous: each p99 is over every fault of its kind in
all the runs, and `…_faults` says how many that is. Exit 1 when anything was lost or doubled,
the rankings differ, or a fault could not be applied, in any run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import math
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from benchmarks.chaos import check, drive, log, wait_drained
from benchmarks.chaos_workload import Inbox
from benchmarks.failover_canary import Canary
from benchmarks.failover_faults import FailoverFaults, Progress
from devenv.cluster import kafka_cluster, postgres_pair
from devenv.cluster_cli import production_env
from devenv.processes import (
    ROOT,
    ServiceProcess,
    create_api_key,
    metric_sum,
    service_processes,
    start_all,
    stop_all,
)
from devenv.smtp_sink import SmtpSink
from shared.settings import KafkaSettings

T = TypeVar("T")
TENANT = "chaos"  # the chaos run's check reads this tenant's Message-IDs


def p99(values: list[float]) -> float:
    """Nearest-rank 99th percentile (with a handful of faults: the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else float("nan")


def run(args: argparse.Namespace, run_dir: Path, sink: SmtpSink, inbox: Inbox) -> RunResult:
    with kafka_cluster(run_dir) as kafka_nodes, postgres_pair(run_dir) as pair:
        prefix = f"failover-{secrets.token_hex(3)}."
        env = production_env(kafka_nodes.bootstrap_servers, pair.url, sink.port, prefix)
        env.update(
            NOTIFICATIONS_DIGEST_WINDOW_S="0",
            NOTIFICATIONS_RATE_LIMIT_EMAILS="1000000",
            NOTIFICATIONS_LEASE_S="10",
        )
        services = service_processes(env, run_dir / "logs")
        kafka = KafkaSettings(bootstrap_servers=kafka_nodes.bootstrap_servers, topic_prefix=prefix)
        faults = FailoverFaults(kafka_nodes, pair, kafka, args.down_s, args.freeze_s, log)
        progress = Progress(services)
        canary = Canary(
            KafkaSettings(
                profile="production",
                bootstrap_servers=kafka_nodes.bootstrap_servers,
                topic_prefix=prefix,
            )
        )
        try:
            start_all(services)
            key = create_api_key(env, TENANT, "failover")
            progress.start()
            canary.start()
            kinds = [*args.broker_faults, "db"] * args.faults
            thread = faults.run(kinds, args.first_s, args.settle_s)
            began = time.monotonic()
            # The load goes on until the last fault is over: every gap is measured under it.
            faulting = thread.is_alive
            profile_url = services["profile"].url("")
            driver = asyncio.run(drive(args, kafka, profile_url, key, inbox, faulting))
            workload_s, workload_end = time.monotonic() - began, time.monotonic()
            log(f"workload done: {driver.applied}; waiting for the remaining faults")
            thread.join()
            canary.stop()
            under_load = faults.finished_at <= workload_end
            undrained = wait_drained(
                services, pair.url, kafka, args.drain_timeout, stall_s=args.drain_timeout
            )
            progress.stop()
            outcome = check(pair.url, kafka, driver, inbox)
            verdict = outcome.verdict
            exits = [s.name for s in services.values() if not s.alive]
            usage = footprint(services, time.monotonic() - began)
        finally:
            progress.stop()
            canary.stop()
            stopping = time.monotonic()
            stop_all(services)  # SIGTERM, as Kubernetes sends it
            shutdown_s = time.monotonic() - stopping
    gaps = gaps_by_kind(faults, progress.gap, workload_end)
    for kind, values in gaps.items():
        print(f"{kind}_gaps_s={[round(v, 1) for v in values]}")
    at = gaps_by_kind(faults, lambda a, b: span_text(progress.gap_span(a, b)), workload_end)
    for kind, spans in at.items():
        print(f"{kind}_gap_at_utc={spans}")
    for kind, values in gaps_by_kind(faults, progress.worst_service_gap, workload_end).items():
        print(f"{kind}_worst_service_gaps_s={[round(v, 1) for v in values]}")
    for kind, named in gaps_by_kind(faults, progress.worst_service_span, workload_end).items():
        where = [f"{name} {span_text((began, ended))}" for name, began, ended in named]
        print(f"{kind}_worst_service_gap_at_utc={where}")
    for name in services:
        unready = partial(progress.longest_unready, service=name)
        for kind, values in gaps_by_kind(faults, unready, workload_end).items():
            print(f"{name}_{kind}_longest_not_ready_s={[round(v, 1) for v in values]}")
        unscraped = partial(progress.longest_unscraped, service=name)
        for kind, values in gaps_by_kind(faults, unscraped, workload_end).items():
            print(f"{name}_{kind}_longest_metrics_unanswered_s={[round(v, 1) for v in values]}")
    for kind, values in gaps_by_kind(faults, canary.worst, workload_end).items():
        print(f"{kind}_canary_worst_delay_s={[round(v, 1) for v in values]}")
    for name, figures in usage.items():
        print(" ".join(f"{name}_{figure}" for figure in figures.split()))
    print(f"shutdown_after_sigterm_s={shutdown_s:.1f}")
    if exits or faults.errors or undrained:
        print(f"service_exits={exits} fault_errors={faults.errors} not_drained={undrained}")
    equal = not verdict.ranking_differ
    for label, ids in (
        ("missing_emails", verdict.missing_emails),
        ("wrong_latest_emails", verdict.wrong_emails),
        ("dead_lettered_valid", outcome.dead_lettered_valid),
        ("duplicate_message_ids", outcome.duplicate_emails),
        ("rankings_differ_from_truth", verdict.ranking_differ),
    ):
        if ids:
            print(f"{label} ({len(ids)}): {' '.join(ids[:50])}")
    events = sum(driver.applied.values())
    print(
        f"rate_asked={args.rate}/s rate_achieved={events / workload_s:.1f}/s events={events} "
        f"expected_proposals={verdict.expected} faults_under_load={str(under_load).lower()}"
    )
    ok = outcome.lost == 0 and not outcome.duplicate_emails and equal and verdict.expected > 0
    return RunResult(
        ok=ok and under_load and not faults.errors and not exits,
        broker_failovers=faults.broker_failovers,
        db_failovers=faults.db_failovers,
        lost=outcome.lost,
        duplicate_emails=len(outcome.duplicate_emails),
        rankings_equal_truth=equal,
        gaps=gaps,
    )


@dataclass
class RunResult:
    ok: bool
    broker_failovers: int
    db_failovers: int
    lost: int
    duplicate_emails: int
    rankings_equal_truth: bool
    gaps: dict[str, list[float]]  # per fault kind, one gap per fault


def result_line(results: list[RunResult]) -> str:
    """The result line over one run or several: each gap figure is the p99 over every fault of
    its kind in these runs, followed by how many faults that is (with fewer than 100, the
    nearest-rank p99 is the largest of them)."""
    figures = [
        f"broker_failovers={sum(r.broker_failovers for r in results)}",
        f"db_failovers={sum(r.db_failovers for r in results)}",
        f"lost={sum(r.lost for r in results)}",
        f"duplicate_emails={sum(r.duplicate_emails for r in results)}",
        f"rankings_equal_truth={str(all(r.rankings_equal_truth for r in results)).lower()}",
    ]
    for kind, key in (("kill", "leader_gap"), ("freeze", "frozen_leader_gap"), ("db", "db_gap")):
        pooled = [gap for r in results for gap in r.gaps.get(kind, [])]
        figures += [f"{key}_p99_s={p99(pooled):.1f}", f"{key}_faults={len(pooled)}"]
    figures += [f"runs={len(results)}", "db_replication=synchronous"]
    return " ".join(figures)


def gaps_by_kind(
    faults: FailoverFaults, measure: Callable[[float, float], T], workload_end: float
) -> dict[str, list[T]]:
    """Each fault's window ends where the next fault begins, the last one with the workload."""
    gaps: dict[str, list[T]] = {"kill": [], "freeze": [], "db": []}
    windows = [*faults.windows, ("end", workload_end)]
    for (kind, started), (_, following) in itertools.pairwise(windows):
        gaps[kind].append(measure(started, following))
    return gaps


def span_text(span: tuple[float, float]) -> str:
    """A stall's (from, to) as wall-clock `HH:MM:SS.s-HH:MM:SS.s` (UTC, as the services log)."""
    wall = time.time() - time.monotonic()
    return "-".join(_utc(wall + moment) for moment in span)


def _utc(moment: float) -> str:
    tenths = round(moment * 10)
    return time.strftime("%H:%M:%S", time.gmtime(tenths // 10)) + f".{tenths % 10}"


def footprint(services: dict[str, ServiceProcess], elapsed_s: float) -> dict[str, str]:
    """Each service process's peak resident memory (VmHWM), its mean CPU over the run (from
    /proc, Linux) and the events it handled per CPU second: the figures the manifests' requests,
    limits and lag thresholds are checked against."""
    figures: dict[str, str] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for name, service in services.items():
        if service.process is None or not service.alive:
            continue
        proc = Path(f"/proc/{service.process.pid}")
        status = (proc / "status").read_text()
        peak_kib = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        handled = metric_sum(service.metrics(), "mentorlink_events_consumed_total", outcome="ok")
        figures[name] = (
            f"peak_rss_mib={peak_kib / 1024:.0f} cpu_mean_m={1000 * cpu_s / elapsed_s:.0f} "
            f"events_per_cpu_s={handled / cpu_s:.0f}"
        )
    return figures


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="workload actions")
    parser.add_argument("--rate", type=float, default=20.0, help="workload actions per second")
    parser.add_argument("--faults", type=int, default=2, help="rounds of every fault kind")
    parser.add_argument(
        "--broker-faults",
        type=lambda text: [kind for kind in text.split(",") if kind],
        default=["kill", "freeze"],
        help="broker faults per round, kill (SIGKILL, restart), freeze (SIGSTOP, SIGCONT)",
    )
    parser.add_argument("--down-s", type=float, default=10.0, help="how long a victim stays down")
    parser.add_argument(
        "--freeze-s",
        type=float,
        default=20.0,
        help="how long a frozen broker stays frozen: longer than the broker session (6 s) and "
        "the production request timeout (5 s), so that clients must give up on it",
    )
    parser.add_argument("--first-s", type=float, default=15.0, help="load before the first fault")
    parser.add_argument("--settle-s", type=float, default=15.0, help="calm between faults")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="whole runs, each on a fresh cluster; the last line's gap p99s pool their faults",
    )
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--keep", action="store_true", help="keep the run folder")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # The truth's settings objects need keys; the services get their own (production_env).
    for name in ("LINK_SIGNING_KEYS", "ERASURE_HASH_KEYS"):
        os.environ.setdefault(name, secrets.token_urlsafe(32))
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    results = []
    for number in range(1, args.runs + 1):
        results.append(one_run(args))
        if args.runs > 1:
            print(f"run {number} of {args.runs}: {result_line(results[-1:])}", flush=True)
    print(result_line(results), flush=True)
    raise SystemExit(0 if all(result.ok for result in results) else 1)


def one_run(args: argparse.Namespace) -> RunResult:
    """A fresh cluster, services and mail sink, in a run folder of its own."""
    run_dir = ROOT / ".cache" / "failover" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o777)  # PostgreSQL runs as an unprivileged user inside it
    log(f"run directory {run_dir} (service logs in logs/)")
    inbox = Inbox()
    try:
        with SmtpSink() as sink:
            sink.on_message(inbox.record)
            return run(args, run_dir, sink, inbox)
    finally:
        if not args.keep:  # the data goes; the logs stay
            for data in [*run_dir.glob("kafka-*/logs"), *run_dir.glob("pg-*")]:
                shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

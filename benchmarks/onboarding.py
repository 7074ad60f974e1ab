"""`make bench-onboarding`: a company onboarded at once, the whole platform running.

A CSV export of `--mentors` mentors and `--mentees` mentees (the seeded population of
`tests/support/population.py`) is imported with the documented CLI
(`python -m services.profile import-csv`, docs/integrators.md); then every mentee's goal is
published as an ingress `SetGoal` command, as an HR system would. Profile (with its outbox
relay and ingress consumer), matching, notifications, Apache Kafka, PostgreSQL and an SMTP
sink run as processes. The run ends when every mentee whom the matching engine alone, given
the same people, ranks with a mentor has an email, or when nothing is left in flight. CPU and
peak RSS are taken per process over the whole run (`benchmarks/cpu.py`, `benchmarks/memory.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from benchmarks import wire
from benchmarks.cpu import CpuWindow
from benchmarks.kafka_io import Publisher
from benchmarks.memory import PeakRss
from benchmarks.onboarding_data import company, expected_matched, set_goal_command, write_export
from benchmarks.platform import PRODUCTION_DIGEST_S, SUT, platform
from benchmarks.system_window import Arrivals
from devenv.processes import ROOT, ServiceProcess, create_api_key, metric_sum
from shared.settings import KafkaSettings

TENANT = "onboarding"
console = Console(stderr=True)


def import_csv(env: dict[str, str], export: Path) -> tuple[float, float, str]:
    """The documented CLI as a child process: its CPU seconds, peak RSS (MB) and summary."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "services.profile", "import-csv", str(export)]
    result = subprocess.run(  # noqa: S603 - the project's own CLI, our arguments
        [*command, "--tenant", TENANT], env=env, capture_output=True, text=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"import-csv failed ({result.returncode}): {result.stderr[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu, after.ru_maxrss / 1024, result.stdout.strip().splitlines()[-1]


async def publish_goals(kafka: KafkaSettings, goals: list) -> None:  # type: ignore[type-arg]
    async with Publisher(kafka) as publisher:
        for goal in goals:
            command = set_goal_command(TENANT, goal)
            topic = f"{kafka.topic_prefix}ingress"
            await publisher.publish_bytes(topic, goal.mentee_id, command.model_dump_json().encode())


async def wait_for_emails(
    services: dict[str, ServiceProcess], arrivals: Arrivals, expected: set[str], timeout_s: float
) -> None:
    """Until every expected mentee has an email, or no email came and the services' consumers,
    outboxes and profile's staged ingress commands stayed empty for 10 s."""
    emails = {wire.email_address(m) for m in expected}
    deadline, quiet, before = time.monotonic() + timeout_s, 0, -1
    while time.monotonic() < deadline:
        got = len(emails & arrivals.first.keys())
        if got == len(emails):
            return
        busy = {
            f"{name} {metric.split('_', 1)[1]}": metric_sum(services[name].metrics(), metric)
            for name in ("profile", "matching", "notifications")
            for metric in ("mentorlink_consumer_lag", "mentorlink_outbox_backlog")
        }
        # the ingress backlog: commands read (offsets committed) and not yet applied
        staged = metric_sum(services["profile"].metrics(), "mentorlink_ingress_staged")
        busy["profile ingress_staged"] = staged
        console.print(
            f"emails: {got}/{len(emails)} expected mentees, {arrivals.total} in all;"
            f" in flight: {', '.join(f'{k} {v:.0f}' for k, v in busy.items() if v)}"
        )
        quiet = quiet + 1 if not any(busy.values()) and arrivals.total == before else 0
        before = arrivals.total
        if quiet >= 10:
            return
        await asyncio.sleep(1)


def run(args: argparse.Namespace) -> dict[str, float]:
    mentors, mentees = company(args.seed, args.mentors, args.mentees)
    run_dir = ROOT / ".cache" / "bench-onboarding" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    export = run_dir / "people.csv"
    write_export(export, [*mentors, *(m for m, _ in mentees)])
    started = time.monotonic()
    expected = expected_matched(mentors, mentees)
    console.print(
        f"{len(expected)} of {len(mentees)} mentees ranked with a mentor by the engine alone"
        f" ({time.monotonic() - started:.0f} s); export {export}"
    )
    arrivals = Arrivals()
    prefix = f"onboarding-{secrets.token_hex(3)}."
    with platform(run_dir, args.kafka, prefix, args.digest_window_s, arrivals) as running:
        create_api_key(running.env, TENANT, "onboarding")
        kafka = KafkaSettings(bootstrap_servers=running.kafka_servers, topic_prefix=prefix)
        cpu, load_before = CpuWindow(running.process_names), os.getloadavg()[0]
        with PeakRss(running.process_names) as peak:
            cpu.start()
            began, began_wall = time.monotonic(), time.time()
            import_s, import_mb, summary = import_csv(running.env, export)
            console.print(f"import: {summary} ({time.monotonic() - began:.0f} s)")
            asyncio.run(publish_goals(kafka, [g for _, g in mentees]))
            asyncio.run(wait_for_emails(running.services, arrivals, expected, args.timeout))
            wall_s = last_first_email(arrivals, expected, began_wall)
            _, used = cpu.stop_seconds()
    used["generator"] -= import_s  # the CLI is the generator's child: charged to profile
    used["profile"] = used.get("profile", 0.0) + import_s
    return results(
        args, wall_s, used, peak.mb() | {"import_csv": import_mb}, arrivals, expected
    ) | {
        "load_average_start": load_before,
        "load_average_end": os.getloadavg()[0],
    }


def last_first_email(arrivals: Arrivals, expected: set[str], began_wall: float) -> float:
    """Seconds from the import's start to the last expected mentee's first email (to the last
    first email of anyone if some expected mentee got none): the wait for emails that did
    not come is not the onboarding's time."""
    emails = {wire.email_address(m) for m in expected}
    firsts = dict(arrivals.first)
    wanted = [firsts[e] for e in emails if e in firsts]
    last = max(wanted) if len(wanted) == len(emails) else max(firsts.values(), default=began_wall)
    return last - began_wall


def results(
    args: argparse.Namespace,
    wall_s: float,
    used: dict[str, float],
    peak_mb: dict[str, float],
    arrivals: Arrivals,
    expected: set[str],
) -> dict[str, float]:
    people = args.mentors + args.mentees
    sut_s = sum(used.get(name, 0.0) for name in SUT)
    emailed = {wire.email_address(f"mentee-{i:07d}") for i in range(args.mentees)}
    missing = {wire.email_address(m) for m in expected} - arrivals.first.keys()
    return {
        **{f"cpu_{name}_s": seconds for name, seconds in sorted(used.items())},
        "digest_window_s": args.digest_window_s,
        "sut_cpu_s": sut_s,
        "expected_matched_mentees": len(expected),
        "matched_mentees_without_email": len(missing),
        "mentees_emailed": len(emailed & arrivals.first.keys()),
        "people": people,
        "wall_s": wall_s,
        "people_per_sut_core_s": people / sut_s if sut_s else math.nan,
        "emails": arrivals.total,
        **{f"peak_rss_mb_{name}": mb for name, mb in peak_mb.items() if name != "busy"},
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentors", type=int, default=10_000)
    parser.add_argument("--mentees", type=int, default=90_000)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument(
        "--digest-window-s",
        type=float,
        default=PRODUCTION_DIGEST_S,
        help=f"NOTIFICATIONS_DIGEST_WINDOW_S (production default {PRODUCTION_DIGEST_S:g})",
    )
    parser.add_argument("--kafka", default=None, help="use this Apache Kafka (host:port)")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds to wait for emails")
    return parser.parse_args()


def main() -> None:
    for name, value in run(parse_args()).items():
        shown = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
        print(f"{name}={shown}", flush=True)


if __name__ == "__main__":
    main()

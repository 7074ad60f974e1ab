"""`make chaos`: a seeded workload under unclean faults, then a check against ground truth.

The three services run as OS processes against Apache Kafka, PostgreSQL and an SMTP sink, each
behind its own toxiproxy to Kafka and PostgreSQL (benchmarks/chaos_stack.py). A seeded workload
(mentors, mentees, goals, accepts, declines, deletes; the API and the ingress topic, plus a few
invalid ingress commands) runs while one thread injects faults (benchmarks/chaos_faults.py):
SIGKILLs of services, of the Kafka broker and of the PostgreSQL postmaster, a read-only
PostgreSQL with its sessions cut, and latency, resets and black holes on the network paths.
When everything has drained it checks, against the workload's own record of what the platform
acknowledged (benchmarks/chaos_truth.py, not matching's tables):
- every mentee whose expected ranking is not empty has a latest email naming exactly those
  mentors (`lost` counts those that do not, plus every dead-lettered valid event);
- every dead letter of every `.dlq` topic is read: one that is not a deliberately invalid
  command is a valid event given up on (`dead_lettered_valid`);
- no Message-ID arrived twice; matching's current proposals equal the expected rankings.
Last line: events=... kills=... broker_kills=... db_kills=... readonly_s=... net_faults=...
lost=0 dead_lettered_valid=0 duplicate_emails=0 rankings_equal_truth=true
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import httpx
from rich.console import Console

from benchmarks.chaos_faults import FaultCounts, Faults, Schedule
from benchmarks.chaos_stack import stack
from benchmarks.chaos_truth import Verdict, asked, compare, expected_rankings, seats_differ
from benchmarks.chaos_workload import INVALID_MARK, Driver, Inbox, Workload, paced
from benchmarks.kafka_io import Publisher, dead_letters, groups_lag
from devenv.processes import ROOT, ServiceProcess, create_api_key, metric_sum, start_all, stop_all
from devenv.smtp_sink import SmtpSink
from services.matching.settings import MatchingSettings
from shared.contracts.topics import DEAD_LETTER_SUFFIX, INGRESS
from shared.settings import KafkaSettings

TENANT = "chaos"
PARTITIONS = 6
console = Console(stderr=True)


def log(line: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {line}")


@dataclass
class Outcome:
    verdict: Verdict
    dead_lettered_valid: list[str]
    dead_letters: int
    duplicate_emails: list[str]
    seats_differ: list[str]  # a diagnosis: matching's seats taken that are not the truth's
    undrained: str = ""  # what was still pending when the run stopped waiting

    @property
    def lost(self) -> int:
        return self.verdict.lost + len(self.dead_lettered_valid)


async def drive(
    args: argparse.Namespace,
    kafka: KafkaSettings,
    profile_url: str,
    key: str,
    inbox: Inbox,
    keep_going: Callable[[], bool] = lambda: False,
) -> Driver:
    rng = random.Random(args.seed)
    # Enough seats that accepts do not use them all: the final check must have rankings to check.
    workload = Workload(rng, mentors=max(40, args.events // 50))
    auth = {"Authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=profile_url, headers=auth, timeout=10) as http,
        Publisher(kafka) as publisher,
    ):
        topic = INGRESS.qualified(kafka.topic_prefix)
        driver = Driver(http, publisher, topic, TENANT, inbox, random.Random(args.seed + 1), log)
        await paced(workload.seed_mentors(), workload, driver, args.events, args.rate, keep_going)
    return driver


def pending(
    services: dict[str, ServiceProcess], database_url: str, kafka: KafkaSettings
) -> str | None:
    """What still moves (group lag, outbox, queued emails), or None when everything settled."""
    for service in services.values():
        text = service.metrics()
        if not text or not service.ready():
            return f"{service.name} not ready"
        backlog = metric_sum(text, "mentorlink_outbox_backlog", service=service.name)
        if backlog:
            return f"{service.name} outbox {backlog:.0f}"
    lagging = {g: n for g, n in asyncio.run(groups_lag(kafka)).items() if n}
    if lagging:
        return f"consumer lag {lagging}"
    queued = asyncio.run(_queued_emails(database_url))
    return f"{queued} emails queued" if queued else None


async def _queued_emails(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM notifications.emails WHERE state IN ('queued', 'sending')"
            )
        )
    finally:
        await connection.close()


def wait_drained(
    services: dict[str, ServiceProcess],
    database_url: str,
    kafka: KafkaSettings,
    timeout_s: float,
    stall_s: float,
) -> str:
    """Until nothing moves (3 quiet polls), the timeout, or `stall_s` of the same backlog.

    Returns what was still pending ("" when everything drained)."""
    deadline, settled = time.monotonic() + timeout_s, 0
    last_report, last_state, since = 0.0, "", time.monotonic()
    while time.monotonic() < deadline and settled < 3:
        try:
            state = pending(services, database_url, kafka)
        except Exception as error:  # a broker or database still recovering: ask again
            state = f"{type(error).__name__}: {error}"
        settled = settled + 1 if state is None else 0
        if state != last_state:
            last_state, since = state or "", time.monotonic()
        elif state and time.monotonic() - since > stall_s:
            log(f"[yellow]stuck for {stall_s:.0f}s: {state}")
            return state
        if state and time.monotonic() - last_report > 10:
            log(f"draining: {state}")
            last_report = time.monotonic()
        time.sleep(1)
    if settled < 3:
        log(f"[yellow]not drained within {timeout_s:.0f}s: {last_state}")
        return last_state or "?"
    return ""


async def _rows(database_url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return list(await connection.fetch(query, TENANT))
    finally:
        await connection.close()


def stored_proposals(database_url: str) -> dict[str, frozenset[str]]:
    query = "SELECT mentee_id, mentor_ids FROM matching.proposals WHERE tenant_id = $1"
    return {r[0]: frozenset(r[1]) for r in asyncio.run(_rows(database_url, query))}


def stored_seats(database_url: str) -> dict[str, int]:
    # the mentors' seats taken as matching holds them: from their profiles (issue 28)
    query = (
        "SELECT user_id, (features::jsonb ->> 'seats_taken')::int FROM matching.people"
        " WHERE tenant_id = $1 AND is_mentor"
    )
    return {r[0]: r[1] for r in asyncio.run(_rows(database_url, query)) if r[1]}


def check(database_url: str, kafka: KafkaSettings, driver: Driver, inbox: Inbox) -> Outcome:
    config = MatchingSettings(kafka=KafkaSettings(partitions=PARTITIONS)).engine_config()
    expected = expected_rankings(driver.record, config, PARTITIONS)
    proposals = stored_proposals(database_url)
    verdict = compare(expected, inbox.latest_mentors(), proposals, asked(driver.record))
    letters = asyncio.run(dead_letters(kafka, DEAD_LETTER_SUFFIX))
    valid = [
        f"{d.topic} {d.headers.get('x-dlq-reason', '?')}: {d.value[:120]!r}"
        for d in letters
        if INVALID_MARK.encode() not in d.value
    ]
    received = inbox.received()
    duplicates = sorted(f"{m} at {','.join(t)}" for m, t in received.items() if len(t) > 1)
    log(f"truth: {len(expected)} mentees with a goal, {verdict.expected} with mentors")
    seats = seats_differ(driver.record, stored_seats(database_url))
    return Outcome(verdict, valid, len(letters), duplicates, seats)


def run(args: argparse.Namespace, sink: SmtpSink, inbox: Inbox) -> int:
    prefix = f"chaos-{secrets.token_hex(3)}."
    extra = {
        "NOTIFICATIONS_DIGEST_WINDOW_S": "0",
        "NOTIFICATIONS_RATE_LIMIT_EMAILS": "1000000",
        "NOTIFICATIONS_RETRY_BASE_S": "0.2",
        "NOTIFICATIONS_RETRY_MAX_S": "5",
        "NOTIFICATIONS_LEASE_S": "10",
    }
    with stack(args.run_dir, sink.port, prefix, extra) as platform:
        services = platform.services
        try:
            start_all(services)
            key = create_api_key(services["profile"].env, TENANT, "chaos")
            faults = Faults(
                services,
                platform.kafka,
                platform.postgres,
                platform.proxy,
                args.readonly_s,
                log,
            )
            counts = FaultCounts(
                args.kills, args.broker_kills, args.db_kills, args.readonly_s, args.net_faults
            )
            schedule = Schedule.random(
                random.Random(args.seed), args.events / args.rate, counts, list(services)
            )
            log(f"faults planned: {[(round(at), str(f)) for at, f in schedule.at]}")
            thread = faults.run(schedule)
            kafka = KafkaSettings(bootstrap_servers=platform.kafka_servers, topic_prefix=prefix)
            driver = asyncio.run(drive(args, kafka, services["profile"].url(""), key, inbox))
            (args.run_dir / "record.txt").write_text("\n".join(driver.record.lines()) + "\n")
            log(f"workload done: {driver.applied}; waiting for the remaining faults")
            thread.join()
            try:
                faults.wait_all_ready()
            except TimeoutError as error:  # a stuck service: account for what arrived, then fail
                faults.report.errors.append(str(error))
            undrained = wait_drained(
                services, platform.postgres.url, kafka, args.drain_timeout, args.stall_s
            )
            outcome = check(platform.postgres.url, kafka, driver, inbox)
            outcome.undrained = undrained
        finally:
            stop_all(services)
    return report(args, driver, faults, outcome)


def report(args: argparse.Namespace, driver: Driver, faults: Faults, outcome: Outcome) -> int:
    fault_report, verdict = faults.report, outcome.verdict
    print(f"applied={driver.applied} rejected={len(driver.rejected)} retries={driver.retries}")
    print(f"kills_by_service={fault_report.kills} net_faults_by_kind={fault_report.net_faults}")
    print(f"unexpected_exits={fault_report.unexpected_exits} fault_errors={fault_report.errors}")
    print(f"dead_letters={outcome.dead_letters} invalid_sent={driver.invalid_sent}")
    print(f"mentees_with_mentors={verdict.expected} not_drained={outcome.undrained or 'none'}")
    for label, ids in (
        ("rejected_actions", driver.rejected),
        ("missing_emails", verdict.missing_emails),
        ("wrong_latest_emails", verdict.wrong_emails),
        ("dead_lettered_valid", outcome.dead_lettered_valid),
        ("duplicate_message_ids", outcome.duplicate_emails),
        ("rankings_differ_from_truth", verdict.ranking_differ),
        ("seats_differ_from_truth (a diagnosis)", outcome.seats_differ),
        ("latest_email_names_mentors_asked_since (not lost)", verdict.asked_since),
    ):
        if ids:
            print(f"{label} ({len(ids)}): {' | '.join(ids[:50])}")
    planned = (args.kills, args.broker_kills, args.db_kills, args.net_faults)
    done = (
        fault_report.kill_count,
        fault_report.broker_kills,
        fault_report.db_kills,
        fault_report.net_fault_count,
    )
    if done != planned:
        print(f"faults planned {planned} but done {done} (a failure)")
    if verdict.expected == 0:
        print("no mentee has mentors at the end: the checks prove nothing (a failure)")
    equal = not verdict.ranking_differ
    events = sum(driver.applied.values())
    print(
        f"events={events} kills={fault_report.kill_count} broker_kills={fault_report.broker_kills} "
        f"db_kills={fault_report.db_kills} readonly_s={fault_report.readonly_s:.0f} "
        f"net_faults={fault_report.net_fault_count} lost={outcome.lost} "
        f"dead_lettered_valid={len(outcome.dead_lettered_valid)} "
        f"duplicate_emails={len(outcome.duplicate_emails)} "
        f"rankings_equal_truth={str(equal).lower()}",
        flush=True,
    )
    ok = (
        outcome.lost == 0
        and not outcome.dead_lettered_valid
        and not outcome.duplicate_emails
        and equal
        and verdict.expected > 0
        and done == planned
        and not fault_report.errors
        and not driver.rejected
    )
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=12, help="service SIGKILLs")
    parser.add_argument("--broker-kills", type=int, default=2, help="Kafka broker SIGKILLs")
    parser.add_argument("--db-kills", type=int, default=2, help="PostgreSQL postmaster SIGKILLs")
    parser.add_argument("--readonly-s", type=float, default=15.0, help="read-only PostgreSQL")
    parser.add_argument("--net-faults", type=int, default=24, help="toxics on service paths")
    parser.add_argument("--rate", type=float, default=25.0, help="workload actions per second")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument(
        "--stall-s", type=float, default=180.0, help="give up draining when stuck this long"
    )
    args = parser.parse_args()
    args.run_dir = ROOT / ".cache" / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    return args


def main() -> None:
    args = parse_args()
    # One link key and one erasure key for the run: the three services share them (service_env
    # takes them from here), and the run's own settings objects need them too.
    for name in ("LINK_SIGNING_KEYS", "ERASURE_HASH_KEYS"):
        os.environ.setdefault(name, secrets.token_urlsafe(32))
    # A broker restarted after its SIGKILL recovers every partition's log first; on a busy
    # machine that took longer than start.sh's default 60 s, and the run lost its broker.
    os.environ.setdefault("KAFKA_START_TIMEOUT", "240")
    # The driver's own Kafka client logs every failed reconnect during the faults; we count them.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    log(f"run directory {args.run_dir} (service logs in logs/)")
    inbox = Inbox()
    with SmtpSink() as sink:
        sink.on_message(inbox.record)
        code = run(args, sink, inbox)
    raise SystemExit(code)


if __name__ == "__main__":
    main()

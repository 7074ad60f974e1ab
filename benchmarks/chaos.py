"""`make chaos`: a seeded workload under SIGKILLs and outages, then an exact account.

The three services run as OS processes against Apache Kafka, PostgreSQL and an SMTP sink. A
seeded workload (mentors, mentees, goals, accepts and declines; the API and the ingress topic)
runs while one thread SIGKILLs services at random moments and restarts them, stops Apache Kafka
and later PostgreSQL for --outage-s each. When everything has drained it checks:
- proposals: every mentee whose batch recompute of the final stored state ranks mentors has a
  stored proposal with exactly that mentor set;
- emails: each of those final proposals arrived at the SMTP sink (by its stable Message-ID),
  and no Message-ID arrived twice;
- rankings: matching's /admin/verify (live engines against a batch recompute) differs nowhere.
Last line: events=... kills=... outages=... lost=0 duplicate_emails=0 rankings_equal_batch=true
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass

import asyncpg
import httpx
from rich.console import Console

from benchmarks.chaos_faults import Faults, Schedule
from benchmarks.chaos_workload import Driver, Inbox, Workload, paced
from benchmarks.kafka_io import Publisher, groups_lag
from devenv.processes import (
    ROOT,
    Infrastructure,
    ServiceProcess,
    create_api_key,
    http_get,
    infrastructure,
    metric_sum,
    service_env,
    service_processes,
    start_all,
    stop_all,
)
from devenv.smtp_sink import SmtpSink
from services.matching.adapters.state_loader import load_engines
from services.matching.domain.batch import recompute
from services.matching.domain.engine import population
from services.matching.settings import MatchingSettings
from services.notifications.domain.email import message_id
from shared.contracts.topics import INGRESS
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings, KafkaSettings

TENANT = "chaos"
MESSAGE_ID_DOMAIN = "mentorlink.local"
console = Console(stderr=True)


def log(line: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {line}")


@dataclass
class Verdict:
    missing_proposals: list[str]
    missing_emails: list[str]
    duplicate_emails: list[str]
    verify_differ: list[str]
    expected: int

    @property
    def lost(self) -> int:
        return len(self.missing_proposals) + len(self.missing_emails)


async def drive(
    args: argparse.Namespace, kafka: KafkaSettings, profile_url: str, key: str, inbox: Inbox
) -> Driver:
    rng = random.Random(args.seed)
    # Enough seats that accepts do not use them all: the final check must have proposals to check.
    workload = Workload(rng, mentors=max(10, args.events // 50))
    auth = {"Authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=profile_url, headers=auth, timeout=10) as http,
        Publisher(kafka) as publisher,
    ):
        topic = INGRESS.qualified(kafka.topic_prefix)
        driver = Driver(http, publisher, topic, TENANT, inbox, random.Random(args.seed + 1), log)
        await paced(workload.seed_mentors(), workload, driver, args.events, args.rate)
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
    services: dict[str, ServiceProcess], database_url: str, kafka: KafkaSettings, timeout_s: float
) -> None:
    deadline, settled = time.monotonic() + timeout_s, 0
    last_report = 0.0
    while time.monotonic() < deadline and settled < 3:
        state = pending(services, database_url, kafka)
        settled = settled + 1 if state is None else 0
        if state and time.monotonic() - last_report > 10:
            log(f"draining: {state}")
            last_report = time.monotonic()
        time.sleep(1)
    if settled < 3:
        log(
            f"[yellow]not drained within {timeout_s:.0f}s: {pending(services, database_url, kafka)}"
        )


async def batch_expectations(database_url: str, partitions: int) -> dict[tuple[str, str], set[str]]:
    """A batch recompute of the final stored state: mentee -> expected mentor set."""
    settings = MatchingSettings(kafka=KafkaSettings(partitions=partitions))
    pool = await create_pool(DatabaseSettings(database_url=database_url), "matching")
    try:
        engines = await load_engines(pool, range(partitions), settings.engine_config())
    finally:
        await pool.close()
    expected: dict[tuple[str, str], set[str]] = {}
    for tenant, engine in engines.items():
        rankings = recompute(
            population(engine), engine.config, engine.roster.partition_of.__getitem__
        )
        expected.update({(tenant, m): set(r) for m, r in rankings.items() if r})
    return expected


async def stored_proposals(database_url: str) -> dict[tuple[str, str], tuple[str, set[str]]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT tenant_id, mentee_id, proposal_id, mentor_ids FROM matching.proposals"
        )
    finally:
        await connection.close()
    return {(r[0], r[1]): (str(r[2]), set(r[3])) for r in rows}


def check(matching: ServiceProcess, token: str, database_url: str, inbox: Inbox) -> Verdict:
    status, body = http_get(matching.url("/admin/verify"), token, timeout_s=120)
    differ = json.loads(body)["differ"] if status == 200 else [f"/admin/verify answered {status}"]
    expected = asyncio.run(batch_expectations(database_url, 6))
    stored = asyncio.run(stored_proposals(database_url))
    received = inbox.received()
    missing_proposals, missing_emails = [], []
    for (tenant, mentee), mentors in sorted(expected.items()):
        proposal = stored.get((tenant, mentee))
        if proposal is None or proposal[1] != mentors:
            missing_proposals.append(f"{tenant}/{mentee}")
            continue
        wanted = message_id(tenant, mentee, proposal[0], MESSAGE_ID_DOMAIN)
        if not received.get(wanted):
            missing_emails.append(f"{tenant}/{mentee} {wanted}")
    duplicates = sorted(f"{m} at {','.join(t)}" for m, t in received.items() if len(t) > 1)
    mentees = json.loads(body).get("mentees", -1) if status == 200 else -1
    log(f"verify: {mentees} mentees with a goal; {len(expected)} with a non-empty batch ranking")
    return Verdict(missing_proposals, missing_emails, duplicates, differ, len(expected))


def run(args: argparse.Namespace, infra: Infrastructure, sink: SmtpSink, inbox: Inbox) -> int:
    token, prefix = secrets.token_urlsafe(12), f"chaos-{secrets.token_hex(3)}."
    extra = {
        "NOTIFICATIONS_DIGEST_WINDOW_S": "0",
        "NOTIFICATIONS_RATE_LIMIT_EMAILS": "1000000",
        "NOTIFICATIONS_RETRY_BASE_S": "0.2",
        "NOTIFICATIONS_RETRY_MAX_S": "5",
        "NOTIFICATIONS_LEASE_S": "10",
        "MATCHING_ADMIN_TOKEN": token,
    }
    env = service_env(infra.kafka_servers, infra.postgres.url, sink.port, prefix, **extra)
    services = service_processes(env, args.run_dir / "logs")
    assert infra.kafka is not None
    try:
        start_all(services)
        key = create_api_key(env, TENANT, "chaos")
        faults = Faults(services, infra.kafka, infra.postgres, args.outage_s, log)
        schedule = Schedule.random(
            random.Random(args.seed), args.events / args.rate, args.kills, list(services)
        )
        log(f"faults planned: {[(round(at), f) for at, f in schedule.at]}")
        thread = faults.run(schedule)
        kafka = KafkaSettings(bootstrap_servers=infra.kafka_servers, topic_prefix=prefix)
        driver = asyncio.run(drive(args, kafka, services["profile"].url(""), key, inbox))
        log(f"workload done: {driver.applied}; waiting for the remaining faults")
        thread.join()
        try:
            faults.wait_all_ready()
            drain_timeout = args.drain_timeout
        except TimeoutError as error:  # a stuck service: account for what arrived, then fail
            faults.report.errors.append(str(error))
            drain_timeout = 60
        wait_drained(services, infra.postgres.url, kafka, drain_timeout)
        verdict = check(services["matching"], token, infra.postgres.url, inbox)
    finally:
        stop_all(services)
    return report(driver, faults, verdict)


def report(driver: Driver, faults: Faults, verdict: Verdict) -> int:
    fault_report = faults.report
    print(f"applied={driver.applied} rejected={len(driver.rejected)} retries={driver.retries}")
    print(f"kills_by_service={fault_report.kills} outages={fault_report.outages}")
    print(f"readyz_not_ready_during_postgres_outage={fault_report.not_ready_seen}")
    print(f"unexpected_exits={fault_report.unexpected_exits} fault_errors={fault_report.errors}")
    print(f"expected_proposals={verdict.expected}")
    for label, ids in (
        ("rejected_actions", driver.rejected),
        ("missing_or_wrong_proposals", verdict.missing_proposals),
        ("missing_emails", verdict.missing_emails),
        ("duplicate_message_ids", verdict.duplicate_emails),
        ("verify_differ", verdict.verify_differ),
    ):
        if ids:
            print(f"{label} ({len(ids)}): {' '.join(ids[:200])}")
    equal = not verdict.verify_differ
    if verdict.expected == 0:
        print("no mentee has a ranking at the end: the checks prove nothing (a failure)")
    events = sum(driver.applied.values())
    print(
        f"events={events} kills={fault_report.kill_count} outages={len(fault_report.outages)} "
        f"lost={verdict.lost} duplicate_emails={len(verdict.duplicate_emails)} "
        f"rankings_equal_batch={str(equal).lower()}",
        flush=True,
    )
    ok = verdict.lost == 0 and not verdict.duplicate_emails and equal and verdict.expected > 0
    return 0 if ok and not fault_report.errors else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--outage-s", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=40.0, help="workload actions per second")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drain-timeout", type=float, default=1800.0)
    args = parser.parse_args()
    args.run_dir = ROOT / ".cache" / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    return args


def main() -> None:
    args = parse_args()
    # The driver's own Kafka client logs every failed reconnect during the outage; we count them.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    log(f"run directory {args.run_dir} (service logs in logs/)")
    inbox = Inbox()
    with infrastructure(args.run_dir) as infra, SmtpSink() as sink:
        sink.on_message(inbox.record)
        code = run(args, infra, sink, inbox)
    raise SystemExit(code)


if __name__ == "__main__":
    main()

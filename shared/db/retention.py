"""Retention jobs: delete rows older than their window, in small batches.

Each batch is its own short transaction that locks only the rows it deletes (`SKIP LOCKED`:
rows a handler holds are left for the next run), so a job never blocks consumers or the email
dispatcher for long. Windows and why they are safe: docs/operations.md, Table retention.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from prometheus_client import Counter, Gauge

from shared.errors import TRANSIENT_ERRORS
from shared.settings import DAY_S
from shared.supervision import Heartbeat, Loop

log = logging.getLogger(__name__)

RETENTION_DELETED = Counter(
    "mentorlink_retention_rows_deleted_total",
    "Rows the retention jobs deleted, by table.",
    ["service", "table"],
)
RETENTION_LAST_RUN = Gauge(
    "mentorlink_retention_last_run_timestamp_seconds",
    "Unix time a retention job last finished a table.",
    ["service", "table"],
)


@dataclass(frozen=True)
class RetentionRule:
    """Rows of `table` whose `age_column` is older than `window_s`, and match `only` (SQL)."""

    table: str
    age_column: str
    window_s: float
    only: str = "true"

    def statement(self) -> str:
        # table, column and filter are constants of the code, never input
        table, age, only = self.table, self.age_column, self.only
        return (
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table}"  # noqa: S608
            f" WHERE {age} < now() - make_interval(secs => $1) AND ({only})"
            " LIMIT $2 FOR UPDATE SKIP LOCKED))"
        )


async def purge_table(
    pool: asyncpg.Pool,
    service: str,
    rule: RetentionRule,
    batch_size: int,
    beat: Heartbeat | None = None,
) -> int:
    """Delete every expired row of one table, a batch per transaction; returns how many."""
    deleted = 0
    sql = rule.statement()
    while True:
        status = await pool.execute(sql, rule.window_s, batch_size)
        count = int(status.split()[-1])
        deleted += count
        RETENTION_DELETED.labels(service, rule.table).inc(count)
        if beat is not None:
            beat.beat()  # a long backlog is progress, not a stuck loop
        if count < batch_size:
            break
        await asyncio.sleep(0)  # let handlers in between batches
    RETENTION_LAST_RUN.labels(service, rule.table).set(time.time())
    return deleted


async def purge_expired(
    pool: asyncpg.Pool,
    service: str,
    rules: Sequence[RetentionRule],
    batch_size: int,
    beat: Heartbeat | None = None,
) -> dict[str, int]:
    """One run of a service's retention job: rows deleted per table."""
    return {rule.table: await purge_table(pool, service, rule, batch_size, beat) for rule in rules}


def retention_loop(
    pool: asyncpg.Pool,
    service: str,
    rules: Sequence[RetentionRule],
    interval_s: float,
    batch_size: int,
) -> Loop:
    """The job as a supervised loop (shared/supervision.py): now, then every `interval_s`;
    an outage skips a run, not the loop."""

    async def run(beat: Heartbeat) -> None:
        while True:
            try:
                deleted = await purge_expired(pool, service, rules, batch_size, beat)
                if any(deleted.values()):
                    log.info("retention deleted %s", deleted)
            except TRANSIENT_ERRORS as exc:
                log.warning("retention run skipped: %s", type(exc).__name__)
            await beat.sleep(interval_s)

    return run


def processed_events_rule(days: float) -> RetentionRule:
    """Every schema's handled event ids (shared/db/idempotency.py)."""
    return RetentionRule("processed_events", "processed_at", days * DAY_S)

"""The proposals consumer against real PostgreSQL: a poll costs the same few statements whatever
its size, and ends as its proposals applied one at a time would (ADR 0009)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import asyncpg
import pytest

from services.notifications import bootstrap
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.service_layer import handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import ConsumedProposal, ProposalOrigin
from shared.contracts.matches import MatchProposed, ProposalCause
from shared.db.migrations import apply_migrations
from tests.unit.builders import proposal

POLICY = QueuePolicy("mentorlink.test", timedelta(seconds=10))
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """A pool of the notifications schema, and every statement its connections ran."""
    statements: list[str] = []

    async def init(conn: asyncpg.Connection[Any]) -> None:
        conn.add_query_logger(lambda record: statements.append(record.query))

    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=2,
        init=init,
        server_settings={"search_path": "notifications"},
    )
    assert pool is not None
    await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS)
    try:
        yield pool, statements
    finally:
        await pool.close()


def handler_statements(statements: list[str]) -> list[str]:
    """Without the transaction's BEGIN and COMMIT and the pool's reset of a returned connection."""
    return [
        s
        for s in statements
        if s not in ("BEGIN;", "COMMIT;") and not s.startswith("SELECT pg_advisory_unlock_all")
    ]


def consumed(tenant: str, n: int, payload: Any) -> ConsumedProposal:
    event = MatchProposed(
        tenant_id=tenant,
        key=payload.mentee_id,
        payload=payload,
        event_id=uuid5(UUID(int=0), f"{tenant}:{n}"),
        correlation_id=f"corr-{n}",
    )
    headers = {"traceparent": f"00-{n + 1:032x}-{n + 1:016x}-01"}
    return ConsumedProposal(event, ProposalOrigin("t.proposals", 0, n, f"v{n}".encode(), headers))


async def test_a_poll_costs_the_same_statements_whatever_its_size(
    counted: tuple[asyncpg.Pool, list[str]],
) -> None:
    pool, statements = counted
    store = PostgresNotificationsStore(pool)
    per_poll = []
    for size in (1, 2, 10, 100):  # the first also has asyncpg read the array types, once
        batch = [
            consumed("acme", size * 1000 + n, proposal(f"u-{n % 30}", ranking_version=size + n))
            for n in range(size)
        ]
        statements.clear()
        assert await handlers.record_proposals(batch, store, POLICY, lambda: NOW) == size
        per_poll.append(len(handler_statements(statements)))
        statements.clear()
        assert await handlers.record_proposals(batch, store, POLICY, lambda: NOW) == 0
        assert len(handler_statements(statements)) == 2  # redelivered: nothing to write
    assert per_poll[1:] == [4, 4, 4]  # the erasure lock, then the three statements
    waiting = await pool.fetchval("SELECT count(*) FROM emails WHERE state = 'queued'")
    assert waiting == 30  # one per mentee


def scenario(seed: int) -> list[list[tuple[int, Any]]]:
    """Polls of (event number, proposal): new versions, stale ones, empty ones, a reused
    proposal id, and redeliveries of earlier events within and across polls."""
    rng = random.Random(seed)
    mentees = [f"u-{n}" for n in range(5)]
    versions = dict.fromkeys(mentees, 0)
    history: list[tuple[int, Any]] = []
    polls = []
    for _ in range(25):
        batch = []
        for _ in range(rng.randrange(1, 12)):
            if history and rng.random() < 0.12:
                batch.append(rng.choice(history))
                continue
            who = rng.choice(mentees)
            version = max(1, versions[who] + rng.choice([1, 1, 1, 2, 0, -1]))
            versions[who] = max(versions[who], version)
            fields: dict[str, Any] = {"ranking_version": version, "awaited": rng.random() < 0.5}
            if rng.random() < 0.12:
                fields["mentors"] = []
            earlier = [p for _, p in history if p.mentee_id == who]
            if earlier and rng.random() < 0.05:
                fields["proposal_id"] = earlier[-1].proposal_id
            item = (len(history), proposal(who, **fields))
            batch.append(item)
            history.append(item)
        polls.append(batch)
    return polls


async def state(pool: asyncpg.Pool, tenant: str) -> Any:
    emails = await pool.fetch(
        "SELECT mentee_id, proposal_id, state, superseded_by, next_attempt_at, last_error,"
        " ranking_version, correlation_id, source_offset, source_value, source_headers, awaited"
        " FROM emails WHERE tenant_id = $1 ORDER BY id",
        tenant,
    )
    digests = await pool.fetch(
        "SELECT mentee_id, ranking_version FROM mentee_digests WHERE tenant_id = $1 ORDER BY 1",
        tenant,
    )
    return [tuple(r) for r in emails], [tuple(r) for r in digests]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_poll_ends_as_its_proposals_one_at_a_time(
    counted: tuple[asyncpg.Pool, list[str]], seed: int
) -> None:
    pool, _ = counted
    store = PostgresNotificationsStore(pool)
    rng = random.Random(seed)
    at = NOW
    for polled in scenario(seed):
        together = [consumed("together", n, p) for n, p in polled]
        alone = [consumed("alone", n, p) for n, p in polled]
        queued = await handlers.record_proposals(together, store, POLICY, lambda t=at: t)
        one_by_one = [
            await handlers.record_proposals([one], store, POLICY, lambda t=at: t) for one in alone
        ]
        assert queued == sum(one_by_one)
        if rng.random() < 0.3:  # the dispatcher sent a mentee's waiting email meanwhile
            await pool.execute(
                "UPDATE emails SET state = 'sent' WHERE state = 'queued' AND mentee_id = $1",
                f"u-{rng.randrange(5)}",
            )
        at += timedelta(seconds=rng.choice([1, 3, 12]))
    assert await state(pool, "together") == await state(pool, "alone")


async def test_a_refresh_of_a_waiting_answer_stays_awaited_and_a_lone_refresh_does_not(
    counted: tuple[asyncpg.Pool, list[str]],
) -> None:
    pool, _ = counted
    store = PostgresNotificationsStore(pool)
    polls = [
        [proposal("u-ada", ranking_version=1), proposal("u-bob", ranking_version=1, awaited=False)],
        [proposal("u-ada", ranking_version=2, awaited=False)],
    ]
    for n, polled in enumerate(polls):
        batch = [consumed("acme", n * 10 + i, p) for i, p in enumerate(polled)]
        await handlers.record_proposals(batch, store, POLICY, lambda: NOW)
    rows = await pool.fetch(
        "SELECT mentee_id, ranking_version, state, awaited FROM emails ORDER BY mentee_id, id"
    )
    assert [tuple(r) for r in rows] == [
        ("u-ada", 1, "superseded", True),
        ("u-ada", 2, "queued", True),
        ("u-bob", 1, "queued", False),
    ]


async def test_a_refresh_replacing_a_waiting_email_keeps_its_cause_across_polls(
    counted: tuple[asyncpg.Pool, list[str]],
) -> None:
    pool, _ = counted
    store = PostgresNotificationsStore(pool)
    declined = ProposalCause(kind="request_declined", mentor_id="u-grace", mentor_name="Grace")
    first = proposal("u-ada", ranking_version=1, cause=declined)
    refresh = proposal("u-ada", ranking_version=2, cause=ProposalCause(kind="others_changed"))
    for n, payload in enumerate((first, refresh)):
        await handlers.record_proposals([consumed("acme", n, payload)], store, POLICY, lambda: NOW)
    rows = await pool.fetch(
        "SELECT state, proposal -> 'cause' ->> 'kind' AS kind FROM emails"
        " WHERE tenant_id = 'acme' AND mentee_id = 'u-ada' ORDER BY id"
    )
    assert [(r["state"], r["kind"]) for r in rows] == [
        ("superseded", "request_declined"),
        ("queued", "request_declined"),
    ]


async def test_each_goal_of_a_mentee_has_its_own_waiting_email_and_versions(
    counted: tuple[asyncpg.Pool, list[str]],
) -> None:
    """Two goals, two emails (ADR 0012): a newer proposal of one goal replaces that goal's
    waiting email only, and each goal's ranking versions are its own."""
    pool, _ = counted
    store = PostgresNotificationsStore(pool)
    polls = [
        [proposal("u-ada", goal_id="career", ranking_version=4, mentors=[])],  # waiting list
        [proposal("u-ada", goal_id="proj", ranking_version=1)],  # below career's 4: not stale
        [proposal("u-ada", goal_id="proj", ranking_version=2)],
    ]
    for n, payloads in enumerate(polls):
        batch = [consumed("acme", n * 10 + i, p) for i, p in enumerate(payloads)]
        assert await handlers.record_proposals(batch, store, POLICY, lambda: NOW) == 1
    rows = await pool.fetch(
        "SELECT proposal ->> 'goal_id' AS goal, ranking_version, state FROM emails ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("career", 4, "queued"),
        ("proj", 1, "superseded"),
        ("proj", 2, "queued"),
    ]

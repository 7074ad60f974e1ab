"""Erasure on the notifications side while a poll of proposals is in flight, on real PostgreSQL,
and the dead letters of undeliverable emails.

The chaos run left a queued email about an erased mentee: a poll that read "not erased" and
then queued the email committed after the erasure had deleted the person's (then invisible)
rows. Here the poll is held between that read and its insert by another transaction's
uncommitted email of the same mentee (the one-queued-email-per-mentee index makes the insert
wait), while the erasure runs; then the other transaction rolls back and the poll goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.adapters.send_records import GAVE_UP
from services.notifications.service_layer.handlers import forget_person, record_proposals
from services.notifications.service_layer.lifecycle_handlers import record_goal
from shared.contracts.goals import GoalSet
from shared.contracts.matches import MatchProposed
from shared.kafka.dead_letter import DeadLetter
from shared.outbox import add_dead_letter
from tests.integration import test_notifications_erasure as erasure
from tests.integration.test_notifications_erasure import (
    GRACE,
    HOUR_S,
    POLICY,
    consumed,
    mentor,
    rows_naming,
)
from tests.support.polling import eventually
from tests.unit.builders import TENANT, goal, profile_deleted
from tests.unit.notifications.lifecycle_builders import Relationship

ALAN = "u-alan"


def goal_set_event(mentee_id: str) -> GoalSet:
    return GoalSet(tenant_id=TENANT, key=mentee_id, payload=goal(mentee_id))


pool = erasure.pool  # the same fixture: a pool on a migrated notifications schema


async def waiting_on_a_lock(pool: asyncpg.Pool, statement: str) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND position($1 in query) > 0",
            statement,
        )
    )


async def erase_while_held(
    pool: asyncpg.Pool,
    blocking_row: str,
    held_at: str,
    writer: Coroutine[Any, Any, object],
    erased: str,
) -> None:
    """Run `writer` until it waits at the statement starting `held_at` (on `blocking_row`,
    inserted by another transaction and not committed), erase `erased` meanwhile, then let
    the writer go on (the other transaction rolls back) and wait for both."""
    store = PostgresNotificationsStore(pool)
    blocker = await pool.acquire()
    blocking = blocker.transaction()
    await blocking.start()
    await blocker.execute(blocking_row)
    writing = asyncio.create_task(writer)
    erasure = None
    try:
        await eventually(lambda: waiting_on_a_lock(pool, held_at), what="the writer waits")
        erasure = asyncio.create_task(forget_person(profile_deleted(erased), store))
        await eventually(
            lambda: erasure.done() or waiting_on_a_lock(pool, "pg_advisory_xact_lock("),
            what="the erasure ran, or waits for the writer",
        )
    finally:
        await blocking.rollback()
        await pool.release(blocker)
    await asyncio.gather(writing, *([erasure] if erasure else []))


@pytest.mark.parametrize("erased", ["u-ada", GRACE], ids=["mentee", "mentor"])
async def test_an_erasure_during_a_poll_leaves_no_email_about_the_person(
    pool: asyncpg.Pool, erased: str
) -> None:
    store = PostgresNotificationsStore(pool)
    batch = [consumed("u-ada", mentor(GRACE, "Grace Hopper", 1), mentor(ALAN, "Alan Turing", 2))]
    await erase_while_held(  # the writer waits on the one queued email of goal g1
        pool,
        "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, proposal)"
        " VALUES ('blocker', 'acme', 'u-ada', gen_random_uuid(), 'm@x', '{\"goal_id\": \"g1\"}')",
        "INSERT INTO emails (dedupe_key",
        record_proposals(batch, store, POLICY, lambda: datetime.now(UTC)),
        erased,
    )

    assert await rows_naming(pool, erased) == []
    if erased == GRACE:  # the other mentor's email still goes out, without Grace
        claimed = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
        assert [[m.mentor_id for m in c.proposal.mentors] for c in claimed] == [[ALAN]]


async def test_an_erasure_while_a_goal_statement_is_saved_leaves_no_statement(
    pool: asyncpg.Pool,
) -> None:
    """The goals topic is another topic than the erasure's: its consumer can save a goal
    statement (read for lifecycle emails) while the mentee is being erased."""
    await erase_while_held(
        pool,
        "INSERT INTO goal_statements (tenant_id, mentee_id, goal_id, version, statement)"
        " VALUES ('acme', 'u-ada', 'g1', 0, 'blocker')",
        "INSERT INTO goal_statements AS g",
        record_goal(goal_set_event("u-ada"), PostgresNotificationsStore(pool)),
        "u-ada",
    )

    assert await pool.fetchval("SELECT count(*) FROM goal_statements") == 0


async def test_an_erased_mentor_leaves_the_dead_letters_of_other_mentees_emails(
    pool: asyncpg.Pool,
) -> None:
    store = PostgresNotificationsStore(pool)
    now = lambda: datetime.now(UTC)  # noqa: E731
    both = (mentor(GRACE, "Grace Hopper", 1), mentor(ALAN, "Alan Turing", 2))
    assert await record_proposals([consumed("u-ada", *both)], store, POLICY, now) == 1
    [claimed] = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
    async with store.send_records() as records:
        await records.give_up(claimed.id, claimed.attempts, "550 mailbox unavailable")
    letter = await pool.fetchrow("SELECT value, headers FROM outbox")
    assert GRACE.encode() in letter["value"]

    await forget_person(profile_deleted(GRACE), store)

    [row] = await pool.fetch("SELECT value, headers FROM outbox")
    assert GRACE.encode() not in row["value"] and b"Grace Hopper" not in row["value"]
    assert row["headers"] == letter["headers"]  # the same dead letter, still replayable
    kept = MatchProposed.model_validate_json(row["value"])
    assert [(m.mentor_id, m.rank) for m in kept.payload.mentors] == [(ALAN, 1)]
    assert GAVE_UP in row["headers"]


@pytest.mark.parametrize("erased", ["u-ada", GRACE], ids=["mentee", "mentor"])
async def test_an_erasure_removes_the_dead_letters_of_relationship_emails_naming_them(
    pool: asyncpg.Pool, erased: str
) -> None:
    """A relationship email to one person that gave up: its dead letter (the lifecycle event)
    names both; the other person's own letters stay."""
    asked = Relationship(mentee_id="u-ada", mentor_id=GRACE).requested()
    other = Relationship(mentee_id="u-bob", mentor_id=ALAN).requested()
    async with pool.acquire() as conn:
        for event in (asked, other):
            letter = DeadLetter(
                source_topic="t.feedback",
                partition=0,
                offset=1,
                key=event.payload.mentor_id.encode(),  # the email went to the mentor
                value=event.to_bytes(),
                reason=GAVE_UP,
                error="550 mailbox unavailable",
                service="notifications",
                original_headers={"tenant_id": event.tenant_id},
            )
            await add_dead_letter(conn, letter)

    await forget_person(profile_deleted(erased), PostgresNotificationsStore(pool))

    values = [bytes(r["value"]) for r in await pool.fetch("SELECT value FROM outbox")]
    assert values == [other.to_bytes()]

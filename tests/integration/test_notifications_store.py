"""The dispatcher's side of the PostgreSQL store: what a claim reads, and a send slot's records
over the connection it keeps."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.notifications import bootstrap
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.service_layer.ports import GoalStatement, LeaseLost
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.errors import TRANSIENT_ERRORS
from shared.settings import DatabaseSettings
from tests.support.polling import eventually
from tests.unit.builders import proposal

HOUR_S = 3600.0


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
    await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


async def add_email(
    pool: asyncpg.Pool,
    mentee: str,
    awaited: bool = True,
    version: int = 1,
    goal: str = "g1",
    **columns: object,
) -> int:
    the_proposal = proposal(mentee, ranking_version=version, goal_id=goal)
    values = {"state": "queued", "next_attempt_at": "now()", "sent_at": None, **columns}
    email_id: int = await pool.fetchval(
        "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, proposal,"
        " state, awaited, ranking_version, next_attempt_at, sent_at, lease_until)"
        " VALUES ($1, 'acme', $2, $3, $4, $5, $6, $7, $8,"
        f" {values['next_attempt_at']}, {values['sent_at'] or 'NULL'},"
        f" {values.get('lease_until') or 'NULL'}) RETURNING id",
        f"acme:{mentee}:{uuid.uuid4()}",
        mentee,
        the_proposal.proposal_id,
        f"<{uuid.uuid4()}@t>",
        the_proposal.model_dump_json(),
        values["state"],
        awaited,
        version,
    )
    return email_id


async def add_contact(pool: asyncpg.Pool, user: str) -> None:
    await pool.execute(
        "INSERT INTO contacts (tenant_id, user_id, version, email, display_name, email_opt_in,"
        " timezone) VALUES ('acme', $1, 1, $2, 'Ada', true, 'Europe/Paris')",
        user,
        f"{user}@example.org",
    )


async def test_a_claim_reads_the_contact_and_the_sends_within_the_period(
    pool: asyncpg.Pool,
) -> None:
    await add_contact(pool, "u-ada")
    await add_email(pool, "u-ada", state="sent", sent_at="now() - interval '10 minutes'")
    await add_email(pool, "u-ada", state="released", sent_at="now() - interval '5 minutes'")
    await add_email(pool, "u-ada", state="sent", sent_at="now() - interval '2 hours'")
    await add_email(pool, "u-ada", state="failed")
    first = await add_email(pool, "u-ada", next_attempt_at="now() - interval '1 second'")
    second = await add_email(pool, "u-bob", state="sending")  # not yet due: lease unset
    unknown = await add_email(pool, "u-carl")
    store = PostgresNotificationsStore(pool)

    claimed = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)

    assert [c.id for c in claimed] == [first, unknown]  # oldest due first
    ada, carl = claimed
    assert ada.contact is not None and ada.contact.timezone == "Europe/Paris"
    assert len(ada.recent_sends) == 2  # released and sent within the hour
    assert (carl.contact, carl.recent_sends) == (None, ())
    assert second not in [c.id for c in claimed]
    assert await store.claim_due(10, 30.0, HOUR_S, HOUR_S) == []  # all leased now


async def test_emails_mentees_wait_for_are_claimed_before_refreshes_due_earlier(
    pool: asyncpg.Pool,
) -> None:
    refresh = await add_email(pool, "u-bob", False, next_attempt_at="now() - interval '1 minute'")
    answer = await add_email(pool, "u-ada", next_attempt_at="now() - interval '1 second'")
    later_refresh = await add_email(pool, "u-carl", False)
    store = PostgresNotificationsStore(pool)

    assert [c.id for c in await store.claim_due(1, 30.0, HOUR_S, HOUR_S)] == [answer]
    later = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
    assert [c.id for c in later] == [refresh, later_refresh]


async def test_a_refresh_held_back_longer_than_the_hold_goes_with_the_awaited_in_due_order(
    pool: asyncpg.Pool,
) -> None:
    held = await add_email(pool, "u-bob", False, next_attempt_at="now() - interval '2 minutes'")
    fresh = await add_email(pool, "u-carl", False, next_attempt_at="now() - interval '1 second'")
    answer = await add_email(pool, "u-ada", next_attempt_at="now() - interval '1 minute'")
    store = PostgresNotificationsStore(pool)

    claimed = await store.claim_due(2, 30.0, HOUR_S, refresh_hold_s=90.0)

    assert [c.id for c in claimed] == [held, answer]
    assert fresh not in [c.id for c in claimed]


async def test_an_answer_that_gives_way_to_a_newer_proposal_passes_on_its_priority(
    pool: asyncpg.Pool,
) -> None:
    """A refresh queued while the mentee's answer was being sent did not replace it; when the
    answer's send fails and it gives way, the refresh is what the mentee waits for."""
    answer = await add_email(pool, "u-ada", state="sending")
    refresh = await add_email(pool, "u-ada", False, version=2)
    other = await add_email(pool, "u-bob", False)
    store = PostgresNotificationsStore(pool)
    async with store.send_records() as records:
        await records.reschedule(answer, 0, 60.0, "421 busy")
    rows = await pool.fetch("SELECT id, state, awaited FROM emails ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (answer, "superseded", True),
        (refresh, "queued", True),
        (other, "queued", False),
    ]


async def test_a_slot_records_over_its_connection_and_replaces_it_when_it_breaks(
    pool: asyncpg.Pool,
) -> None:
    for mentee in ("u-ada", "u-bob"):
        await add_email(pool, mentee)
    store = PostgresNotificationsStore(pool)
    first, second = sorted(e.id for e in await store.claim_due(10, 30.0, HOUR_S, HOUR_S))
    async with store.send_records() as records:
        await (await records.begin_mark_released(first, 1))
        await records.mark_sent([(first, 1)])
        backend = await pool.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE state = 'idle' AND pid <> pg_backend_pid()"
            " AND query LIKE 'UPDATE emails SET state = %' ORDER BY state_change DESC LIMIT 1"
        )
        await pool.execute("SELECT pg_terminate_backend($1)", backend)
        try:  # on the connection that is gone, unless the slot noticed first and reconnected
            await records.mark_sent([(second, 1)])
        except TRANSIENT_ERRORS:  # then the next statement goes over a new connection
            await (await records.begin_mark_released(second, 1))
            await records.mark_sent([(second, 1)])
    states = await pool.fetch("SELECT id, state FROM emails ORDER BY id")
    assert [(r["id"], r["state"]) for r in states] == [(first, "sent"), (second, "sent")]


async def test_a_claim_marks_an_email_older_than_one_already_sent_outdated(
    pool: asyncpg.Pool,
) -> None:
    """A refresh whose lease expired after a crash, and a newer answer sent meanwhile."""
    await add_email(pool, "u-ada", version=3, state="sent", sent_at="now()")
    stale = await add_email(
        pool, "u-ada", False, version=2, state="sending", lease_until="now() - interval '1s'"
    )
    current = await add_email(pool, "u-bob", False, version=2)
    store = PostgresNotificationsStore(pool)

    claimed = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)

    assert {c.id: c.outdated for c in claimed} == {stale: True, current: False}


async def _lease_expired(pool: asyncpg.Pool, email_id: int) -> bool:
    query = "SELECT lease_until < now() FROM emails WHERE id = $1"
    return bool(await pool.fetchval(query, email_id))


async def _state(pool: asyncpg.Pool, email_id: int) -> tuple[str, int]:
    row = await pool.fetchrow("SELECT state, attempts FROM emails WHERE id = $1", email_id)
    return row["state"], row["attempts"]


async def test_only_the_claim_that_holds_the_lease_records_an_outcome(
    pool: asyncpg.Pool,
) -> None:
    """A sender queued behind slow SMTP past its lease; another claim has the email now."""
    email = await add_email(pool, "u-ada")
    store = PostgresNotificationsStore(pool)
    (slow,) = await store.claim_due(10, 0.05, HOUR_S, HOUR_S)
    await eventually(lambda: _lease_expired(pool, email), timeout=10, what="the lease to expire")
    async with store.send_records() as records:
        with pytest.raises(LeaseLost):  # ran out, nobody else has it yet: still not its own
            await records.begin_mark_released(email, slow.attempts)
        (current,) = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
        assert current.attempts == slow.attempts + 1
        with pytest.raises(LeaseLost):
            await records.begin_mark_released(email, slow.attempts)
        await records.mark_sent([(email, slow.attempts)])  # not its claim: left alone
        # The stale claim's outcomes (its SMTP attempt failed late) change nothing either:
        await records.reschedule(email, slow.attempts, 60.0, "421 too late")
        await records.mark_failed(email, slow.attempts, "failed", "550 too late")
        await records.give_up(email, slow.attempts, "gave up too late")
        assert await _state(pool, email) == ("sending", current.attempts)
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
        await (await records.begin_mark_released(email, current.attempts))
        assert await _state(pool, email) == ("released", current.attempts)
        with pytest.raises(LeaseLost):  # once released, nobody releases it again
            await records.begin_mark_released(email, current.attempts)
        await records.mark_sent([(email, current.attempts)])
    assert await _state(pool, email) == ("sent", current.attempts)


async def test_an_email_that_waits_again_does_not_give_way_to_an_older_one(
    pool: asyncpg.Pool,
) -> None:
    """Seen in the chaos run: the newest proposal waited for the mentee's contact details while
    an older one was still queued; it was withdrawn in favour of the older one, which was sent,
    and the mentee never heard of the newest ranking. The older one gives way instead."""
    older = await add_email(pool, "u-ada", version=1)
    newest = await add_email(pool, "u-ada", version=4, state="sending")
    assert await _after_waiting_again(pool, newest) == [(older, "superseded"), (newest, "queued")]


async def _after_waiting_again(pool: asyncpg.Pool, email_id: int) -> list[tuple[int, str]]:
    """Every email's state after `email_id`, being sent, is queued again to wait."""
    async with PostgresNotificationsStore(pool).send_records() as records:
        await records.reschedule(email_id, 0, 5.0, "waiting for contact details")
    rows = await pool.fetch("SELECT id, state FROM emails ORDER BY id")
    return [(r["id"], r["state"]) for r in rows]


async def _claimable(pool: asyncpg.Pool, email_id: int) -> bool:
    query = "SELECT lease_until IS NULL OR lease_until < now() FROM emails WHERE id = $1"
    return bool(await pool.fetchval(query, email_id))


async def test_an_email_whose_released_record_was_lost_is_recorded_sent_by_its_claim(
    pool: asyncpg.Pool,
) -> None:
    """Seen in the chaos run (PostgreSQL SIGKILLed at 23:30:51): the `released` UPDATE ran but
    its COMMIT never did, the end of the message was written and the server took it. The 250's
    `sent` record committed once PostgreSQL was back, yet matched only `released` rows: the row
    stayed `sending`, its lease expired and the email went out again 10 s later."""
    email = await add_email(pool, "u-ada")
    store = PostgresNotificationsStore(pool)
    (claim,) = await store.claim_due(10, 0.5, HOUR_S, HOUR_S)
    async with store.send_records() as records:
        release = await records.begin_mark_released(email, claim.attempts)
        records._conn.terminate()  # type: ignore[attr-defined,union-attr]  # gone before COMMIT
        with contextlib.suppress(Exception):
            await release  # the dispatcher logs "released record not committed" and goes on
        assert await _state(pool, email) == ("sending", claim.attempts)  # the COMMIT was lost
        await records.mark_sent([(email, claim.attempts)])  # the 250 for this claim's message
    await eventually(lambda: _claimable(pool, email), timeout=10, what="the lease to end")
    assert await _state(pool, email) == ("sent", claim.attempts)
    assert await store.claim_due(10, 30.0, HOUR_S, HOUR_S) == []  # never sent a second time


async def test_a_claimed_proposal_carries_the_statement_of_its_own_goal(
    pool: asyncpg.Pool,
) -> None:
    store = PostgresNotificationsStore(pool)
    async with store.transaction() as tx:
        await tx.save_goal_statements(
            [GoalStatement("acme", "u-ada", "g1", 1, "Run our Kubernetes platform")]
        )
        await tx.save_goal_statements(
            [GoalStatement("acme", "u-ada", "side", 2, "Ship the Go billing service")]
        )
    await add_contact(pool, "u-ada")
    await add_email(pool, "u-ada")  # a proposal for goal g1 (tests.unit.builders.proposal)
    await add_email(pool, "u-bob")  # no statement known

    ada, bob = sorted(await store.claim_due(10, 30.0, HOUR_S, HOUR_S), key=lambda c: c.mentee_id)

    assert ada.goal_statement == "Run our Kubernetes platform"
    assert bob.goal_statement is None


# --- several goals per mentee (ADR 0012) ------------------------------------------------------


async def test_an_email_is_outdated_only_by_a_newer_one_of_its_own_goal(
    pool: asyncpg.Pool,
) -> None:
    """Ranking versions grow per goal: goal `proj`'s version 9, sent, says nothing about goal
    g1's version 2."""
    await add_email(pool, "u-ada", version=9, goal="proj", state="sent", sent_at="now()")
    mine = await add_email(pool, "u-ada", version=2)
    store = PostgresNotificationsStore(pool)
    (claimed,) = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
    assert (claimed.id, claimed.outdated, claimed.goal_closed) == (mine, False, False)


async def test_an_email_that_waits_again_leaves_another_goals_waiting_email_alone(
    pool: asyncpg.Pool,
) -> None:
    other_goal = await add_email(pool, "u-ada", version=7, goal="proj")
    mine = await add_email(pool, "u-ada", version=4, state="sending")
    assert await _after_waiting_again(pool, mine) == [(other_goal, "queued"), (mine, "queued")]


async def test_a_proposal_of_a_goal_closed_since_is_claimed_as_closed(
    pool: asyncpg.Pool,
) -> None:
    """A proposal made before the goal closed, queued after the GoalClosed withdrew what waited:
    the claim says so, and the dispatcher does not send it."""
    store = PostgresNotificationsStore(pool)
    async with store.transaction() as tx:
        await tx.save_goal_statements(
            [GoalStatement("acme", "u-ada", "g1", 1, "Run our Kubernetes platform")]
        )
        await tx.save_goal_statements(
            [GoalStatement("acme", "u-ada", "proj", 2, "Ship the Go billing service")]
        )
        assert await tx.close_goal("acme", "u-ada", "proj", 3) == 0  # nothing waited yet
    await add_contact(pool, "u-ada")
    late = await add_email(pool, "u-ada", goal="proj")
    open_goal = await add_email(pool, "u-ada", goal="g1")
    claimed = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
    assert {c.id: c.goal_closed for c in claimed} == {late: True, open_goal: False}

"""Erasure on the notifications side, on real PostgreSQL: a deleted mentor leaves the emails of
other mentees (the stored proposal and the original MatchProposed bytes), queued emails are
recomposed without them, and an email that named only them is withdrawn."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.notifications import bootstrap
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.service_layer.handlers import (
    QueuePolicy,
    forget_person,
    record_contact,
    record_proposals,
)
from services.notifications.service_layer.ports import ConsumedProposal, ProposalOrigin
from shared.contracts.matches import (
    MatchProposed,
    MustAlternative,
    ProposalCause,
    ProposedMentor,
    UnmetMust,
)
from shared.contracts.preferences import Adjustment
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.unit.builders import match_proposed, mentee, profile_deleted, profile_updated, proposal

HOUR_S = 3600.0
POLICY = QueuePolicy("t.example", timedelta(0))
GRACE = "u-grace"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
    await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


def mentor(user_id: str, name: str, rank: int) -> ProposedMentor:
    return ProposedMentor(mentor_id=user_id, display_name=name, rank=rank, score=1.0 / rank)


def consumed(mentee: str, *mentors: ProposedMentor) -> ConsumedProposal:
    event = match_proposed(proposal(mentee, mentors=list(mentors)))
    return ConsumedProposal(event, ProposalOrigin("t.proposals", 0, 1, event.to_bytes()))


async def rows_naming(pool: asyncpg.Pool, *needles: str) -> list[str]:
    """Email rows whose columns, the raw MatchProposed bytes decoded, mention a needle."""
    rows = await pool.fetch(
        "SELECT e::text AS row, convert_from(coalesce(source_value, ''), 'UTF8') AS raw"
        " FROM emails e"
    )
    return [r["row"][:120] for r in rows if any(n in r["row"] + r["raw"] for n in needles)]


async def test_a_deleted_mentor_leaves_every_other_mentees_emails(pool: asyncpg.Pool) -> None:
    store = PostgresNotificationsStore(pool)
    grace, alan = mentor(GRACE, "Grace Hopper", 1), mentor("u-alan", "Alan Turing", 2)
    batch = [
        consumed("u-ada", grace, alan),  # queued: recomposed without Grace
        consumed("u-bob", grace),  # queued, Grace only: withdrawn
        consumed("u-cy", grace, alan),  # sent already: the record forgets Grace
    ]
    assert await record_proposals(batch, store, POLICY, lambda: datetime.now(UTC)) == 3
    await pool.execute("UPDATE emails SET state = 'sent', sent_at = now() WHERE mentee_id = 'u-cy'")
    assert len(await rows_naming(pool, GRACE, "Grace Hopper")) == 3

    await forget_person(profile_deleted(GRACE), store)

    assert await rows_naming(pool, GRACE, "Grace Hopper") == []
    states = dict(await pool.fetch("SELECT mentee_id, state FROM emails"))
    assert states == {"u-ada": "queued", "u-bob": "superseded", "u-cy": "sent"}
    claimed = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
    assert [c.mentee_id for c in claimed] == ["u-ada"]
    assert [(m.mentor_id, m.rank) for m in claimed[0].proposal.mentors] == [("u-alan", 1)]
    raw = await pool.fetchval("SELECT source_value FROM emails WHERE mentee_id = 'u-ada'")
    letter = MatchProposed.model_validate_json(raw)  # the dead letter it may carry still parses
    assert [m.mentor_id for m in letter.payload.mentors] == ["u-alan"]


async def test_a_deleted_mentor_leaves_the_what_changed_line_of_other_mentees_emails(
    pool: asyncpg.Pool,
) -> None:
    """The cause a proposal carries may name a mentor (who declined, whose relationship ended,
    whose ending taught an adjustment): the erasure takes them out of it too, stored or late."""
    store = PostgresNotificationsStore(pool)
    alan = mentor("u-alan", "Alan Turing", 1)
    declined = ProposalCause(kind="request_declined", mentor_id=GRACE, mentor_name="Grace Hopper")
    learned = Adjustment(adjustment_id=uuid.uuid4(), trigger="relationship_ended", mentor_id=GRACE)
    adjusted = ProposalCause(
        kind="preferences_adjusted", mentor_id=GRACE, mentor_name="Grace Hopper", adjustment=learned
    )
    batch = [
        with_cause(consumed("u-ada", alan), declined),
        with_cause(consumed("u-bob"), adjusted),  # the waiting-list email
    ]
    assert await record_proposals(batch, store, POLICY, lambda: datetime.now(UTC)) == 2
    assert len(await rows_naming(pool, GRACE, "Grace Hopper")) == 2

    await forget_person(profile_deleted(GRACE), store)

    assert await rows_naming(pool, GRACE, "Grace Hopper") == []
    states = dict(await pool.fetch("SELECT mentee_id, state FROM emails"))
    assert states == {"u-ada": "queued", "u-bob": "queued"}  # still told, without her name
    late = with_cause(consumed("u-cy", alan), declined)
    assert await record_proposals([late], store, POLICY, lambda: datetime.now(UTC)) == 1
    assert await rows_naming(pool, GRACE, "Grace Hopper") == []


async def test_a_deleted_mentor_leaves_the_alternatives_of_unmet_musts(
    pool: asyncpg.Pool,
) -> None:
    """A waiting-list email may name mentors as alternatives to an unmet must: the erasure
    takes them out of it, stored or late."""
    store = PostgresNotificationsStore(pool)
    alternatives = [
        MustAlternative(mentor_id=GRACE, display_name="Grace Hopper"),
        MustAlternative(mentor_id="u-alan", display_name="Alan Turing"),
    ]
    unmet = [UnmetMust(kind="languages", value="nl", met_by_nobody=True, alternatives=alternatives)]

    def told(mentee_id: str) -> ConsumedProposal:
        payload = consumed(mentee_id).event.payload.model_copy(update={"unmet_musts": unmet})
        event = match_proposed(payload)
        return ConsumedProposal(event, ProposalOrigin("t.proposals", 0, 1, event.to_bytes()))

    assert await record_proposals([told("u-ada")], store, POLICY, lambda: datetime.now(UTC)) == 1
    assert len(await rows_naming(pool, GRACE, "Grace Hopper")) == 1

    await forget_person(profile_deleted(GRACE), store)

    assert await rows_naming(pool, GRACE, "Grace Hopper") == []
    assert len(await rows_naming(pool, "Alan Turing")) == 1  # the other alternative stays
    raw = await pool.fetchval("SELECT source_value FROM emails WHERE mentee_id = 'u-ada'")
    letter = MatchProposed.model_validate_json(raw)
    assert [a.mentor_id for a in letter.payload.unmet_musts[0].alternatives] == ["u-alan"]
    assert await record_proposals([told("u-cy")], store, POLICY, lambda: datetime.now(UTC)) == 1
    assert await rows_naming(pool, GRACE, "Grace Hopper") == []


def with_cause(item: ConsumedProposal, cause: ProposalCause) -> ConsumedProposal:
    payload = item.event.payload.model_copy(update={"cause": cause})
    event = item.event.model_copy(update={"payload": payload})
    return ConsumedProposal(event, ProposalOrigin("t.proposals", 0, 1, event.to_bytes()))


async def test_old_events_about_erased_people_queue_no_email_and_no_contact(
    pool: asyncpg.Pool,
) -> None:
    store = PostgresNotificationsStore(pool)
    now = lambda: datetime.now(UTC)  # noqa: E731
    old_contact = profile_updated(mentee("u-ada", email="ada@example.org"))
    grace, alan = mentor(GRACE, "Grace Hopper", 1), mentor("u-alan", "Alan Turing", 2)
    old_for_ada = consumed("u-ada", grace, alan)
    late_for_bob = consumed("u-bob", grace, alan)  # made before Grace's erasure, arrives after
    await record_contact(old_contact, store)

    await forget_person(profile_deleted("u-ada"), store)
    await forget_person(profile_deleted(GRACE), store)
    # a replay with ids processed_events no longer holds, and the late proposal
    await record_contact(old_contact.model_copy(update={"event_id": uuid.uuid4()}), store)
    again = ConsumedProposal(
        old_for_ada.event.model_copy(update={"event_id": uuid.uuid4()}), old_for_ada.origin
    )
    assert await record_proposals([again, late_for_bob], store, POLICY, now) == 1

    assert await pool.fetchval("SELECT count(*) FROM contacts") == 0
    assert await rows_naming(pool, "u-ada", GRACE, "Grace Hopper") == []
    claimed = await store.claim_due(10, 30.0, HOUR_S, HOUR_S)
    assert [(c.mentee_id, [m.mentor_id for m in c.proposal.mentors]) for c in claimed] == [
        ("u-bob", ["u-alan"])
    ]
    hashes = await pool.fetch("SELECT person_hash FROM erased_people")
    assert len(hashes) == 2 and all(b"u-ada" not in bytes(h[0]) for h in hashes)

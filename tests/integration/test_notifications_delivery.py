"""Notifications against a real SMTP server (aiosmtpd), Kafka and PostgreSQL.

The server answers 4xx then 250, answers 550, drops the connection, or keeps answering 4xx
until the email is dead-lettered. Proposals in one digest window make one email; an opted-out
mentee gets none; erasure leaves no row in the schema that mentions the person.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from devenv.infra import KafkaEndpoint
from devenv.smtp_sink import SmtpSink
from services.notifications.bootstrap import NotificationsService, bootstrap
from services.notifications.settings import NotificationsSettings, SmtpSettings
from shared.contracts.envelope import EventEnvelope
from shared.contracts.matches import MatchProposed
from shared.contracts.topics import PROFILES, PROPOSALS
from shared.settings import DatabaseSettings
from tests.support.kafka import header, read_all
from tests.support.platform import kafka_settings
from tests.support.polling import eventually
from tests.unit.builders import TENANT, match_proposed, mentee, profile_deleted, profile_updated
from tests.unit.builders import proposal as proposal_payload

SUPPORT_TOKEN = "support-secret"


@asynccontextmanager
async def notifications(
    endpoint: KafkaEndpoint, database_url: str, prefix: str, sink: SmtpSink, **overrides: Any
) -> AsyncIterator[NotificationsService]:
    settings: dict[str, Any] = {
        "kafka": kafka_settings(endpoint, prefix),
        "db": DatabaseSettings(database_url=database_url),
        "smtp": SmtpSettings(host=sink.host, port=sink.port),
        "digest_window_s": 0,
        "statement_wait_s": 0,  # these tests publish proposals alone, without their goals
        "retry_base_s": 0.05,
        "retry_max_s": 0.2,
        "support_token": SUPPORT_TOKEN,
    }
    async with bootstrap(NotificationsSettings(**{**settings, **overrides})) as service:
        yield service


async def publish(service: NotificationsService, topic: str, event: EventEnvelope) -> None:
    await service.broker.publish(event.to_bytes(), topic=topic, key=event.key.encode())


async def add_mentee(service: NotificationsService, prefix: str, user: str, **fields: Any) -> str:
    address = fields.pop("email", f"{user}@example.org")
    event = profile_updated(mentee(user, email=address, **fields))
    await publish(service, PROFILES.qualified(prefix), event)
    return address


async def propose(
    service: NotificationsService, prefix: str, user: str, version: int = 1
) -> MatchProposed:
    event = match_proposed(proposal_payload(user, ranking_version=version))
    await publish(service, PROPOSALS.qualified(prefix), event)
    return event


async def delivery(service: NotificationsService, proposal_id: uuid.UUID) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as http:
        response = await http.get(
            "/v1/support/deliveries",
            params={"tenant_id": TENANT, "proposal_id": str(proposal_id)},
            headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"},
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[0] if items else {}


async def final_state(service: NotificationsService, proposal_id: uuid.UUID) -> dict[str, Any]:
    async def settled() -> dict[str, Any]:
        row = await delivery(service, proposal_id)
        return row if row.get("state") in {"sent", "failed", "suppressed"} else {}

    return await eventually(settled, timeout=30, what="a final delivery state")


@pytest.fixture
def sink(smtp_sink: SmtpSink) -> Iterator[SmtpSink]:
    smtp_sink.behaviour.script.clear()
    yield smtp_sink
    smtp_sink.behaviour.script.clear()


@pytest.mark.parametrize(
    ("script", "attempts"),
    [(["451 4.3.0 try again later"], 2), (["drop"], 2), ([], 1)],
    ids=["4xx-then-250", "dropped-then-250", "250"],
)
async def test_transient_failures_are_retried_until_the_server_accepts(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique, script, attempts
) -> None:
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        address = await add_mentee(service, topic_prefix, f"u-{unique}")
        sink.behaviour.script.extend(script)
        event = await propose(service, topic_prefix, f"u-{unique}")
        row = await final_state(service, event.payload.proposal_id)
    assert (row["state"], row["attempts"]) == ("sent", attempts)
    (mail,) = sink.messages(to=address)
    assert mail.message_id == row["message_id"]


async def test_a_5xx_answer_fails_once_and_is_never_retried(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        address = await add_mentee(service, topic_prefix, f"u-{unique}")
        sink.behaviour.script.append(f"550 5.1.1 u-{unique}@example.org: unknown user")
        event = await propose(service, topic_prefix, f"u-{unique}")
        row = await final_state(service, event.payload.proposal_id)
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert row["reason"] == "550 5.1.1 <address> unknown user"
    assert sink.messages(to=address) == []


async def test_after_max_attempts_the_proposal_is_dead_lettered_with_the_reason(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    async with notifications(
        kafka_endpoint, database_url, topic_prefix, sink, max_attempts=2
    ) as service:
        await add_mentee(service, topic_prefix, f"u-{unique}")
        sink.behaviour.script.extend(["451 busy", "452 still busy"])
        event = await propose(service, topic_prefix, f"u-{unique}")
        row = await final_state(service, event.payload.proposal_id)
        dlq = PROPOSALS.dead_letter(topic_prefix)
        (letter,) = await eventually(
            lambda: read_all(kafka_settings(kafka_endpoint, topic_prefix), dlq),
            timeout=30,
            what="the dead letter",
        )
    assert (row["state"], row["attempts"]) == ("failed", 2)
    assert row["reason"] == "gave up after 2 attempts: 452 still busy"
    assert letter.value == event.to_bytes()
    assert letter.key == f"u-{unique}".encode()
    assert header(letter, "x-dlq-reason") == "email_undeliverable"
    assert header(letter, "x-dlq-error") == row["reason"]
    assert header(letter, "x-dlq-service") == "notifications"
    assert header(letter, "x-dlq-source-topic") == PROPOSALS.qualified(topic_prefix)


async def test_proposals_within_the_digest_window_make_one_email_with_the_latest(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    user = f"u-{unique}"
    async with notifications(
        kafka_endpoint, database_url, topic_prefix, sink, digest_window_s=2
    ) as service:
        address = await add_mentee(service, topic_prefix, user)
        first = await propose(service, topic_prefix, user, version=1)
        second = await propose(service, topic_prefix, user, version=2)
        stale = await propose(service, topic_prefix, user, version=1)
        latest = await propose(service, topic_prefix, user, version=3)
        row = await final_state(service, latest.payload.proposal_id)
        replaced = [await delivery(service, e.payload.proposal_id) for e in (first, second)]
        ignored = await delivery(service, stale.payload.proposal_id)
    assert row["state"] == "sent"
    assert [r["state"] for r in replaced] == ["superseded", "superseded"]
    assert ignored == {}
    (mail,) = sink.messages(to=address)
    assert mail.message_id == row["message_id"]


async def test_an_opted_out_mentee_gets_no_email_and_the_log_says_why(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    user = f"u-{unique}"
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        address = await add_mentee(
            service, topic_prefix, user, notification_preferences={"email_opt_in": False}
        )
        event = await propose(service, topic_prefix, user)
        row = await final_state(service, event.payload.proposal_id)
        stored = await service.pool.fetchrow(
            "SELECT email_opt_in, opted_out_at FROM contacts WHERE user_id = $1", user
        )
    assert (row["state"], row["reason"]) == ("suppressed", "mentee opted out of email")
    assert sink.messages(to=address) == []
    assert stored["email_opt_in"] is False and stored["opted_out_at"] is not None


async def rows_mentioning(service: NotificationsService, needle: str) -> dict[str, int]:
    tables = await service.pool.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'notifications' AND table_type = 'BASE TABLE'"
    )
    found = {}
    for t in tables:
        name = t["table_name"]
        count = await service.pool.fetchval(
            f'SELECT count(*) FROM notifications."{name}" AS r'  # names from the catalogue
            " WHERE position($1 in r::text) > 0 OR position($2 in r::text) > 0",
            needle,
            needle.encode().hex(),  # bytea columns render as hex
        )
        found[name] = count
    return found


async def test_profile_deleted_leaves_no_row_in_the_schema_that_mentions_the_person(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    user = f"u-{unique}"
    async with notifications(
        kafka_endpoint, database_url, topic_prefix, sink, max_attempts=1
    ) as service:
        await add_mentee(service, topic_prefix, user)
        sent = await propose(service, topic_prefix, user, version=1)
        await final_state(service, sent.payload.proposal_id)
        sink.behaviour.script.append("451 busy")  # the next one gives up: a dead letter row
        failed = await propose(service, topic_prefix, user, version=2)
        await final_state(service, failed.payload.proposal_id)
        before = await rows_mentioning(service, user)
        await publish(service, PROFILES.qualified(topic_prefix), profile_deleted(user))

        async def erased() -> dict[str, int] | None:
            after = await rows_mentioning(service, user)
            return after if not any(after.values()) else None

        after = await eventually(erased, timeout=30, what="no row mentioning the person")
    assert {"contacts", "emails", "mentee_digests"} <= {t for t, n in before.items() if n}
    assert {"contacts", "emails", "mentee_digests", "outbox", "processed_events"} <= set(after)


async def test_the_delivery_log_is_protected_paginated_and_tenant_scoped(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    user = f"u-{unique}"
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        await add_mentee(service, topic_prefix, user)
        events = []
        for version in (1, 2, 3):  # one after the other: none replaces another
            events.append(await propose(service, topic_prefix, user, version=version))
            await final_state(service, events[-1].payload.proposal_id)
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://n") as http:
            path = "/v1/support/deliveries"
            auth = {"Authorization": f"Bearer {SUPPORT_TOKEN}"}
            wrong = await http.get(
                path, params={"tenant_id": TENANT}, headers={"Authorization": "Bearer x"}
            )
            missing = await http.get(path, params={"tenant_id": TENANT})
            no_tenant = await http.get(path, headers=auth)
            other_tenant = await http.get(path, params={"tenant_id": "other"}, headers=auth)
            query = {"tenant_id": TENANT, "mentee_id": user, "limit": 2}
            page1 = (await http.get(path, params=query, headers=auth)).json()
            cursor = page1["next_cursor"]
            page2 = (await http.get(path, params={**query, "cursor": cursor}, headers=auth)).json()
    assert wrong.status_code == missing.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert no_tenant.status_code == 422
    assert other_tenant.json()["items"] == []
    ids = [i["proposal_id"] for i in page1["items"] + page2["items"]]
    assert ids == [str(e.payload.proposal_id) for e in reversed(events)]
    assert page2["next_cursor"] is None
    assert all(i["state"] == "sent" and i["attempts"] == 1 for i in page1["items"])
    assert "email" not in str(page1).lower().replace("email_opt_in", "")

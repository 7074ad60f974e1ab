"""The support delivery log names the goal each email answers (issue 25), through Kafka,
PostgreSQL and an SMTP server (aiosmtpd).

A mentee holds a career goal and a project goal and gets one proposal email for each; a mentor
is asked for the project goal. The log shows every email with its goal, filters by one goal,
answers an unknown goal with an empty page and keeps tenants apart.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from devenv.smtp_sink import SmtpSink
from services.notifications import bootstrap
from services.notifications.adapters.postgres_log import PostgresDeliveryLog
from services.notifications.bootstrap import NotificationsService
from services.notifications.service_layer.ports import DeliveryQuery
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES, PROPOSALS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.integration.test_notifications_delivery import SUPPORT_TOKEN, notifications, publish
from tests.integration.test_notifications_goal_migration import _email, migrated_before_per_goal
from tests.support.polling import eventually
from tests.unit.builders import (
    TENANT,
    goal,
    goal_set,
    match_proposed,
    mentee,
    mentor,
    profile_updated,
    proposal,
)
from tests.unit.notifications.lifecycle_builders import Relationship


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
    yield pool
    await pool.close()


@pytest.fixture
def sink(smtp_sink: SmtpSink):
    smtp_sink.behaviour.script.clear()
    yield smtp_sink


async def log(service: NotificationsService, **params: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as http:
        return await http.get(
            "/v1/support/deliveries",
            params={"tenant_id": TENANT, **params},
            headers={"Authorization": f"Bearer {SUPPORT_TOKEN}"},
        )


async def items(service: NotificationsService, **params: str) -> list[dict[str, Any]]:
    response = await log(service, **params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def text_of(mail: Any) -> str:
    return str(mail.message.get_body(preferencelist=("plain",)).get_content())


async def test_the_log_names_each_emails_goal_and_filters_by_one(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    ada, grace, linus = f"ada-{unique}", f"grace-{unique}", f"linus-{unique}"
    career, project = f"career-{unique}", f"project-{unique}"
    # each proposal email waits for its goal's statement, so that it names the goal it answers
    async with notifications(
        kafka_endpoint, database_url, topic_prefix, sink, statement_wait_s=30
    ) as service:

        async def send(topic: Any, event: Any) -> None:
            await publish(service, topic.qualified(topic_prefix), event)

        await send(PROFILES, profile_updated(mentee(ada, email=f"{ada}@example.org")))
        for user in (grace, linus):
            await send(PROFILES, profile_updated(mentor(user, email=f"{user}@example.org")))
        await send(GOALS, goal_set(goal(ada, goal_id=career, statement="Become a staff engineer")))
        await send(
            GOALS,
            goal_set(goal(ada, 2, goal_id=project, horizon="project", statement="Ship our API")),
        )
        base = proposal(ada).mentors[0]
        offers = {
            goal_id: proposal(
                ada, goal_id=goal_id, mentors=[base.model_copy(update={"mentor_id": who})]
            )
            for goal_id, who in ((career, grace), (project, linus))
        }
        for offer in offers.values():
            await send(PROPOSALS, match_proposed(offer))
        asked = Relationship(ada, linus, goal_id=project, proposal_id=offers[project].proposal_id)
        await send(FEEDBACK, asked.requested())

        async def all_sent() -> list[dict[str, Any]]:
            rows = await items(service)
            return rows if len(rows) == 3 and {r["state"] for r in rows} == {"sent"} else []

        everything = await eventually(all_sent, timeout=60, what="three emails sent")
        for_ada = await items(service, mentee_id=ada)
        career_only = await items(service, mentee_id=ada, goal_id=career)
        project_all = await items(service, goal_id=project)
        unknown = await items(service, goal_id=f"nothing-{unique}")
        other_tenant = await items(service, tenant_id=f"other-{unique}", goal_id=project)
        bad = await log(service, goal_id="not a goal id")
        first = (await log(service, goal_id=project, limit="1")).json()
        second = await items(service, goal_id=project, limit="1", cursor=first["next_cursor"])
        # a relationship's email whose stored JSON names no goal: shown with none, and not
        # counted as the `default` goal's (the stored column's fallback is a proposal's rule)
        await service.pool.execute(
            "UPDATE emails SET lifecycle = lifecycle - 'goal_id' WHERE kind <> 'proposal'"
        )
        unsaid = await items(service, mentee_id=linus)
        as_default = await items(service, goal_id="default")

    assert sorted((r["kind"], r["goal_id"]) for r in everything) == sorted(
        [("proposal", career), ("proposal", project), ("mentor_request", project)]
    )
    assert sorted(r["goal_id"] for r in for_ada) == sorted([career, project])
    mails = {m.message_id: text_of(m) for m in sink.messages(to=f"{ada}@example.org")}
    statements = {career: "Become a staff engineer", project: "Ship our API"}
    for row in for_ada:  # the log's goal is the one the email itself names
        assert statements[row["goal_id"]] in mails[row["message_id"]]
    assert [(r["mentee_id"], r["goal_id"]) for r in career_only] == [(ada, career)]
    assert sorted((r["kind"], r["mentee_id"]) for r in project_all) == sorted(
        [("mentor_request", linus), ("proposal", ada)]
    )
    assert (unknown, other_tenant) == ([], [])
    assert [r["message_id"] for r in first["items"] + second] == [
        r["message_id"] for r in project_all
    ]
    assert [(r["kind"], r["goal_id"]) for r in unsaid] == [("mentor_request", None)]
    assert as_default == []
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_rows_from_before_several_goals_show_the_goal_they_were_sent_for(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """No migration for the log: the goal column 0008 computes is read. A proposal naming no
    goal is the mentee's one goal, `default`; a relationship's email naming none shows null."""
    await migrated_before_per_goal(pool, tmp_path)
    async with pool.acquire() as conn:
        await _email(conn, "u-ada", "goal-k8s", 1, "sent")  # what an old proposal named
        await conn.execute(
            "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id,"
            " proposal, ranking_version, state) VALUES ('k-bare', 'acme', 'u-ada', $1,"
            " '<bare@test>', '{}', 2, 'sent')",
            uuid.uuid4(),
        )
        await conn.execute(
            "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id, kind,"
            " lifecycle, state) VALUES ('k-life', 'acme', 'u-grace', $1, '<l@test>',"
            " 'mentor_request', $2, 'sent')",
            uuid.uuid4(),
            json.dumps({"kind": "mentor_request"}),
        )
    await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS)
    log = PostgresDeliveryLog(pool)

    rows = await log.deliveries(DeliveryQuery("acme"))
    default = await log.deliveries(DeliveryQuery("acme", goal_id="default"))

    assert [(r.mentee_id, r.kind, r.goal_id) for r in rows] == [
        ("u-grace", "mentor_request", None),
        ("u-ada", "proposal", "default"),
        ("u-ada", "proposal", "goal-k8s"),
    ]
    assert [r.message_id for r in default] == ["<bare@test>"]

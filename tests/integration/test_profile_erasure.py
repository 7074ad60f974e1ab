"""Right to erasure, the profile side: after DELETE no row in schema `profile` mentions the
person (the outbox excepted until relayed), and ProfileDeleted is on the profiles topic."""

from __future__ import annotations

import time
import uuid

import asyncpg

from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import GOALS, PROFILE_EVENT, PROFILES
from shared.links import LinkAction, LinkClaims, sign_link
from tests.integration.test_profile_api import LINK_KEY, RunningProfile, running_profile
from tests.support.kafka import header, read_all
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.polling import eventually


async def rows_mentioning(database_url: str, *needles: str) -> dict[str, int]:
    """Per table of schema `profile`, how many rows contain any of `needles` in any column."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'profile'"
        )
        counts = {}
        for (table,) in tables:
            found = await conn.fetchval(
                f'SELECT count(*) FROM profile."{table}" t'
                " WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) n"
                " WHERE row_to_json(t)::text LIKE '%' || n || '%'"
                " OR convert_from(coalesce((row_to_json(t) ->> 'value')::bytea, ''), 'UTF8')"
                " LIKE '%' || n || '%')",
                list(needles),
            )
            if found:
                counts[table] = found
        return counts
    finally:
        await conn.close()


def link(tenant: str, mentee: str, mentor: str, action: LinkAction) -> str:
    claims = LinkClaims(
        action=action,
        tenant_id=tenant,
        mentee_id=mentee,
        mentor_id=mentor,
        proposal_id=uuid.uuid4(),
        goal_id="default",
        expires_at=int(time.time()) + 600,
    )
    return f"/v1/links/{sign_link(claims, LINK_KEY.encode())}"


async def leave_traces(profile: RunningProfile, tenant: str, user: str, email: str) -> None:
    """Everything the service can hold about a mentee: profile, goal, Idempotency-Key answers,
    link answers as mentee and as mentor, the unsubscribe flag, and being someone's manager."""
    auth = await profile.key_for(tenant)
    http = profile.http
    key = {"Idempotency-Key": str(uuid.uuid4())}
    await http.put(
        f"/v1/profiles/{user}",
        json=mentee_body("Erin Erased", email, roles=["mentee", "mentor"], capacity=2),
        headers={**auth, **key},
    )
    goal_key = {"Idempotency-Key": str(uuid.uuid4())}
    await http.put(f"/v1/profiles/{user}/goal", json=goal_body(), headers={**auth, **goal_key})
    await http.put("/v1/profiles/u-mentor", json=mentor_body(), headers=auth)
    await http.put("/v1/profiles/u-report", json=mentor_body(manager_id=user), headers=auth)
    await http.put(
        "/v1/profiles/u-other", json=mentee_body("Other", "other@example.org"), headers=auth
    )
    for mentee, mentor in ((user, "u-mentor"), ("u-other", user)):
        assert (await http.post(link(tenant, mentee, mentor, LinkAction.ACCEPT))).is_success
        assert (await http.post(link(tenant, mentee, mentor, LinkAction.DECLINE))).is_success
    unsubscribe = link(tenant, user, "u-mentor", LinkAction.UNSUBSCRIBE)
    assert (await http.post(unsubscribe)).is_success


async def test_delete_leaves_no_row_mentioning_the_person(kafka_endpoint, postgres_endpoint):
    async with running_profile(kafka_endpoint, postgres_endpoint) as profile:
        tenant, user = "acme", f"erin-{uuid.uuid4().hex[:8]}"
        email = f"{user}@example.org"
        await leave_traces(profile, tenant, user, email)
        auth = await profile.key_for(tenant)
        await eventually(profile.relayed, what="outbox relayed")
        before = await rows_mentioning(profile.database_url, user, email)
        assert {"profiles", "goals", "idempotency_keys", "link_responses", "relationships"} <= set(
            before
        )

        deleted = await profile.http.delete(f"/v1/profiles/{user}", headers=auth)
        assert deleted.status_code == 204

        pending = await rows_mentioning(profile.database_url, user, email)
        assert set(pending) <= {"outbox"}  # only the events still on their way
        await eventually(profile.relayed, what="outbox relayed")
        assert await rows_mentioning(profile.database_url, user, email) == {}

        topic = PROFILES.qualified(profile.kafka.topic_prefix)
        records = await read_all(profile.kafka, topic)
        events = [PROFILE_EVENT.validate_json(r.value) for r in records if r.value is not None]
        assert any(isinstance(e, ProfileDeleted) and e.key == user for e in events)
        # the person's last record is a tombstone under their key: compaction erases the rest
        mine = [r for r in records if r.key == f"{tenant}/{user}".encode()]
        assert mine[-1].value is None and header(mine[-1], "tenant_id") == tenant
        goals = await read_all(profile.kafka, GOALS.qualified(profile.kafka.topic_prefix))
        goal_partitions = {r.partition for r in goals if r.key == user.encode()}
        assert len(goal_partitions) == 1  # matching relies on one partition per person
        assert {r.partition for r in mine} == goal_partitions
        report = [e for e in events if isinstance(e, ProfileUpdated) and e.key == "u-report"]
        assert report[-1].payload.manager_id is None
        gone = await profile.http.get(f"/v1/profiles/{user}/goal", headers=auth)
        assert gone.status_code == 404

"""The integrator REST API against real PostgreSQL and Kafka: CRUD, listing, validation,
bounded sizes, optimistic concurrency, Idempotency-Key and API key life cycle."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from devenv.infra import KafkaEndpoint, PostgresEndpoint
from services.profile.adapters.postgres_requests import purge_expired_requests
from services.profile.bootstrap import ProfileService, bootstrap
from services.profile.settings import ProfileSettings
from shared.clock import Clock
from shared.settings import DatabaseSettings, KafkaSettings, LinkSettings
from tests.support.people import goal_body, mentee_body, mentor_body

LINK_KEY = "integration-link-key-of-at-least-32-characters"


@dataclass
class RunningProfile:
    service: ProfileService
    http: httpx.AsyncClient
    kafka: KafkaSettings
    database_url: str

    async def key_for(self, tenant: str) -> dict[str, str]:
        issued = await self.service.api_keys.create(tenant, "tests")
        return {"Authorization": f"Bearer {issued.token}"}

    async def relayed(self) -> bool:
        """Every committed event has left the outbox for Kafka."""
        return await self.service.relay.backlog() == 0


@asynccontextmanager
async def running_profile(
    kafka_endpoint: KafkaEndpoint,
    postgres: PostgresEndpoint,
    clock: Clock | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningProfile]:
    """The profile service alone, in-process, on a fresh database and topic prefix."""
    unique = uuid.uuid4().hex[:10]
    name = f"p_{unique}"
    admin = await asyncpg.connect(postgres.url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = postgres.database(name)
    kafka = KafkaSettings(  # not tests.support.platform: this runs the profile service alone
        **kafka_endpoint.settings(),
        topic_prefix=f"p{unique}.",
        partitions=3,
    )
    settings = ProfileSettings(
        kafka=kafka,
        db=DatabaseSettings(database_url=url, **overrides.pop("db", {})),
        links=LinkSettings(signing_keys=LINK_KEY),
        **overrides,
    )
    try:
        async with bootstrap(settings, clock) as service:
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://profile") as http:
                yield RunningProfile(service, http, kafka, url)
    finally:
        admin = await asyncpg.connect(postgres.url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint) -> AsyncIterator[RunningProfile]:
    # Five concurrent retries of one request below: over the default in-flight limit of 4.
    async with running_profile(kafka_endpoint, postgres_endpoint, tenant_concurrency=8) as running:
        yield running


@pytest.fixture
async def auth(profile: RunningProfile) -> dict[str, str]:
    return await profile.key_for(f"tenant-{uuid.uuid4().hex[:8]}")


def _ids() -> Iterator[str]:
    while True:
        yield f"u-{uuid.uuid4().hex[:10]}"


new_id = _ids().__next__


async def put(
    profile: RunningProfile, auth: dict[str, str], user_id: str, body: Any, **headers: str
):
    return await profile.http.put(f"/v1/profiles/{user_id}", json=body, headers={**auth, **headers})


async def test_create_read_replace_and_delete_a_profile(profile, auth) -> None:
    user = new_id()
    created = await put(profile, auth, user, mentor_body("Grace Hopper"))
    assert created.status_code == 200, created.text
    assert created.headers["ETag"] == '"1"' and created.json()["version"] == 1

    read = await profile.http.get(f"/v1/profiles/{user}", headers=auth)
    assert read.json()["display_name"] == "Grace Hopper" and read.headers["ETag"] == '"1"'

    same = await put(profile, auth, user, mentor_body("Grace Hopper"))
    assert same.json()["version"] == 1  # unchanged content: no new version
    replaced = await put(profile, auth, user, mentor_body("Grace B. Hopper"))
    assert replaced.json()["version"] == 2

    assert (await profile.http.delete(f"/v1/profiles/{user}", headers=auth)).status_code == 204
    assert (await profile.http.get(f"/v1/profiles/{user}", headers=auth)).status_code == 404
    again = await profile.http.delete(f"/v1/profiles/{user}", headers=auth)
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"


async def test_list_pages_through_a_tenant_with_filters(profile, auth) -> None:
    mentors = sorted(new_id() for _ in range(5))
    for user in mentors:
        await put(profile, auth, user, mentor_body())
    mentee = new_id()
    await put(profile, auth, mentee, mentee_body())
    pythonista = mentors[2]
    await put(profile, auth, pythonista, mentor_body(skills=[{"name": "python", "level": 5}]))

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"role": "mentor", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await profile.http.get("/v1/profiles", params=params, headers=auth)).json()
        assert len(page["items"]) <= 2
        seen += [item["user_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == mentors

    by_skill = await profile.http.get(
        "/v1/profiles", params={"skill": "Python", "role": "mentor"}, headers=auth
    )
    assert [i["user_id"] for i in by_skill.json()["items"]] == [pythonista]
    any_role = await profile.http.get("/v1/profiles", params={"skill": "python"}, headers=auth)
    assert [i["user_id"] for i in any_role.json()["items"]] == sorted([pythonista, mentee])
    mentees = await profile.http.get("/v1/profiles", params={"role": "mentee"}, headers=auth)
    assert [i["user_id"] for i in mentees.json()["items"]] == [mentee]
    future = await profile.http.get(
        "/v1/profiles", params={"updated_since": "2999-01-01T00:00:00Z"}, headers=auth
    )
    assert future.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"limit": 201}, "query.limit"),
        ({"role": "boss"}, "query.role"),
        ({"updated_since": "yesterday"}, "query.updated_since"),
    ],
)
async def test_bad_list_parameters_are_problems_naming_the_parameter(
    profile, auth, params, field
) -> None:
    response = await profile.http.get("/v1/profiles", params=params, headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (mentor_body(skills=[{"name": "go", "level": 9}]), "skills.0.level"),
        (mentor_body(display_name="x" * 121), "display_name"),
        (mentor_body(industries=["fintech"] * 21), "industries"),
        (mentor_body(email="nope"), "email"),
        (mentor_body(salary=100), "salary"),
        ({}, "roles"),
    ],
)
async def test_invalid_bodies_are_problems_naming_the_field(profile, auth, body, field) -> None:
    response = await put(profile, auth, new_id(), body)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and field in problem["detail"]
    assert field in [e["field"] for e in problem["errors"]]


async def test_request_bodies_are_bounded_declared_or_streamed(profile, auth) -> None:
    big = b'{"roles": ["mentor"], "display_name": "' + b"x" * 70_000 + b'"}'
    declared = await profile.http.put(
        f"/v1/profiles/{new_id()}",
        content=big,
        headers={**auth, "Content-Type": "application/json"},
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = await profile.http.put(
        f"/v1/profiles/{new_id()}",
        content=chunks(),
        headers={**auth, "Content-Type": "application/json"},
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"


async def test_concurrent_updates_with_the_same_etag_one_wins_one_gets_412(profile, auth) -> None:
    user = new_id()
    await put(profile, auth, user, mentor_body())
    results = await asyncio.gather(
        *(
            put(profile, auth, user, mentor_body(f"Writer {n}"), **{"If-Match": '"1"'})
            for n in range(4)
        )
    )
    assert sorted(r.status_code for r in results) == [200, 412, 412, 412]
    stale = next(r for r in results if r.status_code == 412).json()
    assert stale["current_version"] == 2
    create_only = await put(profile, auth, user, mentor_body(), **{"If-None-Match": "*"})
    assert create_only.status_code == 412
    garbage = await put(profile, auth, user, mentor_body(), **{"If-Match": "yesterday"})
    assert garbage.status_code == 412


async def test_a_retried_write_with_an_idempotency_key_has_one_effect(profile, auth) -> None:
    user = new_id()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await put(profile, auth, user, mentor_body("Original"), **key)
    await put(profile, auth, user, mentor_body("Changed since"))  # no key: applies
    retry = await put(profile, auth, user, mentor_body("Original"), **key)

    assert retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    current = (await profile.http.get(f"/v1/profiles/{user}", headers=auth)).json()
    assert (current["display_name"], current["version"]) == ("Changed since", 2)

    reused = await put(profile, auth, user, mentor_body("Something else"), **key)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("musts", "overrides", "field"),
    [
        ({"skills": ["kubernetes"]}, {}, "musts.skills"),  # an unknown must
        ({"styles": ["cheerleading"]}, {}, "musts.styles.0"),  # not a mentoring style
        ({"languages": ["de", "de"]}, {}, "musts"),  # the same value twice
        ({"languages": ["de"]}, {"criteria": {"language": 0}}, "musts.languages"),
        ({"styles": ["coaching"]}, {"preferred_styles": ["advising"]}, "musts.styles"),
    ],
)
async def test_an_unknown_or_contradictory_must_is_refused_naming_the_field(
    profile, auth, musts, overrides, field
) -> None:
    mentee = new_id()
    await put(profile, auth, mentee, mentee_body())
    url = f"/v1/profiles/{mentee}/goal"
    refused = await profile.http.put(url, json=goal_body(musts=musts, **overrides), headers=auth)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in refused.json()["errors"]}, refused.text
    assert (await profile.http.get(url, headers=auth)).status_code == 404  # nothing was set

    kept = await profile.http.put(url, json=goal_body(musts={"languages": ["DE"]}), headers=auth)
    assert kept.status_code == 200, kept.text
    assert kept.json()["musts"] == {"languages": ["de"], "industries": [], "styles": []}


async def test_concurrent_requests_with_one_idempotency_key_apply_once(profile, auth) -> None:
    user = new_id()
    await put(profile, auth, user, mentor_body("Before"))
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    results = await asyncio.gather(
        *(put(profile, auth, user, mentor_body("After"), **key) for _ in range(5))
    )
    assert {r.status_code for r in results} == {200}
    assert {r.json()["version"] for r in results} == {2}
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 4


async def test_goals_follow_the_clarity_rule(profile, auth) -> None:
    mentee = new_id()
    await put(profile, auth, mentee, mentee_body())
    url = f"/v1/profiles/{mentee}/goal"

    vague = await profile.http.put(
        url, json=goal_body(statement="Manage better and be successful"), headers=auth
    )
    assert vague.status_code == 422
    problem = vague.json()
    assert problem["errors"][0]["field"] == "statement"
    assert {s["term"] for s in problem["suggestions"]} >= {"manage", "better", "successful"}
    assert any("kubernetes" in s["suggestion"] for s in problem["suggestions"])

    loaded = await profile.http.put(
        url, json=goal_body(statement="Get better at running Kubernetes"), headers=auth
    )
    assert loaded.status_code == 200, loaded.text
    assert [w["term"] for w in loaded.json()["warnings"]] == ["better"]
    assert loaded.headers["ETag"] == '"1"'

    read = await profile.http.get(url, headers=auth)
    assert read.json()["statement"] == "Get better at running Kubernetes"
    assert "warnings" not in read.json()

    stale = await profile.http.put(url, json=goal_body(), headers={**auth, "If-Match": '"7"'})
    assert stale.status_code == 412


async def test_api_keys_rotate_and_revoke(profile) -> None:
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    keys = profile.service.api_keys
    old = await keys.create(tenant, "hris")
    new = await keys.rotate(old.key_id, grace_s=0)
    assert new.tenant_id == tenant and new.token != old.token

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    user = new_id()
    assert (await put(profile, bearer(old.token), user, mentor_body())).status_code == 401
    assert (await put(profile, bearer(new.token), user, mentor_body())).status_code == 200
    graceful = await keys.rotate(new.key_id, grace_s=3600)
    assert (await profile.http.get(f"/v1/profiles/{user}", headers=bearer(new.token))).is_success
    assert await keys.revoke(graceful.key_id)
    gone = await profile.http.get(f"/v1/profiles/{user}", headers=bearer(graceful.token))
    assert gone.status_code == 401 and gone.headers["WWW-Authenticate"] == "Bearer"
    assert [k.key_id for k in await keys.list(tenant)] == [
        old.key_id,
        new.key_id,
        graceful.key_id,
    ]


async def test_idempotency_answers_are_forgotten_after_the_window(profile, auth) -> None:
    user = new_id()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    await put(profile, auth, user, mentor_body("Original"), **key)
    async with profile.service.pool.acquire() as conn:
        assert await purge_expired_requests(conn, 3600) == 0  # still inside the window
        assert await purge_expired_requests(conn, 0) >= 1
    reused = await put(profile, auth, user, mentor_body("New"), **key)
    assert "Idempotent-Replayed" not in reused.headers
    assert reused.json()["version"] == 2

"""Tenant isolation on every endpoint: another tenant's key reads and changes nothing of ours,
and calls without a valid key get 401. The route list is checked, so a new endpoint without a
case here fails this test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from shared.links import LinkAction, LinkClaims, sign_link
from tests.integration.test_profile_api import LINK_KEY, RunningProfile, running_profile
from tests.support.people import goal_body, mentee_body, mentor_body

Call = Callable[[httpx.AsyncClient, dict[str, str], str], Awaitable[httpx.Response]]

CASES: dict[tuple[str, str], Call] = {
    ("GET", "/v1/profiles"): lambda http, auth, _u: http.get("/v1/profiles", headers=auth),
    ("GET", "/v1/profiles/{user_id}"): lambda http, auth, u: http.get(
        f"/v1/profiles/{u}", headers=auth
    ),
    ("PUT", "/v1/profiles/{user_id}"): lambda http, auth, u: http.put(
        f"/v1/profiles/{u}", json=mentee_body("Intruder"), headers={**auth, "If-Match": '"1"'}
    ),
    ("DELETE", "/v1/profiles/{user_id}"): lambda http, auth, u: http.delete(
        f"/v1/profiles/{u}", headers=auth
    ),
    ("GET", "/v1/profiles/{user_id}/goal"): lambda http, auth, u: http.get(
        f"/v1/profiles/{u}/goal", headers=auth
    ),
    ("PUT", "/v1/profiles/{user_id}/goal"): lambda http, auth, u: http.put(
        f"/v1/profiles/{u}/goal", json=goal_body(goal_id="intruder"), headers=auth
    ),
    ("GET", "/v1/profiles/{user_id}/goals"): lambda http, auth, u: http.get(
        f"/v1/profiles/{u}/goals", headers=auth
    ),
    ("GET", "/v1/profiles/{user_id}/goals/{goal_id}"): lambda http, auth, u: http.get(
        f"/v1/profiles/{u}/goals/default", headers=auth
    ),
    ("PUT", "/v1/profiles/{user_id}/goals/{goal_id}"): lambda http, auth, u: http.put(
        f"/v1/profiles/{u}/goals/default", json=goal_body(goal_id="default"), headers=auth
    ),
    ("DELETE", "/v1/profiles/{user_id}/goals/{goal_id}"): lambda http, auth, u: http.delete(
        f"/v1/profiles/{u}/goals/default", headers=auth
    ),
    ("GET", "/v1/relationships"): lambda http, auth, u: http.get(
        "/v1/relationships", params={"mentee_id": u}, headers=auth
    ),
    ("POST", "/v1/relationships/{request_id}/end"): lambda http, auth, u: http.post(
        f"/v1/relationships/{REQUESTS[u]}/end", json={"reason": "other"}, headers=auth
    ),
}
# The reads matching answers: this profile runs without matching, so they are checked for the
# key only (401) here; another tenant's key on each is tests/e2e/test_read_api.py's isolation case.
READS: dict[tuple[str, str], Call] = {
    ("GET", "/v1/profiles/{user_id}/goals/{goal_id}/proposals"): lambda http, auth, u: http.get(
        f"/v1/profiles/{u}/goals/default/proposals", headers=auth
    ),
    ("GET", "/v1/profiles/{user_id}/goals/{goal_id}/explain"): lambda http, auth, u: http.get(
        f"/v1/profiles/{u}/goals/default/explain", params={"mentor_id": "u-x"}, headers=auth
    ),
    ("POST", "/v1/profiles/{user_id}/goals/{goal_id}/preview"): lambda http, auth, u: http.post(
        f"/v1/profiles/{u}/goals/default/preview", json={"criteria": {"skills": 1}}, headers=auth
    ),
}
REQUESTS: dict[str, str] = {}  # each mentee's request to their mentor, by mentee id
TOKEN_AUTHORISED = ("/v1/links/",)  # the signed token names the tenant; see test_profile_links


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(kafka_endpoint, postgres_endpoint) as running:
        yield running


async def _tenant_with_a_mentee(profile: RunningProfile) -> tuple[dict[str, str], str, str]:
    tenant = f"a-{uuid.uuid4().hex[:8]}"
    auth = await profile.key_for(tenant)
    user = f"u-{uuid.uuid4().hex[:8]}"
    secret = f"ada-{uuid.uuid4().hex[:8]}@example.org"
    await profile.http.put(f"/v1/profiles/{user}", json=mentee_body("Ada", secret), headers=auth)
    await profile.http.put(f"/v1/profiles/{user}/goal", json=goal_body(), headers=auth)
    mentor = f"u-mentor-{user}"
    await profile.http.put(f"/v1/profiles/{mentor}", json=mentor_body(), headers=auth)
    claims = LinkClaims(
        action=LinkAction.ACCEPT,
        tenant_id=tenant,
        mentee_id=user,
        mentor_id=mentor,
        proposal_id=uuid.uuid4(),
        goal_id="default",
        expires_at=int(time.time()) + 600,
    )
    asked = await profile.http.post(f"/v1/links/{sign_link(claims, LINK_KEY.encode())}")
    assert "Request sent" in asked.text, asked.text
    mine = await profile.http.get("/v1/relationships", params={"mentee_id": user}, headers=auth)
    REQUESTS[user] = mine.json()["items"][0]["request_id"]
    return auth, user, secret


def test_every_integrator_route_has_an_isolation_case(profile: RunningProfile) -> None:
    paths = profile.service.app.openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/") and not path.startswith(TOKEN_AUTHORISED)
        for method in operations
    }
    assert routes == set(CASES) | set(READS)


@pytest.mark.parametrize("route", list(CASES), ids=" ".join)
async def test_another_tenants_key_neither_reads_nor_changes_our_data(
    profile: RunningProfile, route: tuple[str, str]
) -> None:
    ours, user, secret = await _tenant_with_a_mentee(profile)
    theirs = await profile.key_for(f"b-{uuid.uuid4().hex[:8]}")
    before_profile = (await profile.http.get(f"/v1/profiles/{user}", headers=ours)).json()
    before_goal = (await profile.http.get(f"/v1/profiles/{user}/goal", headers=ours)).json()

    response = await CASES[route](profile.http, theirs, user)

    assert response.status_code in (200, 404, 412), response.text
    assert secret not in response.text and user not in response.text.replace(
        f"/v1/profiles/{user}", ""
    )
    if route in (("GET", "/v1/profiles"), ("GET", "/v1/relationships")):
        assert response.json()["items"] == []
    mine = await profile.http.get("/v1/relationships", headers=ours)
    assert [r["state"] for r in mine.json()["items"]] == ["requested"]
    assert (await profile.http.get(f"/v1/profiles/{user}", headers=ours)).json() == before_profile
    after_goal = await profile.http.get(f"/v1/profiles/{user}/goal", headers=ours)
    assert after_goal.json() == before_goal


@pytest.mark.parametrize("route", list(CASES | READS), ids=" ".join)
@pytest.mark.parametrize(
    "auth",
    [{}, {"Authorization": "Bearer ml_nope_nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["none", "unknown key", "wrong scheme"],
)
async def test_calls_without_a_valid_key_get_401(
    profile: RunningProfile, route: tuple[str, str], auth: dict[str, str]
) -> None:
    _, user, secret = await _tenant_with_a_mentee(profile)
    response = await (CASES | READS)[route](profile.http, auth, user)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert secret not in response.text

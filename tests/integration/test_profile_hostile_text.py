"""Text PostgreSQL cannot store (NUL) and bodies that are not JSON: problems naming the field or
the body, never a 500."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.integration.test_profile_api import RunningProfile, put, running_profile
from tests.support.people import goal_body, mentee_body


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(kafka_endpoint, postgres_endpoint) as running:
        yield running


@pytest.fixture
async def auth(profile: RunningProfile) -> dict[str, str]:
    return await profile.key_for(f"tenant-{uuid.uuid4().hex[:8]}")


def _fields(response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [e["field"] for e in response.json()["errors"]]


async def test_a_nul_in_a_goal_statement_is_a_422_naming_the_statement(profile, auth) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    assert (await put(profile, auth, user, mentee_body("Ada"))).status_code == 200
    body = goal_body(statement="Lead our migration to Kubernetes\x00 within six months")
    response = await profile.http.put(f"/v1/profiles/{user}/goal", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["statement"]
    assert "NUL" in response.json()["errors"][0]["message"]


def _cursor(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"skill": "go\x00lang"}, "query.skill"), ({"cursor": _cursor("u-1\x00")}, "query.cursor")],
)
async def test_a_nul_in_a_list_parameter_is_a_422_naming_it(profile, auth, params, field) -> None:
    response = await profile.http.get("/v1/profiles", params=params, headers=auth)
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]


async def test_a_nul_in_an_api_key_is_a_401(profile) -> None:
    response = await profile.http.get(
        "/v1/profiles", headers={"Authorization": "Bearer ml_ab\x00cd_secret"}
    )
    assert response.status_code == 401, response.text


async def test_a_body_that_is_not_json_says_so(profile, auth) -> None:
    response = await profile.http.put(
        f"/v1/profiles/u-{uuid.uuid4().hex[:8]}",
        content=b'{"roles": ["mentor"],, "display_name": "Ada"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert _fields(response) == ["body"]
    assert problem["title"] == "The request body is not valid JSON"
    assert "not valid JSON" in problem["detail"] and "at character 21" in problem["detail"]

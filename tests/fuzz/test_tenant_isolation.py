"""No read of the profile API ever shows one tenant another tenant's data.

Hypothesis interleaves two tenants' writes and reads on the same user ids; every name, email
and goal carries its tenant's marker. Each response to a tenant must be free of the other
tenant's marker, and each single read must show exactly what that tenant last wrote.
Operations the API does not offer (yet) are left out, found from its OpenAPI document.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.budget import count, examples
from tests.fuzz.profile_api import Profile
from tests.support.people import goal_body, mentee_body, mentor_body

USER_IDS = ("u-1", "u-2", "u-3")  # the same ids in both tenants
ACTIONS = ("put_mentee", "put_mentor", "put_goal", "get", "get_goal", "delete", "list")
_EXAMPLE = itertools.count()


@dataclass
class Tenant:
    name: str
    marker: str
    auth: dict[str, str]
    profiles: dict[str, str] = field(default_factory=dict)  # user id -> display name
    goals: dict[str, str | None] = field(default_factory=dict)  # user id -> goal statement


async def _tenant(profile: Profile, name: str, marker: str) -> Tenant:
    issued = await profile.service.api_keys.create(name, "isolation")
    return Tenant(name, marker, {"Authorization": f"Bearer {issued.token}"})


async def _apply(profile: Profile, tenant: Tenant, action: str, user: str) -> httpx.Response:
    http, auth, tag = profile.http, tenant.auth, f"{tenant.marker}-{user}"
    url = f"/v1/profiles/{user}"
    if action in ("put_mentee", "put_mentor"):
        build = mentee_body if action == "put_mentee" else mentor_body
        body = build(name=f"Name {tag}", email=f"{tag}@example.org".lower())
        response = await http.put(url, json=body, headers=auth)
        if response.status_code == 200:
            tenant.profiles[user] = body["display_name"]
            if action == "put_mentor" and user in tenant.goals:
                tenant.goals[user] = None  # whether a former mentee's goal stays is not ours
        return response
    if action == "put_goal":
        statement = f"Lead our migration to Kubernetes within six months ({tag})"
        response = await http.put(f"{url}/goal", json=goal_body(statement=statement), headers=auth)
        if response.is_success:
            tenant.goals[user] = statement
        return response
    if action == "delete":
        response = await http.delete(url, headers=auth)
        if response.is_success:
            tenant.profiles.pop(user, None)
            tenant.goals.pop(user, None)
        return response
    if action == "get_goal":
        return await http.get(f"{url}/goal", headers=auth)
    if action == "list":
        return await http.get("/v1/profiles", headers=auth)
    return await http.get(url, headers=auth)


def _check_read(tenant: Tenant, action: str, user: str, response: httpx.Response) -> None:
    if action == "get":
        expected = tenant.profiles.get(user)
        assert response.status_code == (200 if expected else 404), response.text
        if expected:
            assert response.json()["display_name"] == expected
    elif action == "list":
        assert response.status_code == 200, response.text
        names = {item["display_name"] for item in response.json()["items"]}
        assert names == set(tenant.profiles.values())
    elif action == "get_goal" and (statement := tenant.goals.get(user)):
        assert response.status_code == 200, response.text
        assert response.json()["statement"] == statement


ACTION_ROUTES = {
    "delete": ("DELETE", "/v1/profiles/{user_id}"),
    "list": ("GET", "/v1/profiles"),
}

steps = st.lists(
    st.tuples(st.sampled_from("ab"), st.sampled_from(ACTIONS), st.sampled_from(USER_IDS)),
    min_size=1,
    max_size=12,
)


@examples(weight=0.25)
@given(steps=steps)
async def test_a_tenant_never_reads_another_tenants_data(
    profile: Profile, steps: list[tuple[str, str, str]]
) -> None:
    n = next(_EXAMPLE)
    tenants = {
        "a": await _tenant(profile, f"tenant-a-{n}", f"alpha{n}x"),
        "b": await _tenant(profile, f"tenant-b-{n}", f"bravo{n}x"),
    }
    for who, action, user in steps:
        if action in ACTION_ROUTES and not profile.offers(*ACTION_ROUTES[action]):
            continue
        count("tenant isolation: API calls")
        tenant = tenants[who]
        other = tenants["b" if who == "a" else "a"]
        response = await _apply(profile, tenant, action, user)
        assert response.status_code < 500, response.text
        assert other.marker not in response.text.lower(), (action, user, response.text)
        _check_read(tenant, action, user, response)

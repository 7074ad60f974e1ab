"""The "Widen my criteria" link of the waiting-list email (issue 26, no dead ends), on real
Kafka and PostgreSQL: GET names the skills it would add and changes nothing; POST publishes the
goal's next version with them, once per link; a link for a replaced goal changes nothing."""

from __future__ import annotations

import time
import uuid

import pytest

from shared.contracts.goals import GoalSet
from shared.contracts.topics import GOALS
from shared.links import LinkAction, LinkClaims, sign_link
from tests.integration.test_profile_api import LINK_KEY, RunningProfile, running_profile
from tests.support.kafka import read_all
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.polling import eventually


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(kafka_endpoint, postgres_endpoint) as running:
        yield running


async def people(profile: RunningProfile) -> tuple[str, dict[str, str], str]:
    tenant, mentee = f"t-{uuid.uuid4().hex[:8]}", f"x-{uuid.uuid4().hex[:8]}"
    auth = await profile.key_for(tenant)
    http = profile.http
    skills = {
        "m1": [("kubernetes", 5), ("go", 4), ("terraform", 3)],
        "m2": [("kubernetes", 4), ("go", 3), ("rust", 2)],
        "m3": [("kubernetes", 3), ("terraform", 4)],
        "m4": [("python", 5), ("django", 5), ("sql", 5), ("go", 5)],  # no goal skill
    }
    for user, held in skills.items():
        body = mentor_body(skills=[{"name": n, "level": lv} for n, lv in held])
        assert (await http.put(f"/v1/profiles/{user}", json=body, headers=auth)).is_success
    opted_out = mentor_body(
        skills=[{"name": "kubernetes", "level": 5}, {"name": "java", "level": 5}]
    )
    opted_out["opted_in"] = False
    assert (await http.put("/v1/profiles/m5", json=opted_out, headers=auth)).is_success
    assert (await http.put(f"/v1/profiles/{mentee}", json=mentee_body(), headers=auth)).is_success
    goal = goal_body(preferred_styles=["challenging"], background_preference="similar")
    response = await http.put(f"/v1/profiles/{mentee}/goal", json=goal, headers=auth)
    assert response.is_success, response.text
    return tenant, auth, mentee


def widen_link(tenant: str, mentee: str, goal_id: str = "default") -> str:
    claims = LinkClaims(
        action=LinkAction.WIDEN,
        tenant_id=tenant,
        mentee_id=mentee,
        proposal_id=uuid.uuid4(),
        goal_id=goal_id,
        expires_at=int(time.time()) + 3600,
    )
    return f"/v1/links/{sign_link(claims, LINK_KEY.encode())}"


async def goals_of(profile: RunningProfile, tenant: str, count: int) -> list[GoalSet]:
    topic = GOALS.qualified(profile.kafka.topic_prefix)

    async def mine() -> list[GoalSet]:
        await eventually(profile.relayed, what="outbox relayed")
        records = await read_all(profile.kafka, topic)
        found = [GoalSet.model_validate_json(r.value) for r in records if r.value]
        found = [g for g in found if g.tenant_id == tenant]
        return found if len(found) >= count else []

    return await eventually(mine, timeout=30, what=f"{count} goal versions")


async def test_widening_adds_the_skills_mentors_of_the_goal_share_once_per_link(profile) -> None:
    tenant, auth, mentee = await people(profile)
    url = widen_link(tenant, mentee)
    page = await profile.http.get(url)
    assert page.status_code == 200 and '<form method="post">' in page.text
    # go: m1, m2; terraform: m1, m3; rust: m2; java only from an opted-out mentor
    assert "We would add go, terraform and rust to your goal&#39;s skills" in page.text

    done = await profile.http.post(url)
    assert (
        done.status_code == 200 and "Your goal now also names go, terraform and rust" in done.text
    )
    again = await profile.http.post(url)
    assert "This link has widened your goal already." in again.text

    first, widened = await goals_of(profile, tenant, 2)
    assert widened.payload.version == first.payload.version + 1
    assert widened.payload.target_skills == ["kubernetes", "go", "terraform", "rust"]
    kept = {"statement", "goal_id", "preferred_styles", "background_preference", "criteria"}
    assert widened.payload.model_dump(include=kept) == first.payload.model_dump(include=kept)
    current = await profile.http.get(f"/v1/profiles/{mentee}/goal", headers=auth)
    assert current.json()["target_skills"] == ["kubernetes", "go", "terraform", "rust"]


async def test_a_link_for_a_replaced_goal_changes_nothing(profile) -> None:
    tenant, auth, mentee = await people(profile)
    replaced = goal_body(goal_id="g2", target_skills=["terraform"])
    response = await profile.http.put(f"/v1/profiles/{mentee}/goal", json=replaced, headers=auth)
    assert response.is_success
    url = widen_link(tenant, mentee, goal_id="g1")
    assert "Your goal has changed" in (await profile.http.get(url)).text
    assert "Your goal has changed" in (await profile.http.post(url)).text
    current = await profile.http.get(f"/v1/profiles/{mentee}/goal", headers=auth)
    assert current.json()["target_skills"] == ["terraform"]

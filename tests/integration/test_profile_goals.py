"""Several goals per mentee through the profile API, on real PostgreSQL and Kafka: the
per-goal routes, the tenant's limit, closing a goal (and its waiting requests), and the
single-goal route on the default goal (docs/adr/0012-several-goals-per-mentee.md)."""

from __future__ import annotations

import pytest

from services.profile.adapters.postgres_relationships import set_tenant_terms
from shared.clock import OffsetClock
from shared.contracts.goals import GoalClosed, GoalSet
from shared.contracts.lifecycle import MatchEnded, MatchRequested
from tests.integration.test_profile_api import running_profile
from tests.support.lifecycle import Programme
from tests.support.people import goal_body

# The per-goal routes take the goal id from the path: the bodies carry none.
CAREER = goal_body(horizon="career", statement="Become a staff engineer within 2 years")
CAREER.pop("goal_id")
PROJECT = goal_body(
    horizon="project",
    statement="Ship our Go billing service within 3 months",
    target_skills=["go"],
    timeframe_months=3,
)
PROJECT.pop("goal_id")


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> OffsetClock:
    return OffsetClock(tmp_path_factory.mktemp("clock") / "offset")


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint, clock):
    async with running_profile(kafka_endpoint, postgres_endpoint, clock) as running:
        yield running


@pytest.fixture
async def programme(profile, clock) -> Programme:
    return await Programme(profile, clock).start()


def goal_url(mentee: str, goal_id: str | None = None) -> str:
    return f"/v1/profiles/{mentee}/goals" + (f"/{goal_id}" if goal_id else "")


async def test_a_mentee_holds_several_goals_each_with_its_own_version(programme) -> None:
    http, auth = programme.http, programme.auth
    mentee = await programme.mentee()  # sets the default goal through the single-goal route
    career = await http.put(goal_url(mentee, "career"), json=CAREER, headers=auth)
    project = await http.put(goal_url(mentee, "ship-billing"), json=PROJECT, headers=auth)
    assert career.status_code == 200 and project.status_code == 200, project.text
    assert (career.json()["goal_id"], career.json()["horizon"]) == ("career", "career")
    assert project.json()["horizon"] == "project" and project.headers["ETag"] == '"3"'

    listed = await http.get(goal_url(mentee), headers=auth)
    assert [g["goal_id"] for g in listed.json()["goals"]] == ["career", "default", "ship-billing"]
    one = await http.get(goal_url(mentee, "ship-billing"), headers=auth)
    assert one.json()["statement"] == PROJECT["statement"] and one.headers["ETag"] == '"3"'
    old_route = await http.get(f"/v1/profiles/{mentee}/goal", headers=auth)
    assert old_route.json()["goal_id"] == "default"

    events = [e for e in await programme.goals() if isinstance(e, GoalSet)]
    assert [(e.schema_version, e.payload.goal_id, e.payload.version) for e in events] == [
        (2, "default", 1),
        (2, "career", 2),
        (2, "ship-billing", 3),
    ]


async def test_more_goals_than_the_tenant_allows_is_a_422(programme, profile) -> None:
    http, auth = programme.http, programme.auth
    mentee = await programme.mentee()
    for goal_id in ("a", "b"):
        assert (await http.put(goal_url(mentee, goal_id), json=PROJECT, headers=auth)).is_success
    fourth = await http.put(goal_url(mentee, "c"), json=PROJECT, headers=auth)
    assert fourth.status_code == 422
    assert fourth.json()["errors"][0]["field"] == "goal_id"
    assert fourth.json()["max_active_goals"] == 3

    async with profile.service.pool.acquire() as conn:
        await set_tenant_terms(conn, programme.tenant, None, None, None, max_active_goals=4)
    assert (await http.put(goal_url(mentee, "c"), json=PROJECT, headers=auth)).is_success
    changed = await http.put(
        goal_url(mentee, "c"), json={**PROJECT, "timeframe_months": 4}, headers=auth
    )
    assert changed.status_code == 200  # changing a goal held is never over the limit


async def test_an_unknown_horizon_or_another_goal_id_is_a_422_naming_the_field(programme) -> None:
    http, auth = programme.http, programme.auth
    mentee = await programme.mentee()
    bad = await http.put(goal_url(mentee, "x"), json={**PROJECT, "horizon": "decade"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "horizon"
    other = await http.put(goal_url(mentee, "x"), json={**PROJECT, "goal_id": "y"}, headers=auth)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "goal_id"


async def test_closing_a_goal_withdraws_its_waiting_requests_only(programme) -> None:
    http, auth = programme.http, programme.auth
    mentee = await programme.mentee()
    assert (await http.put(goal_url(mentee, "g1"), json=PROJECT, headers=auth)).is_success
    first, second = await programme.mentor(), await programme.mentor("Linus Torvalds")
    await programme.request(mentee, first, goal_id="g1")
    other = await http.post(programme.intro(mentee, second, goal_id="default"))
    assert "Request sent" in other.text

    closed = await http.delete(goal_url(mentee, "g1"), headers=auth)
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "mentee_id": mentee,
        "goal_id": "g1",
        "version": 3,
        "reason": "abandoned",
    }
    assert (await http.get(goal_url(mentee, "g1"), headers=auth)).status_code == 404
    assert (await http.delete(goal_url(mentee, "g1"), headers=auth)).status_code == 404
    states = {r["mentor_id"]: r["state"] for r in await programme.relationships(mentee_id=mentee)}
    assert states == {first: "ended", second: "requested"}

    (event,) = [e for e in await programme.goals() if isinstance(e, GoalClosed)]
    assert (event.payload.goal_id, event.payload.version) == ("g1", 3)
    feedback = await programme.feedback(MatchRequested, MatchEnded)
    assert [type(e) for e in feedback] == [MatchRequested, MatchRequested, MatchEnded]
    assert await programme.seats(first) == [0, 1, 0]

    late = await http.post(programme.intro(mentee, first, goal_id="g1"))  # an older email's link
    assert "This goal is closed" in late.text
    assert len(await programme.relationships(mentee_id=mentee)) == 2

    reopened = await http.put(goal_url(mentee, "g1"), json=PROJECT, headers=auth)
    assert reopened.status_code == 200 and reopened.json()["version"] == 4

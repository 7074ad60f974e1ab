"""Two goals of one mentee end to end (issue 25, ADR 0012), on real Kafka, PostgreSQL and SMTP,
through the public API and the emails alone:

- a career goal and a project goal (different skills) get two emails, each naming its goal,
  with different mentors and links that carry their own goal; requesting a mentor for one goal
  (through its email's link) leaves the other goal's proposal as it was;
- a goal with nobody suitable gets the waiting-list email and shows `waiting` in the goal API,
  while the mentee's other goal does not; when a suitable mentor appears, the proposal follows.

Matching must rank each (mentee, goal) separately for these to pass (the `goalrank` work).
"""

from __future__ import annotations

from typing import Any

import pytest

from devenv.smtp_sink import SmtpSink
from tests.e2e.test_proposals_follow_the_mentee import claims, link, put, texts
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.platform import Platform, running_platform
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e
WAIT_S = 60
TOKEN = "read-token-for-tests"

CAREER = goal_body(
    goal_id="career",
    horizon="career",
    statement="Lead our migration to Kubernetes within six months",
    target_skills=["kubernetes"],
)
PROJECT = goal_body(
    goal_id="cli",
    horizon="project",
    statement="Ship our Rust command-line tool within three months",
    target_skills=["rust"],
    timeframe_months=3,
)
GRACE = mentor_body("Grace Hopper", email="grace@example.org")  # kubernetes and go
FERRIS = mentor_body(
    "Ferris Crab", email="ferris@example.org", skills=[{"name": "rust", "level": 5}]
)


def naming(goal: dict[str, Any]) -> str:
    return f'For your goal: "{goal["statement"]}"'


async def email_for(smtp: SmtpSink, to: str, goal: dict[str, Any], *, having: str) -> str:
    """The newest email to `to` that names `goal` and contains `having`, once one arrived."""

    def found() -> list[str]:
        return [t for t in texts(smtp, to) if naming(goal) in t and having in t][-1:]

    return (await eventually(found, timeout=WAIT_S, what=f"an email for {goal['goal_id']}"))[0]


async def goal_read(platform: Platform, mentee: str, goal_id: str) -> dict[str, Any]:
    answer = await platform.http.get(
        f"/v1/profiles/{mentee}/goals/{goal_id}", headers=platform.auth
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def proposals(platform: Platform, mentee: str, goal_id: str) -> dict[str, Any]:
    path = f"/v1/profiles/{mentee}/goals/{goal_id}/proposals"
    answer = await platform.http.get(path, headers=platform.auth)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def mentors_known(platform: Platform, smtp: SmtpSink, unique: str, *names: str) -> None:
    """Wait until matching holds the mentors' profiles: a scout mentee's goal names all their
    skills, and its email names every one of them. The mentee under test is then ranked with
    them from the start, so their emails are the ones the test expects (and within the rate
    limit of 3 per hour), not a waiting-list email that a profile read late would bring."""
    email = f"s-{unique}@example.org"
    await put(platform, f"/v1/profiles/s-{unique}", mentee_body("Sam Scout", email))
    scout = goal_body(
        goal_id="scout",
        statement="Run our Kubernetes platform and ship a Rust tool within six months",
        target_skills=["kubernetes", "rust"],
    )
    await put(platform, f"/v1/profiles/s-{unique}/goals/scout", scout)
    await eventually(
        lambda: [t for t in texts(smtp, email) if all(n in t for n in names)],
        timeout=WAIT_S,
        what=f"matching to know {names}",
    )


async def mentee_with_two_goals(platform: Platform, unique: str) -> tuple[str, str]:
    mentee, email = f"x-{unique}", f"x-{unique}@example.org"
    await put(platform, f"/v1/profiles/{mentee}", mentee_body("Ada Lovelace", email))
    await put(platform, f"/v1/profiles/{mentee}/goals/career", CAREER)
    await put(platform, f"/v1/profiles/{mentee}/goals/cli", PROJECT)
    return mentee, email


async def test_two_goals_two_emails_and_a_request_for_one_leaves_the_other_alone(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    async with running_platform(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, read_token=TOKEN
    ) as platform:
        await put(platform, f"/v1/profiles/m1-{unique}", GRACE)
        await put(platform, f"/v1/profiles/m2-{unique}", FERRIS)
        await mentors_known(platform, smtp_sink, unique, "Grace Hopper", "Ferris Crab")
        mentee, email = await mentee_with_two_goals(platform, unique)

        career = await email_for(smtp_sink, email, CAREER, having="Grace Hopper")
        project = await email_for(smtp_sink, email, PROJECT, having="Ferris Crab")
        assert "Ferris Crab" not in career and "Grace Hopper" not in project
        for text, goal in ((career, "career"), (project, "cli")):
            assert claims(link(text, "Request an intro"))["goal_id"] == goal
            assert claims(link(text, "Not for me"))["goal_id"] == goal
        project_proposal = claims(link(project, "Request an intro"))["proposal_id"]
        project_emails = [t for t in texts(smtp_sink, email) if naming(PROJECT) in t]

        asked = await platform.http.post(link(career, "Request an intro"))
        assert asked.status_code == 200, asked.text
        # Grace is asked, about the career goal
        request = await eventually(
            lambda: [t for t in texts(smtp_sink, "grace@example.org") if CAREER["statement"] in t],
            timeout=WAIT_S,
            what="Grace's request email quoting the career goal",
        )
        assert request
        # matching took the request in (Grace is held by it) ...
        await eventually(
            lambda: _excluded_by(platform, mentee, "career", f"m1-{unique}", "in_relationship"),
            timeout=WAIT_S,
            what="matching holding the request",
        )
        # ... and the project goal's proposal is the one its email showed, untouched
        cli = await proposals(platform, mentee, "cli")
        assert cli["proposal_id"] == project_proposal
        assert [m["display_name"] for m in cli["items"]] == ["Ferris Crab"]
        assert [t for t in texts(smtp_sink, email) if naming(PROJECT) in t] == project_emails
        assert (await goal_read(platform, mentee, "cli"))["waiting"] is False


async def _excluded_by(
    platform: Platform, mentee: str, goal_id: str, mentor: str, rule: str
) -> bool:
    path = f"/v1/profiles/{mentee}/goals/{goal_id}/explain"
    answer = await platform.http.get(path, params={"mentor_id": mentor}, headers=platform.auth)
    assert answer.status_code == 200, answer.text
    return (answer.json()["excluded_by"] or {}).get("rule") == rule


async def test_a_goal_nobody_suits_waits_in_the_api_and_its_proposal_follows_a_new_mentor(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    async with running_platform(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, read_token=TOKEN
    ) as platform:
        await put(platform, f"/v1/profiles/m1-{unique}", GRACE)  # nobody knows rust yet
        await mentors_known(platform, smtp_sink, unique, "Grace Hopper")
        mentee, email = await mentee_with_two_goals(platform, unique)

        career = await email_for(smtp_sink, email, CAREER, having="Grace Hopper")
        waiting = await email_for(smtp_sink, email, PROJECT, having="You are on the waiting list")
        assert "Request an intro" not in waiting
        widen = claims(link(waiting, "Widen your criteria with one click"))
        assert widen["goal_id"] == "cli"
        assert (await goal_read(platform, mentee, "cli"))["waiting"] is True
        assert (await goal_read(platform, mentee, "career"))["waiting"] is False
        listed = await platform.http.get(f"/v1/profiles/{mentee}/goals", headers=platform.auth)
        assert {g["goal_id"]: g["waiting"] for g in listed.json()["goals"]} == {
            "career": False,
            "cli": True,
        }

        await put(platform, f"/v1/profiles/m2-{unique}", FERRIS)
        followed = await email_for(smtp_sink, email, PROJECT, having="Ferris Crab")
        assert claims(link(followed, "Request an intro"))["goal_id"] == "cli"
        assert (await goal_read(platform, mentee, "cli"))["waiting"] is False
        # the career goal's email was not withdrawn, repeated or replaced by the project's
        assert [t for t in texts(smtp_sink, email) if naming(CAREER) in t] == [career]

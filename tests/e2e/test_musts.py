"""Issue 25 item 3, through the API and the emails alone, on real Kafka, PostgreSQL and SMTP
(the three services in-process):

- a required language excludes the best-scored mentor: the email names the others only, and
  `explain` names the must that keeps them out;
- when nobody meets the musts the mentee is emailed so, with whom dropping the must would
  give, and a mentor who comes to meet it is proposed as soon as their profile says so.
"""

from __future__ import annotations

import pytest

from devenv.smtp_sink import SmtpSink
from shared.contracts.goals import CriteriaWeights
from tests.e2e.test_proposals_follow_the_mentee import (
    WAIT_S,
    email_with,
    mentee_with_goal,
    nth_email,
    put,
    texts,
)
from tests.support.people import goal_body, mentor_body
from tests.support.platform import running_platform
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e
READ_TOKEN = "read-token-for-musts-tests"
KUBERNETES = {"name": "kubernetes", "level": 5}


def mentors_named(text: str) -> list[str]:
    """The mentors an email proposes, in order ("1. Grace Hopper (...)")."""
    return [
        line.split(". ", 1)[1].split(" (")[0]
        for line in text.splitlines()
        if line[:1].isdigit() and ". " in line
    ]


async def test_a_required_language_excludes_the_best_scored_mentor(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    async with running_platform(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, read_token=READ_TOKEN
    ) as platform:
        best = mentor_body("Grace Hopper", languages=["en"])
        german = mentor_body(
            "Alan Turing", skills=[{"name": "kubernetes", "level": 3}], languages=["de", "en"]
        )
        for user, body in ((f"m1-{unique}", best), (f"m2-{unique}", german)):
            await put(platform, f"/v1/profiles/{user}", body)
        email = await mentee_with_goal(platform, unique, goal_body(), languages=["de", "en"])
        both = ["Grace Hopper", "Alan Turing"]  # Grace first: she scores best without musts
        await eventually(
            lambda: [t for t in texts(smtp_sink, email) if mentors_named(t) == both],
            timeout=WAIT_S,
            what="an email proposing both, Grace first",
        )
        sent = len(texts(smtp_sink, email))

        musts = goal_body(musts={"languages": ["de"]})
        await put(platform, f"/v1/profiles/x-{unique}/goal", musts)
        told = await nth_email(smtp_sink, email, sent + 1, "the email of the goal needing German")
        assert "You changed your must-haves." in told, told
        assert mentors_named(told) == ["Alan Turing"], told

        explained = await platform.http.get(
            f"/v1/profiles/x-{unique}/goals/default/explain",  # set with PUT .../goal
            params={"mentor_id": f"m1-{unique}"},
            headers=platform.auth,
        )
        assert explained.status_code == 200, explained.text
        rule = explained.json()["excluded_by"]
        assert rule["rule"] == "unmet_must", rule
        assert "requires a mentor who speaks de; Grace Hopper does not" in rule["detail"], rule

        # preview tries the goal without its musts, and refuses musts its weights contradict
        base = f"/v1/profiles/x-{unique}/goals/default/preview"
        weights = CriteriaWeights().model_dump()
        freed = await platform.http.post(
            base, json={"criteria": weights, "musts": {}}, headers=platform.auth
        )
        assert freed.status_code == 200, freed.text
        assert [i["mentor_id"] for i in freed.json()["items"]] == [f"m1-{unique}", f"m2-{unique}"]
        kept = await platform.http.post(base, json={"criteria": weights}, headers=platform.auth)
        assert [i["mentor_id"] for i in kept.json()["items"]] == [f"m2-{unique}"], kept.text
        ignored = {**weights, "language": 0}
        refused = await platform.http.post(
            base, json={"criteria": ignored, "musts": {"languages": ["de"]}}, headers=platform.auth
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "musts.languages", refused.text


async def test_nobody_meeting_the_musts_is_emailed_with_the_alternative(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        grace = mentor_body("Grace Hopper", languages=["en"])
        await put(platform, f"/v1/profiles/m1-{unique}", grace)
        # Once another mentee is proposed Grace, matching knows her: the Dutch goal's answer is
        # then about the musts, not about an empty tenant (which gets no email at all).
        probe = await mentee_with_goal(platform, f"probe-{unique}", goal_body())
        grace_proposed = await email_with(smtp_sink, probe, "Request an intro", "Grace proposed")
        assert mentors_named(grace_proposed) == ["Grace Hopper"]
        goal = goal_body(musts={"languages": ["nl"]})
        email = await mentee_with_goal(platform, unique, goal)
        told = await nth_email(smtp_sink, email, 1, "the email that nobody speaks Dutch")
        assert "meets all your musts together" in told, told
        assert "None of them speaks nl." in told, told
        assert (
            "Without the must that your mentor speaks nl (your other musts kept), "
            "we could suggest: Grace Hopper." in told
        ), told
        assert "You are on the waiting list" in told and mentors_named(told) == []

        await put(platform, f"/v1/profiles/m1-{unique}", {**grace, "languages": ["en", "nl"]})
        proposed = await email_with(
            smtp_sink, email, "Request an intro", "the proposal once Grace speaks Dutch"
        )
        assert mentors_named(proposed) == ["Grace Hopper"], proposed

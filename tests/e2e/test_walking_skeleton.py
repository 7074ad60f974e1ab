"""Mentor and mentee created over HTTP, a goal set: the mentee gets an email naming the mentor."""

from __future__ import annotations

import uuid

import pytest

from devenv.smtp_sink import SmtpSink
from shared.contracts.matches import MatchProposed, MatchProposedPayload, ProposedMentor
from shared.contracts.topics import PROPOSALS
from tests.support.mail import mails_saying
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.platform import running_platform
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


async def test_goal_set_over_http_ends_in_an_email_naming_the_mentor(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    mentee_email = f"mentee-{unique}@example.org"
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        http, auth = platform.http, platform.auth
        mentor = await http.put(
            f"/v1/profiles/mentor-{unique}", json=mentor_body("Grace Hopper"), headers=auth
        )
        assert mentor.status_code == 200, mentor.text
        mentee = await http.put(
            f"/v1/profiles/mentee-{unique}",
            json=mentee_body("Ada Lovelace", mentee_email),
            headers=auth,
        )
        assert mentee.status_code == 200, mentee.text
        goal = await http.put(f"/v1/profiles/mentee-{unique}/goal", json=goal_body(), headers=auth)
        assert goal.status_code == 200, goal.text

        mails = await eventually(
            lambda: mails_saying(smtp_sink, mentee_email, "Grace Hopper"),
            timeout=60,
            what="proposal email",
        )

    message = mails[0].message
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Grace Hopper" in text and "Grace Hopper" in html
    assert "expert in kubernetes" in text
    assert message["Message-ID"].startswith("<proposal.")
    assert "Ada Lovelace" in message["To"]


async def test_the_same_match_proposed_twice_sends_one_email(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    mentee_email = f"twice-{unique}@example.org"
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        http, auth = platform.http, platform.auth
        response = await http.put(
            f"/v1/profiles/m-{unique}", json=mentee_body("Twice", mentee_email), headers=auth
        )
        assert response.status_code == 200
        event = MatchProposed(
            tenant_id=platform.tenant,
            key=f"m-{unique}",
            payload=MatchProposedPayload(
                mentee_id=f"m-{unique}",
                goal_id="g1",
                proposal_id=uuid.uuid4(),
                ranking_version=1,
                mentors=[
                    ProposedMentor(mentor_id="x1", display_name="Mentor One", rank=1, score=0.9)
                ],
            ),
        )
        topic = PROPOSALS.qualified(topic_prefix)
        broker = platform.notifications.broker
        for _ in range(2):
            await broker.publish(event.to_bytes(), topic=topic, key=event.key.encode())
        await eventually(lambda: smtp_sink.messages(to=mentee_email), what="the first email")
        # A later proposal on the same key (same partition) is handled after both copies.
        marker = event.model_copy(
            update={
                "event_id": uuid.uuid4(),
                "payload": event.payload.model_copy(
                    update={"proposal_id": uuid.uuid4(), "ranking_version": 2}
                ),
            }
        )
        await broker.publish(marker.to_bytes(), topic=topic, key=marker.key.encode())

        mails = await eventually(
            lambda: (m := smtp_sink.messages(to=mentee_email)) and len(m) >= 2 and m,
            timeout=60,
            what="the marker proposal's email",
        )

    first_ids = [m.message_id for m in mails if m.message_id != mails[-1].message_id]
    assert len(mails) == 2
    assert len(first_ids) == 1

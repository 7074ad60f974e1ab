"""A malformed message on each consumed topic is dead-lettered; the consumer goes on."""

from __future__ import annotations

import pytest

from devenv.smtp_sink import SmtpSink
from shared.contracts.topics import GOALS, PROFILES, PROPOSALS
from tests.support.kafka import header, read_all
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.platform import running_platform
from tests.support.polling import eventually

MALFORMED = {
    PROFILES: b'{"event_type": "ProfileUpdated", "payload": ',
    GOALS: b'{"event_type": "GoalSet", "schema_version": 1, "payload": {"mentee_id": 7}}',
    PROPOSALS: b"\xff\xfe not json at all",
}
CONSUMERS = {
    PROFILES: {"matching", "notifications"},
    GOALS: {"matching", "notifications"},
    PROPOSALS: {"notifications"},
}


async def test_malformed_messages_go_to_dead_letter_topics_and_valid_ones_still_flow(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    mentee_email = f"dlq-{unique}@example.org"
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        broker = platform.matching.broker
        for topic, body in MALFORMED.items():
            await broker.publish(
                body, topic=topic.qualified(topic_prefix), key=b"mentee-" + unique.encode()
            )

        http, auth = platform.http, platform.auth
        await http.put(f"/v1/profiles/mentor-{unique}", json=mentor_body(), headers=auth)
        await http.put(
            f"/v1/profiles/mentee-{unique}", json=mentee_body(email=mentee_email), headers=auth
        )
        await http.put(f"/v1/profiles/mentee-{unique}/goal", json=goal_body(), headers=auth)
        await eventually(
            lambda: smtp_sink.messages(to=mentee_email), timeout=60, what="email after poison"
        )

        for topic, body in MALFORMED.items():
            dlq = topic.dead_letter(topic_prefix)

            async def dead_letters(dlq: str = dlq, expected: int = len(CONSUMERS[topic])) -> list:
                records = await read_all(platform.kafka, dlq)
                return records if len(records) >= expected else []

            records = await eventually(dead_letters, timeout=30, what=f"dead letters on {dlq}")
            assert {header(r, "x-dlq-service") for r in records} == CONSUMERS[topic]
            for record in records:
                assert record.value == body
                assert record.key == b"mentee-" + unique.encode()
                assert header(record, "x-dlq-reason") in {"invalid_json", "schema_violation"}
                assert header(record, "x-dlq-error")
                assert header(record, "x-dlq-source-topic") == topic.qualified(topic_prefix)


@pytest.mark.parametrize(
    "reason_body",
    [
        (b'{"event_type": "ProfileExploded", "schema_version": 1}', "unknown_event_type"),
    ],
)
async def test_unknown_event_types_are_named_in_the_reason(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, reason_body
) -> None:
    body, reason = reason_body
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        await platform.matching.broker.publish(
            body, topic=PROFILES.qualified(topic_prefix), key=b"k"
        )
        dlq = PROFILES.dead_letter(topic_prefix)
        records = await eventually(
            lambda: read_all(platform.kafka, dlq), timeout=30, what="dead letter"
        )
        assert header(records[0], "x-dlq-reason") == reason

"""`mentorlink-ops dlq replay` of old events cannot bring an erased person back.

The three services run on Apache Kafka, PostgreSQL and SMTP. A mentor and a mentee are created,
the mentee gets an email, both are erased. Then a ProfileUpdated of each and a GoalSet of the
mentee from before the erasure, which a consumer had failed on (never handled, so no service
holds their event ids), are replayed from the dead-letter topics with the operator CLI's
replay. Once every consumer group has read past the copies: no table mentions either person,
nobody was emailed, no proposal names them, and on the compacted profiles topic each person's
last record is a tombstone again.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from aiokafka import ConsumerRecord

from devenv.smtp_sink import SmtpSink
from ops.lag import consumer_lag
from ops.replay import replay
from shared.contracts.topics import GOALS, PROFILES, PROPOSALS
from shared.kafka.dead_letter import DeadLetter
from shared.kafka.producer import kafka_producer
from tests.e2e.test_decline_and_erasure import create_people, outboxes_empty
from tests.support.erasure_scan import rows_mentioning
from tests.support.kafka import read_all
from tests.support.platform import Platform, running_platform
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


async def records_of(platform: Platform, topic: str, key: bytes) -> list[ConsumerRecord]:
    return [r for r in await read_all(platform.kafka, topic) if r.key == key]


def failed_update(value: bytes) -> bytes:
    """The next version of the person's event, made before the erasure, that failed."""
    event = json.loads(value)
    event["event_id"] = str(uuid.uuid4())
    event["payload"]["version"] += 1
    return json.dumps(event).encode()


async def dead_letter(platform: Platform, record: ConsumerRecord, value: bytes) -> str:
    letter = DeadLetter(
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=value,
        reason="handler_failed",
        error="RuntimeError: a bug since fixed",
        service="matching",
    )
    async with kafka_producer(platform.kafka, "test-dead-letters") as producer:
        await producer.send_and_wait(
            letter.topic,
            value=letter.value,
            key=letter.key,
            headers=[(k, v.encode()) for k, v in letter.headers().items()],
        )
    return letter.topic


async def read_past_everything(platform: Platform) -> bool:
    topics = {t.qualified(platform.kafka.topic_prefix) for t in (PROFILES, GOALS)}
    lags = await consumer_lag(platform.kafka)
    return bool(lags) and all(row.lag == 0 for row in lags if row.topic in topics)


@pytest.mark.broker_feature("offsets_api")  # waits for the consumers' lag to reach 0
async def test_replayed_old_events_recreate_nobody_and_email_nobody(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique
) -> None:
    mentee_email = f"x-{unique}@example.org"
    mentor, mentee = f"m1-{unique}", f"x-{unique}"
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        await create_people(platform, unique, mentee_email)
        await eventually(
            lambda: smtp_sink.messages(to=mentee_email), timeout=60, what="the first email"
        )
        profiles = PROFILES.qualified(topic_prefix)
        old = [
            *(await records_of(platform, profiles, f"{platform.tenant}/{mentor}".encode())),
            *(await records_of(platform, profiles, f"{platform.tenant}/{mentee}".encode())),
            *(await records_of(platform, GOALS.qualified(topic_prefix), mentee.encode())),
        ]
        assert len(old) == 3

        erased_at_ms = int(time.time() * 1000)
        for user in (mentee, mentor):
            response = await platform.http.delete(f"/v1/profiles/{user}", headers=platform.auth)
            assert response.status_code == 204, response.text

        async def erased() -> bool:
            found = await rows_mentioning(database_url, [mentor, mentee])
            return await outboxes_empty(database_url) and not found

        await eventually(erased, timeout=60, what="the erasure everywhere")
        emails_before = len(smtp_sink.messages(to=mentee_email))

        for dlq in sorted({await dead_letter(platform, r, failed_update(r.value)) for r in old}):
            report = await replay(platform.kafka, dlq, None)
            assert report.replayed, dlq
        await eventually(
            lambda: read_past_everything(platform), timeout=60, what="the copies consumed"
        )

        # A replayed profile makes matching queue a new tombstone for the key (buried_again
        # below): an outbox row that names the person until the relay has published it.
        await eventually(erased, timeout=60, what="nothing recreated once the outboxes drain")
        assert len(smtp_sink.messages(to=mentee_email)) == emails_before

        async def buried_again() -> bool:
            for user in (mentor, mentee):
                key = f"{platform.tenant}/{user}".encode()
                if (await records_of(platform, profiles, key))[-1].value is not None:
                    return False
            return True

        await eventually(buried_again, timeout=60, what="a tombstone after each replayed profile")
        proposals = await read_all(platform.kafka, PROPOSALS.qualified(topic_prefix))
        late = [
            json.loads(r.value)["payload"]
            for r in proposals
            if r.timestamp >= erased_at_ms and (mentor.encode() in r.value or r.key == mentee)
        ]
        assert late == []

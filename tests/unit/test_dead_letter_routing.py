"""Invalid and poison messages go to `<topic>.dlq` with a reason; valid ones are handled.

FastStream's TestKafkaBroker runs the real middleware stack in memory (it builds a
ConsumerRecord as `raw_message`, at partition 0 / offset 0), so DeadLetterMiddleware is
exercised exactly as in production, including its publish to the dead-letter topic.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared.contracts.goals import GoalSet
from shared.contracts.topics import PROFILE_EVENT, ProfileEvent
from shared.errors import InvalidEvent, TransientError
from shared.kafka.consumer import install_dead_letter, subscriber_options
from shared.kafka.dead_letter import RetryPolicy, classify_invalid
from tests.unit.builders import goal, goal_set, mentor, profile_updated

PROFILES = "t.profiles"
GOALS = "t.goals"
POISON = "t.poison"

VALID = profile_updated(mentor("u-1")).to_bytes()


def _with(**changes: Any) -> bytes:
    return json.dumps(json.loads(VALID) | changes).encode()


INVALID_PROFILE_MESSAGES = [
    pytest.param(b'{"event_type": "ProfileUpdated", ', "invalid_json", id="truncated-json"),
    pytest.param(b"\xff\xfe not utf-8", "invalid_json", id="not-utf8"),
    pytest.param(b"", "invalid_json", id="empty"),
    pytest.param(_with(key="u-2"), "schema_violation", id="key-mismatch"),
    pytest.param(_with(payload={"user_id": "u-1"}), "schema_violation", id="missing-fields"),
    pytest.param(b"[1, 2]", "schema_violation", id="json-array"),
    pytest.param(_with(event_type="ProfileRenamed"), "unknown_event_type", id="unknown-type"),
    pytest.param(
        _with(schema_version=9),
        "unknown_schema_version",
        id="unknown-version",
    ),
]


@dataclass
class Harness:
    broker: KafkaBroker
    handled: list[Any]
    letters: list[KafkaMessage]

    async def publish(self, body: bytes, topic: str = PROFILES, key: bytes = b"u-1") -> None:
        await self.broker.publish(body, topic=topic, key=key, headers={"origin": "test"})


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    broker = KafkaBroker()
    install_dead_letter(broker, "svc", RetryPolicy(max_attempts=2, base_delay_s=0, max_delay_s=0))
    handled: list[Any] = []
    letters: list[KafkaMessage] = []

    @broker.subscriber(PROFILES, **subscriber_options("svc.profiles"))
    async def on_profiles(event: ProfileEvent) -> None:
        handled.append(event)

    @broker.subscriber(GOALS, **subscriber_options("svc.goals"))
    async def on_goals(event: GoalSet) -> None:
        handled.append(event)

    @broker.subscriber(POISON, **subscriber_options("svc.poison"))
    async def on_poison(event: dict[str, Any]) -> None:
        if event.get("transient"):
            raise TransientError("database away")
        raise RuntimeError("handler bug")

    for topic in (PROFILES, GOALS, POISON):

        @broker.subscriber(f"{topic}.dlq", group_id="dlq-reader")
        async def on_dead_letter(msg: KafkaMessage) -> None:
            letters.append(msg)

    async with TestKafkaBroker(broker) as test_broker:
        yield Harness(test_broker, handled, letters)


@pytest.mark.parametrize(("body", "reason"), INVALID_PROFILE_MESSAGES)
async def test_invalid_message_is_dead_lettered_once_with_reason_and_original_bytes(
    harness: Harness, body: bytes, reason: str
) -> None:
    await harness.publish(body)

    (letter,) = harness.letters
    assert letter.raw_message.topic == f"{PROFILES}.dlq"
    assert letter.headers["x-dlq-reason"] == reason
    assert letter.body == body
    assert letter.raw_message.key == b"u-1"
    assert letter.headers["x-dlq-source-topic"] == PROFILES
    assert letter.headers["x-dlq-service"] == "svc"
    assert (letter.headers["x-dlq-partition"], letter.headers["x-dlq-offset"]) == ("0", "0")
    assert letter.headers["origin"] == "test"  # original headers travel along
    assert harness.handled == []


async def test_a_valid_message_after_invalid_ones_is_handled(harness: Harness) -> None:
    for body in (b"{oops", _with(key="u-2"), _with(event_type="ProfileRenamed")):
        await harness.publish(body)
    await harness.publish(VALID)

    assert [m.headers["x-dlq-reason"] for m in harness.letters] == [
        "invalid_json",
        "schema_violation",
        "unknown_event_type",
    ]
    (event,) = harness.handled
    assert event.to_bytes() == VALID


async def test_unknown_goal_schema_version_is_reported_as_such(harness: Harness) -> None:
    body = json.dumps(json.loads(goal_set(goal("u-1")).to_bytes()) | {"schema_version": 3})
    await harness.publish(body.encode(), topic=GOALS)
    (letter,) = harness.letters
    assert letter.headers["x-dlq-reason"] == "unknown_schema_version"


async def test_a_failing_handler_is_retried_then_dead_lettered(harness: Harness) -> None:
    with pytest.raises(RuntimeError):  # first delivery: re-raised so the consumer seeks back
        await harness.publish(b'{"n": 1}', topic=POISON)
    assert harness.letters == []

    await harness.publish(b'{"n": 1}', topic=POISON)  # redelivery: attempt 2 of 2

    (letter,) = harness.letters
    assert letter.headers["x-dlq-reason"] == "handler_failed"
    assert letter.headers["x-dlq-error"] == "RuntimeError: handler bug"
    assert letter.body == b'{"n": 1}'


async def test_a_transient_failure_is_never_dead_lettered(harness: Harness) -> None:
    for _ in range(5):
        with pytest.raises(TransientError):
            await harness.publish(b'{"transient": true}', topic=POISON)
    assert harness.letters == []


# classify_invalid on its own


def _error(validate: Any, body: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate(body)
    return caught.value


def test_classify_invalid_event_uses_its_reason() -> None:
    assert classify_invalid(VALID, InvalidEvent("tenant_unknown", "no such tenant")) == (
        "tenant_unknown",
        "no such tenant",
    )


def test_classify_unparseable_json() -> None:
    body = b'{"event_type": '
    reason, error = classify_invalid(body, _error(PROFILE_EVENT.validate_json, body))
    assert reason == "invalid_json"
    assert error


def test_classify_unknown_event_type() -> None:
    body = _with(event_type="ProfileRenamed")
    assert (
        classify_invalid(body, _error(PROFILE_EVENT.validate_json, body))[0] == "unknown_event_type"
    )


def test_classify_unknown_schema_version_of_a_single_event_model() -> None:
    body = json.dumps(json.loads(goal_set(goal("u-1")).to_bytes()) | {"schema_version": 3}).encode()
    reason, error = classify_invalid(body, _error(GoalSet.model_validate_json, body))
    assert reason == "unknown_schema_version"
    assert "schema_version" in error


def test_classify_unknown_schema_version_through_the_profile_union() -> None:
    body = _with(schema_version=9)
    assert classify_invalid(body, _error(PROFILE_EVENT.validate_json, body))[0] == (
        "unknown_schema_version"
    )


def test_classify_schema_violation_summarises_locations() -> None:
    body = _with(key="bad key with spaces")
    reason, error = classify_invalid(body, _error(PROFILE_EVENT.validate_json, body))
    assert reason == "schema_violation"
    assert "key" in error
    assert "bad key" not in error  # inputs are not echoed into headers

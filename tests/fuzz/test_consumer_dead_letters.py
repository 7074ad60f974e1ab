"""The consumer path: every message is handled or dead-lettered with a reason, never stuck.

FastStream's TestKafkaBroker runs the real middleware stack (DeadLetterMiddleware included) in
memory. Each subscriber is annotated exactly as the services annotate theirs, so decoding and
validation happen where they happen in production. A publish that raises would mean the
consumer seeks back and sees the message again (a loop); one that does not return in time
would mean a hung consumer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from hypothesis import example, given
from hypothesis import strategies as st

from shared.kafka.consumer import install_dead_letter, subscriber_options
from shared.kafka.dead_letter import RetryPolicy
from tests.fuzz.budget import count, examples
from tests.fuzz.seeds import PARSERS, Parser
from tests.fuzz.strategies import raw_bodies

REASONS = {"invalid_json", "schema_violation", "unknown_event_type", "unknown_schema_version"}
HANG_LIMIT_S = 10.0


async def _undecoded(msg: KafkaMessage) -> bytes:
    """Dead letters stay bytes: their bodies are the invalid inputs themselves."""
    return msg.body


@dataclass
class Consumers:
    broker: KafkaBroker
    handled: list[Any] = field(default_factory=list)
    letters: list[KafkaMessage] = field(default_factory=list)

    def subscribe(self, topic: str, annotation: Any) -> None:
        async def handle(event):  # type: ignore[no-untyped-def]
            self.handled.append(event)

        # Set at run time: the services' subscribers annotate with these very types.
        handle.__annotations__ = {"event": annotation, "return": None}

        self.broker.subscriber(topic, **subscriber_options(f"fuzz.{topic}"))(handle)

        async def collect(msg: KafkaMessage) -> None:
            self.letters.append(msg)

        dead_letters = self.broker.subscriber(
            f"{topic}.dlq", group_id="fuzz.dlq", decoder=_undecoded
        )
        dead_letters(collect)


@pytest.fixture
async def consumers() -> AsyncIterator[Consumers]:
    broker = KafkaBroker()
    install_dead_letter(broker, "fuzz", RetryPolicy(max_attempts=2, base_delay_s=0))
    harness = Consumers(broker)
    for parser in PARSERS:
        harness.subscribe(parser.name, parser.annotation)
    async with TestKafkaBroker(broker) as test_broker:
        harness.broker = test_broker
        yield harness


messages = st.sampled_from(PARSERS).flatmap(
    lambda parser: st.tuples(
        st.just(parser), st.one_of(*(raw_bodies(seed) for seed in parser.seeds))
    )
)


NESTED_TOO_DEEP = b"[" * 5000 + b"]" * 5000  # once re-delivered forever (RecursionError)


@examples(weight=2.0)
@example(message=(PARSERS[0], NESTED_TOO_DEEP), key=None)
@given(message=messages, key=st.one_of(st.none(), st.binary(max_size=70)))
async def test_every_message_is_handled_or_dead_lettered_with_a_reason(
    consumers: Consumers, message: tuple[Parser, bytes], key: bytes | None
) -> None:
    parser, body = message
    count("consumer path (dead-letter middleware)")
    handled, letters = len(consumers.handled), len(consumers.letters)

    await asyncio.wait_for(
        consumers.broker.publish(body, topic=parser.name, key=key), timeout=HANG_LIMIT_S
    )

    new_handled = len(consumers.handled) - handled
    new_letters = consumers.letters[letters:]
    assert (new_handled, len(new_letters)) in ((1, 0), (0, 1))
    for letter in new_letters:
        assert letter.headers["x-dlq-reason"] in REASONS
        assert 0 < len(letter.headers["x-dlq-error"]) <= 1000  # bounded, however long the input
        assert letter.body == body  # the original bytes, untouched
        assert letter.headers["x-dlq-source-topic"] == parser.name

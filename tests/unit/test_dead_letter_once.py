"""A dead letter goes out once, and one too large for the producer goes out truncated.

Regression for issue 30 fault 2: an invalid message whose dead letter (body plus x-dlq-*
headers) exceeded the producer's max_request_size raised inside the dead-letter path, so it was
redelivered for ever; in a batch consumer, an invalid record before it in the same poll was
dead-lettered again on every redelivery.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker, TestKafkaBroker

from services.matching.domain.people import Goal
from services.matching.entrypoints.consumers import consume
from services.matching.service_layer.handlers import Matching
from shared.contracts.topics import ProfileEvent
from shared.errors import TransientError
from shared.kafka.consumer import subscriber_options
from shared.kafka.dead_letter import TRUNCATED_BODY_BYTES, DeadLetter, DeadLetterMiddleware
from shared.kafka.progress import PartitionProgress
from shared.kafka.retry import RetryPolicy
from shared.metrics import PARTITION_STALLS
from tests.unit.builders import TENANT
from tests.unit.fakes import CopyOnCommitUnitOfWork
from tests.unit.matching.fake_store import FakeMatchingTransaction, FakeStateLoader, StoreState
from tests.unit.matching.test_batch_consumer import CONFIG, Record, goal_event, wire

LIMIT = 100_000  # the producer's max_request_size in these tests
OVERSIZED = b'{"event_type": "GoalSet", "payload": "' + b"x" * (LIMIT - 200) + b'"'
NO_RETRY_DELAY = RetryPolicy(max_attempts=3, base_delay_s=0, max_delay_s=0)


@dataclass
class Producer:
    """Publishes dead letters as aiokafka would: refuses one over the request size."""

    letters: list[DeadLetter] = field(default_factory=list)

    async def publish(self, letter: DeadLetter) -> None:
        size = len(letter.value) + sum(len(k) + len(v) for k, v in letter.headers().items())
        if size > LIMIT:
            raise MessageSizeTooLargeError(f"{size} bytes is larger than max_request_size")
        self.letters.append(letter)


def test_an_oversized_dead_letter_goes_out_truncated_with_a_pointer_to_the_original() -> None:
    producer = Producer()
    dead_letters = DeadLetterMiddleware("matching", producer.publish, NO_RETRY_DELAY)
    record = Record(OVERSIZED, 41, topic="t.goals", partition=2, key=b"mentee-1")
    record.headers = [("origin", b"x" * 5000)]

    asyncio.run(dead_letters.dead_letter_record(record, "invalid_json", "EOF while parsing"))

    (letter,) = producer.letters
    assert letter.value == OVERSIZED[:TRUNCATED_BODY_BYTES]
    headers = letter.headers()
    assert headers["x-dlq-truncated"] == "true"
    assert headers["x-dlq-original-bytes"] == str(len(OVERSIZED))
    assert (headers["x-dlq-source-topic"], headers["x-dlq-partition"]) == ("t.goals", "2")
    assert headers["x-dlq-offset"] == "41"
    assert headers["x-dlq-reason"] == "invalid_json"
    assert "origin" not in headers  # the original's headers may be what made it too large
    assert letter.key == b"mentee-1"


class Outage:
    """A store that fails `outages` times as if PostgreSQL were away, then works."""

    def __init__(self, outages: int) -> None:
        self.outages = outages

    def transaction(self) -> type[FakeMatchingTransaction]:
        outage = self

        class Failing(FakeMatchingTransaction):
            async def save_goal_if_newer(self, tenant_id: str, goal: Goal, partition: int) -> bool:
                if outage.outages:
                    outage.outages -= 1
                    raise TransientError("database away")
                return await super().save_goal_if_newer(tenant_id, goal, partition)

        return Failing


def test_a_batch_dead_letters_each_invalid_record_once_whatever_retries_follow() -> None:
    """A small invalid record, an oversized invalid one and a valid goal in one poll; the poll
    comes back four times (an outage): one dead letter each, and the goal is stored."""
    outage = Outage(outages=4)
    uow = CopyOnCommitUnitOfWork(StoreState(), outage.transaction())
    matching = Matching(uow, FakeStateLoader(uow), CONFIG)  # type: ignore[arg-type]
    asyncio.run(matching.take_partitions({0}))
    producer = Producer()
    dead_letters = DeadLetterMiddleware("matching", producer.publish, NO_RETRY_DELAY)
    poll = [Record(b"{oops", 0), Record(OVERSIZED, 1), Record(wire(goal_event("ada")), 2)]

    for _ in range(10):  # the subscriber nacks and the same poll is delivered again
        try:
            asyncio.run(consume(poll, matching, dead_letters))
            break
        except TransientError:
            continue

    assert [(letter.offset, letter.reason) for letter in producer.letters] == [
        (0, "invalid_json"),
        (1, "invalid_json"),
    ]
    assert producer.letters[1].original_size == len(OVERSIZED)
    assert set(uow.state.goals) == {(TENANT, "ada", "g1")}


async def test_a_single_message_subscriber_moves_past_an_oversized_invalid_message() -> None:
    producer = Producer()
    broker = KafkaBroker()
    broker.add_middleware(DeadLetterMiddleware("notifications", producer.publish, NO_RETRY_DELAY))
    handled: list[ProfileEvent] = []

    @broker.subscriber("t.profiles", **subscriber_options("svc.profiles"))
    async def on_profiles(event: ProfileEvent) -> None:
        handled.append(event)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(OVERSIZED, topic="t.profiles", key=b"u-1")  # no exception

    (letter,) = producer.letters
    assert letter.original_size == len(OVERSIZED)
    assert handled == []


def test_a_partition_on_one_message_too_long_is_reported_and_counted_once() -> None:
    now = [0.0]
    progress = PartitionProgress("svc", stall_after_s=60, clock=lambda: now[0])
    before = PARTITION_STALLS.labels("svc", "t.goals")._value.get()
    progress.started([("t.goals", 0, 5), ("t.goals", 0, 6), ("t.goals", 1, 9)])
    progress.passed([("t.goals", 1, 9)])
    now[0] = 59
    assert progress.stalled() == {}
    progress.started([("t.goals", 0, 5)])  # a retry of the same message: the clock keeps on
    now[0] = 61
    assert progress.stalled() == {"t.goals[0]": 5}
    assert progress.stalled({("t.goals", 0)}) == {"t.goals[0]": 5}
    assert PARTITION_STALLS.labels("svc", "t.goals")._value.get() - before == 1
    progress.passed([("t.goals", 0, 5)])
    assert progress.stalled() == {}


def test_a_revoked_partition_is_not_reported() -> None:
    now = [0.0]
    progress = PartitionProgress("svc", stall_after_s=1, clock=lambda: now[0])
    progress.started([("t.goals", 3, 0)])
    now[0] = 5
    assert progress.stalled({("t.goals", 1)}) == {}
    assert progress.stalled() == {}  # forgotten, not just hidden


def test_a_new_message_on_the_partition_restarts_the_clock() -> None:
    now = [0.0]
    progress = PartitionProgress("svc", stall_after_s=10, clock=lambda: now[0])
    progress.started([("t", 0, 100)])
    now[0] = 9
    progress.started([("t", 0, 101)])  # the partition moved on, and is on another
    now[0] = 15
    assert progress.stalled() == {}

"""Error classes (shared/errors.py) and the one retry policy (shared/kafka/retry.py).

Regression for issue 30 fault 3: outage retries spent the poison budget, and read-only,
crash-shutdown, serialization and deadlock errors were not temporary, so a valid event was
dead-lettered during a PostgreSQL failover.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError

from services.matching.domain.people import Goal
from services.matching.entrypoints.consumers import consume
from services.matching.service_layer.handlers import Matching
from shared.errors import ErrorClass, InvalidEvent, TransientError, classify
from shared.kafka.dead_letter import DeadLetter, DeadLetterMiddleware
from shared.kafka.retry import RetryPolicy
from tests.unit.builders import TENANT
from tests.unit.fakes import CopyOnCommitUnitOfWork
from tests.unit.matching.fake_store import FakeMatchingTransaction, FakeStateLoader, StoreState
from tests.unit.matching.test_batch_consumer import CONFIG, Record, goal_event, wire

TEMPORARY = [
    asyncpg.ReadOnlySQLTransactionError("cannot execute UPDATE in a read-only transaction"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CrashShutdownError("terminating connection because of crash of another process"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.SerializationError("could not serialize access"),
    asyncpg.DeadlockDetectedError("deadlock detected"),
    asyncpg.DiskFullError("could not extend file: No space left on device"),
    asyncpg.OutOfMemoryError("out of memory"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
    asyncpg.PostgresIOError("could not read block"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("connection is closed"),
    ConnectionResetError(),
    TimeoutError(),
    KafkaConnectionError(),
    KafkaTimeoutError(),
    TransientError("database away"),
]
POISON = [
    RuntimeError("handler bug"),
    ValueError("cannot store this goal"),
    asyncpg.UniqueViolationError("duplicate key"),
    asyncpg.UndefinedTableError('relation "emails" does not exist'),
    MessageSizeTooLargeError(),
]


@pytest.mark.parametrize("exc", TEMPORARY, ids=lambda e: type(e).__name__)
def test_outages_are_temporary(exc: BaseException) -> None:
    assert classify(exc) is ErrorClass.TEMPORARY


@pytest.mark.parametrize("exc", POISON, ids=lambda e: type(e).__name__)
def test_unclassified_failures_are_poison(exc: BaseException) -> None:
    assert classify(exc) is ErrorClass.POISON


def test_invalid_input_is_invalid() -> None:
    assert classify(InvalidEvent("unknown_tenant", "no such tenant")) is ErrorClass.INVALID
    assert classify(RecursionError()) is ErrorClass.INVALID


@dataclass
class FailingThenWorking:
    """Fails with each of `failures` in turn, then stores goals."""

    failures: list[BaseException]
    calls: int = 0
    letters: list[DeadLetter] = field(default_factory=list)


def _goal_store(script: FailingThenWorking) -> type[FakeMatchingTransaction]:
    class Scripted(FakeMatchingTransaction):
        async def save_goal_if_newer(self, tenant_id: str, goal: Goal, partition: int) -> bool:
            script.calls += 1
            if script.failures:
                raise script.failures.pop(0)
            return await super().save_goal_if_newer(tenant_id, goal, partition)

    return Scripted


def _consume_until_done(script: FailingThenWorking, max_attempts: int = 3) -> set[object]:
    """Deliver one valid goal as the subscriber does: a poll that raises comes back."""
    uow = CopyOnCommitUnitOfWork(StoreState(), _goal_store(script))
    matching = Matching(uow, FakeStateLoader(uow), CONFIG)  # type: ignore[arg-type]
    asyncio.run(matching.take_partitions({0}))

    async def publish(letter: DeadLetter) -> None:
        script.letters.append(letter)

    policy = RetryPolicy(max_attempts=max_attempts, base_delay_s=0, max_delay_s=0)
    dead_letters = DeadLetterMiddleware("matching", publish, policy)
    batch = [Record(wire(goal_event("ada")), 7)]
    for _ in range(50):
        try:
            asyncio.run(consume(batch, matching, dead_letters))
            break
        except Exception as exc:  # the subscriber nacks; the poll is delivered again
            assert classify(exc) is ErrorClass.TEMPORARY
    return set(uow.state.goals)


def test_a_failover_never_dead_letters_a_valid_event() -> None:
    """Read-only, crash shutdown, cannot-connect-now, serialization failure and deadlock: each
    many times more than the poison budget, then the event is stored."""
    outage = [type(e)(str(e)) for e in TEMPORARY[:6] for _ in range(2)]
    script = FailingThenWorking(outage)
    assert _consume_until_done(script) == {(TENANT, "ada", "g1")}
    assert script.letters == []


def test_outage_retries_do_not_spend_the_poison_budget() -> None:
    """Ten outage retries, then an unexplained failure of the poll and of the event alone: a
    retry, not a dead letter (the budget is 3)."""
    failures: list[BaseException] = [TransientError("database away") for _ in range(10)]
    script = FailingThenWorking([*failures, RuntimeError("one-off"), RuntimeError("again")])
    assert _consume_until_done(script) == {(TENANT, "ada", "g1")}
    assert script.letters == []


def test_poison_is_still_dead_lettered_after_its_own_budget() -> None:
    script = FailingThenWorking([RuntimeError("bug")] * 10)
    assert _consume_until_done(script, max_attempts=3) == set()
    assert [(letter.offset, letter.reason) for letter in script.letters] == [(7, "handler_failed")]

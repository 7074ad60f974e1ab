"""The matching batch subscriber's body: one transaction per poll, and what happens to bad records.

Records are plain objects with the fields of aiokafka's ConsumerRecord; the store is the fake.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.people import Goal
from services.matching.entrypoints.consumers import consume
from services.matching.service_layer.handlers import Matching
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileUpdated
from shared.kafka.dead_letter import DeadLetter, DeadLetterMiddleware, RetryPolicy
from tests.unit.builders import TENANT, goal, mentee
from tests.unit.fakes import CopyOnCommitUnitOfWork
from tests.unit.matching.fake_store import FakeMatchingTransaction, FakeStateLoader, StoreState

CONFIG = EngineConfig(top_k=2, partitions=1)


class PoisonedTransaction(FakeMatchingTransaction):
    """A store that fails, every time, on one mentee's goal (a bug, not an outage)."""

    async def save_goal_if_newer(self, tenant_id: str, goal: Goal, partition: int) -> bool:
        if goal.mentee_id == "poison":
            raise ValueError("cannot store this goal")
        return await super().save_goal_if_newer(tenant_id, goal, partition)


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "t.goals"
    partition: int = 0
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def records(*bodies: bytes) -> list[Record]:
    return [Record(body, offset) for offset, body in enumerate(bodies)]


def wire(event: EventEnvelope) -> bytes:
    return event.model_dump_json().encode()


def arrange() -> tuple[Matching, CopyOnCommitUnitOfWork[StoreState, FakeMatchingTransaction]]:
    uow = CopyOnCommitUnitOfWork(StoreState(), PoisonedTransaction)
    matching = Matching(uow, FakeStateLoader(uow), CONFIG)  # type: ignore[arg-type]
    asyncio.run(matching.take_partitions({0}))
    return matching, uow


def dead_letters(collected: list[DeadLetter]) -> DeadLetterMiddleware:
    async def publish(letter: DeadLetter) -> None:
        collected.append(letter)

    return DeadLetterMiddleware("matching", publish, RetryPolicy(max_attempts=2, base_delay_s=0))


def goal_event(user: str) -> GoalSet:
    return GoalSet(tenant_id=TENANT, key=user, payload=goal(user, 1))


def profile_event(user: str) -> ProfileUpdated:
    return ProfileUpdated(tenant_id=TENANT, key=user, payload=mentee(user, 1))


def test_a_poll_is_one_transaction_and_every_event_in_it_is_recorded_once() -> None:
    matching, uow = arrange()
    batch = records(wire(profile_event("ada")), wire(goal_event("ada")), wire(goal_event("bob")))
    asyncio.run(consume(batch, matching, dead_letters([])))
    assert set(uow.state.goals) == {(TENANT, "ada", "g1"), (TENANT, "bob", "g1")}
    assert len(uow.state.processed) == 3
    asyncio.run(consume(batch, matching, dead_letters([])))  # redelivered: nothing changes
    assert len(uow.state.processed) == 3


def test_invalid_records_are_dead_lettered_and_the_rest_of_the_poll_is_applied() -> None:
    matching, uow = arrange()
    letters: list[DeadLetter] = []
    batch = records(b'{"event_type": "GoalSet", "payload": ', wire(goal_event("ada")))
    asyncio.run(consume(batch, matching, dead_letters(letters)))
    assert [(letter.offset, letter.reason) for letter in letters] == [(0, "invalid_json")]
    assert set(uow.state.goals) == {(TENANT, "ada", "g1")}


def test_a_poison_event_is_retried_alone_then_dead_lettered_and_its_neighbours_still_apply() -> (
    None
):
    matching, uow = arrange()
    letters: list[DeadLetter] = []
    batch = records(wire(goal_event("ada")), wire(goal_event("poison")), wire(goal_event("bob")))
    asyncio.run(consume(batch, matching, dead_letters(letters)))
    assert [(letter.offset, letter.reason) for letter in letters] == [(1, "handler_failed")]
    assert "ValueError: cannot store this goal" in letters[0].error
    assert set(uow.state.goals) == {(TENANT, "ada", "g1"), (TENANT, "bob", "g1")}

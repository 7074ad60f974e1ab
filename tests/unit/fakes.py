"""A unit of work fake that keeps a transaction's changes only when its block succeeds."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Generic, TypeVar

from shared.erasure import Erasure, ErasureKeys, Person

State = TypeVar("State")
Transaction = TypeVar("Transaction")


class CopyOnCommitUnitOfWork(Generic[State, Transaction]):
    def __init__(self, state: State, transaction: Callable[[State], Transaction]) -> None:
        self.state = state
        self._transaction = transaction

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        working = copy.deepcopy(self.state)
        yield self._transaction(working)
        self.state = working


class MemoryErasureLog:
    """shared.erasure.ErasureLog over a dict kept in a fake's state, keyed by hash as the real
    one is (a test looking for an erased id in the state must not find it here)."""

    KEYS = ErasureKeys([b"test-erasure-key"])

    def __init__(self, records: dict[bytes, Erasure]) -> None:
        self.records = records

    async def find(self, people: Iterable[Person]) -> dict[Person, Erasure]:
        hashed = {p: self.KEYS.current(p) for p in set(people)}
        return {p: self.records[h] for p, h in hashed.items() if h in self.records}

    async def record(self, person: Person, erased_at: datetime) -> None:
        known = self.records.get(self.KEYS.current(person))
        latest = max(erased_at, known.erased_at) if known else erased_at
        self.records[self.KEYS.current(person)] = Erasure(latest, None)

    async def restore(self, person: Person, occurred_at: datetime) -> None:
        known = self.records.get(self.KEYS.current(person))
        if known is not None and known.erased_at < occurred_at:
            restored = max(occurred_at, known.restored_at or occurred_at)
            self.records[self.KEYS.current(person)] = Erasure(known.erased_at, restored)

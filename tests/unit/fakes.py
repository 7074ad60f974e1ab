"""A unit of work fake that keeps a transaction's changes only when its block succeeds."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

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

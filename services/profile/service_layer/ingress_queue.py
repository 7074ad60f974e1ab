"""Fairness between tenants on the ingress topic (ADR 0006): staged commands are applied in
rounds, at most `per_tenant` of each tenant per round, so one tenant's flood delays another
tenant's command by at most one round instead of by the whole flood.

A round takes, per tenant, the oldest staged command of each of its users (one user's commands
stay in order), the `per_tenant` oldest of those, and interleaves the tenants: every tenant's
first, then every tenant's second, and so on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from shared.errors import is_temporary
from shared.supervision import Heartbeat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a staged command came from: what its dead letter carries."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)
    produced_at: datetime | None = None  # the record's timestamp: the command's event time


@dataclass(frozen=True)
class StagedCommand:
    tenant_id: str
    user_id: str
    command_id: UUID
    origin: Origin
    seq: int = 0  # set by the queue

    @property
    def event_id(self) -> UUID:
        return self.command_id

    @property
    def correlation_id(self) -> str | None:
        return self.origin.headers.get("correlation_id")


@dataclass(frozen=True)
class Refusal:
    reason: str
    detail: str


class IngressQueue(Protocol):
    def together(self) -> AbstractAsyncContextManager[None]:
        """What the calling task does inside (rounds read, commands applied, done, refused)
        commits at once, at the end; an apply that raises still rolls back alone."""

    async def stage(self, commands: Sequence[StagedCommand]) -> None:
        """Keep the commands in order; a command id already staged is kept once."""

    async def next_round(self, per_tenant: int) -> list[StagedCommand]: ...

    async def done(self, seqs: Sequence[int]) -> None:
        """Drop the commands applied (one statement for a round's)."""

    async def refuse(self, command: StagedCommand, refusal: Refusal, service: str) -> None:
        """Dead-letter the command (through the outbox) and drop it, in one transaction; a
        command another worker dropped meanwhile is not dead-lettered again."""


Apply = Callable[[StagedCommand], Awaitable[Refusal | None]]


class IngressWorker:
    """Applies staged commands round by round; wakes when a poll was staged, else polls.

    Rounds follow one another in one transaction until `per_commit` commands were taken (or
    none is left): their order is the rounds' order, and a flood pays one commit per
    `per_commit` commands instead of two per command."""

    def __init__(
        self,
        queue: IngressQueue,
        apply: Apply,
        service: str,
        per_tenant: int = 4,
        idle_s: float = 0.5,
        max_attempts: int = 3,
        per_commit: int = 100,
    ) -> None:
        self._queue = queue
        self._apply = apply
        self._service = service
        self._per_tenant = per_tenant
        self._per_commit = per_commit
        self._idle_s = idle_s
        self._max_attempts = max_attempts
        self._failures: dict[int, int] = {}
        self.staged = asyncio.Event()

    async def run(self, beat: Heartbeat) -> None:
        """A supervised loop (shared/supervision.py): it beats on every round and every wait."""
        backoff = 0.1
        while True:
            beat.beat()
            try:
                applied = await self.drain()
                backoff = 0.1
            except Exception as exc:
                if not is_temporary(exc):
                    raise  # the supervisor restarts the loop
                # PostgreSQL away: the commands stay staged
                log.warning("ingress worker waiting for the database: %s", type(exc).__name__)
                await beat.sleep(backoff)
                backoff = min(5.0, backoff * 2)
                continue
            if not applied:
                self.staged.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.staged.wait(), self._idle_s)

    async def drain(self) -> int:
        """Rounds in one transaction, up to `per_commit` commands; how many were taken."""
        taken = 0
        async with self._queue.together():
            while taken < self._per_commit:
                applied = await self.drain_round()
                if not applied:
                    break
                taken += applied
        return taken

    async def drain_round(self) -> int:
        """One round; its applied commands leave the queue together, after the last of them
        and before the next round reads the queue (which must not see them as heads). Inside
        `drain`'s transaction they commit with their effects, so a crash in between rolls both
        back; called alone, each apply commits first and a crash before the deletion leaves
        them staged, to be skipped by their idempotency records when applied again."""
        round_ = await self._queue.next_round(self._per_tenant)
        applied = [command.seq for command in round_ if await self._apply_one(command)]
        if applied:
            await self._queue.done(applied)
        return len(round_)

    async def _apply_one(self, command: StagedCommand) -> bool:
        """Apply the command or refuse it; True if it was applied (it is still staged)."""
        try:
            refusal = await self._apply(command)
        except Exception as exc:  # poison: a few tries, then its dead letter
            if is_temporary(exc):
                raise
            failures = self._failures.get(command.seq, 0) + 1
            log.exception("ingress command failed, attempt %d", failures)
            if failures < self._max_attempts:
                self._failures[command.seq] = failures
                return False
            self._failures.pop(command.seq, None)
            refusal = Refusal("handler_failed", f"{type(exc).__name__}: {exc}")
        self._failures.pop(command.seq, None)
        if refusal is None:
            return True
        await self._queue.refuse(command, refusal, self._service)
        return False

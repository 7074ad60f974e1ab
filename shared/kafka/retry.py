"""The one retry policy of every consumer, batch or not (ADR 0002).

A failed message is retried on one of two counters, by its error class (shared/errors.py):
- an outage (temporary) backs off on the outage counter, without limit, and is never
  dead-lettered: however long PostgreSQL fails over, the message waits;
- anything unclassified (poison) backs off on the poison counter and is dead-lettered once
  that counter reaches `max_attempts`. Outage retries never spend it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from dataclasses import dataclass

from shared.errors import ErrorClass, classify

log = logging.getLogger(__name__)

Position = tuple[str, int, int]  # topic, partition, offset


class Verdict(enum.Enum):
    RETRY = "retry"  # backed off already; handle the same message again
    DEAD_LETTER = "dead_letter"  # give up on this message: dead-letter it, move on


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # poison tries before the dead letter
    base_delay_s: float = 0.1
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempt - 1)))


@dataclass
class _Tries:
    outage: int = 0
    poison: int = 0


class Retries:
    """Per-message counters (bounded: the oldest positions are forgotten) and the decision."""

    LIMIT = 10_000

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self._tries: OrderedDict[Position, _Tries] = OrderedDict()

    async def after_failure(self, position: Position, exc: BaseException) -> Verdict:
        """Back off as the error's class says; DEAD_LETTER only for invalid input or poison
        whose budget is spent."""
        kind = classify(exc)
        if kind is ErrorClass.INVALID:
            return Verdict.DEAD_LETTER
        tries = self._of(position)
        if kind is ErrorClass.TEMPORARY:
            tries.outage += 1
            log.warning(
                "temporary failure at %s, retry %d: %s", position, tries.outage, type(exc).__name__
            )
            await asyncio.sleep(self.policy.delay(tries.outage))
            return Verdict.RETRY
        tries.poison += 1
        if tries.poison >= self.policy.max_attempts:
            return Verdict.DEAD_LETTER
        log.error("handler failed at %s, attempt %d", position, tries.poison, exc_info=exc)
        await asyncio.sleep(self.policy.delay(tries.poison))
        return Verdict.RETRY

    async def back_off_outage(self, position: Position) -> None:
        """A dependency failed outside the handler (the dead-letter publish itself)."""
        tries = self._of(position)
        tries.outage += 1
        await asyncio.sleep(self.policy.delay(tries.outage))

    def poison_tries(self, position: Position) -> int:
        tries = self._tries.get(position)
        return tries.poison if tries else 0

    def forget(self, position: Position) -> None:
        self._tries.pop(position, None)

    def _of(self, position: Position) -> _Tries:
        tries = self._tries.get(position)
        if tries is None:
            tries = self._tries[position] = _Tries()
            while len(self._tries) > self.LIMIT:
                self._tries.popitem(last=False)
        return tries

"""Which partitions have not moved past a message for too long (readiness and a metric).

The dead-letter middleware tells the watch when a partition starts on a message and when it
got past it (handled or dead-lettered). A partition still on the same offset after
`stall_after_s` is stalled: /readyz says so, naming it, and the stall is counted once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shared.metrics import PARTITION_STALLS

TopicPartition = tuple[str, int]


@dataclass
class _Since:
    offset: int
    at: float
    counted: bool = False


class PartitionProgress:
    def __init__(
        self,
        service: str,
        stall_after_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.stall_after_s = stall_after_s
        self._clock = clock
        self._current: dict[TopicPartition, _Since] = {}

    def started(self, records: Iterable[tuple[str, int, int]]) -> None:
        """A handler call begins with these (topic, partition, offset) positions."""
        for topic, partition, offset in _first_of_each(records):
            since = self._current.get((topic, partition))
            if since is None or since.offset != offset:
                self._current[(topic, partition)] = _Since(offset, self._clock())

    def passed(self, records: Iterable[tuple[str, int, int]]) -> None:
        for topic, partition, _ in _first_of_each(records):
            self._current.pop((topic, partition), None)

    def stalled(self, assigned: set[TopicPartition] | None = None) -> dict[str, int]:
        """'topic[partition]' -> the offset it is stuck on; counts each stall once."""
        now = self._clock()
        stuck = {}
        for (topic, partition), since in list(self._current.items()):
            if assigned is not None and (topic, partition) not in assigned:
                del self._current[(topic, partition)]  # revoked: another member owns it now
                continue
            if now - since.at < self.stall_after_s:
                continue
            if not since.counted:
                since.counted = True
                PARTITION_STALLS.labels(self.service, topic).inc()
            stuck[f"{topic}[{partition}]"] = since.offset
        return stuck


def _first_of_each(records: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    first: dict[TopicPartition, int] = {}
    for topic, partition, offset in records:
        known = first.get((topic, partition))
        first[(topic, partition)] = offset if known is None else min(known, offset)
    return [(topic, partition, offset) for (topic, partition), offset in first.items()]

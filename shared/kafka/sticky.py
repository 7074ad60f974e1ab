"""A sticky assignor for co-partitioned topics (aiokafka 0.14 speaks only the eager protocol).

Partition N of every subscribed topic goes to one member, and a partition stays with the
member that holds it unless balance needs it elsewhere. Each member says what it holds in its
join metadata (`user_data`), because in the eager protocol every member gives up its whole
assignment before each rebalance: the holding is the state it kept, not the Kafka assignment.
See docs/adr/0014-sticky-partitions-and-kept-state.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)

VERSION = 0


def sticky_assignment(
    partitions: Iterable[int], held: Mapping[str, Iterable[int]]
) -> dict[str, list[int]]:
    """Partition numbers per member: as balanced as they can be (sizes differ by at most one),
    each member keeping as many of those it holds as its share allows, the same answer for the
    same input.

    A partition two members claim (one was expelled and came back) counts for the first of them
    by member id; the other will find it taken (its ownership check, not this assignor, is what
    keeps state correct).
    """
    members = sorted(held)
    if not members:
        return {}
    pool = sorted(set(partitions))
    claims: dict[str, list[int]] = {member: [] for member in members}
    claimed: set[int] = set()
    for member in members:
        for partition in sorted(set(held[member]) & set(pool) - claimed):
            claims[member].append(partition)
            claimed.add(partition)
    base, extra = divmod(len(pool), len(members))
    # the larger shares go to those who hold the most already: fewer partitions move
    by_holding = sorted(members, key=lambda m: (-len(claims[m]), m))
    share = {member: base + (1 if i < extra else 0) for i, member in enumerate(by_holding)}
    result = {member: claims[member][: share[member]] for member in members}
    kept = {partition for taken in result.values() for partition in taken}
    free = iter(partition for partition in pool if partition not in kept)
    for member in members:
        while len(result[member]) < share[member]:
            result[member].append(next(free))
        result[member].sort()
    return result


def encode_held(partitions: Iterable[int]) -> bytes:
    return json.dumps({"held": sorted(partitions)}).encode()


def decode_held(user_data: bytes) -> list[int]:
    """What a member said it holds; nothing if it said nothing readable (a member of an older
    version, or a new one)."""
    try:
        held = json.loads(user_data or b"{}").get("held", [])
    except (ValueError, AttributeError):
        return []
    return [p for p in held if isinstance(p, int)] if isinstance(held, list) else []


class CoPartitionedStickyAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    """An instance per consumer (aiokafka only reads `name` and calls the three methods):
    `held` says which partitions the consumer's state holds now."""

    name = "mentorlink-copartitioned-sticky"

    def __init__(self, held: Callable[[], Iterable[int]]) -> None:
        self._held = held

    def assign(  # an instance method: each consumer has its own
        self,
        cluster: ClusterMetadata,
        members: Mapping[str, ConsumerProtocolMemberMetadata],
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        topics = sorted({topic for m in members.values() for topic in m.subscription})
        by_topic = {topic: cluster.partitions_for_topic(topic) or set() for topic in topics}
        partitions = set().union(*by_topic.values()) if by_topic else set()
        held = {member: decode_held(m.user_data) for member, m in members.items()}
        numbers = sticky_assignment(partitions, held)
        return {
            member: ConsumerProtocolMemberAssignment(
                VERSION,
                [
                    (topic, [p for p in numbers[member] if p in by_topic[topic]])
                    for topic in sorted(members[member].subscription)
                ],
                b"",
            )
            for member in members
        }

    def metadata(self, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        return ConsumerProtocolMemberMetadata(VERSION, list(topics), encode_held(self._held()))

    def on_assignment(self, assignment: Any) -> None:
        """Nothing to remember: the consumer's listener records what it takes."""

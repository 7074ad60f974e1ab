"""The co-partitioned sticky assignor (shared/kafka/sticky.py): balanced, sticky, partition N
of every topic together, the same answer for the same group."""

from __future__ import annotations

import itertools
import random

from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata

from shared.kafka.sticky import (
    CoPartitionedStickyAssignor,
    decode_held,
    encode_held,
    sticky_assignment,
)

TOPICS = ["goals", "profiles", "feedback", "mentors"]


class Cluster:
    def __init__(self, partitions: int) -> None:
        self.partitions = partitions

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.partitions))


def balanced(result: dict[str, list[int]], partitions: int) -> bool:
    sizes = [len(p) for p in result.values()]
    every = sorted(p for taken in result.values() for p in taken)
    return max(sizes) - min(sizes) <= 1 and every == list(range(partitions))


def test_a_joining_member_takes_only_what_balance_needs() -> None:
    result = sticky_assignment(range(12), {"a": range(12), "b": []})
    assert result == {"a": list(range(6)), "b": list(range(6, 12))}
    again = sticky_assignment(range(12), {"a": result["a"], "b": result["b"], "c": []})
    assert set(again["a"]) <= set(result["a"]) and set(again["b"]) <= set(result["b"])
    assert balanced(again, 12)
    moved = sum(len(set(again[m]) - set(result[m])) for m in ("a", "b"))
    assert moved == 0 and len(again["c"]) == 4


def test_a_leaving_members_partitions_go_to_the_others_and_nothing_else_moves() -> None:
    result = sticky_assignment(range(6), {"a": [0, 1], "c": [4, 5]})  # b, holding 2 and 3, left
    assert {0, 1} <= set(result["a"]) and {4, 5} <= set(result["c"])
    assert balanced(result, 6)


def test_random_groups_are_balanced_sticky_and_deterministic() -> None:
    rng = random.Random(3)
    for _ in range(300):
        partitions = rng.randint(1, 16)
        members = [f"m{i}" for i in range(rng.randint(1, 6))]
        owners = {p: rng.choice([*members, None]) for p in range(partitions)}
        held = {m: [p for p, o in owners.items() if o == m] for m in members}
        result = sticky_assignment(range(partitions), held)
        assert balanced(result, partitions)
        share = partitions // len(members)
        for member in members:  # keeps what it held, up to its share
            kept = len(set(result[member]) & set(held[member]))
            assert kept >= min(len(held[member]), share)
        shuffled = dict(rng.sample(sorted(held.items()), len(held)))
        assert sticky_assignment(range(partitions), shuffled) == result


def test_two_members_claiming_one_partition_get_it_once() -> None:
    result = sticky_assignment(range(4), {"a": [0, 1], "b": [1, 2]})
    assert balanced(result, 4)


def test_the_assignor_gives_partition_n_of_every_topic_to_one_member() -> None:
    holders = {"member-a": [0, 1, 2, 3, 4, 5], "member-b": []}
    assignor = CoPartitionedStickyAssignor(lambda: holders["member-a"])
    members = {
        name: ConsumerProtocolMemberMetadata(0, TOPICS, encode_held(held))
        for name, held in holders.items()
    }
    assignment = assignor.assign(Cluster(6), members)  # type: ignore[arg-type]
    for member in assignment.values():
        by_topic = dict(member.assignment)
        assert sorted(by_topic) == sorted(TOPICS)
        numbers = {tuple(p) for p in by_topic.values()}
        assert len(numbers) == 1  # the same partitions of each topic
    taken = {name: dict(m.assignment)["goals"] for name, m in assignment.items()}
    assert taken == {"member-a": [0, 1, 2], "member-b": [3, 4, 5]}
    assert decode_held(assignor.metadata(TOPICS).user_data) == [0, 1, 2, 3, 4, 5]


def test_unreadable_user_data_holds_nothing() -> None:
    for data in (b"", b"\x00\x01", b"[1, 2]", b'{"held": "x"}', b'{"held": [1, "2"]}'):
        assert decode_held(data) in ([], [1])
    assert list(itertools.islice(decode_held(encode_held({3, 1})), 2)) == [1, 3]

"""The consumer's rebalance listener (docs/adr/0014): what it takes, and when it owns it."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, cast

from aiokafka import TopicPartition

from services.matching.entrypoints.consumers import PartitionOwnership
from services.matching.service_layer.handlers import Matching
from tests.unit.builders import TENANT
from tests.unit.matching.test_handover import CONFIG, one_instance_owning_all


class SlowTakes:
    """Matching's side of a take, held until the test lets it finish."""

    def __init__(self) -> None:
        self.turn = asyncio.Lock()
        self.restores = 0
        self.owned: frozenset[int] = frozenset()
        self.holding: frozenset[int] = frozenset()
        self.takes: list[frozenset[int]] = []
        self.finish = asyncio.Event()

    async def take_in_turn(self, partitions: Collection[int]) -> None:
        self.takes.append(frozenset(partitions))
        await self.finish.wait()  # a restore: seconds at scale
        self.restores += 1
        self.owned = self.holding = frozenset(partitions)


def tps(*partitions: int) -> set[TopicPartition]:
    return {TopicPartition("matching.goals", p) for p in partitions}


async def settled(matching: SlowTakes) -> None:
    async with matching.turn:  # the take holds it until it is done
        pass


def test_the_same_partitions_assigned_again_during_a_take_do_not_restart_it() -> None:
    """A member whose commit failed rejoins, and the group hands out the same partitions
    again: the new instance's restore under way goes on instead of starting over."""

    async def scenario() -> None:
        matching = SlowTakes()
        ownership = PartitionOwnership(cast(Matching, matching))
        await ownership.on_partitions_assigned(tps(3, 4, 5))
        await asyncio.sleep(0)
        await ownership.on_partitions_revoked(tps(3, 4, 5))
        await ownership.on_partitions_assigned(tps(3, 4, 5))
        matching.finish.set()
        await settled(matching)
        assert matching.takes == [frozenset({3, 4, 5})]
        assert matching.owned == ownership.assigned == frozenset({3, 4, 5})

    asyncio.run(scenario())


def test_other_partitions_assigned_during_a_take_start_another() -> None:
    async def scenario() -> None:
        matching = SlowTakes()
        ownership = PartitionOwnership(cast(Matching, matching))
        await ownership.on_partitions_assigned(tps(0, 1, 2, 3))
        await asyncio.sleep(0)
        await ownership.on_partitions_revoked(tps(0, 1, 2, 3))
        matching.finish.set()
        await ownership.on_partitions_assigned(tps(0, 1))
        await settled(matching)
        assert matching.takes[-1] == frozenset({0, 1})
        assert matching.owned == ownership.assigned == frozenset({0, 1})

    asyncio.run(scenario())


def test_a_take_that_ends_after_a_revocation_owns_nothing_until_the_next_assignment() -> None:
    """Polls are handled only for owned partitions: one that ended after the group began
    rebalancing must not make this instance the owner of what it may not get back."""

    async def scenario() -> None:
        matching = SlowTakes()
        ownership = PartitionOwnership(cast(Matching, matching))
        await ownership.on_partitions_assigned(tps(0, 1))
        await asyncio.sleep(0)
        await ownership.on_partitions_revoked(tps(0, 1))
        matching.finish.set()
        await settled(matching)
        assert matching.owned == ownership.assigned == frozenset()
        assert matching.holding == frozenset({0, 1})  # kept, for the next assignment to judge

    asyncio.run(scenario())


def test_a_restore_cut_short_by_another_assignment_is_not_kept_as_state() -> None:
    """The new instance's take of {2, 3} is cancelled in the middle of its restore because the
    group assigned {2} instead: the take of {2} restores it, rather than keeping engines that
    were never filled."""

    async def scenario() -> None:
        cluster = await one_instance_owning_all(seed=11)
        second = cluster.instances[1]
        ownership = PartitionOwnership(second)
        started, never = asyncio.Event(), asyncio.Event()
        plain_load = cluster.loader.load

        async def slow_load(*args: Any, **kwargs: Any) -> Any:
            started.set()
            await never.wait()
            return await plain_load(*args, **kwargs)

        cluster.loader.load = slow_load  # type: ignore[method-assign]
        await ownership.on_partitions_assigned(tps(2, 3))
        await started.wait()
        cluster.loader.load = plain_load  # type: ignore[method-assign]
        await ownership.on_partitions_revoked(tps(2, 3))
        await ownership.on_partitions_assigned(tps(2))
        async with second.turn:
            assert second.owned == second.holding == ownership.assigned == frozenset({2})
            restored = (await cluster.loader.load({2}, CONFIG))[TENANT]
            assert TENANT in second.engines, "the half-restored state was kept"
            assert second.engines[TENANT].ranking_ids() == restored.ranking_ids()

    asyncio.run(scenario())

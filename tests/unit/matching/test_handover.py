"""Handing partitions over (docs/adr/0014): an instance that loses partitions keeps the state
of the others, and what it keeps equals a restore of them from the store."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.engine.handover import drop_partition, drop_partitions
from services.matching.service_layer.handlers import PartitionNotOwned, handle
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileUpdated
from tests.unit.builders import TENANT, goal, mentee, mentor
from tests.unit.matching.cluster import Cluster, partition_of

CONFIG = EngineConfig(top_k=2, partitions=4, exposure_per_seat=3.0)
SKILLS = ["go", "kubernetes", "python", "sql"]


def events(seed: int, mentees: int, version: int = 1) -> list[Any]:
    """Few one- or two-seat mentors (so the tenant-wide cap binds) and mentees with one or two
    goals, in every partition."""
    rng = random.Random(seed)
    found: list[Any] = []
    for i in range(6):
        skills = [{"name": s, "level": rng.randint(2, 5)} for s in rng.sample(SKILLS, 2)]
        payload = mentor(f"m{i}", version, skills=skills, capacity=rng.randint(1, 2))
        found.append(ProfileUpdated(tenant_id=TENANT, key=f"m{i}", payload=payload))
    for i in range(mentees):
        x = f"x{i}"
        found.append(ProfileUpdated(tenant_id=TENANT, key=x, payload=mentee(x, version)))
        for g in range(rng.randint(1, 2)):
            targets = rng.sample(SKILLS, rng.randint(1, 2))
            payload = goal(x, version, goal_id=f"g{g}", target_skills=targets)
            found.append(GoalSet(tenant_id=TENANT, key=x, payload=payload))
    return found


def picture(engine: TenantEngine) -> dict[str, Any]:
    """What an engine decides from: rankings, lists with what they show, the cap's inputs."""
    lists = engine.lists
    return {
        "rankings": engine.ranking_ids(),
        "lists": {
            key: (engine.list_entries(*key), mentor_list.shown_count)
            for key, mentor_list in sorted(lists.items())
        },
        "remote": {m: {p: k for p, k in best.items() if k} for m, best in lists.remote.items()},
        "shown_by": {
            engine.search.mentee_id(slot): dict(mentors)
            for slot, mentors in lists.shown_by.items()
            if mentors
        },
        "hosts": {m: engine.search.mentee_id(e[2]) for m, e in lists.hosts.of.items()},
        "goals": dict(engine.roster.goals),
        "excluded": {k: v for k, v in engine.roster.excluded.items() if v},
    }


async def one_instance_owning_all(seed: int) -> Cluster:
    cluster = Cluster(CONFIG, instances=2)
    await cluster.assign(dict.fromkeys(range(CONFIG.partitions), 0))
    for event in events(seed, mentees=40):
        cluster.submit(event)
    await cluster.drain()
    return cluster


def test_dropping_a_partition_equals_restoring_the_rest_from_the_store() -> None:
    async def scenario() -> None:
        for seed in range(4):
            cluster = await one_instance_owning_all(seed)
            engine = cluster.instances[0].engines[TENANT]
            drop_partition(engine, 3)
            engine.check_invariants()
            restored = (await cluster.loader.load({0, 1, 2}, CONFIG))[TENANT]
            assert picture(engine) == picture(restored)

    asyncio.run(scenario())


def test_dropping_several_partitions_in_one_pass_equals_restoring_the_rest() -> None:
    async def scenario() -> None:
        for seed in range(4):
            cluster = await one_instance_owning_all(seed)
            engine = cluster.instances[0].engines[TENANT]
            drop_partitions(engine, {1, 3})
            engine.check_invariants()
            restored = (await cluster.loader.load({0, 2}, CONFIG))[TENANT]
            assert picture(engine) == picture(restored)

    asyncio.run(scenario())


def walks_read_by(engine: TenantEngine, partitions: set[int]) -> list[str]:
    """Drop the partitions; the mentors whose walk the hosts read meanwhile."""
    hosts, walk = engine.lists.hosts, engine.lists.hosts.walk
    read: list[str] = []

    def counted(mentor_id: str, count: int) -> list[Any]:
        read.append(mentor_id)
        return walk(mentor_id, count)

    hosts.walk = counted
    drop_partitions(engine, partitions)
    hosts.walk = walk
    return read


def test_a_handover_weighs_no_mentor_walk_again() -> None:
    """The moved seekers stay in every walk with the same keys, held elsewhere now: no host
    moves, so no walk is read (a handover at full scale read 100,000 of them)."""

    async def scenario() -> None:
        for seed in range(4):
            cluster = await one_instance_owning_all(seed)
            engine = cluster.instances[0].engines[TENANT]
            assert walks_read_by(engine, {1, 3}) == []
            engine.check_invariants()

    asyncio.run(scenario())


def test_an_instance_keeps_the_state_of_partitions_that_stay_and_restores_none() -> None:
    async def scenario() -> None:
        cluster = await one_instance_owning_all(seed=5)
        first = cluster.instances[0]
        engine, restores = first.engines[TENANT], first.restores
        await cluster.assign({0: 0, 1: 0, 2: 1, 3: 1})  # a second instance joins
        assert first.engines[TENANT] is engine and first.restores == restores
        assert first.owned == first.holding == {0, 1}
        for event in events(seed=6, mentees=40, version=2):  # both keep working
            cluster.submit(event)
        await cluster.drain()
        cluster.check_invariants()
        assert cluster.rankings(TENANT) == cluster.batch(TENANT)
        proposed = {k: v for k, v in cluster.stored_proposals(TENANT).items() if v}
        assert proposed == {k: set(v) for k, v in cluster.batch_proposals(TENANT).items() if v}

    asyncio.run(scenario())


def test_a_partition_someone_else_took_in_between_is_restored() -> None:
    async def scenario() -> None:
        cluster = await one_instance_owning_all(seed=7)
        first, second = cluster.instances
        restores = first.restores
        # the first was cut off (no revocation ran); the second took partition 1 meanwhile
        await second.take_partitions({1})
        await first.take_partitions({0, 1})
        assert first.restores == restores + 1

    asyncio.run(scenario())


def test_gaining_a_partition_restores_from_the_store() -> None:
    async def scenario() -> None:
        cluster = await one_instance_owning_all(seed=8)
        await cluster.assign({0: 0, 1: 0, 2: 1, 3: 1})
        first = cluster.instances[0]
        restores = first.restores
        await cluster.assign({0: 0, 1: 0, 2: 0, 3: 1})  # the other takes back less
        assert first.restores == restores + 1
        for event in events(seed=9, mentees=40, version=2):
            cluster.submit(event)
        await cluster.drain()
        assert cluster.rankings(TENANT) == cluster.batch(TENANT)

    asyncio.run(scenario())


def test_a_poll_refused_during_a_rebalance_leaves_the_kept_state_usable() -> None:
    async def scenario() -> None:
        cluster = await one_instance_owning_all(seed=10)
        first = cluster.instances[0]
        engine, loads = first.engines[TENANT], cluster.loader.loads
        first.owned = frozenset()  # revoked (PartitionOwnership.on_partitions_revoked)
        x = next(f"x{i}" for i in range(40) if partition_of(f"x{i}", CONFIG.partitions) == 0)
        late = GoalSet(tenant_id=TENANT, key=x, payload=goal(x, 3, goal_id="g0"))
        with pytest.raises(PartitionNotOwned):
            await handle(late, 0, first)
        await cluster.assign({0: 0, 1: 0, 2: 1, 3: 1})
        cluster.submit(late)
        await cluster.drain()
        assert first.engines[TENANT] is engine, "the refused poll made the engine stale"
        assert cluster.loader.loads == loads + 1  # the second instance's restore alone
        assert cluster.rankings(TENANT) == cluster.batch(TENANT)

    asyncio.run(scenario())

"""`matching.mentors` as an instance applies it: exposure notices (ADR 0010, ADR 0013) are sent
only to the partitions the sending instance does not hold, and a mentor's fan-out copies in one
poll are applied in one refresh; the rankings still equal the batch recompute."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.events import ExposureChanged
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileUpdated
from tests.unit.builders import TENANT, goal, mentee, mentor
from tests.unit.matching.cluster import Cluster, partition_of

CONFIG = EngineConfig(top_k=2, partitions=2, exposure_per_seat=3.0)


class NoticeRecorder(Cluster):
    """Remembers which instance's poll published each exposure notice, and to which partition."""

    def __init__(self, config: EngineConfig, instances: int) -> None:
        super().__init__(config, instances)
        self.notices: list[tuple[int, int | None]] = []
        self._polling = -1

    async def poll(self, index: int, per_partition: int) -> None:
        self._polling = index
        await super().poll(index, per_partition)

    def _relay(self) -> None:
        for published in self.uow.state.outbox:
            if isinstance(published.event, ExposureChanged):
                self.notices.append((self._polling, published.partition))
        super()._relay()


def events() -> list[Any]:
    """Two one-seat mentors and mentees in both partitions, each with a goal."""
    found: list[Any] = [
        ProfileUpdated(tenant_id=TENANT, key=m, payload=mentor(m, capacity=1)) for m in ("m1", "m2")
    ]
    ids = [f"x{i}" for i in range(12)]
    assert {partition_of(x, CONFIG.partitions) for x in ids} == {0, 1}
    for x in ids:
        found.append(ProfileUpdated(tenant_id=TENANT, key=x, payload=mentee(x)))
        found.append(GoalSet(tenant_id=TENANT, key=x, payload=goal(x)))
    return found


async def drive(cluster: Cluster, instances: int) -> None:
    """Polls of every instance in turn until every queue is empty (a fan-out's copies, relayed
    after one poll, come in the next)."""
    while any(cluster.queues.values()):
        for index in range(instances):
            await cluster.poll(index, per_partition=3)


def run(owners: dict[int, int], instances: int) -> NoticeRecorder:
    async def scenario() -> NoticeRecorder:
        cluster = NoticeRecorder(CONFIG, instances)
        await cluster.assign(owners)
        for event in events():
            cluster.submit(event)
        await drive(cluster, instances)
        return cluster

    return asyncio.run(scenario())


def test_an_instance_owning_every_partition_sends_no_exposure_notice() -> None:
    cluster = run({0: 0, 1: 0}, instances=1)
    assert cluster.notices == []
    assert cluster.rankings(TENANT) == cluster.batch(TENANT)


def test_notices_go_only_to_the_partitions_another_instance_owns() -> None:
    owners = {0: 0, 1: 1}
    cluster = run(owners, instances=2)
    assert cluster.notices, "the scenario changes mentors' best mentees in both partitions"
    assert all(owners[partition] != sender for sender, partition in cluster.notices)
    assert cluster.rankings(TENANT) == cluster.batch(TENANT)


def test_a_mentors_copies_in_one_poll_are_applied_in_one_refresh(monkeypatch: Any) -> None:
    refreshed: list[list[int]] = []
    through = TenantEngine.refresh_mentor

    def recording(engine: TenantEngine, mentor_id: str, partitions: Iterable[int]) -> None:
        refreshed.append(sorted(partitions))
        through(engine, mentor_id, partitions)

    monkeypatch.setattr(TenantEngine, "refresh_mentor", recording)
    cluster = run({0: 0, 1: 0}, instances=1)
    refreshed.clear()
    change = mentor("m1", version=2, capacity=2)
    cluster.submit(ProfileUpdated(tenant_id=TENANT, key="m1", payload=change))
    asyncio.run(drive(cluster, instances=1))
    assert refreshed == [[0, 1]]  # the copies for both partitions, in one poll, one pass
    assert cluster.rankings(TENANT) == cluster.batch(TENANT)

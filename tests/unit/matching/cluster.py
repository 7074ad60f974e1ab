"""Several matching instances over one fake store, with per-partition queues and a relay.

It plays Kafka's part: events wait in their partition's queue, the owner of a partition
handles them in order (possibly twice: at-least-once), fan-out events go to the partition
they name, and a rebalance moves partitions between instances, which restore from the store.
"""

from __future__ import annotations

import zlib
from collections import defaultdict, deque

from services.matching.domain.batch import Population, proposals, recompute
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.relationships import Relationship, blocks
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.handlers import Delivery, Matching, handle, handle_batch
from services.matching.service_layer.topics import MENTOR_FEED
from shared.contracts.envelope import EventEnvelope
from shared.contracts.matches import MatchProposed
from tests.unit.matching.fake_store import FakeStateLoader, fake_unit_of_work


def partition_of(user_id: str, partitions: int) -> int:
    return zlib.crc32(user_id.encode()) % partitions


class Cluster:
    def __init__(self, config: EngineConfig, instances: int) -> None:
        self.config = config
        self.uow = fake_unit_of_work()
        self.loader = FakeStateLoader(self.uow)
        self.instances = [Matching(self.uow, self.loader, config) for _ in range(instances)]
        self.queues: dict[int, deque[EventEnvelope]] = {
            p: deque() for p in range(config.partitions)
        }
        self.owner: dict[int, int] = {}
        self.proposals: list[MatchProposed] = []

    async def assign(self, owners: dict[int, int]) -> None:
        self.owner = owners
        for index, instance in enumerate(self.instances):
            await instance.take_partitions({p for p, o in owners.items() if o == index})

    def submit(self, event: EventEnvelope) -> None:
        self.queues[partition_of(event.key, self.config.partitions)].append(event)

    def _relay(self) -> None:
        for published in self.uow.state.outbox:
            if published.topic == MENTOR_FEED:
                assert published.partition is not None
                self.queues[published.partition].append(published.event)
            else:
                assert isinstance(published.event, MatchProposed)
                self.proposals.append(published.event)
        self.uow.state.outbox.clear()

    async def deliver(self, partition: int, again: bool = False) -> bool:
        queue = self.queues[partition]
        if not queue:
            return False
        instance = self.instances[self.owner[partition]]
        await handle(queue[0], partition, instance)
        self._relay()
        if not again:
            queue.popleft()
        return True

    async def poll(self, index: int, per_partition: int) -> None:
        """One instance handles the heads of its partitions' queues as one batch, like a poll."""
        owned = sorted(p for p, o in self.owner.items() if o == index)
        batch = [
            (partition, event)
            for partition in owned
            for event in list(self.queues[partition])[:per_partition]
        ]
        if not batch:
            return
        await handle_batch([Delivery(e, p) for p, e in batch], self.instances[index])
        self._relay()
        for partition, _ in batch:
            self.queues[partition].popleft()

    async def drain(self) -> None:
        while any(self.queues.values()):
            for partition in range(self.config.partitions):
                while await self.deliver(partition):
                    pass

    def rankings(self, tenant: str) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for instance in self.instances:
            if tenant in instance.engines:
                found.update(instance.engines[tenant].ranking_ids())
        return found

    def waiting(self, tenant: str) -> set[str]:
        """The goals (seekers) that wait, as the engines hold them."""
        return {
            key
            for instance in self.instances
            if tenant in instance.engines
            for key in instance.engines[tenant].roster.paused
        }

    def check_invariants(self) -> None:
        """Every part of every engine in use keeps its invariants (a stale engine, left by a
        transaction that rolled back, is reloaded before its next event)."""
        for instance in self.instances:
            for tenant, engine in instance.engines.items():
                if tenant not in instance.stale:
                    engine.check_invariants()

    def population(self, tenant: str) -> Population:
        """The stored state as the batch reference reads it: seats from the mentors' profiles,
        exclusions and waiting goals by the one rule (domain/relationships.blocks)."""
        s = self.uow.state
        people = {u: p for (t, u), (p, _) in s.people.items() if t == tenant}
        goals = {
            seeker_key(u, goal_id): g
            for (t, u, goal_id), (g, _) in s.goals.items()
            if t == tenant and (t, u, goal_id) not in s.closed_goals
        }
        declined: dict[str, list[str]] = defaultdict(list)
        for t, mentee, mentor in s.pairs:
            if t == tenant:
                declined[mentee].append(mentor)
        relationships: dict[str, list[Relationship]] = defaultdict(list)
        for (t, _), (relationship, _) in s.relationships.items():
            if t == tenant:
                relationships[relationship.mentee_id].append(relationship)
        population = Population(
            people=people,
            goals=goals,
            accepted={u: p.seats_taken for u, p in people.items() if p.is_mentor},
        )
        for key, goal in goals.items():
            mentee = goal.mentee_id
            found = blocks(goal.goal_id, declined[mentee], relationships[mentee])
            population.excluded.update((key, mentor) for mentor in found.excluded)
            if found.paused:
                population.paused.add(key)
        return population

    def batch(self, tenant: str, config: EngineConfig | None = None) -> dict[str, tuple[str, ...]]:
        return recompute(self.population(tenant), config or self.config)

    def batch_proposals(self, tenant: str) -> dict[str, tuple[str, ...]]:
        """What each ranked goal should be proposed: the batch rankings, spread across each
        mentee's goals (domain/goal_spread.py)."""
        return proposals(self.population(tenant), self.config)

    def shown(self, tenant: str) -> dict[str, set[str]]:
        """Mentor -> the mentees whose candidates it is among (what the cap counts), over every
        instance's engine."""
        found: dict[str, set[str]] = {}
        for instance in self.instances:
            engine = instance.engines.get(tenant)
            if engine is None:
                continue
            for slot, mentors in engine.lists.shown_by.items():
                mentee_id = engine.search.mentee_id(slot)
                for mentor_id in mentors:
                    found.setdefault(mentor_id, set()).add(mentee_id)
        return found

    def stored_proposals(self, tenant: str) -> dict[str, set[str]]:
        """Each goal's stored proposal, by seeker (domain/seekers.py)."""
        return {
            seeker_key(mentee, goal_id): set(proposal.mentor_ids)
            for (t, mentee, goal_id), (proposal, _) in self.uow.state.proposals.items()
            if t == tenant
        }


def sk(mentee_id: str, goal_id: str = "g1") -> str:
    """The seeker key of a mentee's goal (domain/seekers.py); "g1" is the builders' goal."""
    return seeker_key(mentee_id, goal_id)

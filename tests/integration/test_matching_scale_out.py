"""Several matching instances against Apache Kafka: partitions split, nothing lost or doubled.

Both tests publish a seeded population straight to the profile and goal topics and compare the
stored proposals with a from-scratch batch recompute (which one instance always equals: see the
invariant property test).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
from aiokafka import AIOKafkaProducer

from devenv.infra import KafkaEndpoint
from services.matching.bootstrap import MatchingService, bootstrap
from services.matching.domain import batch
from services.matching.domain.batch import Population
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.seekers import seeker_key
from services.matching.settings import MatchingSettings
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSet
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import GOALS, PROFILES, PROPOSALS
from shared.kafka.connection import producer_kwargs
from shared.settings import DatabaseSettings, KafkaSettings
from tests.support.kafka import read_all
from tests.support.polling import eventually
from tests.unit.builders import TENANT, goal, mentee, mentor

PARTITIONS = 4
SKILLS = ["go", "kubernetes", "python", "sql", "ux", "security"]


def population(seed: int, mentors: int, mentees: int) -> list[EventEnvelope]:
    rng = random.Random(seed)
    events: list[EventEnvelope] = []
    for i in range(mentors):
        skills = [{"name": s, "level": rng.randint(2, 5)} for s in rng.sample(SKILLS, 3)]
        profile = mentor(f"m{i}", skills=skills, capacity=rng.randint(1, 2), years_experience=20)
        events.append(ProfileUpdated(tenant_id=TENANT, key=f"m{i}", payload=profile))
    for i in range(mentees):
        events.append(ProfileUpdated(tenant_id=TENANT, key=f"x{i}", payload=mentee(f"x{i}")))
        targets = rng.sample(SKILLS, rng.randint(1, 3))
        payload = goal(f"x{i}", target_skills=targets)
        events.append(GoalSet(tenant_id=TENANT, key=f"x{i}", payload=payload))
    return events


def expected_proposals(
    events: list[EventEnvelope], settings: MatchingSettings
) -> dict[str, set[str]]:
    pop = Population()
    for event in events:
        if isinstance(event, ProfileUpdated):
            pop.people[event.key] = person_from_profile(event.payload)
        elif isinstance(event, GoalSet):
            found = goal_from_payload(event.payload)
            pop.goals[seeker_key(event.key, found.goal_id)] = found

    ranked = batch.proposals(pop, settings.engine_config())
    return {mentee_id: set(mentors) for mentee_id, mentors in ranked.items() if mentors}


async def publish(kafka: KafkaSettings, events: list[EventEnvelope]) -> None:
    producer = AIOKafkaProducer(**producer_kwargs(kafka))
    await producer.start()
    try:
        for event in events:
            topic = GOALS if isinstance(event, GoalSet) else PROFILES
            await producer.send(
                topic.qualified(kafka.topic_prefix), event.to_bytes(), key=event.key.encode()
            )
        await producer.flush()
    finally:
        await producer.stop()


async def stored_proposals(database_url: str) -> dict[str, set[str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT mentee_id, goal_id, mentor_ids FROM matching.proposals")
    finally:
        await conn.close()
    return {
        seeker_key(r["mentee_id"], r["goal_id"]): set(r["mentor_ids"])
        for r in rows
        if r["mentor_ids"]
    }


@asynccontextmanager
async def matching_instance(settings: MatchingSettings) -> AsyncIterator[MatchingService]:
    async with bootstrap(settings) as service:
        yield service


def settings_for(endpoint: KafkaEndpoint, topic_prefix: str, database_url: str) -> MatchingSettings:
    kafka = KafkaSettings(
        **endpoint.settings(),
        topic_prefix=topic_prefix,
        partitions=PARTITIONS,
    )
    return MatchingSettings(kafka=kafka, db=DatabaseSettings(database_url=database_url), top_k=3)


def split(instances: list[MatchingService]) -> bool:
    owned = [i.ownership.assigned for i in instances]
    together = frozenset().union(*owned)
    return all(owned) and sum(map(len, owned)) == PARTITIONS == len(together)


async def test_two_instances_split_the_partitions_and_propose_what_one_would(
    kafka_endpoint: KafkaEndpoint, topic_prefix: str, database_url: str
) -> None:
    settings = settings_for(kafka_endpoint, topic_prefix, database_url)
    events = population(seed=7, mentors=12, mentees=60)
    expected = expected_proposals(events, settings)
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(matching_instance(settings))
        second = await stack.enter_async_context(matching_instance(settings))
        await eventually(lambda: split([first, second]), timeout=60, what="partitions split")
        await publish(settings.kafka, events)
        await eventually(
            lambda: converged(database_url, expected),
            timeout=90,
            what="proposals equal to one instance's",
        )
    assert first.ownership.assigned.isdisjoint(second.ownership.assigned)


async def converged(database_url: str, expected: dict[str, set[str]]) -> bool:
    return await stored_proposals(database_url) == expected


async def test_adding_and_removing_an_instance_under_load_loses_and_doubles_nothing(
    kafka_endpoint: KafkaEndpoint, topic_prefix: str, database_url: str
) -> None:
    settings = settings_for(kafka_endpoint, topic_prefix, database_url)
    events = population(seed=11, mentors=15, mentees=90)
    expected = expected_proposals(events, settings)
    thirds = [events[i * len(events) // 3 : (i + 1) * len(events) // 3] for i in range(3)]
    async with AsyncExitStack() as outer:
        first_stack = await outer.enter_async_context(AsyncExitStack())
        await first_stack.enter_async_context(matching_instance(settings))
        await publish(settings.kafka, thirds[0])
        second = await outer.enter_async_context(matching_instance(settings))
        await publish(settings.kafka, thirds[1])
        await first_stack.aclose()  # the first instance leaves while work is pending
        await publish(settings.kafka, thirds[2])
        await eventually(
            lambda: second.ownership.assigned == frozenset(range(PARTITIONS)), timeout=60
        )
        await eventually(
            lambda: converged(database_url, expected),
            timeout=120,
            what="proposals equal to the batch recompute",
        )
    proposals = [
        MatchProposed.model_validate_json(r.value)
        for r in await read_all(settings.kafka, PROPOSALS.qualified(topic_prefix))
    ]
    versions: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for proposal in proposals:  # ranking versions count per goal
        versions[proposal.key, proposal.payload.goal_id, proposal.payload.ranking_version].add(
            str(proposal.payload.proposal_id)
        )
    doubled = {key: ids for key, ids in versions.items() if len(ids) > 1}
    assert not doubled, f"two owners proposed the same ranking version: {doubled}"


def rankings(service: MatchingService) -> dict[str, tuple[str, ...]]:
    engine = service.matching.engines.get(TENANT)
    return engine.ranking_ids() if engine is not None else {}


async def restored_rankings(service: MatchingService) -> dict[str, tuple[str, ...]]:
    loaded = await service.matching.loader.load(service.matching.owned, service.matching.config)
    return loaded[TENANT].ranking_ids() if TENANT in loaded else {}


async def test_a_joining_instance_takes_half_and_the_first_keeps_the_rest_without_a_restore(
    kafka_endpoint: KafkaEndpoint, topic_prefix: str, database_url: str
) -> None:
    settings = settings_for(kafka_endpoint, topic_prefix, database_url)
    events = population(seed=13, mentors=12, mentees=80)
    halves = [events[: len(events) // 2], events[len(events) // 2 :]]
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(matching_instance(settings))
        await eventually(lambda: len(first.ownership.assigned) == PARTITIONS, timeout=60)
        await publish(settings.kafka, halves[0])
        await eventually(
            lambda: converged(database_url, expected_proposals(halves[0], settings)),
            timeout=90,
            what="the first half proposed",
        )
        engine, restores = first.matching.engines[TENANT], first.matching.restores
        second = await stack.enter_async_context(matching_instance(settings))
        await eventually(lambda: split([first, second]), timeout=60, what="partitions split")
        assert first.matching.engines[TENANT] is engine, "the first instance restored its state"
        assert first.matching.restores == restores
        assert len(first.ownership.assigned) == PARTITIONS // 2
        await publish(settings.kafka, halves[1])
        await eventually(
            lambda: converged(database_url, expected_proposals(events, settings)),
            timeout=120,
            what="proposals equal to the batch recompute",
        )
        for instance in (first, second):  # what each holds equals a fresh restore of it
            assert rankings(instance) == await restored_rankings(instance)
        assert first.matching.engines[TENANT] is engine

"""A small engine built from the seeded test population, mentors first, as the service would."""

from __future__ import annotations

import random
import zlib

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from tests.support import population as people


def partition_of(user_id: str, partitions: int) -> int:
    return zlib.crc32(user_id.encode()) % partitions


def built_engine(seed: int, mentors: int, mentees: int) -> TenantEngine:
    """`mentors` mentors, then `mentees` mentees each with one goal, drained."""
    rng = random.Random(seed)
    engine = TenantEngine(EngineConfig())
    for index in range(mentors):
        engine.put_mentor_data(people.mentor(rng, f"mentor-{index:03d}"))
    for index in range(mentees):
        mentee_id = f"mentee-{index:04d}"
        partition = partition_of(mentee_id, engine.config.partitions)
        engine.put_mentee(people.mentee(rng, mentee_id), partition)
        engine.put_goal(people.goal(rng, mentee_id), partition)
    engine.drain()
    return engine

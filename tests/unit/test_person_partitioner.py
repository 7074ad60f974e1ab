"""A person's records land on one partition in every topic, whether the key names the tenant
(the compacted profiles topic) or not: matching owns a person through that partition."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.topics import GOALS, PROFILES
from shared.kafka.partitioner import person_partitioner

IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}", fullmatch=True)
PARTITIONS = list(range(6))


@given(tenant=IDS, user=IDS)
def test_a_tenant_in_the_key_does_not_move_the_person(tenant: str, user: str) -> None:
    profile_key, goal_key = PROFILES.record_key(tenant, user), GOALS.record_key(tenant, user)
    assert profile_key == f"{tenant}/{user}".encode() and goal_key == user.encode()
    on_profiles = person_partitioner(profile_key, PARTITIONS, PARTITIONS)
    assert on_profiles == person_partitioner(goal_key, PARTITIONS, PARTITIONS)
    # and where the Java client's default partitioner puts the bare user id
    assert on_profiles == DefaultPartitioner()(goal_key, PARTITIONS, PARTITIONS)

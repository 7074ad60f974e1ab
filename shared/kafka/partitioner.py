"""The producers' partitioner: a person's records land on the same partition in every topic.

Matching relies on it (partition N of profiles, goals and feedback belong to one instance). A
compacted topic's key also names the tenant (`tenant/user`, TopicSpec.record_key); only the
part after the separator is hashed, with the Java client's murmur2, so such a record goes where
a record keyed by the bare user id goes.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.partitioner import DefaultPartitioner

from shared.contracts.topics import TENANT_SEPARATOR

_SEPARATOR = TENANT_SEPARATOR.encode()
_DEFAULT = DefaultPartitioner()


def person_partitioner(
    key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
) -> int:
    if key is not None and _SEPARATOR in key:
        key = key.split(_SEPARATOR, 1)[1]
    partition: int = _DEFAULT(key, all_partitions, available)
    return partition

"""Who was erased, kept as keyed hashes, so that an old event cannot bring a person back.

After an erasure a service still receives events about the person: a replayed dead letter
(`mentorlink-ops dlq replay`), a redelivery whose event id was already forgotten, an event
that was on another topic and arrives after the deletion. Each service that can be fed such
an event keeps `erased_people`: HMAC-SHA256 of (tenant, user id) under a secret
(`ERASURE_HASH_KEYS`), never the ids themselves, with the time of the erasure. An event about
the person that happened at or before that time is dropped. A profile created again later
(a new ProfileUpdated after the erasure) is accepted and recorded as `restored_at`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.contracts.envelope import EventEnvelope
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.db.types import DbConnection

Person = tuple[str, str]  # (tenant id, user id)
# Set by `mentorlink-ops dlq replay` on each copy: when the original was dead-lettered (ms since
# the epoch, on the clock of the service that dead-lettered it). A command without an event
# time of its own (ingress) is from before an erasure when this is.
REPLAY_DEAD_LETTERED_MS = "x-replay-dead-lettered-ms"


@dataclass(frozen=True)
class Erasure:
    erased_at: datetime
    restored_at: datetime | None

    def hides(self, occurred_at: datetime) -> bool:
        """An event that happened at or before the erasure is about the erased person."""
        return occurred_at <= self.erased_at

    def hides_unrestored(self, occurred_at: datetime) -> bool:
        """For events another service produced (its clock is not the erasure's): also hidden
        while no profile created after the erasure has been seen."""
        return self.hides(occurred_at) or self.restored_at is None


class ErasureLog(Protocol):
    """The erased-people records a transaction reads and writes."""

    async def find(self, people: Iterable[Person]) -> dict[Person, Erasure]:
        """The erasures recorded for any of `people`."""
        ...

    async def record(self, person: Person, erased_at: datetime) -> None:
        """The person is erased as of `erased_at` (the later of two erasures wins)."""
        ...

    async def restore(self, person: Person, occurred_at: datetime) -> None:
        """A profile created after the erasure was accepted."""
        ...


class ErasureKeys:
    """HMAC keys from ERASURE_HASH_KEYS: the first records, all are looked up (rotation)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("ERASURE_HASH_KEYS must hold at least one key")
        self._keys = list(keys)

    def current(self, person: Person) -> bytes:
        return person_hash(self._keys[0], person)

    def every(self, person: Person) -> list[bytes]:
        return [person_hash(key, person) for key in self._keys]

    def lookup(self, people: Iterable[Person]) -> dict[bytes, Person]:
        """Every hash that may stand for one of `people`, and whom it stands for."""
        return {h: p for p in set(people) for h in self.every(p)}


def person_hash(key: bytes, person: Person) -> bytes:
    tenant_id, user_id = person
    return hmac.new(key, f"{tenant_id}\x00{user_id}".encode(), hashlib.sha256).digest()


class PostgresErasureLog:
    """`erased_people` of the connection's schema (shared/db/sql/0005_erased_people.sql)."""

    def __init__(self, conn: DbConnection, keys: ErasureKeys) -> None:
        self._conn = conn
        self._keys = keys

    async def find(self, people: Iterable[Person]) -> dict[Person, Erasure]:
        by_hash = self._keys.lookup(people)
        if not by_hash:
            return {}
        rows = await self._conn.fetch(
            "SELECT person_hash, erased_at, restored_at FROM erased_people"
            " WHERE person_hash = ANY($1::bytea[]) ORDER BY erased_at",
            list(by_hash),
        )
        return {
            by_hash[bytes(r["person_hash"])]: Erasure(r["erased_at"], r["restored_at"])
            for r in rows
        }

    async def record(self, person: Person, erased_at: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO erased_people AS e (person_hash, erased_at) VALUES ($1, $2)"
            " ON CONFLICT (person_hash) DO UPDATE"
            " SET erased_at = greatest(e.erased_at, EXCLUDED.erased_at), restored_at = NULL",
            self._keys.current(person),
            erased_at,
        )

    async def restore(self, person: Person, occurred_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE erased_people SET restored_at = greatest(restored_at, $2)"
            " WHERE person_hash = ANY($1::bytea[]) AND erased_at < $2",
            self._keys.every(person),
            occurred_at,
        )


async def admit(
    event: EventEnvelope,
    people: Sequence[Person],
    erased: dict[Person, Erasure],
    log: ErasureLog,
    named: Sequence[Person] = (),
) -> bool:
    """Whether a consumer handles `event`, about `people`, given the erasures it found for
    them (`erased`, updated as the events of a poll go by).

    A ProfileDeleted is recorded; an event that happened at or before the erasure of one of its
    people is not handled; a ProfileUpdated from after the erasure is a profile created again.
    `named` are people the event only names (the mentor a mentee declines from an old email):
    erased, they stay so until their profile is created again, whenever the event happened.
    """
    if isinstance(event, ProfileDeleted):
        person = (event.tenant_id, event.payload.user_id)
        await log.record(person, event.occurred_at)
        known = erased.get(person)
        erased[person] = Erasure(
            max(event.occurred_at, known.erased_at if known else event.occurred_at), None
        )
        return True
    if any(p in erased and erased[p].hides(event.occurred_at) for p in people):
        return False
    if any(p in erased and erased[p].hides_unrestored(event.occurred_at) for p in named):
        return False
    if isinstance(event, ProfileUpdated) and (person := (event.tenant_id, event.key)) in erased:
        await log.restore(person, event.occurred_at)
        erased[person] = Erasure(erased[person].erased_at, event.occurred_at)
    return True

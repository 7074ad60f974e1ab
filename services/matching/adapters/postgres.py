"""asyncpg implementation of matching's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from services.matching.adapters.batch_sql import (
    DROP_LISTS,
    SAVE_LISTS,
    SAVE_PROPOSALS,
    columns,
    numbered,
)
from services.matching.adapters.postgres_goals import GoalsAhead
from services.matching.adapters.stored_people import goal_to_json, person_from_json, person_to_json
from services.matching.domain.people import Goal, Person
from services.matching.domain.relationships import Relationship, excludes
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.unit_of_work import (
    CurrentProposal,
    MenteeBlocks,
    PairState,
    StoredList,
    StoredProposal,
    StoredVersion,
)
from shared.contracts.envelope import EventEnvelope
from shared.contracts.topics import TopicSpec
from shared.db.idempotency import first_deliveries
from shared.db.types import DbConnection
from shared.erasure import ErasureKeys, PostgresErasureLog
from shared.outbox import OutboxBatch
from shared.settings import ErasureSettings

CONSUMER = "matching"
# Each with the columns `relationship` reads.
MENTEE_RELATIONSHIPS = (
    "SELECT request_id, mentee_id, mentor_id, goal_id, state, version, never_again"
    " FROM relationships WHERE tenant_id = $1 AND mentee_id = $2 ORDER BY request_id"
)
# A new goal's blocks in one round trip: the mentee's pairs (request_id NULL), then its
# relationships, each with the columns `relationship` reads.
MENTEE_BLOCKS = (
    "SELECT NULL::uuid AS request_id, mentor_id, NULL::text AS goal_id, NULL::text AS state,"
    " NULL::int AS version, NULL::bool AS never_again, mentee_id"
    " FROM pairs WHERE tenant_id = $1 AND mentee_id = $2"
    " UNION ALL SELECT request_id, mentor_id, goal_id, state, version, never_again, mentee_id"
    " FROM relationships WHERE tenant_id = $1 AND mentee_id = $2"
)
# One row per relationship and open goal of its mentee: the rule is per goal.
MENTOR_RELATIONSHIPS = (
    "SELECT r.request_id, r.mentee_id, r.mentor_id, r.goal_id, r.state, r.version,"
    " r.never_again, g.goal_id AS open_goal, r.partition"
    " FROM relationships r JOIN goals g"
    " ON g.tenant_id = r.tenant_id AND g.mentee_id = r.mentee_id AND NOT g.closed"
    " WHERE r.tenant_id = $1 AND r.mentor_id = $2 AND r.partition = ANY($3::int[])"
)
# The mentor's stored pairs (per person), once for each open goal of the mentee.
MENTOR_PAIRS = (
    "SELECT p.mentee_id, g.goal_id, p.partition FROM pairs p JOIN goals g"
    " ON g.tenant_id = p.tenant_id AND g.mentee_id = p.mentee_id AND NOT g.closed"
    " WHERE p.tenant_id = $1 AND p.mentor_id = $2 AND p.partition = ANY($3::int[])"
)


def relationship(row: asyncpg.Record) -> Relationship:
    return Relationship(
        str(row["request_id"]),
        row["mentee_id"],
        row["mentor_id"],
        row["goal_id"],
        row["state"],
        row["version"],
        row["never_again"],
    )


def _blocks(rows: Sequence[asyncpg.Record]) -> MenteeBlocks:
    """MENTEE_BLOCKS's rows as the mentee's blocks."""
    declined = sorted(r["mentor_id"] for r in rows if r["request_id"] is None)
    stored = [r for r in rows if r["request_id"] is not None]
    return MenteeBlocks(
        declined, [relationship(r) for r in sorted(stored, key=lambda r: r["request_id"])]
    )


SAVE_GOAL = (
    "INSERT INTO goals (tenant_id, mentee_id, version, partition, goal)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, mentee_id, goal_id)"
    " DO UPDATE SET version = EXCLUDED.version, partition = EXCLUDED.partition,"
    " goal = EXCLUDED.goal, closed = false WHERE goals.version < EXCLUDED.version"
    " RETURNING true"
)
# SAVE_GOAL and MENTEE_BLOCKS in one statement: a row of kind 'saved' if the goal was stored,
# and the blocks (read either way, from the snapshot before the insert: they do not read goals).
SAVE_GOAL_READING_BLOCKS = (
    f"WITH saved AS ({SAVE_GOAL})"  # noqa: S608 - constants of this module, no input
    " SELECT 'saved' AS kind, NULL::uuid AS request_id, NULL::text AS mentor_id,"
    " NULL::text AS goal_id, NULL::text AS state, NULL::int AS version,"
    " NULL::bool AS never_again, NULL::text AS mentee_id FROM saved"
    f" UNION ALL SELECT 'block', * FROM ({MENTEE_BLOCKS}) AS blocks"
)
PARTITION_LOCK = 7_401  # advisory lock class: (PARTITION_LOCK, partition)
# One statement for all, taken one row at a time in the array's order.
HOLD_PARTITIONS = "SELECT pg_advisory_xact_lock_shared($1, p) FROM unnest($2::int[]) AS p"


FORGET_PERSON = (
    "DELETE FROM people WHERE tenant_id = $1 AND user_id = $2",
    "DELETE FROM goals WHERE tenant_id = $1 AND mentee_id = $2",
    "DELETE FROM proposals WHERE tenant_id = $1 AND mentee_id = $2",
    "DELETE FROM pairs WHERE tenant_id = $1 AND (mentee_id = $2 OR mentor_id = $2)",
    "DELETE FROM relationships WHERE tenant_id = $1 AND (mentee_id = $2 OR mentor_id = $2)",
)
LOCK_PEOPLE = (
    "SELECT user_id, version, is_mentor FROM people WHERE tenant_id = $1"
    " AND user_id = ANY($2::text[]) ORDER BY user_id FOR UPDATE"
)
CLOSE_GOAL = (
    "UPDATE goals SET version = $4, closed = true WHERE tenant_id = $1 AND mentee_id = $2"
    " AND goal_id = $3 AND version < $4 AND NOT closed RETURNING true"
)


class PostgresMatchingTransaction:
    def __init__(self, conn: DbConnection, topic_prefix: str, keys: ErasureKeys) -> None:
        self._conn = conn
        self._prefix = topic_prefix
        self._keys = keys
        self.erasures = PostgresErasureLog(conn, keys)
        self._outbox = OutboxBatch()  # written by `flush`, just before the commit
        # people's rows this transaction locked or wrote: (tenant, user) -> what is stored
        self._versions: dict[tuple[str, str], StoredVersion | None] = {}
        self._ahead = GoalsAhead(conn)  # the poll's goals stored ahead, and their answers

    async def hold_partitions(self, partitions: Sequence[int]) -> None:
        if partitions:
            await self._conn.execute(HOLD_PARTITIONS, PARTITION_LOCK, list(partitions))

    async def first_deliveries(self, event_ids: Sequence[UUID]) -> set[UUID]:
        return await first_deliveries(self._conn, CONSUMER, event_ids)

    async def lock_people(self, tenant_id: str, user_ids: Sequence[str]) -> None:
        wanted = sorted(set(user_ids))
        rows = await self._conn.fetch(LOCK_PEOPLE, tenant_id, wanted)
        found = {r["user_id"]: StoredVersion(r["version"], r["is_mentor"]) for r in rows}
        self._versions.update({(tenant_id, user_id): found.get(user_id) for user_id in wanted})

    async def person_version(self, tenant_id: str, user_id: str) -> StoredVersion | None:
        if (tenant_id, user_id) in self._versions:  # locked, and written only by this one since
            return self._versions[tenant_id, user_id]
        row = await self._conn.fetchrow(
            "SELECT version, is_mentor FROM people WHERE tenant_id = $1 AND user_id = $2"
            " FOR UPDATE",
            tenant_id,
            user_id,
        )
        return StoredVersion(row["version"], row["is_mentor"]) if row else None

    async def stored_person(self, tenant_id: str, user_id: str) -> Person | None:
        raw = await self._conn.fetchval(
            "SELECT features FROM people WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
        )
        return person_from_json(raw) if raw else None

    async def save_person(self, tenant_id: str, person: Person, partition: int) -> None:
        self._versions[tenant_id, person.user_id] = StoredVersion(person.version, person.is_mentor)
        await self._conn.execute(
            "INSERT INTO people (tenant_id, user_id, version, partition, is_mentor, is_mentee,"
            " capacity, features) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (tenant_id, user_id) DO UPDATE SET version = EXCLUDED.version,"
            " partition = EXCLUDED.partition, is_mentor = EXCLUDED.is_mentor,"
            " is_mentee = EXCLUDED.is_mentee, capacity = EXCLUDED.capacity,"
            " features = EXCLUDED.features",
            tenant_id,
            person.user_id,
            person.version,
            partition,
            person.is_mentor,
            person.is_mentee,
            person.capacity,
            person_to_json(person),
        )

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        self._versions[tenant_id, user_id] = None
        for statement in FORGET_PERSON:
            await self._conn.execute(statement, tenant_id, user_id)

    async def save_goals_ahead(
        self, tenant_id: str, goals: Sequence[tuple[Goal, int, bool]]
    ) -> None:
        await self._ahead.save(tenant_id, goals)

    async def save_goal_if_newer(self, tenant_id: str, goal: Goal, partition: int) -> bool:
        if (ahead := self._ahead.take(tenant_id, goal)) is not None:
            return ahead.saved
        stored = await self._conn.fetchval(
            SAVE_GOAL, tenant_id, goal.mentee_id, goal.version, partition, goal_to_json(goal)
        )
        return stored is not None

    async def save_goal_reading_blocks(
        self, tenant_id: str, goal: Goal, partition: int
    ) -> MenteeBlocks | None:
        if (ahead := self._ahead.take(tenant_id, goal)) is not None:
            if not ahead.saved:
                return None
            if ahead.blocks is None:  # stored ahead without them
                return await self.mentee_blocks(tenant_id, goal.mentee_id)
            return _blocks(ahead.blocks)
        rows = await self._conn.fetch(
            SAVE_GOAL_READING_BLOCKS,
            tenant_id,
            goal.mentee_id,
            goal.version,
            partition,
            goal_to_json(goal),
        )
        if not any(r["kind"] == "saved" for r in rows):
            return None
        return _blocks([r for r in rows if r["kind"] == "block"])

    async def close_goal_if_newer(
        self, tenant_id: str, mentee_id: str, goal_id: str, version: int
    ) -> bool:
        closed = await self._conn.fetchval(CLOSE_GOAL, tenant_id, mentee_id, goal_id, version)
        return closed is not None

    async def save_pair(
        self, tenant_id: str, mentee_id: str, mentor_id: str, partition: int, state: PairState
    ) -> None:
        await self._conn.execute(
            "INSERT INTO pairs (tenant_id, mentee_id, mentor_id, partition, state)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, mentee_id, mentor_id)"
            " DO UPDATE SET state = EXCLUDED.state",
            tenant_id,
            mentee_id,
            mentor_id,
            partition,
            state,
        )

    async def mentee_blocks(self, tenant_id: str, mentee_id: str) -> MenteeBlocks:
        return _blocks(await self._conn.fetch(MENTEE_BLOCKS, tenant_id, mentee_id))

    async def excluded_seekers(
        self, tenant_id: str, mentor_id: str, partitions: Sequence[int]
    ) -> dict[int, list[str]]:
        asked = list(partitions)
        pairs = await self._conn.fetch(MENTOR_PAIRS, tenant_id, mentor_id, asked)
        rows = await self._conn.fetch(MENTOR_RELATIONSHIPS, tenant_id, mentor_id, asked)
        found: dict[int, set[str]] = {p: set() for p in asked}
        for r in rows:
            if excludes(relationship(r), r["open_goal"]):
                found[r["partition"]].add(seeker_key(r["mentee_id"], r["open_goal"]))
        for r in pairs:
            found[r["partition"]].add(seeker_key(r["mentee_id"], r["goal_id"]))
        return {p: sorted(keys) for p, keys in found.items()}

    async def save_relationship_if_newer(
        self, tenant_id: str, relationship: Relationship, partition: int
    ) -> bool:
        r = relationship
        stored = await self._conn.fetchval(
            "INSERT INTO relationships (tenant_id, request_id, mentee_id, mentor_id, goal_id,"
            " partition, state, version, never_again) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (tenant_id, request_id) DO UPDATE SET state = EXCLUDED.state,"
            " version = EXCLUDED.version, never_again = EXCLUDED.never_again,"
            " goal_id = EXCLUDED.goal_id, partition = EXCLUDED.partition"
            " WHERE relationships.version < EXCLUDED.version RETURNING true",
            tenant_id,
            UUID(r.request_id),
            r.mentee_id,
            r.mentor_id,
            r.goal_id,
            partition,
            r.state,
            r.version,
            r.never_again,
        )
        return stored is not None

    async def save_lists(self, lists: Sequence[StoredList]) -> None:
        emptied = [(t, m, p) for t, m, p, entries, cut in lists if not entries and not cut]
        kept = [(t, m, p, entries, cut) for t, m, p, entries, cut in lists if entries or cut]
        if emptied:
            await self._conn.execute(DROP_LISTS, *columns(emptied))
        if kept:
            keys, entries = [(t, m, p, cut) for t, m, p, _, cut in kept], [e for *_, e, _ in kept]
            flat = numbered(entries, width=2)  # (mentee, score)
            await self._conn.execute(SAVE_LISTS, *columns(keys), *flat)

    async def lists_elsewhere(
        self, tenant_id: str, mentor_id: str, owned: Collection[int]
    ) -> dict[int, list[tuple[str, float]]]:
        rows = await self._conn.fetch(
            "SELECT partition, mentee_ids, scores FROM mentor_lists WHERE tenant_id = $1"
            " AND mentor_id = $2 AND NOT partition = ANY($3::int[])",
            tenant_id,
            mentor_id,
            sorted(owned),
        )
        return {r["partition"]: list(zip(r["mentee_ids"], r["scores"], strict=True)) for r in rows}

    def person_ref(self, tenant_id: str, user_id: str) -> str:
        return self._keys.current((tenant_id, user_id)).hex()

    def person_refs(self, tenant_id: str, user_ids: Iterable[str]) -> dict[str, str]:
        found = self._keys.lookup((tenant_id, user_id) for user_id in user_ids)
        return {ref.hex(): person[1] for ref, person in found.items()}

    async def current_proposals(
        self, tenant_id: str, mentee_ids: Sequence[str]
    ) -> dict[tuple[str, str], CurrentProposal]:
        rows = await self._conn.fetch(
            "SELECT mentee_id, ranking_version, goal_id, mentor_ids FROM proposals"
            " WHERE tenant_id = $1 AND mentee_id = any($2::text[])"
            " ORDER BY mentee_id, goal_id FOR UPDATE",
            tenant_id,
            list(mentee_ids),
        )
        return {
            (r["mentee_id"], r["goal_id"]): CurrentProposal(
                r["ranking_version"], r["goal_id"], tuple(r["mentor_ids"])
            )
            for r in rows
        }

    async def save_proposals(self, tenant_id: str, proposals: Sequence[StoredProposal]) -> None:
        if not proposals:
            return
        rows = [
            (
                p.mentee_id,
                p.partition,
                p.proposal.goal_id,
                p.proposal.ranking_version,
                p.proposal_id,
            )
            for p in proposals
        ]
        mentors = [[(mentor,) for mentor in p.proposal.mentor_ids] for p in proposals]
        flat = numbered(mentors, width=1)
        await self._conn.execute(SAVE_PROPOSALS, tenant_id, *columns(rows), *flat)

    async def publish(
        self, topic: TopicSpec, event: EventEnvelope, partition: int | None = None
    ) -> None:
        self._outbox.add(topic.qualified(self._prefix), event, partition)

    async def publish_tombstone(self, topic: TopicSpec, tenant_id: str, user_id: str) -> None:
        key = topic.record_key(tenant_id, user_id)
        self._outbox.add_tombstone(topic.qualified(self._prefix), key, tenant_id)

    async def flush(self) -> None:
        await self._outbox.write(self._conn)


class PostgresUnitOfWork:
    def __init__(
        self, pool: asyncpg.Pool, topic_prefix: str, erasure_keys: ErasureKeys | None = None
    ) -> None:
        self._pool = pool
        self._prefix = topic_prefix
        self._keys = erasure_keys or ErasureKeys(ErasureSettings().keys())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresMatchingTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            tx = PostgresMatchingTransaction(conn, self._prefix, self._keys)
            yield tx
            await tx.flush()

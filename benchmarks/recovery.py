"""Recovery at scale: write an engine's state to PostgreSQL with COPY, then time the service's
loader (`load_engines`) rebuilding it in a fresh process, as a restarted instance would."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

import services.matching
from benchmarks.measure import partition_of
from benchmarks.memory import own_peak_mb
from services.matching.adapters.state_loader import load_engines
from services.matching.adapters.stored_people import goal_to_json, person_to_json
from services.matching.adapters.warm_up import compile_kernels
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from shared.db.migrations import apply_migrations

TENANT = "bench"
MIGRATIONS = Path(services.matching.__file__).parent / "migrations"


def rankings_digest(engine: TenantEngine) -> str:
    rankings = sorted(engine.ranking_ids().items())
    return hashlib.sha256(json.dumps(rankings).encode()).hexdigest()[:16]


def people_rows(engine: TenantEngine) -> Iterator[tuple[object, ...]]:
    partitions = engine.config.partitions
    people = {p.user_id: p for p in engine.search.mentors.people if p is not None}
    people.update(engine.roster.profiles)  # the same person objects: a mentor's profile, once
    for person in people.values():
        yield (
            TENANT,
            person.user_id,
            person.version,
            partition_of(person.user_id, partitions),
            person.is_mentor,
            person.is_mentee,
            person.capacity,
            person_to_json(person),
        )


def goal_rows(engine: TenantEngine) -> Iterator[tuple[object, ...]]:
    for goal in engine.roster.goals.values():
        partition = engine.roster.partition_of[goal.mentee_id]
        yield (TENANT, goal.mentee_id, goal.version, partition, goal_to_json(goal))


def list_rows(engine: TenantEngine) -> Iterator[tuple[object, ...]]:
    for (mentor_id, partition), _ in list(engine.lists.items()):
        entries, truncated = engine.list_entries(mentor_id, partition)
        mentee_ids = [m for m, _ in entries]
        scores = [s for _, s in entries]
        yield (TENANT, mentor_id, partition, mentee_ids, scores, truncated)


TABLES = {
    "people": (
        people_rows,
        [
            "tenant_id",
            "user_id",
            "version",
            "partition",
            "is_mentor",
            "is_mentee",
            "capacity",
            "features",
        ],
    ),
    "goals": (goal_rows, ["tenant_id", "mentee_id", "version", "partition", "goal"]),
    "mentor_lists": (
        list_rows,
        ["tenant_id", "mentor_id", "partition", "mentee_ids", "scores", "truncated"],
    ),
}


class _Counted:
    def __init__(self, rows: Iterator[tuple[object, ...]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        for row in self._rows:
            self.count += 1
            yield row


async def write_state(url: str, schema: str, engine: TenantEngine) -> dict[str, int]:
    """Create the schema with the service's migrations and COPY the engine's state into it."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await apply_migrations(pool, schema, MIGRATIONS)
        counts = {}
        async with pool.acquire() as conn:
            for table, (rows, columns) in TABLES.items():
                counted = _Counted(rows(engine))  # streamed: the rows are never all in memory
                await conn.copy_records_to_table(
                    table, records=counted, columns=columns, schema_name=schema
                )
                counts[table] = counted.count
            await conn.execute(f'ANALYZE "{schema}".people, "{schema}".goals')
        return counts
    finally:
        await pool.close()


async def drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def recover_in_child(url: str, schema: str, partitions: int) -> dict[str, object]:
    """Run the loader in a fresh interpreter: its time, its peak memory, its rankings' digest."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.recovery", url, schema, str(partitions)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


async def _load(url: str, schema: str, partitions: int) -> dict[str, object]:
    # As the service starts: kernels compiled (from numba's cache) before partitions are
    # assigned and their engines restored (bootstrap.py), so the restore is timed without it.
    start = time.perf_counter()
    compile_kernels()
    compile_s = time.perf_counter() - start
    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=2, server_settings={"search_path": schema}
    )
    try:
        start = time.perf_counter()
        engines = await load_engines(pool, range(partitions), EngineConfig(partitions=partitions))
        seconds = time.perf_counter() - start
    finally:
        await pool.close()
    engine = engines[TENANT]
    return {
        "recovery_s": round(seconds, 2),
        "compile_before_s": round(compile_s, 2),
        "rss_mb": round(own_peak_mb()),
        "mentees": len(engine.search.mentees.slots.slot_of),
        "digest": rankings_digest(engine),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_load(sys.argv[1], sys.argv[2], int(sys.argv[3])))))

"""Matching's writes of many rows, each in one statement: a poll's mentor lists and proposals
(issue 29: one execution on the server, where `executemany` cost one per row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Any number of rows in one statement (one execution on the server, where `executemany` cost
# one per row). A row's array column is its slice [lo:hi] of one flat array (asyncpg sends no
# arrays of arrays); the rows are unique by key (ON CONFLICT DO UPDATE touches a row once).
SAVE_LISTS = (
    "INSERT INTO mentor_lists (tenant_id, mentor_id, partition, mentee_ids, scores, truncated)"
    " SELECT r.tenant_id, r.mentor_id, r.partition, ($5::text[])[r.lo:r.hi],"
    " ($6::float8[])[r.lo:r.hi], r.truncated"
    " FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[], $7::int[], $8::int[])"
    " AS r(tenant_id, mentor_id, partition, truncated, lo, hi)"
    " ON CONFLICT (tenant_id, mentor_id, partition) DO UPDATE SET"
    " mentee_ids = EXCLUDED.mentee_ids, scores = EXCLUDED.scores, truncated = EXCLUDED.truncated"
)
DROP_LISTS = (
    "DELETE FROM mentor_lists l USING unnest($1::text[], $2::text[], $3::int[])"
    " AS r(tenant_id, mentor_id, partition) WHERE l.tenant_id = r.tenant_id"
    " AND l.mentor_id = r.mentor_id AND l.partition = r.partition"
)
SAVE_PROPOSALS = (
    "INSERT INTO proposals (tenant_id, mentee_id, partition, goal_id, ranking_version,"
    " proposal_id, mentor_ids) SELECT $1, r.mentee_id, r.partition, r.goal_id,"
    " r.ranking_version, r.proposal_id, ($7::text[])[r.lo:r.hi]"
    " FROM unnest($2::text[], $3::int[], $4::text[], $5::int[], $6::uuid[], $8::int[], $9::int[])"
    " AS r(mentee_id, partition, goal_id, ranking_version, proposal_id, lo, hi)"
    " ON CONFLICT (tenant_id, mentee_id, goal_id) DO UPDATE SET"
    " ranking_version = EXCLUDED.ranking_version, proposal_id = EXCLUDED.proposal_id,"
    " mentor_ids = EXCLUDED.mentor_ids, partition = EXCLUDED.partition, proposed_at = now()"
)


def columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as columns, the arguments of an `unnest`."""
    return [list(column) for column in zip(*rows, strict=True)]


def flattened(arrays: Sequence[Sequence[str]]) -> tuple[list[str], tuple[list[int], list[int]]]:
    """The arrays as one, and each one's 1-based bounds in it (lo, hi; hi < lo when empty)."""
    flat: list[str] = []
    lows, highs = [], []
    for array in arrays:
        lows.append(len(flat) + 1)
        flat.extend(array)
        highs.append(len(flat))
    return flat, (lows, highs)

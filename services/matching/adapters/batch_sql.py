"""Matching's writes of many rows, each in one statement: a poll's mentor lists and proposals
(issue 29: one execution on the server, where `executemany` cost one per row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Any number of rows in one statement (one execution on the server, where `executemany` cost
# one per row); the rows are unique by key (ON CONFLICT DO UPDATE touches a row once). asyncpg
# sends no arrays of arrays: a list's entries come as flat arrays, each entry with the number
# of its row, and are gathered back per row in their order. (Slices [lo:hi] of one flat
# array cost a walk from its start per row: quadratic in a poll's entries.)
SAVE_LISTS = (
    "INSERT INTO mentor_lists (tenant_id, mentor_id, partition, mentee_ids, scores, truncated)"
    " SELECT r.tenant_id, r.mentor_id, r.partition, coalesce(e.mentee_ids, '{}'),"
    " coalesce(e.scores, '{}'), r.truncated"
    " FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[]) WITH ORDINALITY"
    " AS r(tenant_id, mentor_id, partition, truncated, n)"
    " LEFT JOIN (SELECT row_, array_agg(mentee_id ORDER BY i) AS mentee_ids,"
    " array_agg(score ORDER BY i) AS scores"
    " FROM unnest($5::bigint[], $6::text[], $7::float8[]) WITH ORDINALITY"
    " AS f(row_, mentee_id, score, i) GROUP BY row_) AS e ON e.row_ = r.n"
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
    " r.ranking_version, r.proposal_id, coalesce(e.mentor_ids, '{}')"
    " FROM unnest($2::text[], $3::int[], $4::text[], $5::int[], $6::uuid[]) WITH ORDINALITY"
    " AS r(mentee_id, partition, goal_id, ranking_version, proposal_id, n)"
    " LEFT JOIN (SELECT row_, array_agg(mentor_id ORDER BY i) AS mentor_ids"
    " FROM unnest($7::bigint[], $8::text[]) WITH ORDINALITY AS f(row_, mentor_id, i)"
    " GROUP BY row_) AS e ON e.row_ = r.n"
    " ON CONFLICT (tenant_id, mentee_id, goal_id) DO UPDATE SET"
    " ranking_version = EXCLUDED.ranking_version, proposal_id = EXCLUDED.proposal_id,"
    " mentor_ids = EXCLUDED.mentor_ids, partition = EXCLUDED.partition, proposed_at = now()"
)


def columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as columns, the arguments of an `unnest`."""
    return [list(column) for column in zip(*rows, strict=True)]


def numbered(arrays: Sequence[Sequence[tuple[Any, ...]]], width: int) -> list[list[Any]]:
    """Each row's array entries (tuples of `width` values), flat and in order, as columns
    after their row's number (1-based, as WITH ORDINALITY counts)."""
    entries = [(n, *entry) for n, array in enumerate(arrays, 1) for entry in array]
    return columns(entries) if entries else [[] for _ in range(1 + width)]

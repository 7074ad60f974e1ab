"""The erasure scan reads inside binary columns: an id kept only in a bytea column (as the
original MatchProposed bytes of an email are) is found, where a row cast to text shows hex."""

from __future__ import annotations

from services.notifications import bootstrap
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.support.erasure_scan import rows_mentioning


async def test_an_id_only_in_a_binary_column_is_found(database_url: str) -> None:
    pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
    try:
        await apply_migrations(pool, "notifications", bootstrap.MIGRATIONS)
        await pool.execute(
            "INSERT INTO emails (dedupe_key, tenant_id, mentee_id, proposal_id, message_id,"
            " proposal, source_value) VALUES ('k', 'acme', 'u-ada', gen_random_uuid(), 'm',"
            " '{}', $1)",
            b'{"payload": {"mentors": [{"mentor_id": "u-hidden"}]}}',
        )
        as_text = await pool.fetchval("SELECT e::text FROM emails e")
    finally:
        await pool.close()

    assert "u-hidden" not in as_text  # what the scan read before: bytea as hex
    assert len(await rows_mentioning(database_url, ["u-hidden"])) == 1

"""`mentorlink-profile import-csv`, run as integrators run it: a per-row error report, and a
re-run that changes nothing."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from services.profile.entrypoints.csv_rows import COLUMNS
from tests.support.people import csv_profile_row

CLI = (sys.executable, "-m", "services.profile", "import-csv")
INVALID = {
    "u-bad-level": {"skills": "kubernetes:9"},
    "u-bad-email": {"email": "not-an-address"},
    "u-bad-role": {"roles": "boss"},
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def import_csv(path: Path, database_url: str, report: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_TOPIC_PREFIX": "csv."}
    return subprocess.run(
        [*CLI, str(path), "--tenant", "acme", "--errors", str(report), "--batch-size", "7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def counts(database_url: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM profile.profiles"),
            await conn.fetchval("SELECT max(version) FROM profile.profiles"),
            await conn.fetchval("SELECT count(*) FROM profile.outbox"),
        )
    finally:
        await conn.close()


async def test_import_reports_bad_rows_and_a_rerun_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    rows = [csv_profile_row(f"u-{n:03}") for n in range(40)]
    rows += [csv_profile_row(user, **cells) for user, cells in INVALID.items()]
    source, report = tmp_path / "hris.csv", tmp_path / "errors.csv"
    write_csv(source, rows)

    first = import_csv(source, database_url, report)
    assert first.returncode == 1, first.stderr
    assert first.stdout.strip() == "rows=43 created=40 updated=0 unchanged=0 failed=3"
    with report.open(newline="") as errors:
        reported = list(csv.DictReader(errors))
    assert {(r["user_id"], r["field"]) for r in reported} == {
        ("u-bad-level", "skills.0.level"),
        ("u-bad-email", "email"),
        ("u-bad-role", "roles.0"),
    }
    assert [r["line"] for r in reported] == ["42", "43", "44"]
    assert await counts(database_url) == (40, 1, 40)

    again = import_csv(source, database_url, report)
    assert again.stdout.strip() == "rows=43 created=0 updated=0 unchanged=40 failed=3"
    assert await counts(database_url) == (40, 1, 40)  # no new version, no new event

    rows[0] = csv_profile_row("u-000", display_name="Renamed")
    write_csv(source, rows[:40])
    changed = import_csv(source, database_url, report)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "rows=40 created=0 updated=1 unchanged=39 failed=0"
    assert await counts(database_url) == (40, 2, 41)


def test_a_file_with_an_unknown_column_is_refused_before_any_row(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("user_id,roles,display_name,salary\nu-1,mentor,Grace,100\n")
    result = import_csv(source, database_url, tmp_path / "r.csv")
    assert result.returncode == 2
    assert "unknown column 'salary'" in result.stderr

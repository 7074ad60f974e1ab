"""Measure `mentorlink-profile import-csv` on a generated HRIS export (a script, not a test).

uv run python scripts/bench_profile_import.py [--rows 100000]

Writes the CSV row by row, starts PostgreSQL (DATABASE_URL, else embedded), imports it twice
and prints wall time and peak RSS of each run; the second run must change nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from devenv import infra
from services.profile.entrypoints.csv_rows import COLUMNS

SKILLS = ["kubernetes", "python", "go", "sql", "product management", "design", "sales", "data"]
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC"]


def write_export(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n in range(rows):
            mentor = n % 3 == 0
            skills = ";".join(
                f"{SKILLS[(n + i) % len(SKILLS)]}:{1 + (n + i) % 5}" for i in range(3)
            )
            cells = {
                "user_id": f"emp-{n:07}",
                "roles": "mentor" if mentor else "mentee",
                "display_name": f"Employee {n}",
                "email": f"emp{n}@example.org",
                "headline": "Engineer" if mentor else "",
                "skills": skills,
                "years_experience": str(n % 30),
                "industries": "fintech;retail" if n % 2 else "health",
                "functions": "engineering",
                "languages": "en;de" if n % 4 else "en",
                "timezone": ZONES[n % len(ZONES)],
                "mentoring_styles": "coaching",
                "capacity": "2" if mentor else "0",
                "availability": "0 17:00-19:00" if mentor else "",
                "opted_in": "true",
                "manager_id": f"emp-{n // 10:07}" if n >= 10 else "",
                "background": "career path=career changer" if n % 5 == 0 else "",
            }
            writer.writerow([cells[c] for c in COLUMNS])


def run_import(path: Path, database_url: str) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and the summary line of one import process."""
    env = {**os.environ, "DATABASE_URL": database_url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.profile", "import-csv", str(path), "--tenant", "bench"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed: {output}")
    return elapsed, usage.ru_maxrss, output.strip()


async def create_database(server_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name


async def outbox_rows(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM profile.outbox"))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder, infra.postgres() as postgres:
        export = Path(folder) / "hris.csv"
        write_export(export, rows)
        size_mb = export.stat().st_size / 1e6
        database_url = postgres.database(asyncio.run(create_database(postgres.url)))
        print(f"rows={rows} file_mb={size_mb:.1f} postgres={postgres.kind}", flush=True)
        for label in ("first", "rerun"):
            seconds, rss_kib, summary = run_import(export, database_url)
            events = asyncio.run(outbox_rows(database_url))
            print(
                f"{label}: {summary} seconds={seconds:.1f} rows_per_s={rows / seconds:.0f} "
                f"peak_rss_mb={rss_kib / 1024:.0f} outbox_rows={events}",
                flush=True,
            )


if __name__ == "__main__":
    main()

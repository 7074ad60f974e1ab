"""Stream a CSV export of profiles into the profile service, batch by batch.

Memory stays flat whatever the file size: rows are read one at a time and written in batches,
each in one transaction. Unchanged rows change nothing, so a re-run is a no-op.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from services.profile.domain.commands import UpsertProfile
from services.profile.entrypoints.csv_rows import (
    EXTRA_CELLS,
    RowInvalid,
    header_problems,
    parse_row,
)
from services.profile.service_layer.handlers import import_profiles
from services.profile.service_layer.unit_of_work import UnitOfWork

REPORT_COLUMNS = ("line", "user_id", "field", "message")


class BadHeader(Exception):  # noqa: N818 - reads as a verdict
    pass


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"rows={self.rows} created={self.created} updated={self.updated} "
            f"unchanged={self.unchanged} failed={self.failed}"
        )


class _ErrorReport:
    def __init__(self, out: TextIO | None) -> None:
        self._writer = csv.writer(out) if out else None
        if self._writer:
            self._writer.writerow(REPORT_COLUMNS)

    def add(self, line: int, user_id: str, error: RowInvalid) -> None:
        if self._writer:
            for cell in error.errors:
                self._writer.writerow((line, user_id, cell.field, cell.message))


async def import_csv(
    path: Path,
    tenant_id: str,
    uow: UnitOfWork,
    errors_out: TextIO | None = None,
    on_progress: Callable[[int], None] = lambda _bytes: None,
    batch_size: int = 500,
) -> ImportSummary:
    """Import every valid row; report each invalid one (line, user id, field, message)."""
    summary = ImportSummary()
    report = _ErrorReport(errors_out)
    correlation = f"import-{uuid.uuid4().hex[:12]}"
    batch: list[UpsertProfile] = []

    async def flush() -> None:
        counts = await import_profiles(tenant_id, batch, uow)
        summary.created += counts.created
        summary.updated += counts.updated
        summary.unchanged += counts.unchanged
        batch.clear()

    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text, restkey=EXTRA_CELLS)
        if problems := header_problems(reader.fieldnames):
            raise BadHeader("; ".join(problems))
        for row in reader:
            summary.rows += 1
            try:
                user_id, fields = parse_row(row)
            except RowInvalid as exc:
                summary.failed += 1
                report.add(reader.line_num, str(row.get("user_id") or "")[:64], exc)
                continue
            batch.append(UpsertProfile(tenant_id, user_id, fields, None, correlation))
            if len(batch) >= batch_size:
                await flush()
                on_progress(raw.tell())
        if batch:
            await flush()
        on_progress(raw.tell())
    return summary

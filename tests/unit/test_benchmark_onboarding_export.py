"""The onboarding benchmark's export says what the population holds, in the import's format."""

from __future__ import annotations

import csv
from pathlib import Path

from benchmarks import wire
from benchmarks.onboarding_data import company, write_export
from services.profile.entrypoints.csv_rows import header_problems, parse_row


def test_every_row_of_the_export_imports_as_the_persons_profile(tmp_path: Path) -> None:
    mentors, mentees = company(seed=3, mentors=20, mentees=80)
    people = [*mentors, *(mentee for mentee, _ in mentees)]
    export = tmp_path / "people.csv"
    write_export(export, people)
    with export.open(newline="", encoding="utf-8") as rows:
        reader = csv.DictReader(rows)
        assert header_problems(reader.fieldnames) == []
        imported = [parse_row(row) for row in reader]
    assert [user_id for user_id, _ in imported] == [p.user_id for p in people]
    for (_, fields), person in zip(imported, people, strict=True):
        assert fields == wire.profile_fields(person)

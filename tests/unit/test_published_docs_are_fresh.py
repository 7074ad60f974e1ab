"""docs/schemas and docs/asyncapi are generated from the code and must match it."""

from __future__ import annotations

from scripts.export_contracts import DOCS, expected_files

REGENERATE = "run `uv run python scripts/export_contracts.py` and commit the result"


def test_every_published_contract_file_matches_the_code() -> None:
    expected = expected_files()
    assert expected, "export_contracts produced no files"
    missing = sorted(str(p.relative_to(DOCS.parent)) for p in expected if not p.exists())
    stale = sorted(
        str(p.relative_to(DOCS.parent))
        for p, text in expected.items()
        if p.exists() and p.read_text() != text
    )
    assert not missing and not stale, f"missing: {missing}; stale: {stale}; {REGENERATE}"


def test_no_orphaned_files_are_published() -> None:
    expected = set(expected_files())
    on_disk = {p for folder in ("schemas", "asyncapi") for p in (DOCS / folder).glob("*.json")}
    orphans = sorted(str(p.relative_to(DOCS.parent)) for p in on_disk - expected)
    assert not orphans, (
        f"no longer generated from the code: {orphans}; delete them and {REGENERATE}"
    )

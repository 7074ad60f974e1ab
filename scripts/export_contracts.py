"""Regenerate docs/schemas/*.json and docs/asyncapi/*.json from the code.

uv run python scripts/export_contracts.py          # write
uv run python scripts/export_contracts.py --check  # exit 1 when a file is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.contracts.schemas import event_schemas, render
from shared.settings import KafkaSettings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _brokers(kafka: KafkaSettings) -> dict[str, KafkaBroker]:
    from services.matching.entrypoints.asyncapi import document_broker as matching
    from services.notifications.entrypoints.asyncapi import document_broker as notifications
    from services.profile.entrypoints.asyncapi import document_broker as profile

    return {
        "profile": profile(kafka),
        "matching": matching(kafka),
        "notifications": notifications(kafka),
    }


def expected_files() -> dict[Path, str]:
    files = {
        DOCS / "schemas" / f"{name}.json": render(schema)
        for name, schema in event_schemas().items()
    }
    kafka = KafkaSettings(bootstrap_servers="kafka:9092", topic_prefix="mentorlink.")
    for service, broker in _brokers(kafka).items():
        spec = AsyncAPI(broker, title=f"Mentorlink {service}", version="1").to_specification()
        document: dict[str, Any] = json.loads(spec.to_json())
        files[DOCS / "asyncapi" / f"{service}.json"] = (
            json.dumps(document, indent=2, sort_keys=True) + "\n"
        )
    return files


def main(argv: list[str]) -> int:
    stale = [
        path
        for path, text in expected_files().items()
        if not path.exists() or path.read_text() != text
    ]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path.relative_to(DOCS.parent)}")
        return 1 if stale else 0
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(expected_files())} files under docs/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

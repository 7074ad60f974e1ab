"""JSON Schema of every event, as published in docs/schemas/ (a test keeps them fresh)."""

from __future__ import annotations

import json
from typing import Any

from shared.contracts.topics import TOPICS


def event_schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for topic in TOPICS:
        for event in topic.events:
            schema = event.model_json_schema(mode="validation")
            schema["$id"] = f"https://mentorlink.dev/schemas/{event.__name__}.json"
            schema["x-topic"] = topic.name
            schema["x-key"] = topic.key
            schemas[event.__name__] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"

"""Builders of realistic profile and goal bodies for tests."""

from __future__ import annotations

from typing import Any


def mentor_body(name: str = "Grace Hopper", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "roles": ["mentor"],
        "display_name": name,
        "email": "mentor@example.org",
        "headline": "Principal engineer, platform",
        "skills": [{"name": "kubernetes", "level": 5}, {"name": "go", "level": 4}],
        "years_experience": 15,
        "industries": ["fintech"],
        "functions": ["engineering"],
        "languages": ["en"],
        "timezone": "Europe/Berlin",
        "mentoring_styles": ["coaching"],
        "capacity": 3,
    }
    body.update(overrides)
    return body


def mentee_body(
    name: str = "Ada Lovelace", email: str = "mentee@example.org", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "roles": ["mentee"],
        "display_name": name,
        "email": email,
        "skills": [{"name": "python", "level": 3}],
        "years_experience": 3,
        "industries": ["fintech"],
        "languages": ["en"],
        "timezone": "Europe/London",
        "mentoring_styles": ["coaching"],
    }
    body.update(overrides)
    return body


def goal_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "goal_id": "g1",
        "statement": "Lead our migration to Kubernetes within six months",
        "target_skills": ["kubernetes"],
        "timeframe_months": 6,
    }
    body.update(overrides)
    return body

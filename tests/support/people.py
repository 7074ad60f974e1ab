"""Builders of realistic profile and goal bodies for tests."""

from __future__ import annotations

import uuid
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


def ingress_upsert(user_id: str, tenant: str, **profile: Any) -> dict[str, Any]:
    """An `UpsertProfile` ingress command, as an integrator would publish it."""
    body = profile.pop("body", None) or mentor_body(**profile)
    return {
        "command_type": "UpsertProfile",
        "command_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "user_id": user_id,
        "profile": body,
    }


def ingress_set_goal(user_id: str, tenant: str, **goal: Any) -> dict[str, Any]:
    return {
        "command_type": "SetGoal",
        "command_id": str(uuid.uuid4()),
        "tenant_id": tenant,
        "user_id": user_id,
        "goal": goal_body(**goal),
    }


def csv_profile_row(user_id: str, **cells: str) -> dict[str, str]:
    """One row of the CSV import format (see docs/integrators.md)."""
    row = {
        "user_id": user_id,
        "roles": "mentor",
        "display_name": f"Mentor {user_id}",
        "email": f"{user_id}@example.org",
        "skills": "kubernetes:4;python:3",
        "years_experience": "12",
        "industries": "fintech",
        "languages": "en",
        "timezone": "Europe/Berlin",
        "capacity": "2",
    }
    row.update(cells)
    return row

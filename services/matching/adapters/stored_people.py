"""People and goals as matching stores them: JSON text in PostgreSQL, read back on restore."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable
from dataclasses import MISSING, asdict, fields
from typing import Any

import orjson

from services.matching.domain.people import (
    Goal,
    Person,
    interned_names,
    shared_background,
    shared_musts,
    shared_names,
    shared_weights,
)


def person_to_json(person: Person) -> str:
    raw = asdict(person)
    # The 168-bit week also as hex text, which orjson reads exactly (it reads integers past
    # 64 bits as floats); "week" stays a number for instances that predate "week_hex".
    raw["week_hex"] = f"{person.week:x}"
    return json.dumps(raw, separators=(",", ":"))


def person_from_json(text: str) -> Person:
    raw = orjson.loads(text)
    week_hex = raw.pop("week_hex", None)
    if week_hex is not None:
        raw["week"] = int(week_hex, 16)
    elif isinstance(raw.get("week"), float):  # written before "week_hex": read it exactly
        raw = json.loads(text)
    for name in ("industries", "functions", "languages", "styles"):
        raw[name] = shared_names(raw[name])
    raw["user_id"] = sys.intern(raw["user_id"])
    raw["skills"] = {sys.intern(k): v for k, v in raw["skills"].items()}
    raw["background"] = shared_background(raw["background"].items())
    return Person(*in_field_order(Person, raw))


def goal_to_json(goal: Goal) -> str:
    return json.dumps(asdict(goal), separators=(",", ":"))


def goal_from_json(text: str) -> Goal:
    raw = orjson.loads(text)
    raw["skills"] = interned_names(raw["skills"])
    for name in ("industries", "functions", "styles"):
        raw[name] = shared_names(raw[name])
    raw["mentee_id"] = sys.intern(raw["mentee_id"])
    raw["goal_id"] = sys.intern(raw["goal_id"])  # most goals are `default`: one string
    raw["background_preference"] = sys.intern(raw["background_preference"])
    raw["weights"] = shared_weights(raw["weights"])
    if "musts" in raw:  # goals stored before musts have none
        raw["musts"] = shared_musts(raw["musts"])
    return Goal(*in_field_order(Goal, raw))


@functools.cache
def _field_defaults(cls: type) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    specs = fields(cls)
    return tuple(f.name for f in specs), tuple(f.default for f in specs)


def in_field_order(cls: type, raw: dict[str, Any]) -> Iterable[Any]:
    """A parsed object's values as positional arguments, defaults filled in: a restore builds
    half a million people and goals, and keyword arguments cost more because the parser's
    keys are not interned, so each is matched to its parameter by comparing text."""
    names, defaults = _field_defaults(cls)
    if tuple(raw) == names:  # as the *_to_json functions write it
        return raw.values()
    return [
        raw[name] if name in raw or default is MISSING else default
        for name, default in zip(names, defaults, strict=True)
    ]

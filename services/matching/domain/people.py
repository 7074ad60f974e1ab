"""What matching knows of people and goals: only what scoring needs, no contact details."""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.contracts.goals import GoalSetPayload
from shared.contracts.profiles import ProfilePayload, WeeklySlot

CRITERIA = (
    "skills",
    "experience",
    "industry",
    "function",
    "background",
    "style",
    "language",
    "availability",
)
HOURS_PER_WEEK = 168
# A fixed Monday, so a local weekly slot converts to UTC hours the same way on every machine.
_REFERENCE_MONDAY = datetime(2026, 1, 5)


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    version: int
    is_mentor: bool
    is_mentee: bool
    display_name: str
    headline: str | None
    skills: dict[str, int]
    years: int
    industries: tuple[str, ...]
    functions: tuple[str, ...]
    background: dict[str, str]
    languages: tuple[str, ...]
    styles: tuple[str, ...]
    capacity: int
    opted_in: bool
    manager_id: str | None
    week: int = 0  # bit h set: available in UTC hour h of the week (0 = Monday 00:00 UTC)
    utc_offset_minutes: int = 0
    seats_taken: int = 0  # mentors: held requests + active relationships, as the profile says


@dataclass(frozen=True, slots=True)
class Goal:
    mentee_id: str
    version: int
    goal_id: str
    skills: tuple[str, ...]
    industries: tuple[str, ...]
    functions: tuple[str, ...]
    background_preference: str
    styles: tuple[str, ...]
    weights: tuple[float, ...] = field(default=(1.0, 0.5, 0.3, 0.3, 0.3, 0.4, 0.5, 0.3))
    # (kind, value) pairs a mentor must hold, kind one of MUST_KINDS (domain/musts.py), sorted
    musts: tuple[tuple[str, str], ...] = ()


# Hundreds of thousands of people name the same few industries, functions, languages and
# styles, hold the same few backgrounds, and keep the default weights: one shared object per
# distinct value instead of one per person. The first SHARED_KEPT distinct values of each kind
# are shared; later ones are not.
SHARED_KEPT = 65_536
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_BACKGROUNDS: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
_WEIGHTS: dict[tuple[float, ...], tuple[float, ...]] = {}


def interned_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names as one shared string each (the tuple is the caller's: goal skills vary a lot)."""
    return tuple(map(sys.intern, names))


def shared_names(names: Iterable[str]) -> tuple[str, ...]:
    """Names as one shared tuple of shared strings."""
    key = tuple(names)
    shared = _NAMES.get(key)
    if shared is None:
        shared = interned_names(key)
        if len(_NAMES) < SHARED_KEPT:
            _NAMES[shared] = shared
    return shared


def shared_background(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A background (dimension -> value) as one shared dict: never changed once made."""
    key = tuple(pairs)
    shared = _BACKGROUNDS.get(key)
    if shared is None:
        shared = {sys.intern(k): sys.intern(v) for k, v in key}
        if len(_BACKGROUNDS) < SHARED_KEPT:
            _BACKGROUNDS[key] = shared
    return shared


def shared_weights(weights: Iterable[float]) -> tuple[float, ...]:
    """A goal's weights (eight floats and their tuple) as one shared tuple."""
    key = tuple(weights)
    shared = _WEIGHTS.get(key)
    if shared is None:
        shared = key
        if len(_WEIGHTS) < SHARED_KEPT:
            _WEIGHTS[key] = key
    return shared


def shared_musts(pairs: Iterable[Iterable[str]]) -> tuple[tuple[str, str], ...]:
    """A goal's musts, sorted, as interned strings (most goals have none: one shared ())."""
    found = sorted((sys.intern(kind), sys.intern(value)) for kind, value in pairs)
    return tuple(found) if found else ()


def _utc_hours(slot: WeeklySlot, zone: ZoneInfo) -> range:
    day = _REFERENCE_MONDAY + timedelta(days=slot.weekday)
    start = datetime.combine(day, slot.start, zone)
    end = datetime.combine(day, slot.end if slot.end != time(0) else time(23, 59), zone)
    monday_utc = _REFERENCE_MONDAY.replace(tzinfo=ZoneInfo("UTC"))
    first = int((start - monday_utc).total_seconds() // 3600)
    last = int((end - monday_utc).total_seconds() - 1) // 3600
    return range(first, last + 1)


def week_mask(slots: list[WeeklySlot], timezone: str) -> int:
    zone = ZoneInfo(timezone)
    mask = 0
    for slot in slots:
        for hour in _utc_hours(slot, zone):
            mask |= 1 << (hour % HOURS_PER_WEEK)
    return mask


def utc_offset_minutes(timezone: str) -> int:
    offset = datetime.combine(_REFERENCE_MONDAY, time(12), ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def person_from_profile(profile: ProfilePayload) -> Person:
    return Person(
        user_id=sys.intern(profile.user_id),
        version=profile.version,
        is_mentor=profile.is_mentor,
        is_mentee=profile.is_mentee,
        display_name=profile.display_name,
        headline=profile.headline,
        skills={sys.intern(s.name): s.level for s in profile.skills},
        years=profile.years_experience,
        industries=shared_names(sorted(set(profile.industries))),
        functions=shared_names(sorted(set(profile.functions))),
        background=shared_background(sorted(profile.background.items())),
        languages=shared_names(sorted(set(profile.languages))),
        styles=shared_names(sorted({str(s) for s in profile.mentoring_styles})),
        capacity=profile.capacity,
        opted_in=profile.opted_in,
        manager_id=profile.manager_id,
        week=week_mask(profile.availability, profile.timezone),
        utc_offset_minutes=utc_offset_minutes(profile.timezone),
        seats_taken=profile.seats_taken,
    )


def goal_from_payload(goal: GoalSetPayload) -> Goal:
    weights = goal.criteria
    return Goal(
        mentee_id=sys.intern(goal.mentee_id),
        version=goal.version,
        goal_id=sys.intern(goal.goal_id),
        skills=interned_names(dict.fromkeys(goal.target_skills)),
        industries=shared_names(sorted(set(goal.target_industries))),
        functions=shared_names(sorted(set(goal.target_functions))),
        background_preference=sys.intern(goal.background_preference),
        styles=shared_names(sorted({str(s) for s in goal.preferred_styles})),
        weights=shared_weights(float(getattr(weights, name)) for name in CRITERIA),
        musts=shared_musts(goal.musts.pairs()),
    )


# Room for every mentor of a large tenant and the goals seen lately (a search or a restore
# asks for one goal's several times in a row, and the musts' alternatives for every mentor's),
# not for every goal: that would hold an entry per goal for good.
@functools.lru_cache(maxsize=1 << 17)
def tiebreak(user_id: str) -> int:
    """A stable pseudo-random order for equal scores: deterministic, and spreads exposure."""
    return int.from_bytes(hashlib.blake2b(user_id.encode(), digest_size=7).digest(), "big")

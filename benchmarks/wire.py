"""The benchmark population (tests.support.population) as wire contracts: what integrators send.

ProfileFields / GoalFields for the API and the ingress topic; ProfileUpdated / GoalSet for the
system benchmark, which publishes the profile service's events itself.
"""

from __future__ import annotations

import random
from datetime import time

from services.matching.domain.people import Goal, Person
from shared.contracts.goals import GoalFields, GoalSet, GoalSetPayload
from shared.contracts.profiles import ProfileFields, ProfilePayload, ProfileUpdated, WeeklySlot
from tests.support import population

MAIL_DOMAIN = "bench.example.org"
MAX_SLOTS = 28


def email_address(user_id: str) -> str:
    """Everyone has an address, as in a real directory: a mentor without one could not be
    asked for an introduction (the profile service refuses such a request)."""
    return f"{user_id}@{MAIL_DOMAIN}"


def weekly_slots(week: int) -> list[WeeklySlot]:
    """The population's UTC hour bitmask as weekly slots in UTC (runs of hours, at most 28)."""
    slots: list[WeeklySlot] = []
    for day in range(7):
        hour = 0
        while hour < 24 and len(slots) < MAX_SLOTS:
            if not week >> (day * 24 + hour) & 1:
                hour += 1
                continue
            start = hour
            while hour < 24 and week >> (day * 24 + hour) & 1:
                hour += 1
            end = time(hour) if hour < 24 else time(23, 59)
            slots.append(WeeklySlot(weekday=day, start=time(start), end=end))
    return slots


def profile_fields(person: Person) -> ProfileFields:
    return ProfileFields(
        roles=["mentor"] if person.is_mentor else ["mentee"],
        display_name=person.user_id,
        email=email_address(person.user_id),
        skills=[{"name": name, "level": level} for name, level in person.skills.items()],
        years_experience=person.years,
        industries=list(person.industries),
        functions=list(person.functions),
        background=person.background,
        languages=list(person.languages),
        timezone="UTC",
        mentoring_styles=list(person.styles),
        capacity=person.capacity,
        availability=weekly_slots(person.week),
    )


def goal_fields(goal: Goal) -> GoalFields:
    return GoalFields(
        goal_id=goal.goal_id,
        statement=f"Grow in {', '.join(goal.skills)}",
        target_skills=list(goal.skills),
        timeframe_months=6,
        target_industries=list(goal.industries),
        target_functions=list(goal.functions),
        background_preference=goal.background_preference,
        preferred_styles=list(goal.styles),
    )


def mentor(rng: random.Random, user_id: str) -> ProfileFields:
    return profile_fields(population.mentor(rng, user_id))


def mentee(rng: random.Random, user_id: str) -> ProfileFields:
    return profile_fields(population.mentee(rng, user_id))


def goal(rng: random.Random, mentee_id: str, version: int) -> GoalFields:
    return goal_fields(population.goal(rng, mentee_id, version))


def profile_updated(
    tenant: str, user_id: str, fields: ProfileFields, version: int
) -> ProfileUpdated:
    payload = ProfilePayload(**fields.model_dump(), user_id=user_id, version=version)
    return ProfileUpdated(tenant_id=tenant, key=user_id, payload=payload)


def goal_set(
    tenant: str, mentee_id: str, fields: GoalFields, version: int, correlation_id: str
) -> GoalSet:
    payload = GoalSetPayload(**fields.model_dump(), mentee_id=mentee_id, version=version)
    return GoalSet(tenant_id=tenant, key=mentee_id, payload=payload, correlation_id=correlation_id)

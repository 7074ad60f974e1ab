"""The onboarding benchmark's company: the seeded population as an HRIS export (the CSV format
of `mentorlink-profile import-csv`), its goals as ingress `SetGoal` commands, and the mentees
that the matching engine, given the same people, ranks with at least one mentor."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from benchmarks import wire
from benchmarks.measure import add_mentee
from services.matching.adapters.warm_up import compile_kernels
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal, Person
from services.matching.service_layer.search_threads import helper_threads
from services.profile.entrypoints.csv_rows import COLUMNS
from shared.contracts.ingress import SetGoal
from shared.contracts.profiles import ProfileFields
from tests.support import population


def company(
    seed: int, mentors: int, mentees: int
) -> tuple[list[Person], list[tuple[Person, Goal]]]:
    rng = random.Random(seed)
    people = [population.mentor(rng, f"mentor-{i:06d}") for i in range(mentors)]
    with_goals = []
    for index in range(mentees):
        mentee = population.mentee(rng, f"mentee-{index:07d}")
        with_goals.append((mentee, population.goal(rng, mentee.user_id)))
    return people, with_goals


def _joined(values: list[str]) -> str:
    return ";".join(values)


def csv_row(fields: ProfileFields, user_id: str) -> list[str]:
    cells = {
        "user_id": user_id,
        "roles": _joined(list(fields.roles)),
        "display_name": fields.display_name,
        "email": str(fields.email),
        "headline": "",
        "skills": _joined([f"{s.name}:{s.level}" for s in fields.skills]),
        "years_experience": str(fields.years_experience),
        "industries": _joined(list(fields.industries)),
        "functions": _joined(list(fields.functions)),
        "languages": _joined(list(fields.languages)),
        "timezone": fields.timezone,
        "mentoring_styles": _joined(list(fields.mentoring_styles)),
        "capacity": str(fields.capacity),
        "availability": _joined(
            [f"{s.weekday} {s.start:%H:%M}-{s.end:%H:%M}" for s in fields.availability]
        ),
        "opted_in": "true",
        "manager_id": "",
        "background": _joined([f"{k}={v}" for k, v in fields.background.items()]),
    }
    return [cells[column] for column in COLUMNS]


def write_export(path: Path, people: list[Person]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for person in people:
            writer.writerow(csv_row(wire.profile_fields(person), person.user_id))


def set_goal_command(tenant: str, goal: Goal) -> SetGoal:
    return SetGoal(tenant_id=tenant, user_id=goal.mentee_id, goal=wire.goal_fields(goal))


def expected_matched(mentors: list[Person], mentees: list[tuple[Person, Goal]]) -> set[str]:
    """Mentees the engine alone ranks with a mentor after every person and goal is put in."""
    compile_kernels()
    engine = TenantEngine(EngineConfig(), helper_threads())
    for mentor in mentors:
        engine.put_mentor_data(mentor)
    for mentee, goal in mentees:
        add_mentee(engine, mentee, goal)
    return {mentee_id for mentee_id, ranking in engine.rankings.by_mentee.items() if ranking}

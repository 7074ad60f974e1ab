"""The inputs of the notifications benchmark, as matching and the profile service would publish
them: each mentee's profile, goal and MatchProposed, made by one matching engine from the
benchmark population (tests/support/population.py), so the emails carry real rankings and
reasons. Recorded once per size and seed under `.cache/bench-notifications/`."""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks import wire
from benchmarks.measure import add_mentee, update_mentor
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.engine.proposed import proposed
from services.matching.service_layer.causes import FIRST_FOR_GOAL
from services.matching.service_layer.proposals import proposed_mentors
from services.matching.service_layer.search_threads import helper_threads
from shared.contracts.matches import MatchProposed, MatchProposedPayload
from tests.support import population

TENANT = "bench"
GROUP = 200
CACHE = Path(".cache/bench-notifications").resolve()


@dataclass(frozen=True)
class Recorded:
    """Each list holds serialised events, in the order the benchmark feeds them."""

    profiles: list[bytes]
    goals: list[bytes]
    proposals: list[bytes]


def recorded(mentors: int, mentees: int, seed: int) -> Recorded:
    path = CACHE / f"events-{mentors}-{mentees}-{seed}.json.gz"
    if not path.exists():
        made = _record(mentors, mentees, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        lists = {
            k: [v.decode() for v in getattr(made, k)] for k in ("profiles", "goals", "proposals")
        }
        path.write_bytes(gzip.compress(json.dumps(lists).encode()))
    lists = json.loads(gzip.decompress(path.read_bytes()))
    return Recorded(**{k: [v.encode() for v in values] for k, values in lists.items()})


def _record(mentors: int, mentees: int, seed: int) -> Recorded:
    """Every GROUP mentees meet the mentors afresh (a new engine), so the proposals name as
    many mentors as a system benchmark window's first goals get, rather than the leftovers
    of mentors whose exposure thousands of earlier mentees spent."""
    rng = random.Random(seed)
    drawn = [population.mentor(rng, f"mentor-{index:05d}") for index in range(mentors)]
    people = [population.mentee(rng, f"mentee-{index:06d}") for index in range(mentees)]
    goals = [population.goal(rng, person.user_id) for person in people]
    proposals = []
    for index, (person, goal) in enumerate(zip(people, goals, strict=True)):
        if index % GROUP == 0:
            engine = TenantEngine(EngineConfig(), helper_threads())
            for mentor in drawn:
                update_mentor(engine, mentor)
        add_mentee(engine, person, goal)  # the goal's first ranking, as matching proposes it
        proposals.append(_proposal(engine, goal.mentee_id).to_bytes())
    profiles = [
        wire.profile_updated(TENANT, p.user_id, wire.profile_fields(p), 1).to_bytes()
        for p in people
    ]
    goal_events = [
        wire.goal_set(TENANT, g.mentee_id, wire.goal_fields(g), 1, f"c-{g.mentee_id}").to_bytes()
        for g in goals
    ]
    return Recorded(profiles, goal_events, proposals)


def _proposal(engine: TenantEngine, key: str) -> MatchProposed:
    """What matching publishes for a goal's first ranking (service_layer/proposals.py)."""
    payload = MatchProposedPayload.model_validate(
        {
            "mentee_id": key,
            "goal_id": "default",
            "proposal_id": random.Random(key).randbytes(16).hex(),
            "ranking_version": 1,
            "mentors": proposed_mentors(engine, proposed(engine, key), key),
            "awaited": True,
            "cause": FIRST_FOR_GOAL,
        }
    )
    return MatchProposed(tenant_id=TENANT, key=key, payload=payload, correlation_id=f"c-{key}")

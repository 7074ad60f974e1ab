"""The waiting list (issue 25 item 5): a goal with no mentor to propose is counted as waiting,
in the engine and in the `mentorlink_goals_waiting` metric, and leaves the list with the
proposal the first suitable mentor brings."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from services.matching.domain.engine.tenant import waiting_goals
from services.matching.entrypoints.waiting import mentors_refresher, waiting_refresher
from tests.unit.builders import TENANT, mentee, mentor
from tests.unit.matching.cluster import Cluster, sk
from tests.unit.matching.test_handlers import goal_set, profile, proposed, run

GO = [{"name": "go", "level": 4}]


def waiting_metric(cluster: Cluster) -> float | None:
    asyncio.run(waiting_refresher(cluster.instances[0])())
    return REGISTRY.get_sample_value("mentorlink_goals_waiting", {"service": "matching"})


def test_a_goal_nobody_can_mentor_waits_until_a_suitable_mentor_appears() -> None:
    waiting = run(profile(mentor("m1", skills=GO)), profile(mentee("x1")), goal_set("x1"))
    assert waiting_goals(waiting.instances[0].engines[TENANT]) == [sk("x1")]
    assert waiting_metric(waiting) == 1
    # the goal's first ranking is empty: the mentee hears that it waits (no dead end)
    assert proposed(waiting, "x1") == [()]
    assert waiting.proposals[-1].payload.goal_id == "g1"

    served = run(
        profile(mentor("m1", skills=GO)),
        profile(mentee("x1")),
        goal_set("x1"),
        profile(mentor("m2")),  # kubernetes, the goal's skill
    )
    assert waiting_goals(served.instances[0].engines[TENANT]) == []
    assert waiting_metric(served) == 0
    assert proposed(served, "x1") == [(), ("m2",)]
    assert served.proposals[-1].payload.awaited  # the mentee was waiting for it


def test_a_goal_paused_by_an_active_relationship_is_not_waiting() -> None:
    cluster = run(profile(mentee("x1")), goal_set("x1"))
    engine = cluster.instances[0].engines[TENANT]
    engine.set_blocks(sk("x1"), engine.roster.partition_of["x1"], (), paused=True)
    assert waiting_goals(engine) == []


def mentors_metric(cluster: Cluster) -> float | None:
    asyncio.run(mentors_refresher(cluster.instances[0])())
    return REGISTRY.get_sample_value("mentorlink_matching_mentors", {"service": "matching"})


def test_the_mentors_metric_counts_the_mentors_a_goal_can_be_ranked_against() -> None:
    assert mentors_metric(run(profile(mentee("x1")))) == 0
    two = run(profile(mentor("m1", skills=GO)), profile(mentor("m2")), profile(mentee("x1")))
    assert mentors_metric(two) == 2

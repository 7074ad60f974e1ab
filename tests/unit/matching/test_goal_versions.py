"""Several goals per mentee, as matching reads the goals topic: recorded v1 traffic, v1 after
v2, and GoalClosed (docs/adr/0012-several-goals-per-mentee.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.contracts.goals import DEFAULT_GOAL_ID, GoalClosed, GoalClosedPayload, GoalSet
from shared.contracts.topics import GOAL_EVENT
from tests.unit.builders import TENANT, goal, mentee, mentor
from tests.unit.matching.cluster import sk
from tests.unit.matching.test_handlers import goal_set, profile, run

# GoalSet v1 as the profile service published it before several goals (recorded from that
# code, byte for byte): two goals of one mentee, the second replacing the first.
RECORDED_V1 = Path(__file__).parents[2] / "fixtures" / "goalset-v1.jsonl"
KUBERNETES = [{"name": "kubernetes", "level": 5}]
LEADERSHIP = [{"name": "leadership", "level": 5}]


def recorded() -> list[Any]:
    return [GOAL_EVENT.validate_json(line) for line in RECORDED_V1.read_text().splitlines()]


def v1(mentee_id: str, version: int, **fields: Any) -> GoalSet:
    """A GoalSet as a v1 producer sends it (its own goal id, no horizon)."""
    body = goal_set(mentee_id, version, **fields).model_dump(mode="json")
    body["schema_version"] = 1
    body["payload"].pop("horizon")
    return GoalSet.model_validate(body)


def closed(mentee_id: str, goal_id: str, version: int) -> GoalClosed:
    payload = GoalClosedPayload(
        mentee_id=mentee_id, goal_id=goal_id, version=version, reason="abandoned"
    )
    return GoalClosed(tenant_id=TENANT, key=mentee_id, payload=payload)


def test_recorded_v1_traffic_is_read_as_the_default_goal_in_version_order() -> None:
    first, second = recorded()
    assert (first.schema_version, first.payload.goal_id) == (1, DEFAULT_GOAL_ID)
    assert first.payload.horizon == "career"
    cluster = run(
        profile(mentor("m1", skills=KUBERNETES)),
        profile(mentor("m2", skills=LEADERSHIP)),
        profile(mentee("ada")),
        first,
        second,
        first,  # a redelivery of the older version: nothing changes
    )
    answers = [p.payload for p in cluster.proposals if p.payload.mentee_id == "ada"]
    assert [(a.goal_id, {m.mentor_id for m in a.mentors}) for a in answers] == [
        (DEFAULT_GOAL_ID, {"m1"}),
        (DEFAULT_GOAL_ID, {"m1", "m2"}),
    ]
    assert cluster.rankings(TENANT)["ada"] != ()


def test_a_v1_goal_arriving_after_v2_is_ordered_by_version() -> None:
    cluster = run(
        profile(mentor("m1", skills=KUBERNETES)),
        profile(mentor("m2", skills=LEADERSHIP)),
        profile(mentee("ada")),
        goal_set("ada", 3, goal_id=DEFAULT_GOAL_ID, target_skills=["leadership"]),
        v1("ada", 2, target_skills=["kubernetes"]),  # older: ignored
    )
    assert cluster.rankings(TENANT)["ada"] == ("m2",)
    cluster = run(
        profile(mentor("m1", skills=KUBERNETES)),
        profile(mentor("m2", skills=LEADERSHIP)),
        profile(mentee("ada")),
        goal_set("ada", 3, goal_id=DEFAULT_GOAL_ID, target_skills=["leadership"]),
        v1("ada", 4, target_skills=["kubernetes"]),  # newer: nothing lost
    )
    assert cluster.rankings(TENANT)["ada"] == ("m1",)
    assert cluster.proposals[-1].payload.goal_id == DEFAULT_GOAL_ID


def test_a_closed_goal_drops_its_ranking_quietly_and_stays_closed() -> None:
    cluster = run(
        profile(mentor("m1", skills=KUBERNETES)),
        profile(mentee("ada")),
        goal_set("ada", 1, goal_id="side"),
        closed("ada", "side", 2),
        goal_set("ada", 1, goal_id="side"),  # replayed from before the close
    )
    assert sk("ada", "side") not in cluster.rankings(TENANT)
    published = [p for p in cluster.proposals if p.payload.mentee_id == "ada"]
    assert len(published) == 1  # the close sent nothing
    assert cluster.stored_proposals(TENANT).get(sk("ada", "side"), set()) == set()


def test_a_closed_goal_set_again_opens_again_and_other_goals_ignore_the_close() -> None:
    cluster = run(
        profile(mentor("m1", skills=KUBERNETES)),
        profile(mentee("ada")),
        goal_set("ada", 1, goal_id="side"),
        closed("ada", "other", 2),  # not a goal matching holds: nothing
    )
    assert cluster.rankings(TENANT) == {sk("ada", "side"): ("m1",)}
    cluster = run(
        profile(mentor("m1", skills=KUBERNETES)),
        profile(mentee("ada")),
        goal_set("ada", 1, goal_id="side"),
        closed("ada", "side", 2),
        goal_set("ada", 3, goal_id="side"),
    )
    assert cluster.rankings(TENANT) == {sk("ada", "side"): ("m1",)}


def test_the_builders_goal_is_a_v2_goal() -> None:
    assert goal("x1").horizon == "career" and goal_set("x1").schema_version == 2

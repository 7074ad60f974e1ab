"""Matching ranks every open goal of a mentee apart (ADR 0012, issue 25): one ranking and one
MatchProposed per (mentee, goal), each with its own growing ranking_version; the mentee's
profile is shared by their goals; a mentor's seats are shared across them; closing one goal
leaves the others; the pair rules of ADR 0012 (per person, per goal)."""

from __future__ import annotations

from typing import Any

from shared.contracts.feedback import MatchDeclined
from shared.contracts.goals import GoalClosed, GoalClosedPayload
from shared.contracts.matches import MatchProposed
from tests.unit.builders import TENANT, mentee, mentor
from tests.unit.matching.cluster import Cluster, sk
from tests.unit.matching.test_handlers import feedback, goal_set, profile, run
from tests.unit.matching.test_lifecycle import ended, requested, started

KUBERNETES = [{"name": "kubernetes", "level": 5}]
GO = [{"name": "go", "level": 5}]
PEOPLE = [
    profile(mentor("m1", skills=KUBERNETES, capacity=2)),
    profile(mentor("m2", skills=GO, capacity=2)),
    profile(mentee("x1")),
]


def career_and_project(version: int = 1) -> list[Any]:
    return [
        goal_set("x1", version, goal_id="career", target_skills=["kubernetes"]),
        goal_set("x1", version + 1, goal_id="project", target_skills=["go"]),
    ]


def sent(cluster: Cluster, goal_id: str) -> list[MatchProposed]:
    return [p for p in cluster.proposals if p.payload.goal_id == goal_id]


def mentors_of(proposal: MatchProposed) -> tuple[str, ...]:
    return tuple(m.mentor_id for m in proposal.payload.mentors)


def test_each_goal_of_a_mentee_is_ranked_and_proposed_apart() -> None:
    cluster = run(*PEOPLE, *career_and_project())
    assert cluster.rankings(TENANT) == {
        sk("x1", "career"): ("m1",),
        sk("x1", "project"): ("m2",),
    }
    career, project = sent(cluster, "career"), sent(cluster, "project")
    assert [mentors_of(p) for p in career] == [("m1",)]
    assert [mentors_of(p) for p in project] == [("m2",)]
    assert [p.payload.ranking_version for p in career + project] == [1, 1]  # per goal


def test_ranking_versions_grow_per_goal_and_a_change_of_one_goal_leaves_the_other() -> None:
    cluster = run(
        *PEOPLE,
        *career_and_project(),
        goal_set("x1", 3, goal_id="project", target_skills=["go", "kubernetes"]),
    )
    assert [p.payload.ranking_version for p in sent(cluster, "project")] == [1, 2]
    assert [p.payload.ranking_version for p in sent(cluster, "career")] == [1]


def test_a_mentee_profile_change_re_ranks_each_of_their_goals() -> None:
    cluster = run(
        *PEOPLE,
        *career_and_project(),
        profile(mentee("x1", version=2, manager_id="m1")),  # m1 is now their manager
    )
    assert cluster.rankings(TENANT) == {sk("x1", "career"): (), sk("x1", "project"): ("m2",)}
    assert [mentors_of(p) for p in sent(cluster, "career")] == [("m1",), ()]
    assert [mentors_of(p) for p in sent(cluster, "project")] == [("m2",)]


def test_closing_one_goal_drops_its_ranking_only() -> None:
    payload = GoalClosedPayload(mentee_id="x1", goal_id="career", version=3, reason="achieved")
    cluster = run(
        *PEOPLE,
        *career_and_project(),
        GoalClosed(tenant_id=TENANT, key="x1", payload=payload),
    )
    assert cluster.rankings(TENANT) == {sk("x1", "project"): ("m2",)}
    assert cluster.stored_proposals(TENANT)[sk("x1", "career")] == set()
    assert len(sent(cluster, "career")) == 1  # closing sent nothing


def test_a_not_for_me_is_about_the_person_for_every_goal() -> None:
    both = [profile(mentor("m3", skills=KUBERNETES + GO))]
    cluster = run(*PEOPLE, *both, *career_and_project(), feedback(MatchDeclined, "x1", "m3"))
    assert cluster.rankings(TENANT) == {
        sk("x1", "career"): ("m1",),
        sk("x1", "project"): ("m2",),
    }
    assert mentors_of(sent(cluster, "career")[-1]) == ("m1",)
    assert mentors_of(sent(cluster, "project")[-1]) == ("m2",)


def test_a_request_for_one_goal_keeps_the_mentor_out_of_the_others_and_a_start_pauses_it() -> None:
    both = [profile(mentor("m3", skills=KUBERNETES + GO, capacity=3))]
    asked = run(*PEOPLE, *both, *career_and_project(), requested("x1", "m3", goal_id="career"))
    assert "m3" not in asked.rankings(TENANT)[sk("x1", "career")]
    assert "m3" not in asked.rankings(TENANT)[sk("x1", "project")]
    working = run(
        *PEOPLE,
        *both,
        *career_and_project(),
        requested("x1", "m3", goal_id="career"),
        started("x1", "m3", goal_id="career"),
    )
    rankings = working.rankings(TENANT)
    assert sk("x1", "career") not in rankings  # the goal the relationship is for waits
    assert "m3" not in rankings[sk("x1", "project")]
    assert working.waiting(TENANT) == {sk("x1", "career")}
    done = run(
        *PEOPLE,
        *both,
        *career_and_project(),
        requested("x1", "m3", goal_id="career"),
        started("x1", "m3", goal_id="career"),
        ended("x1", "m3", goal_id="career"),
    )
    rankings = done.rankings(TENANT)
    assert "m3" not in rankings[sk("x1", "career")]  # ended for that goal
    assert "m3" in rankings[sk("x1", "project")]  # the other goal may meet them again
    assert sent(done, "career")[-1].payload.cause.kind == "relationship_ended"


def test_a_mentors_seats_are_shared_across_a_mentees_goals() -> None:
    """One free seat: the request for one goal takes it (the profile says so), and the
    mentor leaves every ranking, the other goal's too."""
    one_seat = mentor("m3", skills=KUBERNETES + GO, capacity=1)
    before = run(*PEOPLE, profile(one_seat), *career_and_project())
    assert len(before.rankings(TENANT)) == 2
    assert all("m3" in ranking for ranking in before.rankings(TENANT).values())
    cluster = run(
        *PEOPLE,
        profile(one_seat),
        *career_and_project(),
        requested("x1", "m3", goal_id="career"),
        profile(mentor("m3", version=2, skills=KUBERNETES + GO, capacity=1, seats_taken=1)),
    )
    assert all("m3" not in ranking for ranking in cluster.rankings(TENANT).values())


def test_a_goal_with_nobody_gets_an_empty_first_proposal_and_the_other_goal_is_unaffected() -> None:
    cluster = run(
        *PEOPLE,
        goal_set("x1", 1, goal_id="career", target_skills=["kubernetes"]),
        goal_set("x1", 2, goal_id="rare", target_skills=["cobol"]),
    )
    assert [mentors_of(p) for p in sent(cluster, "rare")] == [()]
    assert sent(cluster, "rare")[0].payload.awaited
    assert [mentors_of(p) for p in sent(cluster, "career")] == [("m1",)]
    assert cluster.stored_proposals(TENANT) == {sk("x1", "career"): {"m1"}, sk("x1", "rare"): set()}

"""Every proposal matching sends says why (MatchProposed.cause), and the mentee's own change of
what they want always gets an answer, even when it names the same mentors."""

from __future__ import annotations

from shared.contracts.feedback import MatchDeclined
from shared.contracts.matches import MatchProposed
from tests.unit.builders import mentee, mentor
from tests.unit.matching.cluster import Cluster
from tests.unit.matching.test_handlers import feedback, goal_set, profile, run

KUBERNETES = [{"name": "kubernetes", "level": 5}]
PEOPLE = [profile(mentor("m1", skills=KUBERNETES)), profile(mentee("x1")), goal_set("x1")]


def causes(cluster: Cluster, mentee_id: str = "x1") -> list[tuple[str, list[str], str | None]]:
    return [
        (p.payload.cause.kind, p.payload.cause.changed, p.payload.cause.mentor_name)
        for p in cluster.proposals
        if p.payload.mentee_id == mentee_id and p.payload.cause is not None
    ]


def sent(cluster: Cluster, mentee_id: str = "x1") -> list[MatchProposed]:
    return [p for p in cluster.proposals if p.payload.mentee_id == mentee_id]


def test_a_new_goal_says_goal_set() -> None:
    cluster = run(*PEOPLE)
    assert causes(cluster) == [("goal_set", [], None)]
    assert sent(cluster)[0].schema_version == 3


def test_changed_preferences_are_answered_even_with_the_same_mentors() -> None:
    cluster = run(*PEOPLE, goal_set("x1", version=2, preferred_styles=["coaching"]))
    assert causes(cluster) == [
        ("goal_set", [], None),
        ("preferences_changed", ["preferred_styles"], None),
    ]
    first, second = sent(cluster)
    assert [m.mentor_id for m in second.payload.mentors] == ["m1"]
    assert second.payload.awaited
    assert second.payload.ranking_version == first.payload.ranking_version + 1


def test_changed_weights_and_background_preference_are_named() -> None:
    cluster = run(
        *PEOPLE,
        goal_set(
            "x1",
            version=2,
            background_preference="different",
            criteria={"industry": 0.9},
        ),
    )
    assert causes(cluster)[-1] == (
        "preferences_changed",
        ["background_preference", "criteria.industry"],
        None,
    )


def test_a_restated_goal_names_what_changed() -> None:
    cluster = run(*PEOPLE, goal_set("x1", version=2, target_skills=["kubernetes", "go"]))
    assert causes(cluster)[-1] == ("goal_changed", ["target_skills"], None)


def test_another_goal_says_goal_set() -> None:
    cluster = run(*PEOPLE, goal_set("x1", version=2, goal_id="g2"))
    assert causes(cluster) == [("goal_set", [], None), ("goal_set", [], None)]


def test_a_goal_restated_in_other_words_only_sends_nothing() -> None:
    cluster = run(*PEOPLE, goal_set("x1", version=2, statement="Kubernetes, soon"))
    assert causes(cluster) == [("goal_set", [], None)]


def test_a_decline_names_the_declined_mentor() -> None:
    cluster = run(
        profile(mentor("m2", display_name="Alan Turing", skills=KUBERNETES)),
        *PEOPLE,
        feedback(MatchDeclined, "x1", "m2"),
    )
    assert causes(cluster)[-1] == ("proposal_declined", [], "Alan Turing")
    assert sent(cluster)[-1].payload.cause.mentor_id == "m2"  # type: ignore[union-attr]


def test_the_mentees_profile_and_other_people_are_told_apart() -> None:
    cluster = run(
        *PEOPLE,
        profile(mentee("x1", version=2, manager_id="m1")),  # one's manager is never proposed
        profile(mentor("m2", skills=KUBERNETES)),
    )
    assert [kind for kind, _, _ in causes(cluster)] == [
        "goal_set",
        "profile_changed",
        "others_changed",
    ]
    # the last is awaited too: the first with mentors after an empty one
    assert [p.payload.awaited for p in sent(cluster)] == [True, True, True]


def test_the_first_proposal_for_a_goal_says_goal_set_whatever_brought_it() -> None:
    """Here the profile makes the goal ranked (nobody yet: an empty first proposal, the goal
    waits), and the mentor's arrival refreshes it."""
    cluster = run(goal_set("x1"), profile(mentee("x1")), profile(mentor("m1")))
    assert causes(cluster) == [("goal_set", [], None), ("others_changed", [], None)]
    assert [len(p.payload.mentors) for p in sent(cluster)] == [0, 1]

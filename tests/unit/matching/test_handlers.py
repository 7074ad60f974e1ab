"""Matching's handlers through the fake store: what each kind of event does."""

from __future__ import annotations

import asyncio
from typing import Any

from services.matching.domain.constraints import EngineConfig
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileDeleted, ProfileDeletedPayload, ProfileUpdated
from tests.unit.builders import TENANT, goal, mentee, mentor
from tests.unit.matching.cluster import Cluster, sk

CONFIG = EngineConfig(top_k=2, partitions=2, exposure_per_seat=10.0)


def profile(payload: Any) -> ProfileUpdated:
    return ProfileUpdated(tenant_id=TENANT, key=payload.user_id, payload=payload)


def goal_set(mentee_id: str, version: int = 1, **fields: Any) -> GoalSet:
    return GoalSet(tenant_id=TENANT, key=mentee_id, payload=goal(mentee_id, version, **fields))


def feedback(
    kind: type[MatchAccepted] | type[MatchDeclined], mentee_id: str, mentor_id: str
) -> Any:
    payload = {
        "mentee_id": mentee_id,
        "mentor_id": mentor_id,
        "goal_id": "g1",
        "proposal_id": "00000000-0000-0000-0000-000000000001",
    }
    return kind.model_validate({"tenant_id": TENANT, "key": mentee_id, "payload": payload})


def run(*events: Any, config: EngineConfig = CONFIG) -> Cluster:
    async def scenario() -> Cluster:
        cluster = Cluster(config, instances=1)
        await cluster.assign(dict.fromkeys(range(config.partitions), 0))
        for event in events:
            cluster.submit(event)
            await cluster.drain()
        return cluster

    return asyncio.run(scenario())


def proposed(cluster: Cluster, mentee_id: str) -> list[tuple[str, ...]]:
    return [
        tuple(m.mentor_id for m in p.payload.mentors)
        for p in cluster.proposals
        if p.payload.mentee_id == mentee_id
    ]


def test_a_goal_gets_ranked_mentors_with_reasons() -> None:
    cluster = run(
        profile(mentor("m1", skills=[{"name": "kubernetes", "level": 5}], industries=["fintech"])),
        profile(mentor("m2", skills=[{"name": "kubernetes", "level": 2}])),
        profile(mentee("x1", industries=["fintech"])),
        goal_set("x1"),
    )
    [last] = cluster.proposals[-1:]
    assert [m.mentor_id for m in last.payload.mentors] == ["m1", "m2"]
    reasons = {r.criterion: r.explanation for r in last.payload.mentors[0].reasons}
    assert reasons["skills"] == "expert in kubernetes, one of your goal skills"
    assert reasons["industry"] == "worked in fintech"


def test_a_goal_before_the_profile_is_parked_then_ranked() -> None:
    cluster = run(goal_set("x1"), profile(mentor("m1")), profile(mentee("x1")))
    assert proposed(cluster, "x1") == [("m1",)]


def test_an_older_profile_version_changes_nothing() -> None:
    cluster = run(
        profile(mentor("m1", version=2)),
        profile(mentee("x1")),
        goal_set("x1"),
        profile(mentor("m1", version=1, opted_in=False)),
    )
    assert proposed(cluster, "x1") == [("m1",)]


def test_a_redelivered_event_changes_nothing() -> None:
    event = goal_set("x1")
    cluster = run(profile(mentor("m1")), profile(mentee("x1")), event, event)
    assert proposed(cluster, "x1") == [("m1",)]


def test_a_decline_brings_an_alternative_and_the_mentor_never_returns() -> None:
    cluster = run(
        profile(mentor("m1")),
        profile(mentor("m2", skills=[{"name": "kubernetes", "level": 2}])),
        profile(mentee("x1")),
        goal_set("x1"),
        feedback(MatchDeclined, "x1", "m1"),
        goal_set("x1", version=2),
        # one mentor a ranking: no seeker hosts a mentor beyond its K (ADR 0010)
        config=EngineConfig(top_k=1, partitions=2, exposure_per_seat=10.0, most_named=1),
    )
    assert proposed(cluster, "x1") == [("m1",), ("m2",)]


def test_an_old_accept_keeps_the_pair_apart_quietly_and_takes_no_seat() -> None:
    """MatchAccepted is no longer published; its old records still read: the mentor's seats
    are the profile's (`seats_taken`), the pair is not proposed again, and no email follows."""
    mentees = [f"x{i}" for i in range(3)]
    cluster = run(
        profile(mentor("m1", capacity=1)),
        *(profile(mentee(x)) for x in mentees),
        *(goal_set(x) for x in mentees),
        *(feedback(MatchAccepted, x, "m1") for x in mentees[:2]),
    )
    assert proposed(cluster, "x0") == [("m1",)]  # the quiet (empty) one is stored, not sent
    assert cluster.stored_proposals(TENANT)[sk("x0")] == set()
    assert cluster.rankings(TENANT)[sk("x2")] == ("m1",)  # its one seat is still free
    states = sorted(state for _, state in cluster.uow.state.pairs.values())
    assert states == ["accepted", "accepted"]


def test_an_old_accept_for_an_unknown_mentor_keeps_the_pair_apart_once_it_arrives() -> None:
    cluster = run(
        profile(mentee("x1")),
        goal_set("x1"),
        feedback(MatchAccepted, "x1", "m1"),
        profile(mentor("m1", capacity=1)),
    )
    assert proposed(cluster, "x1") == [()]  # the goal waits (and is told so), m1 stays out


def test_deleting_a_person_removes_every_trace_in_the_store() -> None:
    cluster = run(
        profile(mentor("m1")),
        profile(mentee("x1")),
        goal_set("x1"),
        feedback(MatchDeclined, "x1", "m1"),
        profile(mentee("x2")),
        goal_set("x2"),
        ProfileDeleted(tenant_id=TENANT, key="m1", payload=ProfileDeletedPayload(user_id="m1")),
    )
    assert "m1" not in repr(cluster.uow.state)
    assert proposed(cluster, "x2")[-1] == ()


def awaited(cluster: Cluster, mentee_id: str) -> list[tuple[tuple[str, ...], bool]]:
    return [
        (tuple(sorted(m.mentor_id for m in p.payload.mentors)), p.payload.awaited)
        for p in cluster.proposals
        if p.payload.mentee_id == mentee_id
    ]


def test_a_proposal_is_awaited_when_it_answers_the_mentee_and_not_when_others_refresh_it() -> None:
    kubernetes = [{"name": "kubernetes", "level": 5}]
    cluster = run(
        profile(mentor("m1", skills=kubernetes)),
        profile(mentee("x1")),
        goal_set("x1"),  # the answer to the goal
        profile(mentor("m2", skills=kubernetes)),  # another mentor joins the list: a refresh
        feedback(MatchDeclined, "x1", "m1"),  # the mentee's own decline
    )
    assert awaited(cluster, "x1") == [(("m1",), True), (("m1", "m2"), False), (("m2",), True)]


def test_the_first_proposal_with_mentors_for_a_goal_is_awaited_whatever_brought_it() -> None:
    cluster = run(
        profile(mentee("x1")),
        goal_set("x1"),  # nobody to propose yet
        profile(mentor("m1")),
        profile(mentor("m1", version=2, opted_in=False)),  # the list empties
        profile(mentor("m2")),
    )
    assert awaited(cluster, "x1") == [
        ((), True),  # the goal waits: told at once
        (("m1",), True),
        ((), False),
        (("m2",), True),
    ]


def causes(cluster: Cluster, mentee_id: str) -> list[tuple[tuple[str, ...], Any]]:
    return [
        (
            tuple(m.mentor_id for m in p.payload.mentors),
            p.payload.cause and (p.payload.cause.kind, p.payload.cause.changed),
        )
        for p in cluster.proposals
        if p.payload.mentee_id == mentee_id
    ]


def test_a_new_goal_with_the_same_ranking_is_proposed_again_for_the_new_goal() -> None:
    cluster = run(
        profile(mentor("m1")),
        profile(mentee("x1")),
        goal_set("x1"),
        goal_set("x1", version=2, goal_id="g2"),
    )
    assert causes(cluster, "x1") == [(("m1",), ("goal_set", [])), (("m1",), ("goal_set", []))]
    assert [p.payload.goal_id for p in cluster.proposals] == ["g1", "g2"]
    assert all(p.payload.awaited for p in cluster.proposals)


def test_changed_preferences_with_the_same_ranking_are_proposed_with_what_changed() -> None:
    styles = {"preferred_styles": ["challenging"], "criteria": {"style": 0.4}}
    cluster = run(
        profile(mentor("m1", mentoring_styles=["challenging", "sounding_board"])),
        profile(mentee("x1")),
        goal_set("x1", **styles),
        goal_set("x1", version=2, preferred_styles=["sounding_board"], criteria={"style": 0.9}),
        goal_set("x1", version=3, preferred_styles=["sounding_board"], criteria={"style": 0.9}),
        goal_set("x1", version=4, target_skills=["kubernetes", "go"], criteria={"style": 0.9}),
        goal_set("x1", version=5, goal_id="g2", target_skills=["rust"]),
    )
    assert causes(cluster, "x1") == [
        (("m1",), ("goal_set", [])),
        (("m1",), ("preferences_changed", ["preferred_styles", "criteria.style"])),
        # version 3 changed nothing that scoring uses: no proposal
        (("m1",), ("goal_changed", ["target_skills", "preferred_styles"])),
        ((), ("goal_set", [])),  # nobody for the new goal: told, with the waiting list
    ]


def test_other_peoples_changes_that_keep_the_set_stay_quiet() -> None:
    cluster = run(
        profile(mentor("m1")),
        profile(mentee("x1")),
        goal_set("x1"),
        profile(mentor("m1", version=2, headline="Now at a new company")),
    )
    assert causes(cluster, "x1") == [(("m1",), ("goal_set", []))]


def test_the_background_the_mentee_asked_for_is_among_the_reasons_shown() -> None:
    """Issue 26, defect 4: four generic reasons used to crowd out the one the mentee asked for."""
    shared = {"industries": ["fintech"], "languages": ["en"], "background": {"path": "changer"}}
    cluster = run(
        profile(mentor("m1", years_experience=15, timezone="Europe/Berlin", **shared)),
        profile(mentee("x1", years_experience=3, timezone="Europe/London", **shared)),
        goal_set("x1", background_preference="similar"),
    )
    [first] = cluster.proposals[-1].payload.mentors
    shown = [r.criterion for r in first.reasons]
    assert len(shown) == 4
    # skills, weighted highest (1.0 by default), and the background asked for lead the generic
    assert shown[:2] == ["skills", "background"]
    explanations = [r.explanation for r in first.reasons]
    assert "shares part of your background, as you asked" in explanations

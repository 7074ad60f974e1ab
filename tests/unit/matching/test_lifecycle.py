"""Matching follows each relationship (issue 28): the asked mentor leaves the proposal, a 'Not
now' or an expiry brings the next proposal at once, an active relationship stops proposals for
its goal and its end resumes them; seats come from the mentor's profile. Each relationship's
events apply by version: repeats and stragglers change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.contracts.lifecycle import (
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
)
from shared.contracts.preferences import PreferencesAdjusted
from tests.unit.builders import TENANT, goal, mentee, mentor
from tests.unit.matching.cluster import Cluster, sk
from tests.unit.matching.test_erased_stay_erased import deleted
from tests.unit.matching.test_handlers import goal_set, profile, proposed, run

LATER = datetime(2026, 12, 11, 18, 0, tzinfo=UTC)
KUBERNETES = [{"name": "kubernetes", "level": 5}]


def request_id(mentee_id: str, mentor_id: str, goal_id: str = "g1") -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{mentee_id}/{mentor_id}/{goal_id}")


def _step(kind: type[Any], mentee_id: str, mentor_id: str, version: int, **fields: Any) -> Any:
    goal_id = fields.pop("goal_id", "g1")
    payload = {
        "request_id": str(request_id(mentee_id, mentor_id, goal_id)),
        "mentee_id": mentee_id,
        "mentor_id": mentor_id,
        "goal_id": goal_id,
        "version": version,
        **fields,
    }
    return kind.model_validate({"tenant_id": TENANT, "key": mentee_id, "payload": payload})


def requested(mentee_id: str, mentor_id: str, version: int = 1, **fields: Any) -> MatchRequested:
    proposal_id = "00000000-0000-0000-0000-000000000001"
    extra = {"proposal_id": proposal_id, "deadline": LATER.isoformat(), **fields}
    return _step(MatchRequested, mentee_id, mentor_id, version, **extra)  # type: ignore[no-any-return]


def started(mentee_id: str, mentor_id: str, version: int = 2, **fields: Any) -> MatchStarted:
    extra = {"fit_check_at": LATER.isoformat(), **fields}
    return _step(MatchStarted, mentee_id, mentor_id, version, **extra)  # type: ignore[no-any-return]


def declined(mentee_id: str, mentor_id: str, version: int = 2, **fields: Any) -> RequestDeclined:
    return _step(RequestDeclined, mentee_id, mentor_id, version, **fields)  # type: ignore[no-any-return]


def expired(mentee_id: str, mentor_id: str, version: int = 2, **fields: Any) -> RequestExpired:
    extra = {"proposal_id": "00000000-0000-0000-0000-000000000001", "deadline": LATER.isoformat()}
    return _step(RequestExpired, mentee_id, mentor_id, version, **extra, **fields)  # type: ignore[no-any-return]


def ended(mentee_id: str, mentor_id: str, version: int = 3, **fields: Any) -> MatchEnded:
    extra = {"ended_by": "mentee", **fields}
    return _step(MatchEnded, mentee_id, mentor_id, version, **extra)  # type: ignore[no-any-return]


def adjusted(mentee_id: str, version: int, **fields: Any) -> PreferencesAdjusted:
    adjustment = {
        "adjustment_id": "5d0c3f4e-1f7b-4a8c-9d2e-7a6b5c4d3e2f",
        "trigger": "relationship_ended",
        "reason": "style",
        "mentor_id": "m1",
        "styles_avoided": ["advising"],
        "styles_favoured": ["coaching"],
    }
    payload = {**goal(mentee_id, version, **fields).model_dump(), "adjustment": adjustment}
    return PreferencesAdjusted.model_validate(
        {"tenant_id": TENANT, "key": mentee_id, "payload": payload}
    )


TWO_MENTORS = [
    profile(mentor("m1", display_name="Grace Hopper", skills=KUBERNETES)),
    profile(mentor("m2", display_name="Alan Turing", skills=[{"name": "kubernetes", "level": 3}])),
    profile(mentee("x1")),
    goal_set("x1"),
]


def causes(cluster: Cluster, mentee_id: str = "x1") -> list[tuple[str, str | None]]:
    return [
        (p.payload.cause.kind, p.payload.cause.mentor_name)
        for p in cluster.proposals
        if p.payload.mentee_id == mentee_id and p.payload.cause is not None
    ]


def stored(cluster: Cluster, mentee_id: str = "x1") -> set[str]:
    return cluster.stored_proposals(TENANT).get(sk(mentee_id), set())


def test_the_asked_mentor_leaves_the_proposal_quietly() -> None:
    cluster = run(*TWO_MENTORS, requested("x1", "m1"))
    assert proposed(cluster, "x1") == [("m1", "m2")]  # no email: the mentee just asked
    assert stored(cluster) == {"m2"}
    assert cluster.rankings(TENANT)[sk("x1")] == ("m2",)


def test_a_not_now_brings_the_next_proposal_at_once_and_the_mentor_never_returns_for_the_goal() -> (
    None
):
    cluster = run(*TWO_MENTORS, requested("x1", "m1"), declined("x1", "m1"))
    assert proposed(cluster, "x1") == [("m1", "m2"), ("m2",)]
    assert causes(cluster)[-1] == ("request_declined", "Grace Hopper")
    assert cluster.proposals[-1].payload.awaited
    cluster = run(
        *TWO_MENTORS, requested("x1", "m1"), declined("x1", "m1"), goal_set("x1", 2, goal_id="g2")
    )
    assert proposed(cluster, "x1")[-1] == ("m1", "m2")  # another goal: asked again is fine


def test_an_unanswered_request_expires_into_the_next_proposal() -> None:
    cluster = run(*TWO_MENTORS, requested("x1", "m1"), expired("x1", "m1"))
    assert proposed(cluster, "x1") == [("m1", "m2"), ("m2",)]
    assert causes(cluster)[-1] == ("request_expired", "Grace Hopper")


def test_a_mentor_leaving_with_the_request_pending_rematches_the_mentee() -> None:
    cluster = run(
        *TWO_MENTORS, requested("x1", "m1"), declined("x1", "m1", declined_by="mentor_left")
    )
    assert causes(cluster)[-1] == ("request_declined", "Grace Hopper")


def test_an_active_relationship_stops_proposals_for_its_goal_until_it_ends() -> None:
    third = profile(mentor("m3", skills=KUBERNETES))
    cluster = run(*TWO_MENTORS, requested("x1", "m1"), started("x1", "m1"), third)
    assert proposed(cluster, "x1") == [("m1", "m2")]
    assert sk("x1") not in cluster.rankings(TENANT)
    cluster = run(
        *TWO_MENTORS, requested("x1", "m1"), started("x1", "m1"), third, ended("x1", "m1")
    )
    assert proposed(cluster, "x1") == [("m1", "m2"), ("m3", "m2")]  # not the ended mentor
    assert causes(cluster)[-1] == ("relationship_ended", "Grace Hopper")


def test_a_goal_changed_during_its_relationship_is_stored_quietly_and_ranked_at_the_end() -> None:
    steps = [requested("x1", "m1"), started("x1", "m1")]
    changed = goal_set("x1", 2, preferred_styles=["challenging"])
    cluster = run(*TWO_MENTORS, *steps, changed)
    assert proposed(cluster, "x1") == [("m1", "m2")]  # no empty proposal: they have a mentor
    cluster = run(*TWO_MENTORS, *steps, changed, ended("x1", "m1"))
    assert proposed(cluster, "x1") == [("m1", "m2"), ("m2",)]
    assert causes(cluster)[-1] == ("relationship_ended", "Grace Hopper")


def test_dont_match_us_again_keeps_the_pair_apart_for_every_goal() -> None:
    steps = [requested("x1", "m1"), started("x1", "m1")]
    kept = run(*TWO_MENTORS, *steps, ended("x1", "m1"), goal_set("x1", 2, goal_id="g2"))
    never = run(
        *TWO_MENTORS,
        *steps,
        ended("x1", "m1", never_again=True),
        goal_set("x1", 2, goal_id="g2"),
    )
    assert proposed(kept, "x1")[-1] == ("m1", "m2")
    assert proposed(never, "x1")[-1] == ("m2",)


def test_repeated_and_late_steps_change_nothing() -> None:
    in_order = run(*TWO_MENTORS, requested("x1", "m1"), declined("x1", "m1"))
    shuffled = run(
        *TWO_MENTORS,
        declined("x1", "m1"),
        requested("x1", "m1"),  # a straggler: older than the decline
        declined("x1", "m1").model_copy(update={"event_id": uuid.uuid4()}),  # a repeat
    )
    assert proposed(shuffled, "x1") == proposed(in_order, "x1")
    assert stored(shuffled) == stored(in_order) == {"m2"}
    started_first = run(*TWO_MENTORS, started("x1", "m1"), requested("x1", "m1"))
    assert sk("x1") not in started_first.rankings(TENANT)  # active: the request is older


def test_seats_come_from_the_mentors_profile() -> None:
    full = profile(
        mentor(
            "m1",
            version=2,
            display_name="Grace Hopper",
            skills=KUBERNETES,
            capacity=1,
            seats_taken=1,
        )
    )
    free = profile(
        mentor(
            "m1",
            version=3,
            display_name="Grace Hopper",
            skills=KUBERNETES,
            capacity=1,
            seats_taken=0,
        )
    )
    cluster = run(*TWO_MENTORS, full, free, full)  # the stale full one changes nothing
    assert proposed(cluster, "x1") == [("m1", "m2"), ("m2",), ("m1", "m2")]


def test_adjusted_preferences_rerank_like_a_goal_and_say_why() -> None:
    styled = [
        profile(
            mentor(
                "m1", display_name="Grace Hopper", skills=KUBERNETES, mentoring_styles=["advising"]
            )
        ),
        profile(mentor("m2", skills=KUBERNETES, mentoring_styles=["coaching"])),
        profile(mentee("x1")),
        goal_set("x1", preferred_styles=["advising"], criteria={"style": 1.0}),
    ]
    cluster = run(
        *styled, adjusted("x1", 2, preferred_styles=["coaching"], criteria={"style": 1.0})
    )
    first, second = proposed(cluster, "x1")
    assert first == ("m1", "m2") and second == ("m2", "m1")  # the order alone changed: sent
    cause = cluster.proposals[-1].payload.cause
    assert cause is not None and cause.kind == "preferences_adjusted"
    assert cause.adjustment is not None and cause.adjustment.styles_favoured == ["coaching"]
    assert (cause.mentor_id, cause.mentor_name) == ("m1", "Grace Hopper")  # who taught it
    stale = run(*styled, goal_set("x1", 3), adjusted("x1", 2, preferred_styles=["coaching"]))
    assert [c for c, _ in causes(stale)] == ["goal_set", "preferences_changed"]


def test_a_mentor_erased_first_still_lets_the_mentee_move_on() -> None:
    """The profile service ends what an erased mentor was part of; matching may see the
    erasure first, and then drops those steps (they name the erased mentor). The mentee's goal
    resumes all the same, and a waiting request is answered with the next proposal."""
    steps = [requested("x1", "m1"), started("x1", "m1")]
    cluster = run(*TWO_MENTORS, *steps, deleted("m1"), ended("x1", "m1", ended_by="system"))
    assert cluster.rankings(TENANT)[sk("x1")] == ("m2",)
    assert proposed(cluster, "x1")[-1] == ("m2",)
    cluster = run(
        *TWO_MENTORS,
        requested("x1", "m1"),
        deleted("m1"),
        declined("x1", "m1", declined_by="mentor_left"),
    )
    assert causes(cluster)[-1] == ("request_declined", None)  # the erased mentor is not named
    assert cluster.proposals[-1].payload.cause.mentor_id is None  # type: ignore[union-attr]
    assert "'m1'" not in repr(cluster.uow.state.relationships)


def test_an_adjustment_read_before_its_ending_is_said_when_the_goal_resumes() -> None:
    """The ending (feedback topic) and the adjustment it caused (goals topic) may be read in
    either order; read first, the adjustment is held while the goal still waits on the
    relationship, then the proposal that resumes the goal says it, not an empty one before."""
    active = [*TWO_MENTORS, requested("x1", "m1"), started("x1", "m1")]
    cluster = run(*active, adjusted("x1", 2), ended("x1", "m1"))
    assert proposed(cluster, "x1") == [("m1", "m2"), ("m2",)]
    cause = cluster.proposals[-1].payload.cause
    assert cause is not None and cause.kind == "preferences_adjusted"
    assert cause.adjustment is not None and cause.adjustment.reason == "style"
    other_order = run(*active, ended("x1", "m1"), adjusted("x1", 2))
    assert [kind for kind, _ in causes(other_order)][-2:] == [
        "relationship_ended",
        "preferences_adjusted",
    ]

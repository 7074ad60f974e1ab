"""Which goals of a poll are stored ahead with one statement (service_layer/goals_ahead.py):
only where running the events in order would store the same goals and read the same blocks."""

from __future__ import annotations

from datetime import UTC, datetime

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import goal_from_payload
from services.matching.service_layer.goals_ahead import goals_ahead
from shared.contracts.envelope import EventEnvelope
from shared.erasure import Erasure
from tests.unit.builders import TENANT, goal, goal_closed, goal_set, mentee, profile_updated


def _ahead(
    events: list[EventEnvelope],
    fresh: set[object] | None = None,
    erased: dict[tuple[str, str], Erasure] | None = None,
    engine: TenantEngine | None = None,
) -> list[tuple[str, int, int, bool]]:
    engines = {TENANT: engine or TenantEngine(EngineConfig(partitions=2))}
    fresh = {e.event_id for e in events} if fresh is None else fresh
    found = goals_ahead([(e, 1) for e in events], fresh, erased or {}, engines)
    return [(g.mentee_id, g.version, p, read) for g, p, read in found.get(TENANT, [])]


def test_profiles_and_goal_sets_store_their_goals_ahead_the_first_of_each_once() -> None:
    poll = [
        profile_updated(mentee("x1")),
        goal_set(goal("x1")),
        goal_set(goal("x2", 3)),
        goal_set(goal("x1", 2)),  # the same goal again: compared with the first, in its turn
    ]
    assert _ahead(poll) == [("x1", 1, 1, True), ("x2", 3, 1, True)]


def test_any_other_event_in_the_poll_keeps_every_goal_in_its_turn() -> None:
    assert _ahead([goal_set(goal("x1")), goal_closed("x2", "default")]) == []


def test_a_goal_set_that_will_not_run_is_not_stored_ahead() -> None:
    repeated, erased_one, kept = goal_set(goal("x1")), goal_set(goal("x2")), goal_set(goal("x3"))
    erasure = Erasure(datetime(2020, 1, 1, tzinfo=UTC), None)
    found = _ahead(
        [repeated, erased_one, kept],
        fresh={erased_one.event_id, kept.event_id},
        erased={(TENANT, "x2"): erasure},
    )
    assert found == [("x3", 1, 1, True)]


def test_a_goal_the_engine_holds_is_stored_ahead_without_its_blocks() -> None:
    engine = TenantEngine(EngineConfig(partitions=2))
    engine.put_goal(goal_from_payload(goal("x1")), 1)
    assert _ahead([goal_set(goal("x1", 2)), goal_set(goal("x2"))], engine=engine) == [
        ("x1", 2, 1, False),
        ("x2", 1, 1, True),
    ]

"""Polls of the profiles and goals topics: each run of updates between erasures (or of goal
statements between closures) is applied with the same few statements, with the result of the
events one at a time, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.service_layer import handlers, lifecycle_handlers
from services.notifications.service_layer.ports import ConsumedProposal, ProposalOrigin
from shared.contracts.matches import MatchProposed
from tests.unit.builders import (
    TENANT,
    goal,
    goal_closed,
    goal_set,
    match_proposed,
    mentee,
    profile_deleted,
    profile_updated,
    proposal,
)
from tests.unit.notifications.store_fakes import store

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_a_poll_of_profile_updates_is_a_few_statements_whatever_its_length() -> None:
    uow = store()
    poll = [profile_updated(mentee(f"u-{i}", version=1)) for i in range(5)]
    await handlers.record_profiles(poll, uow)
    assert uow.state.calls == ["first_deliveries", "save_contacts"]
    assert {user for _, user in uow.state.contacts} == {f"u-{i}" for i in range(5)}


async def test_a_poll_keeps_each_persons_newest_update() -> None:
    uow = store()
    v2 = profile_updated(mentee("u-ada", version=2, email="two@example.org"))
    v3 = profile_updated(mentee("u-ada", version=3, email="three@example.org"))
    again = profile_updated(mentee("u-ada", version=3, email="again@example.org"))
    v1 = profile_updated(mentee("u-ada", version=1, email="one@example.org"))
    await handlers.record_profiles([v2, v3, v1, again, v3], uow)
    contact, version = uow.state.contacts[TENANT, "u-ada"]
    assert (contact.email, version) == ("three@example.org", 3)  # the first of version 3
    # a later poll with an older or equal version changes nothing
    await handlers.record_profiles([profile_updated(mentee("u-ada", version=3))], uow)
    assert uow.state.contacts[TENANT, "u-ada"][0].email == "three@example.org"


async def test_an_erasure_in_a_poll_keeps_its_place_between_updates() -> None:
    uow = store()
    before = profile_updated(mentee("u-ada"), occurred_at=at(0))
    erased = profile_deleted("u-ada", occurred_at=at(1))
    late_copy = profile_updated(mentee("u-ada"), occurred_at=at(0))  # from before the erasure
    bob = profile_updated(mentee("u-bob"), occurred_at=at(2))
    await handlers.record_profiles([before, erased, late_copy, bob], uow)
    assert list(uow.state.contacts) == [(TENANT, "u-bob")]
    created_again = profile_updated(mentee("u-ada", version=1), occurred_at=at(3))
    await handlers.record_profiles([erased, created_again], uow)  # the erasure redelivered
    assert (TENANT, "u-ada") in uow.state.contacts


async def test_a_poll_of_goal_statements_keeps_each_goals_newest() -> None:
    uow = store()
    poll = [
        goal_set(goal("u-ada", version=1, goal_id="career")),
        goal_set(goal("u-ada", version=2, goal_id="career")),
        goal_set(goal("u-ada", version=1, goal_id="proj")),
        goal_set(goal("u-ada", version=1, goal_id="career")),
    ]
    await lifecycle_handlers.record_goals(poll, uow)
    assert uow.state.calls == ["first_deliveries", "save_goal_statements"]
    assert uow.state.goals == {
        (TENANT, "u-ada", "career"): (2, False),
        (TENANT, "u-ada", "proj"): (1, False),
    }


async def test_a_closure_between_goal_statements_keeps_its_place() -> None:
    """Closed at version 3, then set again at version 4, in one poll: the waiting email of the
    goal was withdrawn by the closure, and the goal is open again."""
    uow = store()
    await handlers.record_proposals(
        [_consumed(match_proposed(proposal("u-ada", ranking_version=1, goal_id="proj")))],
        uow,
        handlers.QueuePolicy("mentorlink.test", timedelta(seconds=30)),
        lambda: T0,
    )
    poll = [
        goal_set(goal("u-ada", version=1, goal_id="proj")),
        goal_closed("u-ada", "proj", version=3),
        goal_set(goal("u-ada", version=4, goal_id="proj")),
    ]
    await lifecycle_handlers.record_goals(poll, uow)
    assert [e["state"] for e in uow.state.emails] == ["superseded"]
    assert uow.state.goals[TENANT, "u-ada", "proj"] == (4, False)


def _consumed(event: MatchProposed) -> ConsumedProposal:
    return ConsumedProposal(event, ProposalOrigin("t.proposals", 0, 1, b"{}"))

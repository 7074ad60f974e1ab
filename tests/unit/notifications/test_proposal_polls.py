"""A poll of proposals costs a few store calls whatever its size, and ends as if its proposals
had been applied one at a time (ADR 0009)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.service_layer import handlers, lifecycle_handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import ConsumedProposal, ProposalOrigin
from shared.contracts.matches import MatchProposed, ProposalCause
from tests.unit.builders import goal_closed, match_proposed, profile_deleted, proposal
from tests.unit.fakes import CopyOnCommitUnitOfWork
from tests.unit.notifications.store_fakes import FakeTransaction, State, store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=30)
POLICY = QueuePolicy("mentorlink.test", WINDOW)
Store = CopyOnCommitUnitOfWork[State, FakeTransaction]


def consumed(event: MatchProposed, offset: int = 0) -> ConsumedProposal:
    headers = {"traceparent": f"00-{offset:032x}-{offset + 1:016x}-01"}
    return ConsumedProposal(event, ProposalOrigin("t.proposals", 0, offset, b"{}", headers))


def proposed(who: str, version: int, **fields: Any) -> MatchProposed:
    return match_proposed(proposal(who, ranking_version=version, **fields))


async def poll(uow: Store, events: list[MatchProposed], at: datetime = NOW) -> int:
    batch = [consumed(event, offset) for offset, event in enumerate(events)]
    return await handlers.record_proposals(batch, uow, POLICY, lambda: at)


def rows(uow: Store, who: str = "u-ada") -> list[tuple[int, str, UUID | None]]:
    return [
        (e["email"].proposal.ranking_version, e["state"], e["superseded_by"])
        for e in uow.state.emails
        if e["who"][1] == who
    ]


async def test_a_poll_costs_three_store_calls_whatever_its_size() -> None:
    uow = store()
    events = [proposed(f"u-{n % 40}", 1 + n // 40) for n in range(100)]
    assert await poll(uow, events) == 100
    assert uow.state.calls == ["begin_proposals", "settle_digests", "queue_emails"]
    assert len([e for e in uow.state.emails if e["state"] == "queued"]) == 40


async def test_a_redelivered_poll_costs_one_call_and_changes_nothing() -> None:
    uow = store()
    events = [proposed("u-ada", 1), proposed("u-bob", 1)]
    await poll(uow, events)
    before = (list(uow.state.emails), dict(uow.state.digests))
    uow.state.calls.clear()
    assert await poll(uow, events) == 0
    assert uow.state.calls == ["begin_proposals"]
    assert (uow.state.emails, uow.state.digests) == before


async def test_one_mentees_proposals_in_a_poll_leave_the_last_waiting_due_as_the_first() -> None:
    uow = store()
    first = proposed("u-ada", 1)
    await poll(uow, [first], at=NOW)
    later = [proposed("u-ada", 2), proposed("u-ada", 3), proposed("u-ada", 4)]
    assert await poll(uow, later, at=NOW + timedelta(seconds=10)) == 3
    ids = [e.payload.proposal_id for e in later]
    assert rows(uow) == [
        (1, "superseded", ids[0]),
        (2, "superseded", ids[1]),
        (3, "superseded", ids[2]),
        (4, "queued", None),
    ]
    assert {e["email"].due_at for e in uow.state.emails} == {NOW + WINDOW}


async def test_a_duplicate_later_in_the_poll_and_a_stale_version_change_nothing() -> None:
    uow = store()
    newest = proposed("u-ada", 3)
    assert await poll(uow, [newest, proposed("u-ada", 2), newest, proposed("u-ada", 3)]) == 1
    assert rows(uow) == [(3, "queued", None)]
    assert uow.state.digests == {("acme", "u-ada", "g1"): 3}


async def test_an_empty_proposal_is_the_waiting_list_email_in_place_of_the_waiting_one() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1)], at=NOW)
    empty = proposed("u-ada", 2, mentors=[])
    third = proposed("u-ada", 3)
    assert await poll(uow, [empty, third], at=NOW + timedelta(seconds=20)) == 2
    assert rows(uow) == [
        (1, "superseded", empty.payload.proposal_id),
        (2, "superseded", third.payload.proposal_id),
        (3, "queued", None),
    ]
    assert uow.state.emails[-1]["email"].due_at == NOW + WINDOW  # the first one's window


async def test_a_proposal_replacing_an_email_put_off_is_due_by_its_own_window() -> None:
    """The rate limit put the waiting refresh off an hour; the mentee's own change that replaces
    it is due within the window (the dispatcher decides the rate limit again for it)."""
    uow = store()
    await poll(uow, [proposed("u-ada", 1)], at=NOW)
    waiting = uow.state.emails[-1]
    waiting["email"] = replace(waiting["email"], due_at=NOW + timedelta(hours=1))
    changed = ProposalCause(kind="preferences_changed", changed=["preferred_styles"])
    await poll(uow, [proposed("u-ada", 2, cause=changed)], at=NOW + timedelta(seconds=5))
    assert uow.state.emails[-1]["email"].due_at == NOW + timedelta(seconds=5) + WINDOW


async def test_an_empty_proposal_for_a_mentee_new_here_is_emailed() -> None:
    uow = store()
    assert await poll(uow, [proposed("u-ada", 1, mentors=[])]) == 1
    assert rows(uow) == [(1, "queued", None)] and uow.state.digests == {("acme", "u-ada", "g1"): 1}


async def test_a_proposal_emptied_by_its_mentors_erasure_withdraws_and_opens_a_new_window() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1)], at=NOW)
    await handlers.forget_person(profile_deleted("u-grace"), uow)
    later = NOW + timedelta(seconds=20)
    assert await poll(uow, [proposed("u-ada", 2)], at=later) == 0  # it named only u-grace
    assert [(version, state) for version, state, _ in rows(uow)] == [(1, "superseded")]
    assert await poll(uow, [proposed("u-ada", 3, mentors=[])], at=later) == 1
    assert uow.state.emails[-1]["email"].due_at == later + WINDOW


async def test_each_row_keeps_its_own_event_correlation_and_origin() -> None:
    uow = store()
    events = [proposed("u-ada", 1, goal_id="g1"), proposed("u-bob", 1), proposed("u-ada", 2)]
    events = [e.model_copy(update={"correlation_id": f"c-{n}"}) for n, e in enumerate(events)]
    await poll(uow, events)
    stored = [(e["email"].correlation_id, e["email"].origin.offset) for e in uow.state.emails]
    assert stored == [("c-0", 0), ("c-1", 1), ("c-2", 2)]


async def test_a_proposal_whose_email_exists_withdraws_the_waiting_one() -> None:
    uow = store()
    again = proposal("u-ada", ranking_version=1)
    await poll(uow, [match_proposed(again)])
    uow.state.emails[0]["state"] = "sent"
    await poll(uow, [proposed("u-ada", 2)])
    reused = match_proposed(again.model_copy(update={"ranking_version": 3}))
    fourth = proposed("u-ada", 4)
    assert await poll(uow, [reused, fourth], at=NOW + timedelta(seconds=5)) == 1
    assert [state for _, state, _ in rows(uow)] == ["sent", "superseded", "queued"]
    # the waiting email was withdrawn by the reused proposal: the next one opens a new window
    assert uow.state.emails[-1]["email"].due_at == NOW + timedelta(seconds=5) + WINDOW


async def test_a_refresh_of_an_email_the_mentee_still_waits_for_stays_awaited() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1), proposed("u-bob", 1, awaited=False)])
    # u-ada's first email is still waiting when other people's changes refresh it
    await poll(uow, [proposed("u-ada", 2, awaited=False), proposed("u-bob", 2, awaited=False)])
    waiting = {e["who"][1]: e["email"].awaited for e in uow.state.emails if e["state"] == "queued"}
    assert waiting == {"u-ada": True, "u-bob": False}
    # once sent, the next refresh is a refresh; the mentee's own answer is awaited again
    for e in uow.state.emails:
        if e["state"] == "queued":
            e["state"] = "sent"
    await poll(uow, [proposed("u-ada", 3, awaited=False), proposed("u-bob", 3)])
    waiting = {e["who"][1]: e["email"].awaited for e in uow.state.emails if e["state"] == "queued"}
    assert waiting == {"u-ada": False, "u-bob": True}


# --- batched equals one by one ----------------------------------------------------------------

MENTEES = ("u-ada", "u-bob", "u-cy")
GOALS = ("g1", "g2")


@st.composite
def scenarios(draw: st.DrawFn) -> list[list[tuple[str, Any]]]:
    """Polls of steps: a new proposal (mentee, goal, version step, empty?, reuse a proposal id?,
    awaited?), a redelivery of an earlier event, or, between polls, a sent email or an
    erasure."""
    step = st.one_of(
        st.tuples(
            st.just("new"),
            st.tuples(
                st.sampled_from(MENTEES),
                st.sampled_from(GOALS),
                st.integers(-1, 2),
                st.booleans() if draw(st.booleans()) else st.just(False),
                st.integers(0, 9),
                st.booleans(),
            ),
        ),
        st.tuples(st.just("again"), st.integers(0, 1000)),
    )
    between = st.tuples(st.sampled_from(["nothing", "sent", "erased"]), st.sampled_from(MENTEES))
    return draw(
        st.lists(st.tuples(st.lists(step, min_size=1, max_size=8), between), min_size=1, max_size=6)
    )


def build(scenario: list[Any]) -> list[tuple[list[MatchProposed], tuple[str, str]]]:
    versions = {(who, goal): 0 for who in MENTEES for goal in GOALS}
    history: list[MatchProposed] = []
    polls = []
    for steps, between in scenario:
        events = []
        for kind, arg in steps:
            if kind == "again":
                if history:
                    events.append(history[arg % len(history)])
                continue
            who, goal, step, empty, reuse, awaited = arg
            version = max(1, versions[who, goal] + step)
            versions[who, goal] = max(versions[who, goal], version)
            fields: dict[str, Any] = {"ranking_version": version, "awaited": awaited}
            fields["goal_id"] = goal
            if empty:
                fields["mentors"] = []
            earlier = [
                e for e in history if (e.payload.mentee_id, e.payload.goal_id) == (who, goal)
            ]
            if reuse == 0 and earlier:
                fields["proposal_id"] = earlier[-1].payload.proposal_id
            event = match_proposed(proposal(who, **fields), correlation_id=str(uuid4()))
            events.append(event)
            history.append(event)
        polls.append((events, between))
    return polls


def summary(uow: Store) -> Any:
    return (
        [
            (
                e["who"],
                e["email"].proposal.proposal_id,
                e["state"],
                e["superseded_by"],
                e["email"].due_at,
                e["email"].correlation_id,
                e["email"].awaited,
            )
            for e in uow.state.emails
        ],
        uow.state.digests,
        uow.state.processed,
    )


@settings(max_examples=300, deadline=None)
@given(scenarios())
async def test_a_poll_ends_as_its_proposals_one_at_a_time(scenario: list[Any]) -> None:
    batched, single = store(), store()
    at = NOW
    for events, (between, who) in build(scenario):
        tick = at
        queued_together = await poll(batched, events, at=tick)
        queued_alone = [await poll(single, [event], at=tick) for event in events]
        assert queued_together == sum(queued_alone)
        assert summary(batched) == summary(single)
        for uow in (batched, single):
            if between == "sent":
                for e in uow.state.emails:
                    if e["who"][:2] == ("acme", who) and e["state"] == "queued":
                        e["state"] = "sent"
            elif between == "erased":
                await handlers.forget_person(profile_deleted(who, event_id=UUID(int=0)), uow)
        at += timedelta(seconds=12)


def causes(uow: Store, who: str = "u-ada") -> list[tuple[int, str, str | None]]:
    return [
        (
            e["email"].proposal.ranking_version,
            e["state"],
            c.kind if (c := e["email"].proposal.cause) else None,
        )
        for e in uow.state.emails
        if e["who"][1] == who
    ]


DECLINED = ProposalCause(kind="request_declined", mentor_id="u-grace", mentor_name="Grace Hopper")
OTHERS = ProposalCause(kind="others_changed")


async def test_a_refresh_that_replaces_a_waiting_email_keeps_what_it_said_changed() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1, cause=DECLINED)])
    await poll(uow, [proposed("u-ada", 2, cause=OTHERS)], at=NOW + timedelta(seconds=5))
    assert causes(uow) == [(1, "superseded", "request_declined"), (2, "queued", "request_declined")]
    (waiting,) = [e["email"] for e in uow.state.emails if e["state"] == "queued"]
    assert waiting.proposal.cause == DECLINED


async def test_in_one_poll_too_and_a_newer_cause_of_the_mentees_own_wins() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1, cause=DECLINED), proposed("u-ada", 2, cause=OTHERS)])
    assert causes(uow)[-1] == (2, "queued", "request_declined")
    changed = ProposalCause(kind="goal_changed", changed=["statement"])
    await poll(uow, [proposed("u-ada", 3, cause=changed)], at=NOW + timedelta(seconds=5))
    assert causes(uow)[-1] == (3, "queued", "goal_changed")


# --- several goals per mentee (ADR 0012) ------------------------------------------------------


def goal_rows(uow: Store, goal: str, who: str = "u-ada") -> list[tuple[int, str]]:
    return [
        (e["email"].proposal.ranking_version, e["state"])
        for e in uow.state.emails
        if e["who"] == ("acme", who, goal)
    ]


async def test_each_goal_of_a_mentee_gets_its_own_email_and_versions() -> None:
    uow = store()
    career, project = proposed("u-ada", 5, goal_id="career"), proposed("u-ada", 1, goal_id="proj")
    assert await poll(uow, [career, project]) == 2
    # goal proj's version 1 is not stale next to goal career's 5: versions grow per goal
    assert goal_rows(uow, "career") == [(5, "queued")]
    assert goal_rows(uow, "proj") == [(1, "queued")]
    assert uow.state.digests == {("acme", "u-ada", "career"): 5, ("acme", "u-ada", "proj"): 1}


async def test_a_proposal_for_one_goal_never_replaces_another_goals_waiting_email() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1, goal_id="career", mentors=[])])  # the waiting list
    await poll(uow, [proposed("u-ada", 2, goal_id="proj"), proposed("u-ada", 3, goal_id="proj")])
    assert goal_rows(uow, "career") == [(1, "queued")]
    assert goal_rows(uow, "proj") == [(2, "superseded"), (3, "queued")]
    # and a stale version of one goal says nothing about the other
    assert await poll(uow, [proposed("u-ada", 2, goal_id="career")]) == 1
    assert await poll(uow, [proposed("u-ada", 3, goal_id="proj")]) == 0


async def test_a_closed_goal_withdraws_its_waiting_email_only() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1, goal_id="career"), proposed("u-ada", 1, goal_id="proj")])
    await lifecycle_handlers.close_goal(goal_closed("u-ada", "proj", version=3), uow)
    assert goal_rows(uow, "career") == [(1, "queued")]
    assert goal_rows(uow, "proj") == [(1, "superseded")]


async def test_a_poll_of_goal_events_applies_in_order() -> None:
    """The goals subscriber hands a whole poll to `record_goals` (one transaction): a closure
    and a redelivered closure in one poll withdraw the goal's email once, the other goal's
    stays."""
    uow = store()
    await poll(uow, [proposed("u-ada", 1, goal_id="career"), proposed("u-ada", 1, goal_id="proj")])
    closed = goal_closed("u-ada", "proj", version=3)
    await lifecycle_handlers.record_goals([closed, closed], uow)
    assert goal_rows(uow, "career") == [(1, "queued")]
    assert goal_rows(uow, "proj") == [(1, "superseded")]


async def test_erasing_a_mentee_drops_every_goals_emails_and_digests() -> None:
    uow = store()
    await poll(uow, [proposed("u-ada", 1, goal_id="career"), proposed("u-ada", 1, goal_id="proj")])
    await poll(uow, [proposed("u-bob", 1, goal_id="career")])
    await handlers.forget_person(profile_deleted("u-ada"), uow)
    assert {e["who"] for e in uow.state.emails} == {("acme", "u-bob", "career")}
    assert uow.state.digests == {("acme", "u-bob", "career"): 1}

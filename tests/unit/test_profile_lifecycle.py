"""Relationship handlers against the in-memory unit of work: what each move publishes, and
that the mentor's seats are counted in one place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from services.profile.domain.commands import (
    AnswerRequest,
    DeclineProposal,
    DeleteProfile,
    EndRelationship,
    RequestIntro,
    UndoAdjustment,
)
from services.profile.domain.relationships import Answer, Ending, LifecycleTerms, Refusal
from services.profile.service_layer import handlers, lifecycle
from services.profile.service_layer.learning import undo_adjustment
from services.profile.service_layer.lifecycle import Lifecycle
from services.profile.service_layer.timers import run_due
from shared.contracts.lifecycle import (
    FitCheckRequested,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    RequestReminded,
)
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES
from tests.unit.builders import TENANT
from tests.unit.profile_fakes import FakeUnitOfWork
from tests.unit.test_profile_handlers import set_goal, upsert, with_mentee

T0 = datetime.now(UTC)  # erasure moves relationships at the time it runs
TERMS = LifecycleTerms(timedelta(days=5), timedelta(days=14), 2)


async def setup(capacity: int = 2, mentees: tuple[str, ...] = ("u-ada",)) -> Lifecycle:
    uow = FakeUnitOfWork()
    for mentee in mentees:
        await with_mentee(uow, mentee)
        await handlers.set_goal(set_goal(mentee, goal_id="g1"), uow)
    mentor = upsert(
        "u-grace",
        roles=["mentor"],
        email="grace@example.org",
        capacity=capacity,
        mentoring_styles=["coaching"],
    )
    await handlers.upsert_profile(mentor, uow)
    return Lifecycle(uow, TERMS)


def uow_of(life: Lifecycle) -> FakeUnitOfWork:
    assert isinstance(life.uow, FakeUnitOfWork)
    return life.uow


def events(life: Lifecycle, *types: type) -> list:
    return [e for t, e in uow_of(life).published if t == FEEDBACK and isinstance(e, types)]


def seats(life: Lifecycle) -> list[int]:
    mentor = [
        e.payload
        for t, e in uow_of(life).published
        if t == PROFILES and isinstance(e, ProfileUpdated) and e.key == "u-grace"
    ]
    return [p.seats_taken for p in mentor]


async def ask(life: Lifecycle, mentee: str = "u-ada", proposal: UUID | None = None):
    command = RequestIntro(TENANT, mentee, "u-grace", proposal or uuid4(), "g1", "c")
    return await lifecycle.request_intro(command, life, T0)


async def answer(life: Lifecycle, request_id: UUID, accept: bool, at: datetime):
    command = AnswerRequest(TENANT, request_id, "u-grace", accept, "c")
    return await lifecycle.answer_request(command, life, at)


async def test_a_request_holds_a_seat_and_a_replay_asks_nothing_twice() -> None:
    life = await setup()
    proposal = uuid4()
    first = await ask(life, proposal=proposal)
    again = await ask(life, proposal=proposal)
    assert first.relationship is not None and first.refusal is None
    assert again.replayed and again.relationship == first.relationship
    (requested,) = events(life, MatchRequested)
    assert requested.payload.deadline == T0 + timedelta(days=5)
    assert requested.payload.proposal_id == proposal
    assert seats(life) == [0, 1]  # created, then one seat held


async def test_no_free_seat_and_the_open_request_limit_are_refused() -> None:
    life = await setup(capacity=1, mentees=("u-ada", "u-bob"))
    await ask(life, "u-ada")
    assert (await ask(life, "u-bob")).refusal is Refusal.NO_SEAT
    assert (await ask(life, "u-ada")).refusal is Refusal.ALREADY_ASKED
    assert len(events(life, MatchRequested)) == 1 and seats(life) == [0, 1]


async def test_accept_starts_and_decline_frees_the_seat() -> None:
    life = await setup(mentees=("u-ada", "u-bob"))
    a = (await ask(life, "u-ada")).relationship
    b = (await ask(life, "u-bob")).relationship
    assert a and b
    started = await answer(life, a.request_id, True, T0 + timedelta(days=1))
    declined = await answer(life, b.request_id, False, T0 + timedelta(days=1))
    assert started.answer is Answer.DONE and declined.answer is Answer.DONE
    (start,) = events(life, MatchStarted)
    (decline,) = events(life, RequestDeclined)
    assert start.payload.version == 2 and decline.payload.declined_by == "mentor"
    assert seats(life) == [0, 1, 2, 1]


async def test_a_late_accept_expires_once_and_the_mentee_hears_once() -> None:
    life = await setup()
    r = (await ask(life)).relationship
    assert r
    late = [await answer(life, r.request_id, True, r.deadline + timedelta(hours=h)) for h in (1, 2)]
    assert [m.answer for m in late] == [Answer.TOO_LATE, Answer.TOO_LATE]
    assert len(events(life, RequestExpired)) == 1 and not events(life, MatchStarted)
    assert await run_due(life, r.deadline + timedelta(days=1)) == 0  # nothing left to expire
    assert seats(life) == [0, 1, 0]


async def test_the_timers_remind_once_expire_and_check_the_fit() -> None:
    life = await setup(mentees=("u-ada", "u-bob"))
    waiting = (await ask(life, "u-ada")).relationship
    accepted = (await ask(life, "u-bob")).relationship
    assert waiting and accepted
    await answer(life, accepted.request_id, True, T0)
    assert await run_due(life, waiting.remind_at) == 1
    assert await run_due(life, waiting.remind_at + timedelta(hours=1)) == 0
    assert await run_due(life, waiting.deadline) == 1
    assert await run_due(life, T0 + timedelta(days=14)) == 1
    assert await run_due(life, T0 + timedelta(days=30)) == 0
    assert len(events(life, RequestReminded)) == 1
    assert len(events(life, RequestExpired)) == 1
    (fit,) = events(life, FitCheckRequested)
    assert fit.payload.request_id == accepted.request_id


async def test_both_ending_at_once_is_one_ending_and_the_reason_teaches() -> None:
    life = await setup()
    r = (await ask(life)).relationship
    assert r
    await answer(life, r.request_id, True, T0)
    by_mentee = EndRelationship(TENANT, r.request_id, Ending("mentee", "style"), "u-ada", True)
    by_mentor = EndRelationship(TENANT, r.request_id, Ending("mentor", "other"), "u-grace")
    first = await lifecycle.end_relationship(by_mentee, life, T0 + timedelta(days=20))
    second = await lifecycle.end_relationship(by_mentor, life, T0 + timedelta(days=20))
    assert first.move.answer is Answer.DONE and first.learned
    assert second.move.answer is Answer.REPEATED
    (ended,) = events(life, MatchEnded)
    assert (ended.payload.ended_by, ended.payload.reason) == ("mentee", "style")
    assert seats(life) == [0, 1, 0]

    (adjusted,) = [e for t, e in uow_of(life).published if isinstance(e, PreferencesAdjusted)]
    assert adjusted.payload.adjustment.styles_avoided == ["coaching"]
    undo = UndoAdjustment(TENANT, "u-ada", adjusted.payload.adjustment.adjustment_id)
    assert await undo_adjustment(undo, life.uow) is True
    assert await undo_adjustment(undo, life.uow) is False  # once
    restored = [e for t, e in uow_of(life).published if t == GOALS][-1]
    assert restored.payload.adjustment.trigger == "undo"
    assert restored.payload.preferred_styles == [] and restored.payload.criteria.style == 0.4


async def test_erasing_the_mentor_rematches_a_waiting_mentee() -> None:
    life = await setup()
    await ask(life)
    await handlers.delete_profile(DeleteProfile(TENANT, "u-grace"), life.uow)
    (declined,) = events(life, RequestDeclined)
    assert declined.payload.declined_by == "mentor_left"
    assert uow_of(life).state.relationships.rows == {}


async def test_erasing_the_mentee_ends_everything_and_frees_the_seat() -> None:
    life = await setup()
    r = (await ask(life)).relationship
    assert r
    await answer(life, r.request_id, True, T0)
    await handlers.delete_profile(DeleteProfile(TENANT, "u-ada"), life.uow)
    (ended,) = events(life, MatchEnded)
    assert ended.payload.ended_by == "system"
    assert seats(life) == [0, 1, 0]
    assert uow_of(life).state.profiles[TENANT, "u-grace"].seats_taken == 0


async def test_a_mentor_closing_to_mentees_withdraws_waiting_requests_only() -> None:
    life = await setup(mentees=("u-ada", "u-bob"))
    waiting = (await ask(life, "u-ada")).relationship
    started = (await ask(life, "u-bob")).relationship
    assert waiting and started
    await answer(life, started.request_id, True, T0)
    closed = upsert("u-grace", roles=["mentor"], email="g@example.org", capacity=2, opted_in=False)
    profile = await handlers.upsert_profile(closed, life.uow)

    (declined,) = events(life, RequestDeclined)
    assert declined.payload.request_id == waiting.request_id
    assert declined.payload.declined_by == "mentor_left"
    assert profile.seats_taken == 1 and seats(life) == [0, 1, 2, 1]
    assert not events(life, MatchEnded)


async def test_not_for_me_after_asking_withdraws_the_request_and_frees_the_seat() -> None:
    life = await setup()
    proposal = uuid4()
    r = (await ask(life, proposal=proposal)).relationship
    assert r
    decline = DeclineProposal(TENANT, "u-ada", "u-grace", proposal, "g1", "c")
    await handlers.decline_proposal(decline, life.uow)
    (ended,) = events(life, MatchEnded)
    assert (ended.payload.request_id, ended.payload.ended_by) == (r.request_id, "mentee")
    assert seats(life) == [0, 1, 0]


async def test_not_for_me_again_after_asking_withdraws_the_request_and_frees_the_seat() -> None:
    """Seen in the chaos run (mentor-109): "Not for me", then "Request an intro" on the same
    proposal, then "Not for me" again. The second decline was taken for a replay of the first
    (same proposal, mentor and action) and withdrew nothing: the seat stayed taken."""
    life = await setup()
    proposal = uuid4()
    decline = DeclineProposal(TENANT, "u-ada", "u-grace", proposal, "g1", "c")
    await handlers.decline_proposal(decline, life.uow)
    r = (await ask(life, proposal=proposal)).relationship
    assert r
    await handlers.decline_proposal(decline, life.uow)
    (ended,) = events(life, MatchEnded)
    assert (ended.payload.request_id, ended.payload.ended_by) == (r.request_id, "mentee")
    assert seats(life) == [0, 1, 0]


async def test_a_relationship_that_cannot_move_does_not_stop_the_timers() -> None:
    life = await setup(mentees=("u-ada", "u-bob"))
    broken = (await ask(life, "u-ada")).relationship
    fine = (await ask(life, "u-bob")).relationship
    assert broken and fine
    rows = uow_of(life).state.relationships.rows
    rows[broken.request_id] = replace(broken, proposal_id=None)  # its event cannot be written
    assert await run_due(life, fine.deadline) == 1
    (expired,) = events(life, RequestExpired)
    assert expired.payload.request_id == fine.request_id


async def test_an_import_that_closes_a_mentor_withdraws_their_waiting_requests() -> None:
    life = await setup()
    await ask(life)
    closed = upsert("u-grace", roles=["mentor"], email="g@example.org", capacity=2, opted_in=False)
    await handlers.import_profiles(TENANT, [closed], life.uow)
    (declined,) = events(life, RequestDeclined)
    assert declined.payload.declined_by == "mentor_left"
    assert uow_of(life).state.profiles[TENANT, "u-grace"].seats_taken == 0


async def test_an_import_batch_announces_its_rows_in_order_around_a_closing_mentor() -> None:
    """The batch's plain rows are stored and announced together, but not past a mentor who
    closes: the rows before it are announced before its withdrawals, the rows after it after."""
    life = await setup()
    await ask(life)
    before = len(uow_of(life).published)
    closed = upsert("u-grace", roles=["mentor"], email="g@example.org", capacity=2, opted_in=False)
    rows = [upsert("u-new1"), closed, upsert("u-new2")]
    await handlers.import_profiles(TENANT, rows, life.uow)
    said = [
        (type(e).__name__, e.key)
        for _, e in uow_of(life).published[before:]
        if isinstance(e, ProfileUpdated | RequestDeclined)
    ]
    assert said == [
        ("ProfileUpdated", "u-new1"),
        ("RequestDeclined", "u-ada"),
        ("ProfileUpdated", "u-grace"),
        ("ProfileUpdated", "u-new2"),
    ]
    assert uow_of(life).state.profiles[TENANT, "u-new2"].version == 1

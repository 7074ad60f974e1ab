"""Profile service command handlers against an in-memory unit of work."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest

from services.profile.domain.commands import (
    DeclineProposal,
    DeleteProfile,
    SetGoal,
    Unsubscribe,
    UpsertProfile,
)
from services.profile.domain.goal_clarity import VagueGoal
from services.profile.domain.model import NotAMentee, ProfileNotFound, VersionConflict
from services.profile.entrypoints.ingress import ingress_applier, parse_staged
from services.profile.service_layer import handlers
from services.profile.service_layer.ingress import UnknownTenant, handle_ingress_command
from shared.contracts.feedback import MatchDeclined
from shared.contracts.goals import GoalSet
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileDeleted, ProfilePayload, ProfileUpdated
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES
from tests.unit.builders import TENANT, as_goal_fields, as_profile_fields
from tests.unit.profile_fakes import FakeUnitOfWork


def upsert(
    user_id: str = "u-ada", expected_version: int | None = None, **fields: object
) -> UpsertProfile:
    return UpsertProfile(TENANT, user_id, as_profile_fields(**fields), expected_version, "req-1")


def set_goal(mentee_id: str = "u-ada", **fields: object) -> SetGoal:
    return SetGoal(TENANT, mentee_id, as_goal_fields(**fields), "req-2")


async def with_mentee(uow: FakeUnitOfWork, user_id: str = "u-ada") -> ProfilePayload:
    return await handlers.upsert_profile(upsert(user_id, roles=["mentee"], email="a@x.org"), uow)


async def test_profile_versions_increment_from_one() -> None:
    uow = FakeUnitOfWork()
    names = ["A", "B", "C"]
    versions = [(await handlers.upsert_profile(upsert(display_name=n), uow)).version for n in names]
    assert versions == [1, 2, 3]
    assert [e.payload.version for _, e in uow.published] == [1, 2, 3]
    assert uow.state.profiles[TENANT, "u-ada"].version == 3


async def test_unchanged_content_keeps_the_version_and_publishes_nothing() -> None:
    uow = FakeUnitOfWork()
    first = await handlers.upsert_profile(upsert(display_name="Ada"), uow)
    again = await handlers.upsert_profile(upsert(display_name="Ada"), uow)
    assert again == first and again.version == 1
    assert len(uow.published) == 1


async def test_versions_are_per_user_and_per_tenant() -> None:
    uow = FakeUnitOfWork()
    await handlers.upsert_profile(upsert("u-ada"), uow)
    await handlers.upsert_profile(upsert("u-ada", display_name="Ada 2"), uow)
    other_user = await handlers.upsert_profile(upsert("u-bob"), uow)
    other_tenant = await handlers.upsert_profile(
        UpsertProfile("globex", "u-ada", as_profile_fields()), uow
    )
    assert (other_user.version, other_tenant.version) == (1, 1)


async def test_matching_expected_version_is_accepted() -> None:
    uow = FakeUnitOfWork()
    assert (await handlers.upsert_profile(upsert(expected_version=0), uow)).version == 1
    second = await handlers.upsert_profile(upsert(expected_version=1, display_name="B"), uow)
    assert second.version == 2


@pytest.mark.parametrize(("stored_updates", "expected"), [(0, 1), (2, 1), (2, 3), (1, 0)])
async def test_expected_version_mismatch_raises_and_publishes_nothing(
    stored_updates: int, expected: int
) -> None:
    uow = FakeUnitOfWork()
    for n in range(stored_updates):
        await handlers.upsert_profile(upsert(display_name=f"v{n}"), uow)
    before = copy.deepcopy(uow.state)

    with pytest.raises(VersionConflict) as caught:
        await handlers.upsert_profile(upsert(expected_version=expected, display_name="X"), uow)

    assert caught.value.expected == expected
    assert caught.value.actual == (stored_updates or None)
    assert uow.state == before  # nothing stored, nothing queued


async def test_upsert_publishes_profile_updated_with_key_and_correlation_id() -> None:
    uow = FakeUnitOfWork()
    profile = await handlers.upsert_profile(upsert("u-ada", display_name="Ada"), uow)
    ((topic, event),) = uow.published
    assert topic == PROFILES
    assert isinstance(event, ProfileUpdated)
    assert event.key == "u-ada"
    assert event.tenant_id == TENANT
    assert event.correlation_id == "req-1"
    assert event.payload == profile
    assert event.payload.display_name == "Ada"


async def test_set_goal_for_an_unknown_user_raises_not_a_mentee() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(NotAMentee):
        await handlers.set_goal(set_goal("u-nobody"), uow)
    assert uow.published == [] and uow.state.goals == {}


async def test_set_goal_for_a_mentor_only_user_raises_not_a_mentee() -> None:
    uow = FakeUnitOfWork()
    await handlers.upsert_profile(upsert("u-grace", roles=["mentor"]), uow)
    with pytest.raises(NotAMentee):
        await handlers.set_goal(set_goal("u-grace"), uow)
    assert len(uow.published) == 1 and uow.state.goals == {}


async def test_set_goal_versions_increment_and_publish_goal_set() -> None:
    uow = FakeUnitOfWork()
    await handlers.upsert_profile(upsert("u-ada", roles=["mentee", "mentor"]), uow)
    first = await handlers.set_goal(set_goal("u-ada"), uow)
    second = await handlers.set_goal(set_goal("u-ada", goal_id="g2"), uow)
    assert (first.version, second.version) == (1, 2)

    goal_events = [(t, e) for t, e in uow.published if isinstance(e, GoalSet)]
    assert [t for t, _ in goal_events] == [GOALS, GOALS]
    _, event = goal_events[-1]
    assert event.key == event.payload.mentee_id == "u-ada"
    assert event.correlation_id == "req-2"
    assert event.payload == second


async def test_the_same_goal_again_keeps_its_version_and_publishes_nothing() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    first = await handlers.set_goal(set_goal(), uow)
    again = await handlers.set_goal(set_goal(), uow)
    assert again == first
    assert len([e for _, e in uow.published if isinstance(e, GoalSet)]) == 1


async def test_a_vague_goal_is_refused_and_nothing_is_stored() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    with pytest.raises(VagueGoal):
        await handlers.set_goal(set_goal(statement="Be more successful"), uow)
    assert uow.state.goals == {}


async def test_loaded_words_in_a_concrete_goal_come_back_as_advice() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    async with uow.transaction() as tx:
        result = await handlers.set_goal_in(
            tx, set_goal(statement="Get better at Kubernetes", target_skills=["kubernetes"])
        )
    assert [a.term for a in result.advice] == ["better"]
    assert result.goal.version == 1


async def test_unsubscribe_turns_email_off_for_good() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    await handlers.unsubscribe(Unsubscribe(TENANT, "u-ada", "link-1"), uow)
    await handlers.unsubscribe(Unsubscribe(TENANT, "u-ada", "link-2"), uow)  # once only
    later = await handlers.upsert_profile(
        upsert("u-ada", roles=["mentee"], email="a@x.org", display_name="Ada L."), uow
    )

    updates = [e for _, e in uow.published if isinstance(e, ProfileUpdated)]
    assert [e.payload.version for e in updates] == [1, 2, 3]
    assert [e.payload.notification_preferences.email_opt_in for e in updates] == [
        True,
        False,
        False,
    ]
    assert later.notification_preferences.email_opt_in is False


async def test_unsubscribe_of_an_unknown_person_raises() -> None:
    with pytest.raises(ProfileNotFound):
        await handlers.unsubscribe(Unsubscribe(TENANT, "u-nobody"), FakeUnitOfWork())


async def test_delete_erases_the_person_and_publishes_profile_deleted() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    await handlers.set_goal(set_goal(), uow)
    await handlers.upsert_profile(upsert("u-report", manager_id="u-ada"), uow)
    await handlers.unsubscribe(Unsubscribe(TENANT, "u-ada"), uow)

    await handlers.delete_profile(DeleteProfile(TENANT, "u-ada", correlation_id="req-9"), uow)

    assert (TENANT, "u-ada") not in uow.state.profiles
    assert uow.state.goals == {} and uow.state.unsubscribed == set()
    assert uow.state.profiles[TENANT, "u-report"].manager_id is None
    topic, event = uow.published[-1]
    assert topic == PROFILES and isinstance(event, ProfileDeleted)
    assert event.key == event.payload.user_id == "u-ada"
    report_update = uow.published[-2][1]
    assert isinstance(report_update, ProfileUpdated) and report_update.payload.version == 2
    assert uow.state.tombstones == [(PROFILES, TENANT, "u-ada")]


async def test_delete_of_an_unknown_person_or_a_stale_version_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(ProfileNotFound):
        await handlers.delete_profile(DeleteProfile(TENANT, "u-ada"), uow)
    await with_mentee(uow)
    with pytest.raises(VersionConflict):
        await handlers.delete_profile(DeleteProfile(TENANT, "u-ada", expected_version=7), uow)
    assert (TENANT, "u-ada") in uow.state.profiles


def decline(proposal_id: UUID, reason: str | None = None) -> DeclineProposal:
    return DeclineProposal(TENANT, "u-ada", "u-grace", proposal_id, "g1", "link-1", reason)


async def test_a_decline_is_published_once_however_often_it_is_given() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    await handlers.upsert_profile(upsert("u-grace"), uow)
    proposal = uuid4()
    results = [await handlers.decline_proposal(decline(proposal), uow) for _ in range(2)]

    feedback = [e for t, e in uow.published if t == FEEDBACK]
    assert [r.first for r in results] == [True, False]
    (declined,) = feedback
    assert isinstance(declined, MatchDeclined) and declined.schema_version == 2
    assert declined.key == "u-ada" and declined.payload.mentor_id == "u-grace"
    assert declined.payload.proposal_id == proposal and declined.payload.reason is None


async def test_a_declines_reason_adjusts_the_goal_gently() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    await handlers.set_goal(set_goal(goal_id="g1"), uow)
    await handlers.upsert_profile(upsert("u-grace", roles=["mentor"]), uow)
    result = await handlers.decline_proposal(decline(uuid4(), "availability"), uow)

    assert result.learned
    adjusted = [e for t, e in uow.published if t == GOALS][-1]
    assert isinstance(adjusted, PreferencesAdjusted)
    assert adjusted.payload.adjustment.trigger == "proposal_declined"
    (change,) = adjusted.payload.adjustment.weights
    assert (change.criterion, change.before, change.after) == ("availability", 0.3, 0.45)
    assert (
        adjusted.payload.version == 2 and uow.state.goals[TENANT, "u-ada", "g1"].goal.version == 2
    )


async def test_declines_about_people_who_are_gone_raise() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(ProfileNotFound):
        await handlers.decline_proposal(decline(uuid4()), uow)
    assert not [e for t, e in uow.published if t == FEEDBACK]


async def test_declining_an_erased_mentor_records_nothing_about_them() -> None:
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    await handlers.upsert_profile(upsert("u-grace", roles=["mentor"]), uow)
    await handlers.delete_profile(DeleteProfile(TENANT, "u-grace"), uow)
    with pytest.raises(ProfileNotFound):
        await handlers.decline_proposal(decline(uuid4()), uow)
    assert uow.state.link_responses == set()


async def test_import_batch_counts_and_a_rerun_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    rows = [upsert("u-1"), upsert("u-2"), upsert("u-1", display_name="Renamed")]
    first = await handlers.import_profiles(TENANT, rows, uow)
    published = len(uow.published)
    second = await handlers.import_profiles(TENANT, rows[1:], uow)

    assert (first.created, first.updated, first.unchanged) == (2, 1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert len(uow.published) == published == 3


async def test_an_ingress_command_is_applied_once_per_command_id() -> None:
    uow = FakeUnitOfWork()
    command_id = uuid4()
    applied = [await handle_ingress_command(command_id, upsert(), uow) for _ in range(2)]
    assert applied == [True, False]
    assert len(uow.published) == 1


async def test_an_ingress_command_for_a_tenant_without_a_key_is_refused() -> None:
    uow = FakeUnitOfWork()
    command = UpsertProfile("stranger", "u-1", as_profile_fields())
    with pytest.raises(UnknownTenant):
        await handle_ingress_command(uuid4(), command, uow)
    assert uow.published == [] and uow.state.processed == set()


async def test_a_replayed_ingress_command_from_before_an_erasure_recreates_nobody() -> None:
    uow = FakeUnitOfWork()
    failed_at = datetime.now(UTC)  # the command failed and was dead-lettered, then...
    await with_mentee(uow)
    await handlers.delete_profile(DeleteProfile(TENANT, "u-ada"), uow)  # ...the person left

    replayed = [
        await handle_ingress_command(uuid4(), command, uow, made_at=failed_at)
        for command in (upsert(), set_goal())
    ]

    assert replayed == [False, False]
    assert (TENANT, "u-ada") not in uow.state.profiles and uow.state.goals == {}
    later = failed_at + timedelta(hours=1)  # a letter that failed after the erasure is new
    assert await handle_ingress_command(uuid4(), upsert(), uow, made_at=later)
    assert (TENANT, "u-ada") in uow.state.profiles


async def test_a_live_ingress_command_made_before_the_erasure_recreates_nobody() -> None:
    """The record's timestamp is a live command's event time (entrypoints/ingress.py)."""
    uow = FakeUnitOfWork()
    await with_mentee(uow)
    made_before = datetime.now(UTC) - timedelta(seconds=1)
    await handlers.delete_profile(DeleteProfile(TENANT, "u-ada"), uow)
    command = {
        "command_type": "UpsertProfile",
        "command_id": str(uuid4()),
        "tenant_id": TENANT,
        "user_id": "u-ada",
        "profile": as_profile_fields().model_dump(mode="json"),
    }
    record = SimpleNamespace(
        topic="ingress",
        partition=0,
        offset=7,
        key=b"u-ada",
        value=json.dumps(command).encode(),
        headers=[],
        timestamp=int(made_before.timestamp() * 1000),
    )

    assert await ingress_applier(uow)(parse_staged(record)) is None  # not refused: skipped
    assert (TENANT, "u-ada") not in uow.state.profiles

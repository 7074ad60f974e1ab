"""Profile service command handlers against an in-memory unit of work."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest

from services.profile.domain.commands import SetGoal, UpsertProfile
from services.profile.domain.model import NotAMentee, VersionConflict
from services.profile.service_layer import handlers
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSet, GoalSetPayload
from shared.contracts.profiles import ProfilePayload, ProfileUpdated
from shared.contracts.topics import GOALS, PROFILES, TopicSpec
from tests.unit.builders import TENANT, as_goal_fields, as_profile_fields
from tests.unit.fakes import CopyOnCommitUnitOfWork


@dataclass
class _State:
    profiles: dict[tuple[str, str], ProfilePayload] = field(default_factory=dict)
    goals: dict[tuple[str, str], GoalSetPayload] = field(default_factory=dict)
    outbox: list[tuple[TopicSpec, EventEnvelope]] = field(default_factory=list)


class FakeProfileTransaction:
    def __init__(self, state: _State) -> None:
        self.s = state

    async def get_profile(
        self, tenant_id: str, user_id: str, *, for_update: bool = False
    ) -> ProfilePayload | None:
        return self.s.profiles.get((tenant_id, user_id))

    async def save_profile(self, tenant_id: str, profile: ProfilePayload) -> None:
        self.s.profiles[tenant_id, profile.user_id] = profile

    async def get_goal(
        self, tenant_id: str, mentee_id: str, *, for_update: bool = False
    ) -> GoalSetPayload | None:
        return self.s.goals.get((tenant_id, mentee_id))

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        self.s.goals[tenant_id, goal.mentee_id] = goal

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        self.s.outbox.append((topic, event))


class FakeUnitOfWork(CopyOnCommitUnitOfWork[_State, FakeProfileTransaction]):
    def __init__(self) -> None:
        super().__init__(_State(), FakeProfileTransaction)

    @property
    def published(self) -> list[tuple[TopicSpec, EventEnvelope]]:
        return self.state.outbox


def upsert(
    user_id: str = "u-ada", expected_version: int | None = None, **fields: object
) -> UpsertProfile:
    return UpsertProfile(TENANT, user_id, as_profile_fields(**fields), expected_version, "req-1")


def set_goal(mentee_id: str = "u-ada", **fields: object) -> SetGoal:
    return SetGoal(TENANT, mentee_id, as_goal_fields(**fields), "req-2")


async def test_profile_versions_increment_from_one() -> None:
    uow = FakeUnitOfWork()
    versions = [(await handlers.upsert_profile(upsert(), uow)).version for _ in range(3)]
    assert versions == [1, 2, 3]
    assert [e.payload.version for _, e in uow.published] == [1, 2, 3]
    assert uow.state.profiles[TENANT, "u-ada"].version == 3


async def test_versions_are_per_user_and_per_tenant() -> None:
    uow = FakeUnitOfWork()
    await handlers.upsert_profile(upsert("u-ada"), uow)
    await handlers.upsert_profile(upsert("u-ada"), uow)
    other_user = await handlers.upsert_profile(upsert("u-bob"), uow)
    other_tenant = await handlers.upsert_profile(
        UpsertProfile("globex", "u-ada", as_profile_fields()), uow
    )
    assert (other_user.version, other_tenant.version) == (1, 1)


async def test_matching_expected_version_is_accepted() -> None:
    uow = FakeUnitOfWork()
    assert (await handlers.upsert_profile(upsert(expected_version=0), uow)).version == 1
    assert (await handlers.upsert_profile(upsert(expected_version=1), uow)).version == 2


@pytest.mark.parametrize(("stored_updates", "expected"), [(0, 1), (2, 1), (2, 3), (1, 0)])
async def test_expected_version_mismatch_raises_and_publishes_nothing(
    stored_updates: int, expected: int
) -> None:
    uow = FakeUnitOfWork()
    for _ in range(stored_updates):
        await handlers.upsert_profile(upsert(), uow)
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

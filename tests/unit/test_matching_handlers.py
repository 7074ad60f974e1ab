"""Matching's handlers against an in-memory unit of work: when a proposal is (re)published."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from services.matching.service_layer import handlers
from services.matching.service_layer.unit_of_work import CurrentProposal
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSetPayload
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfilePayload
from shared.contracts.topics import PROPOSALS, TopicSpec
from tests.unit.builders import (
    TENANT,
    goal,
    goal_set,
    mentee,
    mentor,
    profile_deleted,
    profile_updated,
)
from tests.unit.fakes import CopyOnCommitUnitOfWork

TOP_K = 3


@dataclass
class _State:
    processed: set[UUID] = field(default_factory=set)
    people: dict[tuple[str, str], ProfilePayload] = field(default_factory=dict)
    goals: dict[tuple[str, str], GoalSetPayload] = field(default_factory=dict)
    proposals: dict[tuple[str, str], tuple[CurrentProposal, UUID]] = field(default_factory=dict)
    outbox: list[tuple[TopicSpec, EventEnvelope]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class FakeMatchingTransaction:
    def __init__(self, state: _State) -> None:
        self.s = state

    async def lock_tenant(self, tenant_id: str, *, exclusive: bool) -> None:
        self.s.log.append(f"lock {tenant_id} {'exclusive' if exclusive else 'shared'}")

    async def first_delivery(self, event_id: UUID) -> bool:
        self.s.log.append("first_delivery")
        if event_id in self.s.processed:
            return False
        self.s.processed.add(event_id)
        return True

    async def person_version(self, tenant_id: str, user_id: str) -> int | None:
        person = self.s.people.get((tenant_id, user_id))
        return person.version if person else None

    async def save_person(self, tenant_id: str, profile: ProfilePayload) -> None:
        self.s.people[tenant_id, profile.user_id] = profile

    async def get_person(self, tenant_id: str, user_id: str) -> ProfilePayload | None:
        return self.s.people.get((tenant_id, user_id))

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        for table in (self.s.people, self.s.goals, self.s.proposals):
            table.pop((tenant_id, user_id), None)

    async def goal_version(self, tenant_id: str, mentee_id: str) -> int | None:
        the_goal = self.s.goals.get((tenant_id, mentee_id))
        return the_goal.version if the_goal else None

    async def save_goal(self, tenant_id: str, goal: GoalSetPayload) -> None:
        self.s.goals[tenant_id, goal.mentee_id] = goal

    async def get_goal(self, tenant_id: str, mentee_id: str) -> GoalSetPayload | None:
        return self.s.goals.get((tenant_id, mentee_id))

    async def mentors(self, tenant_id: str) -> list[ProfilePayload]:
        return [p for (t, _), p in self.s.people.items() if t == tenant_id and p.is_mentor]

    async def mentees_with_goals(self, tenant_id: str) -> list[str]:
        return sorted(m for (t, m) in self.s.goals if t == tenant_id)

    async def current_proposal(self, tenant_id: str, mentee_id: str) -> CurrentProposal | None:
        row = self.s.proposals.get((tenant_id, mentee_id))
        return row[0] if row else None

    async def save_proposal(
        self, tenant_id: str, mentee_id: str, proposal: CurrentProposal, proposal_id: UUID
    ) -> None:
        self.s.proposals[tenant_id, mentee_id] = (proposal, proposal_id)

    async def publish(self, topic: TopicSpec, event: EventEnvelope) -> None:
        self.s.outbox.append((topic, event))


class FakeUnitOfWork(CopyOnCommitUnitOfWork[_State, FakeMatchingTransaction]):
    def __init__(self) -> None:
        super().__init__(_State(), FakeMatchingTransaction)

    def proposals(self) -> list[MatchProposed]:
        assert all(topic == PROPOSALS for topic, _ in self.state.outbox)
        return [e for _, e in self.state.outbox if isinstance(e, MatchProposed)]

    def mentor_ids(self, index: int = -1) -> list[str]:
        return [m.mentor_id for m in self.proposals()[index].payload.mentors]


GRACE = mentor("u-grace", skills=[{"name": "kubernetes", "level": 4}])


async def test_goal_then_mentor_publishes_one_proposal() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    assert uow.proposals() == []  # no mentor yet: nothing to propose

    await handlers.record_profile(profile_updated(GRACE, correlation_id="req-7"), uow, TOP_K)

    (proposed,) = uow.proposals()
    assert proposed.key == proposed.payload.mentee_id == "u-ada"
    assert proposed.tenant_id == TENANT
    assert proposed.correlation_id == "req-7"
    assert proposed.payload.goal_id == "g1"
    assert proposed.payload.ranking_version == 1
    (first,) = proposed.payload.mentors
    assert (first.mentor_id, first.display_name, first.rank, first.score) == (
        "u-grace",
        "Grace Hopper",
        1,
        0.8,
    )
    assert "senior in kubernetes" in first.reasons[0].explanation


async def test_mentor_then_goal_publishes_one_proposal() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada"), correlation_id="req-9"), uow, TOP_K)
    (proposed,) = uow.proposals()
    assert proposed.correlation_id == "req-9"
    assert uow.mentor_ids() == ["u-grace"]


async def test_redelivered_events_change_nothing() -> None:
    uow = FakeUnitOfWork()
    ada, the_goal, grace = (
        profile_updated(mentee("u-ada")),
        goal_set(goal("u-ada")),
        profile_updated(GRACE),
    )
    for _ in range(2):
        await handlers.record_profile(ada, uow, TOP_K)
        await handlers.record_goal(the_goal, uow, TOP_K)
        await handlers.record_profile(grace, uow, TOP_K)
    assert len(uow.proposals()) == 1
    deleted = profile_deleted("u-grace")
    await handlers.forget_profile(deleted, uow, TOP_K)
    await handlers.forget_profile(deleted, uow, TOP_K)
    assert len(uow.proposals()) == 2


async def test_an_older_profile_version_is_ignored() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    await handlers.record_profile(profile_updated(mentor("u-grace", version=2)), uow, TOP_K)
    assert uow.mentor_ids() == ["u-grace"]

    stale = mentor("u-grace", version=1, opted_in=False)
    await handlers.record_profile(profile_updated(stale), uow, TOP_K)
    await handlers.record_profile(
        profile_updated(mentor("u-grace", version=2, capacity=0)), uow, TOP_K
    )

    assert len(uow.proposals()) == 1
    stored = uow.state.people[TENANT, "u-grace"]
    assert (stored.version, stored.opted_in, stored.capacity) == (2, True, 3)


async def test_an_older_goal_version_is_ignored() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada", version=2, goal_id="g2")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada", version=1, goal_id="g1")), uow, TOP_K)
    (proposed,) = uow.proposals()
    assert proposed.payload.goal_id == "g2"
    assert uow.state.goals[TENANT, "u-ada"].goal_id == "g2"


async def test_proposal_is_republished_only_when_the_mentor_set_changes() -> None:
    uow = FakeUnitOfWork()
    top_1 = 1
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, top_1)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, top_1)
    await handlers.record_profile(profile_updated(GRACE), uow, top_1)
    assert len(uow.proposals()) == 1

    # score-irrelevant changes: headline, and a weaker second mentor below the top-1 cut
    await handlers.record_profile(
        profile_updated(
            mentor(
                "u-grace", version=2, headline="CTO", skills=[{"name": "kubernetes", "level": 4}]
            )
        ),
        uow,
        top_1,
    )
    await handlers.record_profile(
        profile_updated(mentor("u-bob", skills=[{"name": "kubernetes", "level": 2}])), uow, top_1
    )
    assert len(uow.proposals()) == 1

    # a stronger mentor displaces Grace: the set changed
    await handlers.record_profile(
        profile_updated(mentor("u-linus", skills=[{"name": "kubernetes", "level": 5}])), uow, top_1
    )
    assert len(uow.proposals()) == 2
    latest = uow.proposals()[-1].payload
    assert uow.mentor_ids() == ["u-linus"]
    assert latest.ranking_version == 2
    assert latest.proposal_id != uow.proposals()[0].payload.proposal_id


async def test_a_new_goal_with_the_same_mentors_is_republished() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada", version=2, goal_id="g2")), uow, TOP_K)
    assert [p.payload.goal_id for p in uow.proposals()] == ["g1", "g2"]
    assert uow.mentor_ids(0) == uow.mentor_ids(1) == ["u-grace"]


async def test_goal_before_mentee_profile_is_parked_until_the_profile_arrives() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    assert uow.proposals() == []
    assert (TENANT, "u-ada") in uow.state.goals  # kept, waiting for the profile

    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)

    (proposed,) = uow.proposals()
    assert proposed.key == "u-ada"
    assert uow.mentor_ids() == ["u-grace"]


async def test_deleting_the_only_mentor_publishes_an_empty_proposal() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)

    await handlers.forget_profile(profile_deleted("u-grace", correlation_id="erase-1"), uow, TOP_K)

    assert len(uow.proposals()) == 2
    latest = uow.proposals()[-1]
    assert latest.payload.mentors == []
    assert latest.payload.ranking_version == 2
    assert latest.correlation_id == "erase-1"
    assert (TENANT, "u-grace") not in uow.state.people


async def test_deleting_a_mentee_forgets_their_goal_and_proposal_silently() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    await handlers.record_profile(profile_updated(mentee("u-ada")), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    await handlers.forget_profile(profile_deleted("u-ada"), uow, TOP_K)
    assert len(uow.proposals()) == 1
    assert uow.state.goals == {} and uow.state.proposals == {}


async def test_stored_read_model_holds_no_email_address() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    assert GRACE.email is not None
    assert uow.state.people[TENANT, "u-grace"].email is None


async def test_each_handler_locks_the_tenant_before_anything_else() -> None:
    uow = FakeUnitOfWork()
    await handlers.record_profile(profile_updated(GRACE), uow, TOP_K)
    await handlers.record_goal(goal_set(goal("u-ada")), uow, TOP_K)
    await handlers.forget_profile(profile_deleted("u-grace"), uow, TOP_K)
    assert uow.state.log == [
        f"lock {TENANT} exclusive",
        "first_delivery",
        f"lock {TENANT} shared",
        "first_delivery",
        f"lock {TENANT} exclusive",
        "first_delivery",
    ]

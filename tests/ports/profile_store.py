"""The profile service's port (UnitOfWork, ProfileTransaction) as one suite.

ProfileStoreContract holds the checks; a subclass per implementation provides `uow` and
`activate` (makes a tenant hold a usable API key): the fake (tests/unit/test_profile_store_port.py)
and PostgreSQL (tests/integration/test_profile_store_port.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from services.profile.service_layer.unit_of_work import (
    EarlierRequest,
    IdempotentRequest,
    LinkResponse,
    ProfileQuery,
    StoredResponse,
    UnitOfWork,
)
from shared.erasure import Erasure
from tests.unit.builders import goal, mentee, mentor

TENANT, OTHER = "tenant-a", "tenant-b"
Activate = Callable[[str], Awaitable[None]]


class RolledBack(Exception):
    pass


def request(key: str, user_id: str = "x1", fingerprint: bytes = b"f1") -> IdempotentRequest:
    return IdempotentRequest(TENANT, key, user_id, fingerprint)


class ProfileStoreContract:
    """Subclasses define the fixtures `uow` (UnitOfWork) and `activate` (Activate)."""

    @pytest.fixture
    def uow(self) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def activate(self, uow: UnitOfWork) -> Any:
        raise NotImplementedError

    async def test_profiles_are_stored_per_tenant(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            assert await tx.get_profile(TENANT, "x1") is None
            await tx.save_profile(TENANT, mentee("x1", 2))
            await tx.save_profile(TENANT, mentor("m1"))
        async with uow.transaction() as tx:
            assert await tx.get_profile(TENANT, "x1", for_update=True) == mentee("x1", 2)
            assert await tx.get_profiles(TENANT, ["x1", "m1", "nobody"]) == {
                "x1": mentee("x1", 2),
                "m1": mentor("m1"),
            }
            assert await tx.get_profile(OTHER, "x1") is None
            await tx.save_profile(TENANT, mentee("x1", 3, display_name="Renamed"))
        async with uow.transaction() as tx:
            assert await tx.get_profile(TENANT, "x1") == mentee("x1", 3, display_name="Renamed")

    async def test_a_page_of_profiles_follows_the_user_ids_and_the_filters(
        self, uow: UnitOfWork
    ) -> None:
        async with uow.transaction() as tx:
            for user_id in ("a", "c", "e"):
                await tx.save_profile(TENANT, mentee(user_id))
            await tx.save_profile(TENANT, mentor("b", skills=[{"name": "go", "level": 3}]))
            await tx.save_profile(TENANT, mentor("d"))
            await tx.save_profile(OTHER, mentee("aa"))
        async with uow.transaction() as tx:
            first = await tx.list_profiles(TENANT, ProfileQuery(limit=2))
            assert [p.user_id for p in first] == ["a", "b"]
            rest = await tx.list_profiles(TENANT, ProfileQuery(limit=10, after_user_id="b"))
            assert [p.user_id for p in rest] == ["c", "d", "e"]
            mentors = await tx.list_profiles(TENANT, ProfileQuery(limit=10, role="mentor"))
            assert [p.user_id for p in mentors] == ["b", "d"]
            with_go = await tx.list_profiles(TENANT, ProfileQuery(limit=10, skill="go"))
            assert [p.user_id for p in with_go] == ["b"]

    async def test_the_people_a_manager_manages_are_found(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            await tx.save_profile(TENANT, mentee("x1", manager_id="boss"))
            await tx.save_profile(TENANT, mentee("x2", manager_id="boss"))
            await tx.save_profile(TENANT, mentee("x3", manager_id="other"))
            await tx.save_profile(OTHER, mentee("x4", manager_id="boss"))
        async with uow.transaction() as tx:
            managed = await tx.profiles_managed_by(TENANT, "boss")
            assert sorted(p.user_id for p in managed) == ["x1", "x2"]

    async def test_an_unsubscribe_lasts_across_profile_updates(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            await tx.save_profile(TENANT, mentee("x1"))
            await tx.save_profile(TENANT, mentee("x2"))
            await tx.save_profile(OTHER, mentee("x1"))
            await tx.mark_unsubscribed(TENANT, "x1")
            await tx.mark_unsubscribed(TENANT, "x1")
        async with uow.transaction() as tx:
            await tx.save_profile(TENANT, mentee("x1", 2))
        async with uow.transaction() as tx:
            assert await tx.unsubscribed(TENANT, ["x1", "x2", "nobody"]) == {"x1"}
            assert await tx.unsubscribed(OTHER, ["x1"]) == set()

    async def test_goals_are_stored_per_mentee_and_goal_id(self, uow: UnitOfWork) -> None:
        other_goal = goal("x1", 3, goal_id="side", statement="Ship our Go service in 3 months")
        async with uow.transaction() as tx:
            assert await tx.get_goal(TENANT, "x1") is None
            await tx.save_goal(TENANT, goal("x1", 1, goal_id="default"))
            first = goal("x1", 2, goal_id="default", statement="Run our platform team well")
            await tx.save_goal(TENANT, first)
            await tx.save_goal(TENANT, other_goal)
        async with uow.transaction() as tx:
            stored = await tx.get_goal(TENANT, "x1", for_update=True)
            assert stored == first
            assert await tx.get_goal(TENANT, "x1", "side") == other_goal
            assert await tx.get_goal(OTHER, "x1") is None
            assert [g.goal.goal_id for g in await tx.goals_of(TENANT, "x1")] == ["default", "side"]

    async def test_a_closed_goal_is_not_read_but_keeps_its_version(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            await tx.save_goal(TENANT, goal("x1", 1, goal_id="side"))
            await tx.close_goal(TENANT, "x1", "side", 2, "abandoned")
        async with uow.transaction() as tx:
            assert await tx.get_goal(TENANT, "x1", "side") is None
            (closed,) = await tx.goals_of(TENANT, "x1")
            assert (closed.goal.version, closed.closed) == (2, "abandoned")
            await tx.save_goal(TENANT, goal("x1", 3, goal_id="side"))
        async with uow.transaction() as tx:
            reopened = await tx.get_goal(TENANT, "x1", "side")
            assert reopened is not None and reopened.version == 3

    async def test_erasing_a_person_leaves_nothing_that_names_them(self, uow: UnitOfWork) -> None:
        proposal_id = uuid.uuid4()
        async with uow.transaction() as tx:
            await tx.save_profile(TENANT, mentee("x1"))
            await tx.save_profile(OTHER, mentee("x1"))
            await tx.save_goal(TENANT, goal("x1"))
            assert await tx.claim_request(request("k1", "x1")) is None
            await tx.remember_response(request("k1", "x1"), StoredResponse(200, "{}"))
            assert await tx.claim_request(request("k2", "x2")) is None
            await tx.remember_response(request("k2", "x2"), StoredResponse(201, "{}"))
            as_mentor = LinkResponse(TENANT, "x2", "x1", proposal_id, "accept")
            assert await tx.first_link_response(as_mentor)
        async with uow.transaction() as tx:
            await tx.erase_person(TENANT, "x1")
        async with uow.transaction() as tx:
            assert await tx.get_profile(TENANT, "x1") is None
            assert await tx.get_goal(TENANT, "x1") is None
            assert await tx.claim_request(request("k1", "x1")) is None  # forgotten: free again
            earlier = await tx.claim_request(request("k2", "x2"))
            assert earlier == EarlierRequest(b"f1", StoredResponse(201, "{}"))
            assert await tx.first_link_response(as_mentor)  # recorded afresh
            assert await tx.get_profile(OTHER, "x1") == mentee("x1")

    async def test_a_request_key_is_claimed_once(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            assert await tx.claim_request(request("k1")) is None
            await tx.remember_response(request("k1"), StoredResponse(200, '{"a":1}', '"e1"'))
        async with uow.transaction() as tx:
            again = await tx.claim_request(request("k1", fingerprint=b"other"))
            assert again == EarlierRequest(b"f1", StoredResponse(200, '{"a":1}', '"e1"'))

    async def test_deliveries_and_link_responses_count_once(self, uow: UnitOfWork) -> None:
        message, proposal_id = uuid.uuid4(), uuid.uuid4()
        answer = LinkResponse(TENANT, "x1", "m1", proposal_id, "decline")
        async with uow.transaction() as tx:
            assert (await tx.admit_command("consumer-a", message, TENANT, "x1")).first
            assert not (await tx.admit_command("consumer-a", message, TENANT, "x1")).first
            assert (await tx.admit_command("consumer-b", message, TENANT, "x1")).first
            assert await tx.first_link_response(answer)
        async with uow.transaction() as tx:
            assert not await tx.first_link_response(answer)
            other_action = LinkResponse(TENANT, "x1", "m1", proposal_id, "accept")
            assert await tx.first_link_response(other_action)

    async def test_a_tenant_is_active_with_a_usable_key(
        self, uow: UnitOfWork, activate: Activate
    ) -> None:
        await activate(TENANT)
        async with uow.transaction() as tx:
            assert (await tx.admit_command("c", uuid.uuid4(), TENANT, "x1")).tenant_active
            admitted = await tx.admit_command("c", uuid.uuid4(), "never-had-a-key", "x1")
            assert not admitted.tenant_active

    async def test_an_admission_reads_the_persons_latest_erasure(self, uow: UnitOfWork) -> None:
        first, later, back = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 2, 3))
        async with uow.transaction() as tx:
            assert (await tx.admit_command("c", uuid.uuid4(), TENANT, "x1")).erasure is None
            await tx.erasures.record((TENANT, "x1"), first)
            await tx.erasures.record((TENANT, "x1"), later)
            await tx.erasures.restore((TENANT, "x1"), back)
        async with uow.transaction() as tx:
            admitted = await tx.admit_command("c", uuid.uuid4(), TENANT, "x1")
            assert admitted.erasure == Erasure(later, back)
            assert (await tx.admit_command("c", uuid.uuid4(), OTHER, "x1")).erasure is None

    async def test_goals_come_with_the_tenants_goal_limit(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            assert await tx.goals_and_limit(TENANT, "x1") == ([], None)
            await tx.save_goal(TENANT, goal("x1", goal_id="g2"))
            await tx.save_goal(TENANT, goal("x1", goal_id="g1"))
            held, limit = await tx.goals_and_limit(TENANT, "x1")
            assert [g.goal.goal_id for g in held] == ["g1", "g2"]
            assert held == await tx.goals_of(TENANT, "x1")
            assert limit is None

    async def test_a_failed_transaction_leaves_nothing(self, uow: UnitOfWork) -> None:
        with pytest.raises(RolledBack):
            async with uow.transaction() as tx:
                await tx.save_profile(TENANT, mentee("x1"))
                assert await tx.claim_request(request("k1")) is None
                raise RolledBack
        async with uow.transaction() as tx:
            assert await tx.get_profile(TENANT, "x1") is None
            assert await tx.claim_request(request("k1")) is None

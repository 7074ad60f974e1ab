"""The relationship store's port (tx.relationships) as one suite, run over the in-memory fake
(tests/unit/test_profile_store_port.py) and PostgreSQL (tests/integration/
test_profile_store_port.py), so the handler tests' fake behaves as the adapter does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from services.profile.domain import relationships as rel
from services.profile.domain.learning import Preferences
from services.profile.domain.relationships import Ending, LifecycleTerms
from services.profile.service_layer.relationship_port import Due, RelationshipQuery
from services.profile.service_layer.unit_of_work import UnitOfWork
from shared.contracts.goals import CriteriaWeights
from shared.contracts.types import MentoringStyle

TENANT, OTHER = "tenant-a", "tenant-b"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TERMS = LifecycleTerms(timedelta(days=5), timedelta(days=14), 3)


def asked(mentee: str = "x1", mentor: str = "m1", tenant: str = TENANT, at: datetime = T0):
    return rel.request(tenant, mentee, mentor, "g1", uuid4(), at, TERMS)


class RelationshipStoreContract:
    """Subclasses define `uow` (UnitOfWork) and `set_terms(tenant, deadline, fit, limit)`."""

    @pytest.fixture
    def uow(self) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def set_terms(self, uow: UnitOfWork) -> Any:
        raise NotImplementedError

    async def test_a_request_is_stored_once_per_proposal_link_and_per_tenant(
        self, uow: UnitOfWork
    ) -> None:
        r = asked()
        async with uow.transaction() as tx:
            assert await tx.relationships.add(r)
            assert not await tx.relationships.add(replace(r, request_id=uuid4()))
        async with uow.transaction() as tx:
            assert await tx.relationships.get(TENANT, r.request_id, for_update=True) == r
            assert await tx.relationships.get(OTHER, r.request_id) is None
            assert r.proposal_id is not None
            assert await tx.relationships.for_proposal(TENANT, r.proposal_id, "m1") == r
            assert await tx.relationships.for_proposal(TENANT, r.proposal_id, "m2") is None

    async def test_every_field_survives_a_save(self, uow: UnitOfWork) -> None:
        r = asked()
        started = rel.accept(r, T0 + timedelta(days=1), TERMS).after
        checked = rel.check_fit(started, T0 + timedelta(days=15))
        assert checked is not None
        noted = rel.answer_fit(checked, "x1", "bad").after
        ended = rel.end(noted, Ending("mentee", "style", 2, True), T0 + timedelta(days=16)).after
        async with uow.transaction() as tx:
            await tx.relationships.add(r)
        async with uow.transaction() as tx:
            await tx.relationships.save(ended)
        async with uow.transaction() as tx:
            assert await tx.relationships.get(TENANT, r.request_id) == ended

    async def test_open_relationships_hold_seats_and_closed_ones_do_not(
        self, uow: UnitOfWork
    ) -> None:
        # distinct times: "oldest first" is the order asserted below
        waiting, started, declined = (
            asked(f"x{n}", at=T0 + timedelta(minutes=n)) for n in (1, 2, 3)
        )
        elsewhere = asked("x4", tenant=OTHER)
        async with uow.transaction() as tx:
            for r in (waiting, started, declined, elsewhere):
                await tx.relationships.add(r)
            await tx.relationships.save(rel.accept(started, T0, TERMS).after)
            await tx.relationships.save(rel.decline(declined, T0).after)
        async with uow.transaction() as tx:
            store = tx.relationships
            assert await store.seats_taken(TENANT, "m1") == 2
            assert await store.seats_taken(OTHER, "m1") == 1
            assert await store.open_requests(TENANT, "x1") == 1
            assert await store.open_requests(TENANT, "x2") == 0  # active, not waiting
            mentor_side = await store.open_of(TENANT, "m1", for_update=True)
            assert [r.mentee_id for r in mentor_side] == ["x1", "x2"]
            assert [r.request_id for r in await store.open_of(TENANT, "x3")] == []
            assert len(await store.open_for_goal(TENANT, "x2", "g1")) == 1
            assert await store.open_for_goal(TENANT, "x2", "other-goal") == []

    async def test_pages_are_oldest_first_filtered_and_continue_after_a_cursor(
        self, uow: UnitOfWork
    ) -> None:
        made = [asked(f"x{n}", at=T0 + timedelta(minutes=n)) for n in range(5)]
        async with uow.transaction() as tx:
            for r in [*reversed(made), asked("x9", tenant=OTHER)]:
                await tx.relationships.add(r)
            await tx.relationships.save(rel.accept(made[3], T0, TERMS).after)
        async with uow.transaction() as tx:
            store = tx.relationships
            first = await store.page(TENANT, RelationshipQuery(limit=2))
            assert [r.mentee_id for r in first] == ["x0", "x1"]
            after = (first[-1].requested_at, first[-1].request_id)
            rest = await store.page(TENANT, RelationshipQuery(limit=10, after=after))
            assert [r.mentee_id for r in rest] == ["x2", "x3", "x4"]
            active = await store.page(TENANT, RelationshipQuery(limit=10, state="active"))
            assert [r.mentee_id for r in active] == ["x3"]
            one = await store.page(TENANT, RelationshipQuery(limit=10, mentee_id="x4"))
            assert [r.mentee_id for r in one] == ["x4"]
            assert await store.page(TENANT, RelationshipQuery(limit=10, mentor_id="m9")) == []

    async def test_due_finds_reminders_deadlines_and_fit_checks_only(self, uow: UnitOfWork) -> None:
        fresh, started, done = asked("x1"), asked("x2"), asked("x3")
        async with uow.transaction() as tx:
            for r in (fresh, started, done):
                await tx.relationships.add(r)
            await tx.relationships.save(rel.accept(started, T0, TERMS).after)
            await tx.relationships.save(rel.decline(done, T0).after)

        async def due(at: datetime) -> set[str]:
            async with uow.transaction() as tx:
                found = await tx.relationships.due(at, 100)
            assert all(isinstance(d, Due) and d.tenant_id == TENANT for d in found)
            names = {fresh.request_id: "remind or expire", started.request_id: "fit check"}
            return {names[d.request_id] for d in found}

        assert await due(T0 + timedelta(days=1)) == set()
        assert await due(fresh.remind_at) == {"remind or expire"}
        assert await due(T0 + timedelta(days=14)) == {"remind or expire", "fit check"}

    async def test_terms_default_until_the_tenant_sets_its_own(
        self, uow: UnitOfWork, set_terms: Any
    ) -> None:
        await set_terms(TENANT, 7, None, 2)
        async with uow.transaction() as tx:
            own = await tx.relationships.terms(TENANT, TERMS)
            assert own == LifecycleTerms(timedelta(days=7), timedelta(days=14), 2)
            assert await tx.relationships.terms(OTHER, TERMS) == TERMS

    async def test_an_adjustment_keeps_the_preferences_before_it(self, uow: UnitOfWork) -> None:
        before = Preferences(CriteriaWeights(style=0.7), (MentoringStyle.COACHING,))
        adjustment = uuid4()
        async with uow.transaction() as tx:
            await tx.relationships.save_adjustment(TENANT, "x1", "g1", "m1", adjustment, before)
        async with uow.transaction() as tx:
            stored = await tx.relationships.get_adjustment(TENANT, adjustment, for_update=True)
            assert stored is not None and stored.before == before and not stored.undone
            assert (stored.mentee_id, stored.goal_id, stored.mentor_id) == ("x1", "g1", "m1")
            assert await tx.relationships.get_adjustment(OTHER, adjustment) is None
            await tx.relationships.mark_undone(TENANT, adjustment)
        async with uow.transaction() as tx:
            undone = await tx.relationships.get_adjustment(TENANT, adjustment)
            assert undone is not None and undone.undone

    async def test_erasure_deletes_the_persons_relationships_and_adjustments(
        self, uow: UnitOfWork
    ) -> None:
        theirs, others = asked("x1"), asked("x2", mentor="m2")
        before = Preferences(CriteriaWeights(), ())
        adjustment = uuid4()
        async with uow.transaction() as tx:
            await tx.relationships.add(theirs)
            await tx.relationships.add(others)
            await tx.relationships.save_adjustment(TENANT, "x2", "g1", "m1", adjustment, before)
            await tx.erase_person(TENANT, "m1")
        async with uow.transaction() as tx:
            assert await tx.relationships.get(TENANT, theirs.request_id) is None
            assert await tx.relationships.get(TENANT, others.request_id) == others
            assert await tx.relationships.get_adjustment(TENANT, adjustment) is None

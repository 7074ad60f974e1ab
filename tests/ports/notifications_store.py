"""The notifications consumer's port (NotificationsStore.transaction, NotificationsTransaction)
as one suite, over what the consumer's handlers call today.

NotificationsStoreContract holds the checks; a subclass per implementation provides `store`:
the fake (tests/unit/notifications/test_fake_store_port.py) and PostgreSQL
(tests/integration/test_notifications_store_port.py). The dispatcher's side (claims, send
records) is not in it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications.domain.digest import Waiting
from services.notifications.domain.email import Contact
from services.notifications.service_layer.ports import (
    GoalStatement,
    NewEmail,
    NotificationsStore,
    ProposalOrigin,
)
from tests.unit.builders import proposal

TENANT, OTHER = "tenant-a", "tenant-b"
DUE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def contact(user_id: str, email: str = "ada@example.org", tenant: str = TENANT) -> Contact:
    return Contact(tenant, user_id, email, "Ada", True, "Europe/Paris")


def new_email(
    mentee: str,
    key: str,
    version: int = 1,
    superseded_by: uuid.UUID | None = None,
    awaited: bool = True,
    due: datetime = DUE,
    goal: str = "g1",
) -> NewEmail:
    origin = ProposalOrigin("t.matches", 0, version, b"{}", {"x": "y"})
    return NewEmail(
        dedupe_key=key,
        message_id=f"<{uuid.uuid4()}@test>",
        tenant_id=TENANT,
        proposal=proposal(mentee, ranking_version=version, goal_id=goal),
        correlation_id=None,
        origin=origin,
        due_at=due,
        superseded_by=superseded_by,
        awaited=awaited,
    )


class NotificationsStoreContract:
    """Subclasses define the fixture `store` (NotificationsStore, or its transaction half)."""

    @pytest.fixture
    def store(self) -> Any:
        raise NotImplementedError

    async def test_each_event_is_a_first_delivery_once(self, store: NotificationsStore) -> None:
        event = uuid.uuid4()
        async with store.transaction() as tx:
            assert await tx.first_delivery(event)
        async with store.transaction() as tx:
            assert not await tx.first_delivery(event)

    async def test_contacts_are_stored_with_their_version(self, store: NotificationsStore) -> None:
        async with store.transaction() as tx:
            assert await tx.contact_version(TENANT, "x1") is None
            await tx.save_contacts([(contact("x1"), 2)])
            await tx.save_contacts([(contact("x1", tenant=OTHER), 5)])
        async with store.transaction() as tx:
            assert await tx.contact_version(TENANT, "x1") == 2
            await tx.save_contacts([(contact("x1", "new@example.org"), 3)])
        async with store.transaction() as tx:
            assert await tx.contact_version(TENANT, "x1") == 3
            assert await tx.contact_version(OTHER, "x1") == 5

    async def test_a_run_of_events_is_recorded_as_handled_at_once(
        self, store: NotificationsStore
    ) -> None:
        seen, fresh = uuid.uuid4(), uuid.uuid4()
        async with store.transaction() as tx:
            assert await tx.first_deliveries([seen]) == {seen}
        async with store.transaction() as tx:
            assert await tx.first_deliveries([seen, fresh]) == {fresh}
            assert not await tx.first_delivery(fresh)

    async def test_a_run_of_contacts_keeps_only_newer_versions(
        self, store: NotificationsStore
    ) -> None:
        async with store.transaction() as tx:
            await tx.save_contacts([(contact("x1"), 2), (contact("x2"), 4)])
        async with store.transaction() as tx:
            stale = contact("x1", "old@example.org")
            same = contact("x2", "same@example.org")
            await tx.save_contacts([(stale, 1), (same, 4), (contact("x3"), 1)])
            await tx.save_contacts([(contact("x1", "new@example.org", tenant=OTHER), 1)])
        async with store.transaction() as tx:
            assert await tx.contact_version(TENANT, "x1") == 2
            assert await tx.contact_version(TENANT, "x2") == 4
            assert await tx.contact_version(TENANT, "x3") == 1
            assert await tx.contact_version(OTHER, "x1") == 1

    async def test_a_poll_reads_new_events_versions_and_taken_keys(
        self, store: NotificationsStore
    ) -> None:
        seen, fresh = uuid.uuid4(), uuid.uuid4()
        async with store.transaction() as tx:
            await tx.begin_proposals([seen], [(TENANT, "x1", "g1")], [])
            assert await tx.settle_digests({(TENANT, "x1", "g1"): 3}, {}) == {}
            assert await tx.queue_emails([new_email("x1", "k1", 3)]) == 1
        async with store.transaction() as tx:
            state = await tx.begin_proposals(
                [seen, fresh],
                [(TENANT, "x1", "g1"), (TENANT, "x2", "g1"), (OTHER, "x1", "g1")],
                ["k1", "k2"],
            )
        assert state.first_seen == {fresh}
        assert state.versions == {(TENANT, "x1", "g1"): 3}
        assert state.taken == {"k1"}

    async def test_a_dedupe_key_is_queued_once(self, store: NotificationsStore) -> None:
        async with store.transaction() as tx:
            await tx.begin_proposals(
                [uuid.uuid4()], [(TENANT, "x1", "g1"), (TENANT, "x2", "g1")], []
            )
            await tx.settle_digests({(TENANT, "x1", "g1"): 1, (TENANT, "x2", "g1"): 1}, {})
            assert await tx.queue_emails([new_email("x1", "k1"), new_email("x2", "k2")]) == 2
        async with store.transaction() as tx:
            await tx.begin_proposals([uuid.uuid4()], [(TENANT, "x2", "g1")], ["k1"])
            assert await tx.queue_emails([new_email("x1", "k1", 2)]) == 0

    async def test_a_newer_proposal_supersedes_the_waiting_email(
        self, store: NotificationsStore
    ) -> None:
        later = DUE + timedelta(minutes=5)
        async with store.transaction() as tx:
            await tx.begin_proposals([uuid.uuid4()], [(TENANT, "x1", "g1")], [])
            await tx.settle_digests({(TENANT, "x1", "g1"): 1}, {})
            await tx.queue_emails([new_email("x1", "k1", 1, awaited=False, due=later)])
        newer = new_email("x1", "k2", 2)
        async with store.transaction() as tx:
            state = await tx.begin_proposals([uuid.uuid4()], [(TENANT, "x1", "g1")], ["k2"])
            assert state.versions == {(TENANT, "x1", "g1"): 1}
            replaced = await tx.settle_digests(
                {(TENANT, "x1", "g1"): 2}, {(TENANT, "x1", "g1"): newer.proposal.proposal_id}
            )
            assert replaced == {(TENANT, "x1", "g1"): Waiting(later, False)}
            assert await tx.queue_emails([newer]) == 1
        async with store.transaction() as tx:  # nothing waits any more but the newer one
            state = await tx.begin_proposals([uuid.uuid4()], [(TENANT, "x1", "g1")], ["k1", "k2"])
            assert state.versions == {(TENANT, "x1", "g1"): 2}
            assert state.taken == {"k1", "k2"}
            assert await tx.settle_digests({(TENANT, "x1", "g1"): 3}, {}) == {}

    async def test_a_proposal_supersedes_only_its_own_goals_waiting_email(
        self, store: NotificationsStore
    ) -> None:
        career, project = (TENANT, "x1", "career"), (TENANT, "x1", "proj")
        async with store.transaction() as tx:
            await tx.begin_proposals([uuid.uuid4()], [career, project], [])
            await tx.settle_digests({career: 4, project: 1}, {})
            emails = [new_email("x1", "k1", 4, goal="career"), new_email("x1", "k2", goal="proj")]
            assert await tx.queue_emails(emails) == 2  # one waiting email per goal
        newer = new_email("x1", "k3", 2, goal="proj")
        async with store.transaction() as tx:
            state = await tx.begin_proposals([uuid.uuid4()], [career, project], ["k3"])
            assert state.versions == {career: 4, project: 1}
            replaced = await tx.settle_digests({project: 2}, {project: newer.proposal.proposal_id})
            assert replaced == {project: Waiting(DUE, True)}
            assert await tx.queue_emails([newer]) == 1
        async with store.transaction() as tx:  # career's email still waits: a newer one replaces it
            replaced = await tx.settle_digests({career: 5}, {career: uuid.uuid4()})
            assert replaced == {career: Waiting(DUE, True)}

    async def test_closing_a_goal_withdraws_its_waiting_email_unless_opened_again(
        self, store: NotificationsStore
    ) -> None:
        career, project = (TENANT, "x1", "career"), (TENANT, "x1", "proj")
        async with store.transaction() as tx:
            await tx.save_goal_statements(
                [GoalStatement(TENANT, "x1", "career", 1, "Lead a platform team")]
            )
            await tx.save_goal_statements(
                [GoalStatement(TENANT, "x1", "proj", 2, "Ship the Rust CLI")]
            )
            await tx.begin_proposals([uuid.uuid4()], [career, project], [])
            await tx.settle_digests({career: 1, project: 1}, {})
            emails = [new_email("x1", "k1", goal="career"), new_email("x1", "k2", goal="proj")]
            await tx.queue_emails(emails)
        async with store.transaction() as tx:
            assert await tx.close_goal(TENANT, "x1", "proj", 2) == 0  # not newer than its GoalSet
            assert await tx.close_goal(TENANT, "x1", "proj", 3) == 1
        async with store.transaction() as tx:  # career's email still waits, proj's is gone
            replaced = await tx.settle_digests(
                {career: 2, project: 2}, {career: uuid.uuid4(), project: uuid.uuid4()}
            )
            assert replaced == {career: Waiting(DUE, True)}
            await tx.queue_emails([new_email("x1", "k3", 2, goal="proj")])
        async with store.transaction() as tx:  # opened again by a newer GoalSet: it stays
            await tx.save_goal_statements(
                [GoalStatement(TENANT, "x1", "proj", 5, "Ship the Rust CLI")]
            )
            assert await tx.close_goal(TENANT, "x1", "proj", 4) == 0
            assert await tx.close_goal(TENANT, "x1", "proj", 6) == 1

    async def test_forgetting_a_mentee_drops_their_contact_emails_and_digest(
        self, store: NotificationsStore
    ) -> None:
        async with store.transaction() as tx:
            await tx.save_contacts([(contact("x1"), 1)])
            await tx.save_contacts([(contact("x2"), 1)])
            goals = [(TENANT, "x1", "g1"), (TENANT, "x1", "g2"), (TENANT, "x2", "g1")]
            await tx.begin_proposals([uuid.uuid4()], goals, [])
            await tx.settle_digests(dict(zip(goals, (4, 1, 1), strict=True)), {})
            emails = [new_email("x1", "k1", 4), new_email("x1", "k3", goal="g2")]
            await tx.queue_emails([*emails, new_email("x2", "k2")])
        async with store.transaction() as tx:
            await tx.forget_person(TENANT, "x1")
        async with store.transaction() as tx:
            assert await tx.contact_version(TENANT, "x1") is None
            assert await tx.contact_version(TENANT, "x2") == 1
            state = await tx.begin_proposals(
                [uuid.uuid4()],
                [(TENANT, "x1", "g1"), (TENANT, "x1", "g2"), (TENANT, "x2", "g1")],
                ["k1", "k2", "k3"],
            )
            assert state.versions == {(TENANT, "x2", "g1"): 1}  # every goal of x1's is gone
            assert state.taken == {"k2"}

    async def test_a_failed_transaction_leaves_nothing(self, store: NotificationsStore) -> None:
        event = uuid.uuid4()
        with pytest.raises(ZeroDivisionError):
            async with store.transaction() as tx:
                assert await tx.first_delivery(event)
                await tx.save_contacts([(contact("x1"), 1)])
                raise ZeroDivisionError
        async with store.transaction() as tx:
            assert await tx.first_delivery(event)
            assert await tx.contact_version(TENANT, "x1") is None

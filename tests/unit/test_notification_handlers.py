"""Notifications' event handlers against an in-memory store: dedupe, staleness, digests, erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import pytest

from services.notifications.service_layer import handlers
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import NewEmail, ProposalOrigin
from tests.unit.builders import (
    TENANT,
    match_proposed,
    mentee,
    profile_deleted,
    profile_updated,
    proposal,
)
from tests.unit.fakes import CopyOnCommitUnitOfWork
from tests.unit.notifications.store_fakes import FakeTransaction, State, store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = QueuePolicy("mentorlink.test", timedelta(seconds=30))


ORIGIN = ProposalOrigin("t.proposals", 0, 7, b"{}")


async def propose(uow: Any, version: int, at: datetime = NOW, **envelope: Any) -> bool:
    event = match_proposed(proposal("u-ada", ranking_version=version), **envelope)
    return await handlers.record_proposal(event, ORIGIN, uow, POLICY, lambda: at)


def queued(uow: CopyOnCommitUnitOfWork[State, FakeTransaction]) -> list[NewEmail]:
    return [e["email"] for e in uow.state.emails if e["state"] == "queued"]


async def test_a_proposal_waits_for_the_digest_window() -> None:
    uow = store()
    assert await propose(uow, 1)
    (email,) = queued(uow)
    assert email.due_at == NOW + timedelta(seconds=30)
    assert email.message_id.startswith("<proposal.") and email.origin == ORIGIN


async def test_a_redelivered_event_queues_nothing() -> None:
    uow = store()
    event = match_proposed(proposal("u-ada"))
    assert await handlers.record_proposal(event, ORIGIN, uow, POLICY, lambda: NOW)
    assert not await handlers.record_proposal(event, ORIGIN, uow, POLICY, lambda: NOW)
    assert len(uow.state.emails) == 1


async def test_newer_proposals_in_the_window_replace_the_waiting_one_keeping_its_due_time() -> None:
    uow = store()
    await propose(uow, 1)
    await propose(uow, 2, at=NOW + timedelta(seconds=10))
    await propose(uow, 3, at=NOW + timedelta(seconds=20))
    (email,) = queued(uow)
    assert email.proposal.ranking_version == 3
    assert email.due_at == NOW + timedelta(seconds=30)
    assert [e["state"] for e in uow.state.emails] == ["superseded", "superseded", "queued"]


async def test_a_lower_or_equal_ranking_version_is_stale() -> None:
    uow = store()
    await propose(uow, 5)
    assert not await propose(uow, 4)
    assert not await propose(uow, 5)
    (email,) = queued(uow)
    assert email.proposal.ranking_version == 5


async def test_a_proposal_after_the_previous_email_left_starts_a_new_window() -> None:
    uow = store()
    await propose(uow, 1)
    uow.state.emails[0]["state"] = "sent"
    later = NOW + timedelta(minutes=5)
    await propose(uow, 2, at=later)
    (email,) = queued(uow)
    assert email.due_at == later + timedelta(seconds=30)


async def test_contact_keeps_preferences_and_ignores_older_versions() -> None:
    uow = store()
    prefs = {"email_opt_in": False, "quiet_hours_start": "22:00", "quiet_hours_end": "07:00"}
    newer = mentee("u-ada", version=2, notification_preferences=prefs, timezone="Europe/Berlin")
    await handlers.record_contact(profile_updated(newer), uow)
    await handlers.record_contact(profile_updated(mentee("u-ada", version=1)), uow)
    contact, version = uow.state.contacts[TENANT, "u-ada"]
    assert version == 2
    assert not contact.email_opt_in and not contact.reachable
    assert (contact.quiet_hours_start, contact.quiet_hours_end) == (time(22), time(7))
    assert contact.timezone == "Europe/Berlin"


async def test_profile_deleted_forgets_everything_about_the_person() -> None:
    uow = store()
    await handlers.record_contact(profile_updated(mentee("u-ada")), uow)
    await propose(uow, 1)
    await handlers.forget_person(profile_deleted("u-ada"), uow)
    assert uow.state.contacts == {} and uow.state.digests == {} and uow.state.emails == []


async def test_an_empty_proposal_replaces_the_waiting_email_with_the_waiting_list_one() -> None:
    uow = store()
    await propose(uow, 1)
    empty = match_proposed(proposal("u-ada", ranking_version=2, mentors=[]))
    assert await handlers.record_proposal(empty, ORIGIN, uow, POLICY, lambda: NOW)
    assert [e.proposal.mentors for e in queued(uow)] == [[]]


async def test_an_empty_proposal_after_the_mentees_erasure_leaves_no_trace() -> None:
    """Proposals and erasures come on different topics: an empty one may arrive after it."""
    uow = store()
    await propose(uow, 1)
    await handlers.forget_person(profile_deleted("u-ada"), uow)
    empty = match_proposed(proposal("u-ada", ranking_version=2, mentors=[]))
    assert not await handlers.record_proposal(empty, ORIGIN, uow, POLICY, lambda: NOW)
    assert uow.state.digests == {} and uow.state.emails == []


async def test_a_poll_of_proposals_is_one_transaction_with_one_email_per_mentee() -> None:
    uow = store()
    batch = [
        handlers.ConsumedProposal(match_proposed(proposal(who, ranking_version=v)), ORIGIN)
        for who, v in (("u-ada", 1), ("u-bob", 1), ("u-ada", 2))
    ]
    assert await handlers.record_proposals(batch, uow, POLICY, lambda: NOW) == 3
    latest = {e.proposal.mentee_id: e.proposal.ranking_version for e in queued(uow)}
    assert latest == {"u-ada": 2, "u-bob": 1}


class PoisonedTransaction(FakeTransaction):
    async def queue_emails(self, emails: Sequence[NewEmail]) -> int:
        if any(email.proposal.mentee_id == "poison" for email in emails):
            raise ValueError("cannot store this email")
        return await super().queue_emails(emails)


async def test_a_poll_that_fails_records_none_of_its_proposals() -> None:
    uow = CopyOnCommitUnitOfWork(State(), PoisonedTransaction)
    batch = [
        handlers.ConsumedProposal(match_proposed(proposal(who)), ORIGIN)
        for who in ("u-ada", "poison")
    ]
    with pytest.raises(ValueError):
        await handlers.record_proposals(batch, uow, POLICY, lambda: NOW)
    assert uow.state.emails == [] and uow.state.processed == set()


async def test_a_poll_of_profile_events_applies_in_order_in_one_transaction() -> None:
    """The profiles subscriber hands a whole poll to `record_profiles` (one commit, one offset
    commit): the result is that of the events one at a time, in order."""
    uow = store()
    newer = profile_updated(mentee("u-ada", version=2))
    older = profile_updated(mentee("u-ada", version=1))
    grace = profile_updated(mentee("u-grace"))
    await handlers.record_profiles([newer, older, grace, profile_deleted("u-grace")], uow)
    assert list(uow.state.contacts) == [(TENANT, "u-ada")]
    assert uow.state.contacts[TENANT, "u-ada"][1] == 2
    # a copy of Grace's update from before her erasure, in a later poll, is not admitted
    await handlers.record_profiles([grace.model_copy(update={"event_id": uuid4()})], uow)
    assert list(uow.state.contacts) == [(TENANT, "u-ada")]

"""The email dispatcher: what it records after each kind of attempt."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from services.notifications.domain.delivery import Outcome, SendResult
from services.notifications.domain.email import Contact, Sender
from services.notifications.domain.lifecycle import Facts, plan_emails
from services.notifications.domain.links import LinkSigner
from services.notifications.domain.schedule import RateLimit
from services.notifications.service_layer.dispatcher import Dispatcher
from services.notifications.service_layer.ports import ClaimedEmail, LeaseLost, Release
from services.notifications.service_layer.sending import DispatchPolicy, DispatchTools
from shared.contracts.matches import ProposalCause
from shared.links import verify_link
from shared.supervision import SupervisionPolicy, supervisor
from tests.support.polling import eventually
from tests.unit.builders import TENANT, proposal
from tests.unit.notifications.lifecycle_builders import Relationship

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = DispatchPolicy(
    max_attempts=4,
    retry_base_s=2.0,
    retry_max_s=60.0,
    lease_s=30.0,
    contact_wait_s=300.0,
    rate_limit=RateLimit(2, timedelta(hours=1)),
)
SENDER = Sender("Mentorlink <m@mentorlink.test>", "Support <s@mentorlink.test>", "mentorlink.test")
TOOLS = DispatchTools(
    sender=SENDER,
    signer=LinkSigner("https://links.test", b"k", timedelta(days=14)),
    clock=lambda: NOW,
)


@dataclass
class FakeStore:
    """In-memory NotificationsStore (and its send records): queued emails, contacts, sends, and
    what the dispatcher recorded. A release counts as a send, as `released` does."""

    queue: list[ClaimedEmail] = field(default_factory=list)
    contacts: dict[tuple[str, str], Contact] = field(default_factory=dict)
    sends: dict[str, list[datetime]] = field(default_factory=dict)  # by mentee
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    outage_calls: int = 0  # this many store writes fail as if PostgreSQL were down
    released: list[int] = field(default_factory=list)
    claims: list[int] = field(default_factory=list)  # how many each claim returned
    sends_read: int = 0  # reads of recent sends outside a claim
    mentee_of: dict[int, str] = field(default_factory=dict)  # of each claimed email
    sent_batches: list[int] = field(default_factory=list)  # emails per `sent` write
    sent_write_s: float = 0.0  # how long a `sent` write takes
    leases_lost: set[int] = field(default_factory=set)  # another claim holds these now

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise AssertionError("the dispatcher needs no transaction")

    async def claim_due(
        self, limit: int, lease_s: float, sends_within_s: float, refresh_hold_s: float
    ) -> list[ClaimedEmail]:
        claimed, self.queue = self.queue[:limit], self.queue[limit:]
        self.claims.append(len(claimed))
        since = NOW - timedelta(seconds=sends_within_s)
        self.mentee_of.update({email.id: email.mentee_id for email in claimed})
        return [
            replace(
                email,
                contact=self.contacts.get((email.tenant_id, email.mentee_id)),
                recent_sends=tuple(s for s in self.sends.get(email.mentee_id, []) if s > since),
            )
            for email in claimed
        ]

    @asynccontextmanager
    async def send_records(self) -> AsyncIterator[FakeStore]:
        yield self

    async def recent_sends(self, tenant_id: str, mentee_id: str, since: datetime) -> list[datetime]:
        self.sends_read += 1
        return [s for s in self.sends.get(mentee_id, []) if s > since]

    async def give_up(self, email_id: int, attempt: int, reason: str) -> None:
        self.calls.append(("gave up", email_id, reason))

    async def mark_sent(self, claims: Sequence[tuple[int, int]]) -> None:
        email_ids = [email_id for email_id, _ in claims]
        if self.outage_calls > 0:
            self.outage_calls -= 1
            raise ConnectionRefusedError("the database is away")
        await asyncio.sleep(self.sent_write_s)
        self.calls.extend(("sent", email_id) for email_id in email_ids)
        self.sent_batches.append(len(email_ids))

    async def begin_mark_released(self, email_id: int, attempt: int) -> Awaitable[None]:
        if email_id in self.leases_lost:
            raise LeaseLost(f"email {email_id}")
        return asyncio.ensure_future(self._release(email_id))

    async def _release(self, email_id: int) -> None:
        if self.outage_calls > 0:
            self.outage_calls -= 1
            raise ConnectionRefusedError("the database is away")
        self.released.append(email_id)
        self.sends.setdefault(self.mentee_of[email_id], []).append(NOW)

    async def mark_failed(self, email_id: int, attempt: int, state: str, reason: str) -> None:
        self.calls.append((state, email_id, reason))

    async def reschedule(
        self,
        email_id: int,
        attempt: int,
        delay_s: float,
        reason: str,
        *,
        count_attempt: bool = True,
    ) -> None:
        self.calls.append(("reschedule", email_id, delay_s, reason, count_attempt))


@dataclass
class FakeMailer:
    result: SendResult = field(default_factory=lambda: SendResult(Outcome.SENT))
    sent: list[EmailMessage] = field(default_factory=list)
    delay_s: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0
    refuses_at_end: bool = False  # the refusal comes after the message (and the release)

    async def send(self, message: EmailMessage, release: Release) -> SendResult:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.delay_s)  # a fake SMTP session that takes a while
        if self.result.outcome is Outcome.SENT or self.refuses_at_end:
            await release()
        self.in_flight -= 1
        self.sent.append(message)
        return self.result


def claimed(
    email_id: int = 1, attempts: int = 1, mentee_id: str = "u-ada", age_s: float = 1.0
) -> ClaimedEmail:
    return ClaimedEmail(
        id=email_id,
        tenant_id=TENANT,
        mentee_id=mentee_id,
        message_id=f"<proposal.{email_id}@mentorlink.test>",
        proposal=proposal(mentee_id),
        attempts=attempts,
        created_at=NOW - timedelta(seconds=age_s),
        correlation_id="req-1",
        contact=None,  # the fake store's claim reads these, as the real one does
        recent_sends=(),
    )


def contact(user_id: str = "u-ada", **overrides: Any) -> Contact:
    fields: dict[str, Any] = {
        "tenant_id": TENANT,
        "user_id": user_id,
        "email": "ada@example.org",
        "display_name": "Ada",
        "email_opt_in": True,
        "timezone": "UTC",
    }
    return Contact(**{**fields, **overrides})


def arrange(
    *emails: ClaimedEmail, result: SendResult | None = None, **contact_overrides: Any
) -> tuple[Dispatcher, FakeStore, FakeMailer]:
    store = FakeStore(queue=list(emails))
    store.contacts[TENANT, "u-ada"] = contact(**contact_overrides)
    mailer = FakeMailer(result or SendResult(Outcome.SENT))
    return Dispatcher(store, mailer, TOOLS, POLICY), store, mailer


async def test_sent_is_marked_sent() -> None:
    dispatcher, store, mailer = arrange(claimed(7))
    assert await dispatcher.dispatch_once() == 1
    assert store.calls == [("sent", 7)]
    assert dispatcher.sent == 1
    (message,) = mailer.sent
    assert message["Message-ID"] == "<proposal.7@mentorlink.test>"
    assert message["To"] == "Ada <ada@example.org>"


async def test_a_sender_that_lost_its_lease_records_nothing_and_goes_on() -> None:
    """Another claim holds the email now: it alone records the outcome (sent, or a retry)."""
    dispatcher, store, _mailer = arrange(claimed(7), claimed(8))
    store.leases_lost.add(7)
    assert await dispatcher.dispatch_once() == 2
    assert store.released == [8]
    assert store.calls == [("sent", 8)]
    assert dispatcher.sent == 1


async def test_nothing_due_does_nothing() -> None:
    dispatcher, store, mailer = arrange()
    assert await dispatcher.dispatch_once() == 0
    assert store.calls == [] and mailer.sent == []


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 1.0, 2.0), (3, 4.0, 8.0), (2, 2.0, 4.0)])
async def test_transient_failure_is_rescheduled_with_backoff(
    attempts: int, low: float, high: float
) -> None:
    dispatcher, store, _ = arrange(
        claimed(attempts=attempts), result=SendResult(Outcome.TRANSIENT, "421 busy")
    )
    await dispatcher.dispatch_once()
    ((kind, email_id, delay, reason, counted),) = store.calls
    assert (kind, email_id, reason, counted) == ("reschedule", 1, "421 busy", True)
    assert low <= delay <= high


async def test_transient_failure_at_max_attempts_gives_up_and_dead_letters() -> None:
    dispatcher, store, _ = arrange(
        claimed(attempts=POLICY.max_attempts), result=SendResult(Outcome.TRANSIENT, "421 busy")
    )
    await dispatcher.dispatch_once()
    assert store.calls == [("gave up", 1, "gave up after 4 attempts: 421 busy")]


async def test_permanent_failure_is_failed_at_once() -> None:
    dispatcher, store, _ = arrange(
        claimed(attempts=1), result=SendResult(Outcome.PERMANENT, "550 no")
    )
    await dispatcher.dispatch_once()
    assert store.calls == [("failed", 1, "550 no")]
    assert dispatcher.sent == 0


async def test_missing_contact_waits_without_counting_an_attempt() -> None:
    dispatcher, store, mailer = arrange(claimed(mentee_id="u-unknown", age_s=10))
    await dispatcher.dispatch_once()
    ((kind, email_id, delay, _reason, counted),) = store.calls
    assert (kind, email_id, counted) == ("reschedule", 1, False)
    assert 0 < delay <= 1
    assert mailer.sent == []


async def test_a_proposal_waits_for_its_goals_statement_then_goes_without_it() -> None:
    """The goals topic has its own consumer: a proposal read first waits for the statement
    (so that its email names the goal), for at most the policy's wait."""
    waiting = replace(POLICY, statement_wait_s=10.0)
    store = FakeStore(queue=[claimed(age_s=2)])
    store.contacts[TENANT, "u-ada"] = contact()
    mailer = FakeMailer(SendResult(Outcome.SENT))
    await Dispatcher(store, mailer, TOOLS, waiting).dispatch_once()
    ((kind, email_id, _delay, reason, counted),) = store.calls
    assert (kind, email_id, reason, counted) == (
        "reschedule",
        1,
        "waiting for the goal's statement",
        False,
    )
    assert mailer.sent == []

    named = replace(claimed(age_s=2), goal_statement="Lead our migration to Kubernetes")
    late = claimed(email_id=2, age_s=11)
    store = FakeStore(queue=[named, late])
    store.contacts[TENANT, "u-ada"] = contact()
    await Dispatcher(store, mailer, TOOLS, waiting).dispatch_once()
    assert sorted(store.calls) == [("sent", 1), ("sent", 2)]
    assert 'For your goal: "Lead our migration to Kubernetes"' in mailer.sent[0].as_string()


async def test_missing_contact_for_too_long_fails() -> None:
    dispatcher, store, mailer = arrange(
        claimed(mentee_id="u-unknown", age_s=POLICY.contact_wait_s + 1)
    )
    await dispatcher.dispatch_once()
    assert store.calls == [("failed", 1, "no contact details for mentee")]
    assert mailer.sent == []


@pytest.mark.parametrize("overrides", [{"email_opt_in": False}, {"email": None}])
async def test_unreachable_contact_is_suppressed(overrides: dict[str, Any]) -> None:
    dispatcher, store, mailer = arrange(claimed(), **overrides)
    await dispatcher.dispatch_once()
    ((state, email_id, _reason),) = store.calls
    assert (state, email_id) == ("suppressed", 1)
    assert mailer.sent == []


async def test_every_claimed_email_is_handled() -> None:
    dispatcher, store, mailer = arrange(claimed(1), claimed(2, mentee_id="u-unknown"), claimed(3))
    assert await dispatcher.dispatch_once() == 3
    handled = sorted((c[1], c[0]) for c in store.calls)  # mentees go concurrently: any order
    assert handled == [(1, "sent"), (2, "reschedule"), (3, "sent")]
    assert len(mailer.sent) == 2


async def test_several_mentees_are_sent_to_concurrently_and_each_mentee_in_order() -> None:
    emails = [claimed(i, mentee_id=f"u-{i % 3}") for i in range(1, 10)]
    _, store, mailer = arrange(*emails)
    for i in range(3):
        store.contacts[TENANT, f"u-{i}"] = contact(f"u-{i}")
    mailer.delay_s = 0.01
    unlimited = RateLimit(100, timedelta(hours=1))
    policy = replace(POLICY, concurrency=3, rate_limit=unlimited)
    dispatcher = Dispatcher(store, mailer, TOOLS, policy)
    assert await dispatcher.dispatch_once() == 9
    assert mailer.most_in_flight == 3
    sent = [c[1] for c in store.calls if c[0] == "sent"]
    for mentee in range(3):
        mine = [i for i in sent if i % 3 == mentee]
        assert mine == sorted(mine)


async def test_an_address_that_cannot_be_composed_fails_that_email_only() -> None:
    dispatcher, store, _ = arrange(claimed(1), claimed(2), email="josé@example.org")
    store.contacts[TENANT, "u-bob"] = contact("u-bob")
    store.queue.insert(1, claimed(3, mentee_id="u-bob"))
    await dispatcher.dispatch_once()
    assert ("sent", 3) in store.calls
    assert {c[:2] for c in store.calls} >= {("failed", 1), ("failed", 2)}


async def test_the_sent_email_carries_signed_links_and_one_click_unsubscribe() -> None:
    dispatcher, _, mailer = arrange(claimed())
    await dispatcher.dispatch_once()
    (message,) = mailer.sent
    assert message["List-Unsubscribe"].startswith("<https://links.test/v1/links/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_quiet_hours_defer_without_counting_an_attempt() -> None:
    # 12:00 UTC is 13:00 in Berlin, inside 12:30-14:00 local quiet hours: wait 60 minutes.
    dispatcher, store, mailer = arrange(
        claimed(),
        timezone="Europe/Berlin",
        quiet_hours_start=time(12, 30),
        quiet_hours_end=time(14, 0),
    )
    await dispatcher.dispatch_once()
    assert store.calls == [("reschedule", 1, 3600.0, "deferred: quiet hours", False)]
    assert mailer.sent == []


async def test_the_rate_limit_defers_until_the_oldest_send_leaves_the_period() -> None:
    dispatcher, store, mailer = arrange(claimed())
    store.sends["u-ada"] = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    await dispatcher.dispatch_once()
    assert store.calls == [("reschedule", 1, 600.0, "deferred: rate limit", False)]
    assert mailer.sent == []


@pytest.mark.parametrize(
    ("kind", "held"),
    [
        ("goal_set", False),
        ("goal_changed", False),
        ("preferences_changed", False),
        ("proposal_declined", False),
        ("others_changed", True),
        ("profile_changed", True),  # an HR import may change a profile without the mentee
        ("request_declined", True),
    ],
)
async def test_an_answer_to_the_mentees_own_step_is_not_held_by_the_rate_limit(
    kind: str, held: bool
) -> None:
    cause = ProposalCause(kind=kind, changed=["musts"] if kind == "goal_changed" else [])
    email = replace(claimed(7), proposal=proposal("u-ada", cause=cause))
    dispatcher, store, mailer = arrange(email)
    store.sends["u-ada"] = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    await dispatcher.dispatch_once()
    if held:
        assert store.calls == [("reschedule", 7, 600.0, "deferred: rate limit", False)]
    else:
        assert store.calls == [("sent", 7)]
        assert len(mailer.sent) == 1


async def test_sends_older_than_the_period_do_not_count() -> None:
    dispatcher, store, _ = arrange(claimed(3))
    store.sends["u-ada"] = [NOW - timedelta(hours=2), NOW - timedelta(minutes=10)]
    await dispatcher.dispatch_once()
    assert store.calls == [("sent", 3)]


async def test_checkpoints_are_reached_in_order() -> None:
    reached: list[str] = []
    store = FakeStore(queue=[claimed()])
    store.contacts[TENANT, "u-ada"] = contact()
    tools = DispatchTools(SENDER, TOOLS.signer, TOOLS.clock, checkpoint=reached.append)
    await Dispatcher(store, FakeMailer(), tools, POLICY).dispatch_once()
    assert reached == ["claimed", "sent_recorded"]


@pytest.mark.parametrize(
    "result",
    [
        SendResult(Outcome.SENT),
        SendResult(Outcome.TRANSIENT, "421 busy"),
        SendResult(Outcome.PERMANENT, "550 <address> unknown"),
    ],
)
async def test_logs_name_neither_the_address_nor_the_names(
    result: SendResult, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    dispatcher, _, _ = arrange(claimed(), result=result, display_name="Ada Byron")
    await dispatcher.dispatch_once()
    assert caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("ada@example.org", "Ada Byron", "Grace Hopper", "@example"):
        assert secret not in logged


async def test_a_sent_email_is_recorded_after_an_outage_instead_of_being_sent_again() -> None:
    dispatcher, store, mailer = arrange(claimed(5))
    store.outage_calls = 2
    assert await dispatcher.dispatch_once() == 1
    assert store.calls == [("sent", 5)]
    assert len(mailer.sent) == 1


async def test_a_refusal_after_the_release_replaces_the_released_record() -> None:
    dispatcher, store, mailer = arrange(claimed(4), result=SendResult(Outcome.PERMANENT, "554 no"))
    mailer.refuses_at_end = True
    await dispatcher.dispatch_once()
    assert store.released == [4]
    assert store.calls == [("failed", 4, "554 no")]
    assert dispatcher.sent == 0


async def test_two_emails_of_one_mentee_in_one_claim_each_see_the_earlier_send() -> None:
    dispatcher, store, mailer = arrange(claimed(1), claimed(2))
    dispatcher = Dispatcher(store, mailer, TOOLS, replace(POLICY, rate_limit=RateLimit(1, HOUR)))
    await dispatcher.dispatch_once()
    assert store.calls == [("sent", 1), ("reschedule", 2, 3600.0, "deferred: rate limit", False)]
    assert store.sends_read == 1  # the second email's sends, read again after the first went


async def running(dispatcher: Dispatcher, done: Callable[[], bool]) -> None:
    """Run the dispatcher until `done`, then stop it."""
    task = asyncio.create_task(dispatcher.run())
    try:
        await eventually(done, timeout=5, interval=0.005, what="dispatcher done")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_run_claims_more_while_earlier_emails_are_still_being_sent() -> None:
    emails = [claimed(i, mentee_id=f"u-{i}") for i in range(1, 9)]
    in_flight_at_claims: list[int] = []

    @dataclass
    class WatchedStore(FakeStore):
        async def claim_due(self, *args: Any) -> list[ClaimedEmail]:
            in_flight_at_claims.append(mailer.in_flight)
            return await super().claim_due(*args)

    store = WatchedStore(queue=emails)
    store.contacts.update({(TENANT, e.mentee_id): contact(e.mentee_id) for e in emails})
    mailer = FakeMailer(delay_s=0.02)
    policy = replace(POLICY, concurrency=2, batch_size=4, poll_interval_s=0.01)
    dispatcher = Dispatcher(store, mailer, TOOLS, policy)
    await running(dispatcher, lambda: len(store.calls) == 8)
    assert sorted(c[1] for c in store.calls if c[0] == "sent") == list(range(1, 9))
    assert mailer.most_in_flight == 2
    assert any(n > 0 for n in in_flight_at_claims)  # no waiting for a whole batch to finish


async def test_an_email_claimed_while_its_mentee_has_one_in_flight_waits_and_sees_that_send() -> (
    None
):
    store = FakeStore(queue=[claimed(1)])
    store.contacts[TENANT, "u-ada"] = contact()
    mailer = FakeMailer(delay_s=0.05)
    policy = replace(POLICY, concurrency=2, rate_limit=RateLimit(1, HOUR), poll_interval_s=0.01)
    dispatcher = Dispatcher(store, mailer, TOOLS, policy)

    def second_email_queued_meanwhile() -> bool:
        if mailer.in_flight and not store.queue and len(store.claims) == 1:
            store.queue.append(claimed(2))  # claimed before the first email's release
        return len(store.calls) == 2

    await running(dispatcher, second_email_queued_meanwhile)
    assert store.calls == [("sent", 1), ("reschedule", 2, 3600.0, "deferred: rate limit", False)]
    assert mailer.most_in_flight == 1


async def test_sends_that_finish_while_a_sent_record_is_written_share_the_next_write() -> None:
    emails = [claimed(i, mentee_id=f"u-{i}") for i in range(1, 9)]
    store = FakeStore(queue=emails, sent_write_s=0.02)
    store.contacts.update({(TENANT, e.mentee_id): contact(e.mentee_id) for e in emails})
    dispatcher = Dispatcher(store, FakeMailer(), TOOLS, replace(POLICY, concurrency=8))
    assert await dispatcher.dispatch_once() == 8
    assert sorted(c[1] for c in store.calls if c[0] == "sent") == list(range(1, 9))
    assert sum(store.sent_batches) == 8 and len(store.sent_batches) < 8


def with_version(email: ClaimedEmail, version: int, **changes: Any) -> ClaimedEmail:
    newer = email.proposal.model_copy(update={"ranking_version": version})
    return replace(email, proposal=newer, **changes)


async def test_one_mentees_emails_go_in_ranking_order_whatever_the_claim_order() -> None:
    # claims come awaited first: here the newer answer (3) before an older refresh (2) whose
    # lease expired, and another mentee's email between them
    emails = [
        with_version(claimed(3), 3),
        with_version(claimed(9, mentee_id="u-bob"), 1),
        with_version(claimed(2), 2),
    ]
    dispatcher, store, mailer = arrange(*emails)
    store.contacts[TENANT, "u-bob"] = contact("u-bob", email="bob@example.org", display_name="Bob")
    assert await dispatcher.dispatch_once() == 3
    ada = [m["Message-ID"] for m in mailer.sent if m["To"].startswith("Ada")]
    assert ada == ["<proposal.2@mentorlink.test>", "<proposal.3@mentorlink.test>"]


async def test_an_email_older_than_one_already_sent_is_superseded_not_sent() -> None:
    dispatcher, store, mailer = arrange(replace(claimed(4), outdated=True))
    assert await dispatcher.dispatch_once() == 1
    assert store.calls == [("superseded", 4, "a newer proposal was sent first")]
    assert mailer.sent == []


async def test_a_proposal_of_a_goal_closed_since_is_withdrawn_not_sent() -> None:
    dispatcher, store, mailer = arrange(replace(claimed(4), goal_closed=True))
    assert await dispatcher.dispatch_once() == 1
    assert store.calls == [("superseded", 4, "withdrawn: the goal was closed")]
    assert mailer.sent == []


async def test_a_dispatcher_ended_by_an_unclassified_error_is_restarted_and_sends() -> None:
    @dataclass
    class FailsOnce(FakeStore):
        failed: bool = False

        async def claim_due(self, *args: Any) -> list[ClaimedEmail]:
            if not self.failed:
                self.failed = True
                raise RuntimeError("relation emails does not exist")  # not temporary
            return await super().claim_due(*args)

    store = FailsOnce(queue=[claimed(1)])
    store.contacts[TENANT, "u-ada"] = contact()
    dispatcher = Dispatcher(store, FakeMailer(), TOOLS, replace(POLICY, poll_interval_s=0.01))
    policy = SupervisionPolicy(restart_base_s=0.01, restart_max_s=0.01)
    async with supervisor("notifications", policy) as loops:
        loops.start("email-dispatcher", dispatcher.run)
        await eventually(lambda: store.calls == [("sent", 1)], timeout=5, what="sent after restart")
        assert loops.restarts("email-dispatcher") == 1
        assert loops.running()


def lifecycle_claimed(email_id: int = 1) -> ClaimedEmail:
    """A claimed introduction to Ada (domain/lifecycle.py), as the claim reads it."""
    r = Relationship()
    facts = Facts(
        {"u-ada": contact(), "u-grace": contact("u-grace", display_name="Grace")}, None, []
    )
    (email,) = [e for e in plan_emails(r.started(), facts) if e.recipient_id == "u-ada"]
    base = claimed(email_id)
    return replace(base, proposal=None, lifecycle=email, message_id=f"<introduction.{email_id}@x>")


async def test_a_lifecycle_email_is_sent_whatever_the_proposal_rate_limit() -> None:
    dispatcher, store, mailer = arrange(lifecycle_claimed(4))
    store.sends["u-ada"] = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    await dispatcher.dispatch_once()
    assert store.calls == [("sent", 4)]
    (message,) = mailer.sent
    assert message["Subject"] == "Meet your mentor, Grace"


async def test_links_are_dated_by_the_link_clock_the_profile_service_checks_them_with() -> None:
    later = NOW + timedelta(days=20)  # the platform's offset clock, moved on by a test
    tools = replace(TOOLS, link_clock=lambda: later)
    store = FakeStore(queue=[lifecycle_claimed(5)])
    store.contacts[TENANT, "u-ada"] = contact()
    mailer = FakeMailer(SendResult(Outcome.SENT))
    await Dispatcher(store, mailer, tools, POLICY).dispatch_once()
    text = mailer.sent[0].get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"/v1/links/([\w.-]+)", text)
    assert token
    claims = verify_link(token.group(1), [b"k"], later)  # still valid 20 days on
    assert claims.expires_at == int((later + timedelta(days=14)).timestamp())

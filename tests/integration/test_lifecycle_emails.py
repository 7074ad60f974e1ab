"""Relationship lifecycle emails through Kafka, PostgreSQL and an SMTP server (aiosmtpd).

The events are published as the profile service publishes them (feedback topic, keyed by the
mentee). Each email goes once per relationship event version and recipient; a repeat or a
straggler sends nothing; the mentor's preferences (opt-out, quiet hours) hold; erasing the
mentee leaves no row that names them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devenv.smtp_sink import SmtpSink
from services.notifications.bootstrap import NotificationsService
from shared.contracts.envelope import EventEnvelope
from shared.contracts.topics import FEEDBACK, GOALS, PROFILES, PROPOSALS
from tests.integration.test_notifications_delivery import (
    delivery,
    notifications,
    publish,
    rows_mentioning,
)
from tests.support.polling import eventually
from tests.unit.builders import (
    goal,
    goal_set,
    match_proposed,
    mentee,
    mentor,
    profile_deleted,
    profile_updated,
    proposal,
)
from tests.unit.notifications.lifecycle_builders import Relationship


@pytest.fixture
def sink(smtp_sink: SmtpSink):
    smtp_sink.behaviour.script.clear()
    yield smtp_sink


class People:
    def __init__(
        self, service: NotificationsService, prefix: str, unique: str, sink: SmtpSink
    ) -> None:
        self.service, self.prefix, self.sink = service, prefix, sink
        self.ada, self.grace = f"ada-{unique}", f"grace-{unique}"
        self.ada_email, self.grace_email = f"{self.ada}@example.org", f"{self.grace}@example.org"

    async def send(self, topic: Any, event: EventEnvelope) -> None:
        await publish(self.service, topic.qualified(self.prefix), event)

    async def meet(self, **grace: Any) -> Relationship:
        """Both profiles, Ada's goal and a proposal naming Grace: what comes before a request."""
        await self.send(PROFILES, profile_updated(mentee(self.ada, email=self.ada_email)))
        await self.send(
            PROFILES, profile_updated(mentor(self.grace, email=self.grace_email, **grace))
        )
        await self.send(GOALS, goal_set(goal(self.ada)))
        offer = proposal(self.ada, mentors=[_grace(self.grace)])
        await self.send(PROPOSALS, match_proposed(offer))
        await eventually(lambda: self.mails(self.ada_email), what="Ada's proposal email")
        return Relationship(self.ada, self.grace, proposal_id=offer.proposal_id)

    def mails(self, address: str, subject: str = "") -> list[Any]:
        return [m for m in self.sink.messages(to=address) if subject in str(m.message["Subject"])]


def _grace(user: str) -> Any:
    base = proposal("x").mentors[0]
    return base.model_copy(update={"mentor_id": user})


def text_of(mail: Any) -> str:
    return str(mail.message.get_body(preferencelist=("plain",)).get_content())


async def test_each_step_of_a_relationship_emails_the_right_people_once(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        people = People(service, topic_prefix, unique, sink)
        r = await people.meet()
        requested = r.requested()
        for event in (requested, requested, r.requested()):  # a repeat, and a second copy
            await people.send(FEEDBACK, event)
        # A reminder comes days after the request; one read before the request went out
        # supersedes it (the request then is never sent), so the reminder waits for it.
        await eventually(
            lambda: people.mails(people.grace_email, "asks you to be their mentor"),
            what="the request",
        )
        await people.send(FEEDBACK, r.reminded(version=2))
        (reminder,) = await eventually(
            lambda: people.mails(people.grace_email, "Reminder"), what="the reminder"
        )
        (request,) = people.mails(people.grace_email, "asks you to be their mentor")
        await people.send(FEEDBACK, r.started(version=3))
        await people.send(FEEDBACK, r.reminded(version=2))  # a straggler: nothing
        await eventually(lambda: people.mails(people.ada_email, "Meet your mentor"), what="intro")
        await eventually(lambda: people.mails(people.grace_email, "Meet your mentee"), what="intro")
        await people.send(FEEDBACK, r.fit_check(version=4))
        await people.send(FEEDBACK, r.ended(by="mentee", version=5))
        await eventually(
            lambda: people.mails(people.grace_email, "relationship has ended"), what="the end"
        )
        await eventually(lambda: people.mails(people.ada_email, "How is it going"), what="fit")
        logged = await delivery(service, r.request_id)  # the newest email of the relationship

    assert (logged["kind"], logged["mentee_id"], logged["ranking_version"]) == (
        "relationship_ended",
        people.grace,
        5,
    )
    request_text = text_of(request)
    assert "Lead our migration to Kubernetes" in request_text  # from GoalSet
    assert "expert in kubernetes, one of their goal skills" in request_text  # from the proposal
    assert people.ada_email not in request_text
    assert "Reminder: " in str(reminder.message["Subject"])
    (intro_to_ada,) = people.mails(people.ada_email, "Meet your mentor")
    assert people.grace_email in text_of(intro_to_ada)
    subjects_grace = sorted(str(m.message["Subject"]) for m in sink.messages(to=people.grace_email))
    subjects_ada = sorted(str(m.message["Subject"]) for m in sink.messages(to=people.ada_email))
    assert subjects_grace == sorted(
        [
            "Ada Lovelace asks you to be their mentor",
            "Reminder: Ada Lovelace is waiting for your answer",
            "Meet your mentee, Ada Lovelace",
            "How is it going with Ada Lovelace?",
            "Your mentoring relationship has ended",
        ]
    )
    assert subjects_ada == sorted(
        [
            "1 mentor picked for your goal",
            "Meet your mentor, Grace Hopper",
            "How is it going with Grace Hopper?",
        ]
    )


async def test_the_mentors_opt_out_and_quiet_hours_hold(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    now = datetime.now(UTC)
    quiet = {
        "quiet_hours_start": (now - timedelta(hours=1)).time().replace(microsecond=0),
        "quiet_hours_end": (now + timedelta(hours=2)).time().replace(microsecond=0),
    }
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        people = People(service, topic_prefix, unique, sink)
        r = await people.meet(notification_preferences={**quiet, "email_opt_in": True})
        await people.send(FEEDBACK, r.requested())

        async def row() -> Any:
            found = await service.pool.fetchrow(
                "SELECT state, last_error, next_attempt_at FROM emails"
                " WHERE kind = 'mentor_request' AND proposal_id = $1",
                r.request_id,
            )
            return found if found and found["last_error"] else None

        deferred = await eventually(row, what="the request email deferred")
        # Grace opts out: the reminder is suppressed, and the waiting request gives way to it
        opted_out = mentor(
            people.grace,
            version=2,
            email=people.grace_email,
            notification_preferences={"email_opt_in": False},
        )
        await people.send(PROFILES, profile_updated(opted_out))
        # The opt-out and the reminder travel on two topics, read by two consumers: the
        # reminder must find the opt-out recorded, else quiet hours defer it for hours.
        await eventually(
            lambda: service.pool.fetchval(
                "SELECT NOT email_opt_in FROM contacts WHERE user_id = $1", people.grace
            ),
            what="Grace's opt-out recorded",
        )
        await service.pool.execute(  # quiet hours over: the claim takes it now
            "UPDATE emails SET next_attempt_at = now() WHERE proposal_id = $1", r.request_id
        )
        await people.send(FEEDBACK, r.reminded(version=2))

        async def settled() -> Any:
            rows = await service.pool.fetch(
                "SELECT kind, state, last_error FROM emails WHERE proposal_id = $1 ORDER BY id",
                r.request_id,
            )
            return rows if rows and rows[-1]["state"] == "suppressed" else None

        rows = await eventually(settled, what="the reminder suppressed")
    assert deferred["state"] == "queued" and deferred["last_error"] == "deferred: quiet hours"
    assert deferred["next_attempt_at"] > now + timedelta(hours=1)
    assert [(r["kind"], r["state"]) for r in rows] == [
        ("mentor_request", "superseded"),
        ("request_reminder", "suppressed"),
    ]
    assert people.mails(people.grace_email) == []


async def test_erasing_the_mentee_leaves_no_row_that_names_them(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        people = People(service, topic_prefix, unique, sink)
        r = await people.meet()
        await people.send(FEEDBACK, r.requested())
        await people.send(FEEDBACK, r.started(version=2))
        await eventually(lambda: people.mails(people.grace_email, "Meet"), what="the intro")
        before = await rows_mentioning(service, people.ada)
        await people.send(PROFILES, profile_deleted(people.ada))

        async def erased() -> dict[str, int] | None:
            after = await rows_mentioning(service, people.ada)
            return after if not any(after.values()) else None

        await eventually(erased, timeout=30, what="no row naming the mentee")
        # the system ends the relationship after the erasure: Grace is told without a name
        await people.send(FEEDBACK, r.ended(by="system", version=3))
        (notice,) = await eventually(
            lambda: people.mails(people.grace_email, "has ended"), what="the ending notice"
        )
    assert {"goal_statements", "emails", "contacts"} <= {t for t, n in before.items() if n}
    assert "Ada" not in text_of(notice)
    assert "because your mentee left Mentorlink" in text_of(notice)


async def test_a_request_withdrawn_before_an_answer_is_not_called_a_relationship(
    kafka_endpoint, database_url, topic_prefix, sink: SmtpSink, unique
) -> None:
    async with notifications(kafka_endpoint, database_url, topic_prefix, sink) as service:
        people = People(service, topic_prefix, unique, sink)
        r = await people.meet()
        await people.send(FEEDBACK, r.requested())
        await eventually(lambda: people.mails(people.grace_email, "asks you"), what="the request")
        await people.send(FEEDBACK, r.ended(by="mentee", version=2))
        (withdrawn,) = await eventually(
            lambda: people.mails(people.grace_email, "withdrew"), what="the withdrawal"
        )
    assert str(withdrawn.message["Subject"]) == "Ada Lovelace withdrew their request"
    assert "ended your mentoring relationship" not in text_of(withdrawn)
    assert not people.mails(people.grace_email, "has ended")

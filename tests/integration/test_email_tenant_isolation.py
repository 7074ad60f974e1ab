"""No email ever crosses tenants: a property test over the notifications store on real PostgreSQL.

Two tenants use the same user ids. Hypothesis interleaves contact updates, proposals and
erasures for both. Every name and address carries its tenant's marker. Then the real
dispatcher sends whatever is due. Each email must go to the proposal's own tenant's contact
and must name only that tenant's mentors.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.notifications import bootstrap
from services.notifications.adapters.postgres import PostgresNotificationsStore
from services.notifications.domain.delivery import Outcome, SendResult
from services.notifications.domain.email import Sender
from services.notifications.domain.links import LinkSigner
from services.notifications.domain.schedule import RateLimit
from services.notifications.service_layer import handlers
from services.notifications.service_layer.dispatcher import Dispatcher
from services.notifications.service_layer.handlers import QueuePolicy
from services.notifications.service_layer.ports import ProposalOrigin, Release
from services.notifications.service_layer.sending import DispatchPolicy, DispatchTools
from shared.contracts.matches import MatchProposed, ProposedMentor
from shared.contracts.profiles import ProfileDeleted, ProfileDeletedPayload, ProfileUpdated
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings
from tests.unit.builders import mentee, proposal

MIGRATIONS = Path(bootstrap.__file__).parent / "migrations"
MARKERS = {"tenant-a": "alpha", "tenant-b": "bravo"}
USERS = ("u-1", "u-2", "u-3")
ORIGIN = ProposalOrigin(topic="t.proposals", partition=0, offset=0, value=b"{}", headers={})
QUEUE = QueuePolicy("mentorlink.test", timedelta(0))
DISPATCH = DispatchPolicy(
    max_attempts=3,
    retry_base_s=1.0,
    retry_max_s=1.0,
    lease_s=30.0,
    contact_wait_s=300.0,
    rate_limit=RateLimit(1000, timedelta(hours=1)),
    concurrency=4,
)
TOOLS = DispatchTools(
    sender=Sender("Mentorlink <m@mentorlink.test>", "Support <s@mentorlink.test>", "ml.test"),
    signer=LinkSigner("https://links.test", b"k" * 32, timedelta(days=14)),
    clock=lambda: datetime.now(UTC),
)

actions = st.lists(
    st.tuples(
        st.sampled_from(sorted(MARKERS)),
        st.sampled_from(["contact", "contact", "propose", "propose", "forget"]),
        st.sampled_from(USERS),
    ),
    min_size=1,
    max_size=20,
)


class Outbox:
    """A mailer that accepts everything and keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage, release: Release) -> SendResult:
        await release()
        self.sent.append(message)
        return SendResult(Outcome.SENT)


def contact_event(tenant: str, user: str, version: int) -> ProfileUpdated:
    marker = MARKERS[tenant]
    payload = mentee(
        user, version, display_name=f"Mentee {marker}", email=f"{user}.{marker}@example.org"
    )
    return ProfileUpdated(tenant_id=tenant, key=user, payload=payload)


def proposal_event(tenant: str, user: str, version: int) -> MatchProposed:
    marker = MARKERS[tenant]
    mentor = ProposedMentor(
        mentor_id=f"m-{user}",
        display_name=f"Mentor {marker}",
        headline=f"Engineer at {marker}",
        rank=1,
        score=0.9,
        reasons=[],
    )
    payload = proposal(user, ranking_version=version, mentors=[mentor])
    return MatchProposed(tenant_id=tenant, key=user, payload=payload)


async def play(pool: asyncpg.Pool, script: list[tuple[str, str, str]]) -> list[EmailMessage]:
    store = PostgresNotificationsStore(pool)
    versions: dict[tuple[str, str, str], int] = {}

    def next_version(*key: str) -> int:
        versions[key] = versions.get(key, 0) + 1
        return versions[key]

    for tenant, action, user in script:
        if action == "contact":
            event: Any = contact_event(tenant, user, next_version(tenant, user, "profile"))
            await handlers.record_contact(event, store)
        elif action == "propose":
            event = proposal_event(tenant, user, next_version(tenant, user, "ranking"))
            await handlers.record_proposal(event, ORIGIN, store, QUEUE, lambda: datetime.now(UTC))
        else:
            gone = ProfileDeleted(
                tenant_id=tenant, key=user, payload=ProfileDeletedPayload(user_id=user)
            )
            await handlers.forget_person(gone, store)
    outbox = Outbox()
    dispatcher = Dispatcher(store, outbox, TOOLS, DISPATCH)
    while await dispatcher.dispatch_once():
        pass
    return outbox.sent


def tenant_of(message: EmailMessage) -> str:
    (tenant,) = [t for t, marker in MARKERS.items() if f".{marker}@" in str(message["To"])]
    return tenant


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=actions)
def test_every_email_goes_to_its_own_tenants_mentee_and_names_only_its_mentors(
    database_url: str, script: list[tuple[str, str, str]]
) -> None:
    async def scenario() -> list[EmailMessage]:
        schema = f"n{uuid.uuid4().hex[:10]}"
        pool = await create_pool(DatabaseSettings(database_url=database_url), schema)
        try:
            await apply_migrations(pool, schema, MIGRATIONS)
            return await play(pool, script)
        finally:
            await pool.close()

    sent = asyncio.run(scenario())
    proposed_with_contact = {
        (t, u) for t, a, u in script if a == "propose"
    }  # an upper bound: erasure and contact order decide which are actually sent
    for message in sent:
        tenant = tenant_of(message)
        other = next(m for t, m in MARKERS.items() if t != tenant)
        text = message.as_string()
        assert f"Mentor {MARKERS[tenant]}" in text
        assert other not in text, f"{tenant}'s email mentions the other tenant"
        user = str(message["To"]).split("<")[-1].split(".")[0]
        assert (tenant, user) in proposed_with_contact


def test_the_same_user_id_in_two_tenants_gets_two_separate_emails(database_url: str) -> None:
    """The property above is not vacuous: this script sends one email per tenant."""
    script = [(t, a, "u-1") for a in ("contact", "propose") for t in sorted(MARKERS)]

    async def scenario() -> list[EmailMessage]:
        pool = await create_pool(DatabaseSettings(database_url=database_url), "notifications")
        try:
            await apply_migrations(pool, "notifications", MIGRATIONS)
            return await play(pool, script)
        finally:
            await pool.close()

    sent = asyncio.run(scenario())
    assert sorted(tenant_of(m) for m in sent) == ["tenant-a", "tenant-b"]

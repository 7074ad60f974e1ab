"""An in-memory notifications store for the consumer's handlers: what the PostgreSQL statements
do, row by row, and which of them a handler called."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from services.notifications.domain.digest import Mentee, Waiting
from services.notifications.domain.email import Contact
from services.notifications.service_layer.ports import NewEmail, PollState
from shared.erasure import Erasure, Person
from tests.unit.fakes import CopyOnCommitUnitOfWork, MemoryErasureLog


@dataclass
class State:
    processed: set[UUID] = field(default_factory=set)
    contacts: dict[tuple[str, str], tuple[Contact, int]] = field(default_factory=dict)
    digests: dict[tuple[str, str], int] = field(default_factory=dict)
    # each: who (tenant, mentee), email (NewEmail), state, superseded_by
    emails: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # store calls, in order
    erased: dict[bytes, Erasure] = field(default_factory=dict)


class FakeTransaction:
    def __init__(self, state: State) -> None:
        self.s = state
        self.erasures = MemoryErasureLog(state.erased)

    async def first_delivery(self, event_id: UUID) -> bool:
        self.s.calls.append("first_delivery")
        new = event_id not in self.s.processed
        self.s.processed.add(event_id)
        return new

    async def contact_version(self, tenant_id: str, user_id: str) -> int | None:
        self.s.calls.append("contact_version")
        known = self.s.contacts.get((tenant_id, user_id))
        return known[1] if known else None

    async def save_contact(self, contact: Contact, version: int) -> None:
        self.s.calls.append("save_contact")
        self.s.contacts[contact.tenant_id, contact.user_id] = (contact, version)

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        self.s.calls.append("forget_person")
        self.s.contacts.pop((tenant_id, user_id), None)
        self.s.digests.pop((tenant_id, user_id), None)
        self.s.emails = [e for e in self.s.emails if e["who"] != (tenant_id, user_id)]

    async def begin_proposals(
        self,
        event_ids: Sequence[UUID],
        mentees: Sequence[Mentee],
        dedupe_keys: Sequence[str],
        people: Sequence[Person] = (),
    ) -> PollState:
        self.s.calls.append("begin_proposals")
        assert len(set(event_ids)) == len(event_ids) and len(set(mentees)) == len(mentees)
        first_seen = frozenset(e for e in event_ids if e not in self.s.processed)
        self.s.processed.update(event_ids)
        versions = {m: self.s.digests[m] for m in mentees if m in self.s.digests}
        stored = {e["email"].dedupe_key for e in self.s.emails}
        taken = frozenset(k for k in dedupe_keys if k in stored)
        return PollState(first_seen, versions, taken, await self.erasures.find(people))

    async def settle_digests(
        self, versions: Mapping[Mentee, int], supersede: Mapping[Mentee, UUID]
    ) -> dict[Mentee, Waiting]:
        self.s.calls.append("settle_digests")
        for mentee, version in versions.items():
            assert self.s.digests.get(mentee, 0) < version, "a digest must only advance"
            self.s.digests[mentee] = version
        replaced = {}
        for e in self.s.emails:
            if e["who"] in supersede and e["state"] == "queued":
                e["state"], e["superseded_by"] = "superseded", supersede[e["who"]]
                cause = e["email"].proposal.cause
                said = cause.model_dump_json() if cause else None
                replaced[e["who"]] = Waiting(e["email"].due_at, e["email"].awaited, said)
        return replaced

    async def queue_emails(self, emails: Sequence[NewEmail]) -> int:
        self.s.calls.append("queue_emails")
        inserted = 0
        for email in emails:
            if any(e["email"].dedupe_key == email.dedupe_key for e in self.s.emails):
                continue
            who = (email.tenant_id, email.proposal.mentee_id)
            state = "superseded" if email.superseded_by else "queued"
            assert state != "queued" or not any(
                e["who"] == who and e["state"] == "queued" for e in self.s.emails
            ), "at most one waiting email per mentee"
            self.s.emails.append(
                {"who": who, "email": email, "state": state, "superseded_by": email.superseded_by}
            )
            inserted += 1
        return inserted


def store() -> CopyOnCommitUnitOfWork[State, FakeTransaction]:
    return CopyOnCommitUnitOfWork(State(), FakeTransaction)

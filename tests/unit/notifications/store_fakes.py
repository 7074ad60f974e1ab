"""An in-memory notifications store for the consumer's handlers: what the PostgreSQL statements
do, row by row, and which of them a handler called."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from services.notifications.domain.digest import GoalKey, Waiting
from services.notifications.domain.email import Contact
from services.notifications.service_layer.ports import GoalStatement, NewEmail, PollState
from shared.erasure import Erasure, Person
from tests.unit.fakes import CopyOnCommitUnitOfWork, MemoryErasureLog


@dataclass
class State:
    processed: set[UUID] = field(default_factory=set)
    contacts: dict[tuple[str, str], tuple[Contact, int]] = field(default_factory=dict)
    digests: dict[GoalKey, int] = field(default_factory=dict)
    # each: who (tenant, mentee, goal), email (NewEmail), state, superseded_by
    emails: list[dict[str, Any]] = field(default_factory=list)
    goals: dict[GoalKey, tuple[int, bool]] = field(default_factory=dict)  # version, closed
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

    async def first_deliveries(self, event_ids: Sequence[UUID]) -> set[UUID]:
        self.s.calls.append("first_deliveries")
        new = set(event_ids) - self.s.processed
        self.s.processed.update(event_ids)
        return new

    async def save_contacts(self, contacts: Sequence[tuple[Contact, int]]) -> None:
        self.s.calls.append("save_contacts")
        assert len({(c.tenant_id, c.user_id) for c, _ in contacts}) == len(contacts)
        for contact, version in contacts:
            known = self.s.contacts.get((contact.tenant_id, contact.user_id))
            if known is None or known[1] < version:
                self.s.contacts[contact.tenant_id, contact.user_id] = (contact, version)

    async def forget_person(self, tenant_id: str, user_id: str) -> None:
        self.s.calls.append("forget_person")
        self.s.contacts.pop((tenant_id, user_id), None)
        self.s.digests = {g: v for g, v in self.s.digests.items() if g[:2] != (tenant_id, user_id)}
        self.s.emails = [e for e in self.s.emails if e["who"][:2] != (tenant_id, user_id)]

    async def begin_proposals(
        self,
        event_ids: Sequence[UUID],
        goals: Sequence[GoalKey],
        dedupe_keys: Sequence[str],
        people: Sequence[Person] = (),
    ) -> PollState:
        self.s.calls.append("begin_proposals")
        assert len(set(event_ids)) == len(event_ids) and len(set(goals)) == len(goals)
        first_seen = frozenset(e for e in event_ids if e not in self.s.processed)
        self.s.processed.update(event_ids)
        versions = {g: self.s.digests[g] for g in goals if g in self.s.digests}
        stored = {e["email"].dedupe_key for e in self.s.emails}
        taken = frozenset(k for k in dedupe_keys if k in stored)
        return PollState(first_seen, versions, taken, await self.erasures.find(people))

    async def settle_digests(
        self, versions: Mapping[GoalKey, int], supersede: Mapping[GoalKey, UUID]
    ) -> dict[GoalKey, Waiting]:
        self.s.calls.append("settle_digests")
        for goal, version in versions.items():
            assert self.s.digests.get(goal, 0) < version, "a digest must only advance"
            self.s.digests[goal] = version
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
            who = (email.tenant_id, email.proposal.mentee_id, email.proposal.goal_id)
            state = "superseded" if email.superseded_by else "queued"
            assert state != "queued" or not any(
                e["who"] == who and e["state"] == "queued" for e in self.s.emails
            ), "at most one waiting email per goal"
            self.s.emails.append(
                {"who": who, "email": email, "state": state, "superseded_by": email.superseded_by}
            )
            inserted += 1
        return inserted

    async def save_goal_statements(self, goals: Sequence[GoalStatement]) -> None:
        self.s.calls.append("save_goal_statements")
        assert len({(g.tenant_id, g.mentee_id, g.goal_id) for g in goals}) == len(goals)
        for g in goals:
            goal = (g.tenant_id, g.mentee_id, g.goal_id)
            if self.s.goals.get(goal, (0, False))[0] < g.version:
                self.s.goals[goal] = (g.version, False)

    async def close_goal(self, tenant_id: str, mentee_id: str, goal_id: str, version: int) -> int:
        self.s.calls.append("close_goal")
        goal = (tenant_id, mentee_id, goal_id)
        known, closed = self.s.goals.get(goal, (None, True))
        if known is not None and known < version:
            self.s.goals[goal] = (version, True)
        elif not closed:
            return 0  # opened again by a newer GoalSet
        withdrawn = [e for e in self.s.emails if e["who"] == goal and e["state"] == "queued"]
        for e in withdrawn:
            e["state"] = "superseded"
        return len(withdrawn)


def store() -> CopyOnCommitUnitOfWork[State, FakeTransaction]:
    return CopyOnCommitUnitOfWork(State(), FakeTransaction)

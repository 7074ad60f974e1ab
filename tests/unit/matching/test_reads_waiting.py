"""The proposals read answers per goal and says when a goal is on the waiting list: open,
no relationship for it active, and nobody to propose (its current proposal is empty)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.explaining import MenteeGoal, StoredEntries
from services.matching.domain.people import Person, goal_from_payload, person_from_profile
from services.matching.domain.relationships import Relationship
from services.matching.service_layer.reads import Reads, SentProposal
from tests.unit.builders import TENANT, goal, mentee, mentor

ADA = person_from_profile(mentee("ada"))
GRACE = person_from_profile(mentor("grace"))


@dataclass
class Snapshot:
    goals: dict[str, MenteeGoal] = field(default_factory=dict)
    sent: dict[str, SentProposal] = field(default_factory=dict)

    async def mentee_goal(self, tenant_id: str, mentee_id: str, goal_id: str) -> MenteeGoal | None:
        return self.goals.get(goal_id)

    async def proposal(self, tenant_id: str, mentee_id: str, goal_id: str) -> SentProposal | None:
        return self.sent.get(goal_id)

    async def mentors(self, tenant_id: str, mentor_ids: Sequence[str]) -> dict[str, Person]:
        return {"grace": GRACE} if "grace" in mentor_ids else {}

    async def mentors_holding(self, tenant_id: str, skills: Sequence[str]) -> dict[str, Person]:
        return {"grace": GRACE}

    async def mentor_lists(
        self, tenant_id: str, mentor_ids: Sequence[str]
    ) -> dict[str, list[StoredEntries]]:
        return {}


@dataclass
class Store:
    db: Snapshot

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        yield self.db


def sent(goal_id: str, *mentor_ids: str) -> SentProposal:
    return SentProposal(goal_id, 1, uuid4(), mentor_ids, datetime(2026, 12, 7, tzinfo=UTC))


def test_each_goal_reads_its_own_proposal_and_an_empty_one_is_waiting() -> None:
    working = Relationship("r1", "ada", "grace", "paused", "active", 2)
    db = Snapshot(
        goals={
            gid: MenteeGoal(ADA, goal_from_payload(goal("ada", goal_id=gid)), frozenset(), rel)
            for gid, rel in (("career", ()), ("rare", ()), ("paused", (working,)))
        },
        sent={"career": sent("career", "grace"), "rare": sent("rare"), "paused": sent("paused")},
    )
    reads = Reads(Store(db), EngineConfig())

    def page(goal_id: str) -> tuple[list[str], bool, bool]:
        found = asyncio.run(reads.proposals(TENANT, "ada", goal_id, 0, 10))
        assert found.goal_id == goal_id
        return [m.mentor_id for m in found.items], found.waiting, found.paused

    assert page("career") == (["grace"], False, False)
    assert page("rare") == ([], True, False)  # open, nobody to propose: on the waiting list
    assert page("paused") == ([], False, True)  # a relationship for it is active

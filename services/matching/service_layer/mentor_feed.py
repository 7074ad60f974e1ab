"""`matching.mentors`: a mentor's change fanned out to every partition (ADR 0008), and the
exposure notices (ADR 0010), as the owner of a partition applies them.

The copies of one mentor's change that arrive in one poll are applied together, at the
first: one read of the mentor's stored state for all their partitions, and one pass of the
engine over them. The store is the truth and each copy only says "read it again", so the
read at the first copy (after every change the copies announce was committed) serves them
all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from services.matching.domain.engine import TenantEngine
from services.matching.domain.events import ExposureChanged, MentorChanged, MentorChangedPayload
from services.matching.service_layer.causes import Told
from services.matching.service_layer.exposure import read_lists_elsewhere
from services.matching.service_layer.lifecycle import resume_waiting
from services.matching.service_layer.topics import MENTOR_FEED
from services.matching.service_layer.unit_of_work import MatchingTransaction
from shared.contracts.envelope import EventEnvelope

if TYPE_CHECKING:
    from services.matching.service_layer.handlers import Matching


@dataclass
class MentorCopies:
    """The partitions of each mentor's fan-out copies in the poll being handled."""

    waiting: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def expect(self, batch: Iterable[tuple[EventEnvelope, int]]) -> None:
        self.waiting = {}
        for event, partition in batch:
            if isinstance(event, MentorChanged):
                key = (event.tenant_id, event.payload.mentor_id)
                self.waiting.setdefault(key, []).append(partition)

    def take(self, tenant_id: str, mentor_id: str, partition: int) -> list[int]:
        """The partitions to refresh now: every copy's in this poll at the first copy, none
        at the later ones."""
        found = self.waiting.get((tenant_id, mentor_id))
        if found is None:
            return [partition]
        self.waiting[(tenant_id, mentor_id)] = []
        return sorted(set(found))


async def fan_out(
    tx: MatchingTransaction,
    partitions: int,
    cause: EventEnvelope,
    mentor_id: str,
    reason: Literal["profile", "seats", "deleted"],
) -> None:
    for partition in range(partitions):
        changed = MentorChanged(
            tenant_id=cause.tenant_id,
            key=mentor_id,
            correlation_id=cause.correlation_id,
            payload=MentorChangedPayload(mentor_id=mentor_id, partition=partition, reason=reason),
        )
        await tx.publish(MENTOR_FEED, changed, partition)


async def refresh_mentor(
    event: MentorChanged,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    """Apply the mentor's stored state (profile, seats taken, who it is not proposed to) to
    the lists of this copy's partition and of the poll's other copies (the store is the truth).

    The mentor's lists in the partitions other instances own decide how much of the
    tenant-wide cap this instance's lists may show: they are read again too."""
    tenant_id, mentor_id = event.tenant_id, event.payload.mentor_id
    partitions = matching.copies.take(tenant_id, mentor_id, partition)
    if not partitions:
        return None  # applied with this poll's first copy
    person = await tx.stored_person(tenant_id, mentor_id)
    if person is None:
        engine.drop_mentor(mentor_id)
        for one in partitions:
            await resume_waiting(tx, engine, tenant_id, one)
    else:
        engine.set_accepted(mentor_id, person.seats_taken)
        engine.put_mentor_data(person)
    excluded = await tx.excluded_seekers(tenant_id, mentor_id, partitions)
    for one in partitions:
        engine.reset_exclusions(mentor_id, one, excluded[one])
    engine.refresh_mentor(mentor_id, partitions)
    # Their notices were not sent while the mentor was out of their table, and its budget
    # may have changed here.
    await read_lists_elsewhere(
        tx, engine, matching.holding, matching.config.partitions, tenant_id, mentor_id
    )
    return None


async def reweigh_exposure(
    event: ExposureChanged,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    """A mentor's best mentees changed in some partition: read its lists elsewhere again."""
    mentor_id = matching.mentor_refs.find(tx, engine, event.tenant_id, event.payload.mentor_ref)
    if mentor_id is not None:
        await read_lists_elsewhere(
            tx,
            engine,
            matching.holding,
            matching.config.partitions,
            tenant_id=event.tenant_id,
            mentor_id=mentor_id,
        )
    return None

"""Event handlers: store the change, let the engine re-rank, persist what changed, propose.

Each handler runs in one transaction with the event's idempotency record, so a redelivered
event changes nothing. The in-memory engine is updated inside that transaction; if it rolls
back, the tenant's engine is marked stale and reloaded from the store before its next event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.events import MENTOR_FEED, MentorChanged, MentorChangedPayload
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.service_layer.proposals import propose
from services.matching.service_layer.unit_of_work import (
    MatchingTransaction,
    StateLoader,
    UnitOfWork,
)
from shared.contracts.envelope import EventEnvelope
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.errors import TransientError
from shared.metrics import RANKING_RECOMPUTES


@dataclass
class Matching:
    """What the handlers share: the store, the engines of the owned partitions, the config."""

    uow: UnitOfWork
    loader: StateLoader
    config: EngineConfig
    owned: frozenset[int] = frozenset()
    engines: dict[str, TenantEngine] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)

    async def take_partitions(self, partitions: Collection[int]) -> None:
        """After a rebalance: restore the engines of exactly these partitions from the store."""
        self.owned = frozenset(partitions)
        self.engines = await self.loader.load(self.owned, self.config) if self.owned else {}
        self.stale.clear()

    async def engine(self, tenant_id: str) -> TenantEngine:
        if tenant_id in self.stale or tenant_id not in self.engines:
            loaded = await self.loader.load(self.owned, self.config, tenant_id)
            self.engines[tenant_id] = loaded.get(tenant_id) or TenantEngine(self.config)
            self.stale.discard(tenant_id)
        return self.engines[tenant_id]


class PartitionNotOwned(TransientError):  # noqa: N818 - a state, not an error of the event
    """The partition moved to another instance while this event waited; it will handle it."""


@asynccontextmanager
async def _change(
    matching: Matching, event: EventEnvelope, partition: int
) -> AsyncIterator[tuple[TenantEngine, MatchingTransaction] | None]:
    """The tenant's engine and a transaction; None when the event was already handled."""
    engine = await matching.engine(event.tenant_id)
    try:
        async with matching.uow.transaction() as tx:
            await tx.hold_partition(partition)
            if partition not in matching.owned:
                raise PartitionNotOwned(partition)
            if not await tx.first_delivery(event.event_id):
                yield None
                return
            yield engine, tx
            RANKING_RECOMPUTES.labels("matching").inc()
            await _persist(tx, engine, event)
    except BaseException:
        matching.stale.add(event.tenant_id)
        raise


async def _persist(tx: MatchingTransaction, engine: TenantEngine, event: EventEnvelope) -> None:
    changes = engine.drain()
    for mentor_id, partition in sorted(changes.lists):
        entries, truncated = engine.list_entries(mentor_id, partition)
        await tx.save_list(event.tenant_id, mentor_id, partition, entries, truncated)
    for mentee_id in sorted(changes.rankings):
        await propose(tx, engine, event.tenant_id, mentee_id, event.correlation_id)


async def _fan_out(
    tx: MatchingTransaction,
    matching: Matching,
    cause: EventEnvelope,
    mentor_id: str,
    reason: Literal["profile", "seats", "deleted"],
) -> None:
    for partition in range(matching.config.partitions):
        changed = MentorChanged(
            tenant_id=cause.tenant_id,
            key=mentor_id,
            correlation_id=cause.correlation_id,
            payload=MentorChangedPayload(mentor_id=mentor_id, partition=partition, reason=reason),
        )
        await tx.publish(MENTOR_FEED, changed, partition)


async def record_profile(event: ProfileUpdated, partition: int, matching: Matching) -> None:
    person = person_from_profile(event.payload)
    async with _change(matching, event, partition) as handled:
        if handled is None:
            return
        engine, tx = handled
        known = await tx.person_version(event.tenant_id, person.user_id)
        if known is not None and known >= person.version:
            return  # an older or repeated update never overwrites a newer one
        previous = await tx.stored_person(event.tenant_id, person.user_id)
        await tx.save_person(event.tenant_id, person, partition)
        engine.put_mentee(person, partition)
        if person.is_mentor or (previous is not None and previous.is_mentor):
            await _fan_out(tx, matching, event, person.user_id, "profile")


async def forget_profile(event: ProfileDeleted, partition: int, matching: Matching) -> None:
    user_id = event.payload.user_id
    async with _change(matching, event, partition) as handled:
        if handled is None:
            return
        engine, tx = handled
        await tx.forget_person(event.tenant_id, user_id)
        engine.forget(user_id)
        await _fan_out(tx, matching, event, user_id, "deleted")


async def record_goal(event: GoalSet, partition: int, matching: Matching) -> None:
    goal = goal_from_payload(event.payload)
    async with _change(matching, event, partition) as handled:
        if handled is None:
            return
        engine, tx = handled
        known = await tx.goal_version(event.tenant_id, goal.mentee_id)
        if known is not None and known >= goal.version:
            return
        await tx.save_goal(event.tenant_id, goal, partition)
        engine.put_goal(goal, partition)


async def record_feedback(
    event: MatchAccepted | MatchDeclined, partition: int, matching: Matching
) -> None:
    mentee_id, mentor_id = event.payload.mentee_id, event.payload.mentor_id
    async with _change(matching, event, partition) as handled:
        if handled is None:
            return
        engine, tx = handled
        if isinstance(event, MatchDeclined):
            await tx.save_pair(event.tenant_id, mentee_id, mentor_id, partition, "declined")
            engine.exclude(mentee_id, mentor_id)
        else:
            await _accept(tx, engine, matching, event, mentee_id, mentor_id, partition)


async def _accept(
    tx: MatchingTransaction,
    engine: TenantEngine,
    matching: Matching,
    cause: EventEnvelope,
    mentee_id: str,
    mentor_id: str,
    partition: int,
) -> None:
    """Take one of the mentor's seats, atomically, in the store: the only place seats change.

    An accept for a mentor not known yet is parked until the mentor arrives. A mentor with no
    seat left cannot take the mentee; the pair is not proposed again either way.
    """
    tenant_id = cause.tenant_id
    if await tx.stored_person(tenant_id, mentor_id) is None:
        await tx.save_pair(tenant_id, mentee_id, mentor_id, partition, "accept_parked")
        return
    taken = await tx.take_seat(tenant_id, mentor_id)
    state: Literal["accepted", "declined"] = "accepted" if taken is not None else "declined"
    await tx.save_pair(tenant_id, mentee_id, mentor_id, partition, state)
    engine.exclude(mentee_id, mentor_id)
    if taken is not None:
        await _fan_out(tx, matching, cause, mentor_id, "seats")


async def refresh_mentor(event: MentorChanged, partition: int, matching: Matching) -> None:
    """Apply the mentor's stored state to this partition's lists (the store is the truth)."""
    mentor_id = event.payload.mentor_id
    async with _change(matching, event, partition) as handled:
        if handled is None:
            return
        engine, tx = handled
        person = await tx.stored_person(event.tenant_id, mentor_id)
        if person is None:
            engine.drop_mentor(mentor_id)
        else:
            engine.set_accepted(mentor_id, await tx.seats_taken(event.tenant_id, mentor_id))
            engine.put_mentor_data(person)
        engine.refresh_mentor(mentor_id, [partition])
        for mentee_id in await tx.parked_accepts(event.tenant_id, mentor_id, partition):
            await _accept(tx, engine, matching, event, mentee_id, mentor_id, partition)

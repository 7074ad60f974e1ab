"""Event handlers: store the change, let the engine re-rank, persist what changed, propose.

The events of one poll run in order in one transaction, each with its idempotency record, so a
redelivered event changes nothing; the mentor lists they changed are saved once and each
mentee whose ranking changed is proposed once, with the correlation id and trace of the last
event that changed it. The in-memory engines are updated inside that transaction; if it rolls
back, the engines it touched are marked stale and reloaded from the store before their next
event.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.engine.handover import drop_partitions
from services.matching.domain.engine.proposed import spread_with
from services.matching.domain.events import ExposureChanged, MentorChanged
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.search import PartRunner
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.causes import (
    PROFILE_CHANGED,
    QUIET,
    Told,
    about_mentor,
    goal_told,
    merged,
    told_seekers,
)
from services.matching.service_layer.exposure import MentorRefs, tell_other_owners
from services.matching.service_layer.goal_closing import close_goal
from services.matching.service_layer.goals_ahead import store_goals_ahead
from services.matching.service_layer.lifecycle import (
    mentor_left,
    mentor_name,
    record_relationship,
    store_goal,
)
from services.matching.service_layer.mentor_feed import (
    MentorCopies,
    fan_out,
    refresh_mentor,
    reweigh_exposure,
)
from services.matching.service_layer.proposals import Cause, propose
from services.matching.service_layer.search_threads import helper_threads
from services.matching.service_layer.subjects import lock_updated_people, mentor_named, people_of
from services.matching.service_layer.unit_of_work import (
    MatchingTransaction,
    PairState,
    StateLoader,
    UnitOfWork,
)
from shared.contracts.envelope import EventEnvelope
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalClosed, GoalSet
from shared.contracts.lifecycle import LIFECYCLE_EVENTS, LifecycleEvent
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.contracts.topics import PROFILES
from shared.erasure import Erasure, Person, admit
from shared.errors import TransientError
from shared.metrics import RANKING_RECOMPUTES
from shared.tracing import continued_trace

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

log = logging.getLogger(__name__)


def keep_out_of_collections() -> None:
    """Move what exists now (above all the restored engines: millions of long-lived objects)
    out of the garbage collector's view, so that its full collections, in the middle of an
    event, no longer walk them. (Garbage frozen with them is returned to the collector by the
    unfreeze of the next rebalance.)"""
    gc.freeze()


@dataclass
class Matching:
    """What the handlers share: the store, the engines of the owned partitions, the config."""

    uow: UnitOfWork
    loader: StateLoader
    config: EngineConfig
    owned: frozenset[int] = frozenset()  # polls of these partitions are handled
    # the partitions whose state the engines hold: the owned ones, and during a rebalance
    # those owned before it (docs/adr/0014-sticky-partitions-and-kept-state.md)
    holding: frozenset[int] = frozenset()
    engines: dict[str, TenantEngine] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)
    tracer: Tracer | None = None  # spans for proposals, in the trace of the event behind each
    run: PartRunner = field(default_factory=helper_threads)  # a split search's parts, at once
    mentor_refs: MentorRefs = field(default_factory=MentorRefs)  # how exposure notices name them
    copies: MentorCopies = field(default_factory=MentorCopies)  # of the poll being handled
    # by (tenant, mentee, goal id): an adjustment that came while its goal still waited on the
    # relationship whose ending caused it (another topic), said when that goal resumes
    held: dict[tuple[str, str, str], Told] = field(default_factory=dict)
    # who this process is in the store's partition ownership records (a restart is another)
    instance: str = field(default_factory=lambda: uuid4().hex)
    # a poll and a change of partitions never interleave: one runs at a time
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    restores: int = 0  # full restores of the engines so far

    async def take_partitions(self, partitions: Collection[int]) -> None:
        """After a rebalance: own exactly these partitions. The engines keep what they hold of
        them when the store says nobody else took them since; otherwise they are restored."""
        async with self.turn:
            await self.take_in_turn(partitions)

    async def take_in_turn(self, partitions: Collection[int]) -> None:
        """take_partitions, by a caller that holds `turn`."""
        wanted = frozenset(partitions)
        unchanged = await self._claim(wanted)
        if wanted <= self.holding and wanted <= unchanged:
            for engine in self.engines.values():
                drop_partitions(engine, self.holding - wanted)
            self.holding = self.owned = wanted
        else:  # gaining a partition (or one changed hands meanwhile): all from the store
            await self._restore(wanted)

    async def rebuild(self) -> None:
        """Restore the engines of the owned partitions from the store (an operator's repair)."""
        async with self.turn:
            await self._restore(self.owned)

    async def _claim(self, partitions: frozenset[int]) -> frozenset[int]:
        try:
            return await self.loader.claim(partitions, self.instance)
        except Exception:  # the store away: keep nothing; the restore below tries again
            log.exception("claiming partitions %s failed", sorted(partitions))
            return frozenset()

    async def _restore(self, partitions: frozenset[int]) -> None:
        # If the restore fails, each tenant's engine is restored by its next event (engine()).
        self.owned = self.holding = partitions
        gc.unfreeze()  # the engines replaced below may be collected again
        self.engines = {}
        self.stale.clear()
        self.restores += 1
        self.engines = await self.loader.load(partitions, self.config) if partitions else {}
        for engine in self.engines.values():
            engine.run_searches_with(self.run)
        keep_out_of_collections()

    async def engine(self, tenant_id: str) -> TenantEngine:
        if tenant_id in self.stale or tenant_id not in self.engines:
            # those all engines hold, even while a rebalance left none owned (ADR 0014)
            loaded = await self.loader.load(self.holding, self.config, tenant_id)
            engine = loaded.get(tenant_id) or TenantEngine(self.config)
            engine.run_searches_with(self.run)
            self.engines[tenant_id] = engine
            self.stale.discard(tenant_id)
        return self.engines[tenant_id]


class PartitionNotOwned(TransientError):  # noqa: N818 - a state, not an error of the event
    """The partition moved to another instance while this event waited; it will handle it."""


@dataclass(frozen=True)
class Delivery:
    """One consumed event, where it came from, and the trace context its headers carried."""

    event: EventEnvelope
    partition: int
    trace_headers: Mapping[str, str] = field(default_factory=dict)


# Applies one event; what it tells the next proposal of the person it is keyed by, if anything.
Apply = Callable[[Any, int, TenantEngine, MatchingTransaction, Matching], Awaitable[Told | None]]


@dataclass
class Pending:
    """What events of one transaction changed: lists to save, rankings to propose (and why)."""

    lists: set[tuple[str, str, int]] = field(default_factory=set)
    causes: dict[tuple[str, str], Delivery] = field(default_factory=dict)  # (tenant, seeker)
    told: dict[tuple[str, str], Told] = field(default_factory=dict)  # by the mentee's own events
    # mentors whose best mentees in a partition changed, to tell every partition (the cap is
    # tenant-wide), with the event that changed them
    exposure: dict[tuple[str, str], Delivery] = field(default_factory=dict)

    def collect(self, engine: TenantEngine, cause: Delivery, told: Told | None) -> None:
        tenant_id = cause.event.tenant_id
        changes = engine.drain()
        self.lists.update((tenant_id, m, p) for m, p in changes.lists)
        for mentor_id in changes.exposure:
            self.exposure[(tenant_id, mentor_id)] = cause
        for key in changes.rankings:
            self.causes[(tenant_id, key)] = cause
        for key in spread_with(engine, changes.reranked | changes.rankings):
            self.causes.setdefault((tenant_id, key), cause)
        if told is None:
            return
        # goals, profiles and feedback are keyed by person: the mentee's goals it tells about
        for key in told_seekers(engine, cause.event.key, told, changes.rankings):
            own = (tenant_id, key)
            self.causes[own] = cause
            self.told[own] = merged(self.told.get(own), told)


async def handle(event: EventEnvelope, partition: int, matching: Matching) -> None:
    """One event in its own transaction (with its idempotency record)."""
    await handle_batch([Delivery(event, partition)], matching)


async def handle_batch(batch: Sequence[Delivery], matching: Matching) -> None:
    """Events of one poll, in order, in one transaction: one commit, lists saved once each.

    Either all of them are applied and recorded as delivered, or none is (the engines they
    touched are then reloaded from the store before their next event).
    """
    async with matching.turn:
        await _handle_batch(batch, matching)


async def _handle_batch(batch: Sequence[Delivery], matching: Matching) -> None:
    tenants = sorted({d.event.tenant_id for d in batch})
    engines = {tenant: await matching.engine(tenant) for tenant in tenants}
    owned = matching.owned
    # Refused before anything is applied: the engines stay as they are (not stale), and an
    # instance that keeps them across the rebalance has nothing to restore.
    for partition in sorted({d.partition for d in batch}):
        if partition not in owned:
            raise PartitionNotOwned(partition)
    try:
        async with matching.uow.transaction() as tx:
            # Every owned partition, not only the poll's: its exposure notices skip them
            # (exposure.tell_other_owners), so a new owner's restore must wait for the commit.
            await tx.hold_partitions(sorted(owned))
            pending = Pending()
            matching.copies.expect((d.event, d.partition) for d in batch)
            fresh = await tx.first_deliveries([d.event.event_id for d in batch])
            erased = await tx.erasures.find(p for d in batch for p in people_of(d.event))
            await lock_updated_people(tx, (d.event for d in batch))
            poll = [(d.event, d.partition) for d in batch]
            await store_goals_ahead(tx, poll, fresh, erased, engines)
            for delivery in batch:
                event, partition = delivery.event, delivery.partition
                named = mentor_named(event)
                if not await admit(event, people_of(event), erased, tx.erasures, named):
                    await _bury_again(tx, event)
                    if event.event_id in fresh and await mentee_admitted(event, erased, tx):
                        fresh.discard(event.event_id)  # only its mentor is erased
                        pending.collect(engines[event.tenant_id], delivery, mentor_left(event))
                    continue  # from before its person's erasure: a replay or a late copy
                if event.event_id in fresh:
                    fresh.discard(event.event_id)  # a copy later in the same poll is a duplicate
                    engine = engines[event.tenant_id]
                    with continued_trace(delivery.trace_headers, matching.tracer, event.event_type):
                        told = await _APPLY[type(event)](event, partition, engine, tx, matching)
                    RANKING_RECOMPUTES.labels("matching").inc()
                    pending.collect(engine, delivery, told)
            await _persist(tx, matching, engines, pending, owned)
    except BaseException:
        matching.stale.update(tenants)
        raise


async def _bury_again(tx: MatchingTransaction, event: EventEnvelope) -> None:
    """A profile record replayed onto the compacted profiles topic after the erasure would be
    the person's last record there, kept by compaction: a new tombstone follows it."""
    if isinstance(event, ProfileUpdated):
        await tx.publish_tombstone(PROFILES, event.tenant_id, event.key)


async def mentee_admitted(
    event: EventEnvelope, erased: dict[Person, Erasure], tx: MatchingTransaction
) -> bool:
    """A relationship step dropped because it names an erased mentor, about a mentee who is
    not erased: the mentee still moves on (lifecycle.mentor_left)."""
    if not isinstance(event, LifecycleEvent):
        return False
    return await admit(event, [(event.tenant_id, event.key)], erased, tx.erasures)


async def _persist(
    tx: MatchingTransaction,
    matching: Matching,
    engines: dict[str, TenantEngine],
    pending: Pending,
    owned: frozenset[int],
) -> None:
    await tx.save_lists(
        [
            (tenant, mentor_id, partition, *engines[tenant].list_entries(mentor_id, partition))
            for tenant, mentor_id, partition in sorted(pending.lists)
        ]
    )
    for (_, mentor_id), delivery in sorted(pending.exposure.items()):
        await tell_other_owners(tx, matching.config.partitions, owned, delivery.event, mentor_id)
    by_tenant: dict[str, dict[str, Cause]] = {}
    for (tenant, key), delivery in pending.causes.items():
        told = pending.told.get((tenant, key))
        cause = Cause(delivery.event.correlation_id, delivery.trace_headers, matching.tracer, told)
        by_tenant.setdefault(tenant, {})[key] = cause
    for tenant in sorted(by_tenant):
        await propose(tx, engines[tenant], tenant, by_tenant[tenant])


async def record_profile(
    event: ProfileUpdated,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    person = person_from_profile(event.payload)
    known = await tx.person_version(event.tenant_id, person.user_id)
    if known is not None and known.version >= person.version:
        return None  # an older or repeated update never overwrites a newer one
    await tx.save_person(event.tenant_id, person, partition)
    engine.put_mentee(person, partition)
    if person.is_mentor or (known is not None and known.is_mentor):
        await fan_out(tx, matching.config.partitions, event, person.user_id, "profile")
    return PROFILE_CHANGED


async def forget_profile(
    event: ProfileDeleted,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    user_id = event.payload.user_id
    await tx.forget_person(event.tenant_id, user_id)
    engine.forget(user_id)
    await fan_out(tx, matching.config.partitions, event, user_id, "deleted")
    return None


async def record_goal(
    event: GoalSet | PreferencesAdjusted,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    """A goal set by the mentee, or adjusted by the learning rule: one version order."""
    goal = goal_from_payload(event.payload)
    key = seeker_key(goal.mentee_id, goal.goal_id)
    previous = engine.roster.goals.get(key)
    if not await store_goal(tx, engine, event.tenant_id, goal, partition):
        return None  # an older or repeated goal changes nothing
    engine.put_goal(goal, partition)
    adjustment = event.payload.adjustment if isinstance(event, PreferencesAdjusted) else None
    taught_by = adjustment.mentor_id if adjustment is not None else None
    name = await mentor_name(tx, engine, event.tenant_id, taught_by) if taught_by else None
    told = goal_told(previous, goal, adjustment, name)
    if adjustment is not None and key in engine.roster.paused:
        matching.held[(event.tenant_id, goal.mentee_id, goal.goal_id)] = told
        return Told(None, goal_id=goal.goal_id)  # quiet; the resumed goal's proposal says it
    return told


async def record_feedback(
    event: MatchAccepted | MatchDeclined,
    partition: int,
    engine: TenantEngine,
    tx: MatchingTransaction,
    matching: Matching,
) -> Told | None:
    """'Not for me': the mentor is never proposed to the mentee again. An accept is an old
    record (the profile service now publishes MatchRequested): it keeps the pair apart, quietly,
    and takes no seat (the mentor's profile says which seats are taken)."""
    mentee_id, mentor_id = event.payload.mentee_id, event.payload.mentor_id
    state: PairState = "declined" if isinstance(event, MatchDeclined) else "accepted"
    await tx.save_pair(event.tenant_id, mentee_id, mentor_id, partition, state)
    engine.exclude(mentee_id, mentor_id, partition)
    if isinstance(event, MatchAccepted):
        return QUIET
    name = await mentor_name(tx, engine, event.tenant_id, mentor_id)
    return Told(about_mentor("proposal_declined", mentor_id, name))


_APPLY: dict[type[EventEnvelope], Apply] = {
    ProfileUpdated: record_profile,
    ProfileDeleted: forget_profile,
    GoalSet: record_goal,
    GoalClosed: close_goal,
    PreferencesAdjusted: record_goal,
    MatchAccepted: record_feedback,
    MatchDeclined: record_feedback,
    MentorChanged: refresh_mentor,
    ExposureChanged: reweigh_exposure,
    **dict.fromkeys(LIFECYCLE_EVENTS, record_relationship),
}

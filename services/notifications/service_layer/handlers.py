"""Event handlers: keep contacts and preferences current, queue one email per goal digest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, cast
from uuid import UUID

from services.notifications.domain.digest import Outcome, Proposed, Waiting, plan_poll, waiting_rows
from services.notifications.domain.email import Contact, message_id
from services.notifications.service_layer.erased_proposals import people_in, without_erased
from services.notifications.service_layer.polls import first_seen, runs_apart
from services.notifications.service_layer.ports import (
    Clock,
    ConsumedProposal,
    NewEmail,
    NotificationsStore,
    NotificationsTransaction,
    ProposalOrigin,
)
from shared.contracts.matches import MatchProposed, ProposalCause
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.erasure import admit
from shared.logs import bind_event
from shared.tracing import continued_trace

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePolicy:
    message_id_domain: str
    digest_window: timedelta


def _contact(event: ProfileUpdated) -> Contact:
    profile = event.payload
    preferences = profile.notification_preferences
    return Contact(
        tenant_id=event.tenant_id,
        user_id=profile.user_id,
        email=str(profile.email) if profile.email else None,
        display_name=profile.display_name,
        email_opt_in=preferences.email_opt_in,
        timezone=profile.timezone,
        quiet_hours_start=preferences.quiet_hours_start,
        quiet_hours_end=preferences.quiet_hours_end,
    )


async def record_profiles(
    events: Sequence[ProfileUpdated | ProfileDeleted], store: NotificationsStore
) -> None:
    """One poll of the profiles topic in one transaction, in order: contacts kept current,
    erasures applied (one commit, and one offset commit, per poll rather than per event).
    Each run of updates between erasures costs the same few statements whatever its length."""
    async with store.transaction() as tx:
        for run in runs_apart(events, ProfileDeleted):
            if isinstance(run[0], ProfileDeleted):
                bind_event(run[0].event_id, run[0].correlation_id)
                await _forget_person(run[0], tx)
            else:
                await _record_contacts(cast(Sequence[ProfileUpdated], run), tx)


async def record_contact(event: ProfileUpdated, store: NotificationsStore) -> None:
    await record_profiles([event], store)


async def forget_person(event: ProfileDeleted, store: NotificationsStore) -> None:
    await record_profiles([event], store)


async def _record_contacts(events: Sequence[ProfileUpdated], tx: NotificationsTransaction) -> None:
    """Updates from before their person's erasure are not admitted; of a person's admitted
    updates the newest version is stored (the first of equal ones), unless it is stored."""
    fresh = await first_seen(events, tx)
    if not fresh:
        return
    erased = await tx.erasures.find({(e.tenant_id, e.payload.user_id) for e in fresh})
    newest: dict[tuple[str, str], ProfileUpdated] = {}
    for event in fresh:
        bind_event(event.event_id, event.correlation_id)
        person = (event.tenant_id, event.payload.user_id)
        if not await admit(event, [person], erased, tx.erasures):
            continue  # from before the person's erasure: a replay or a late copy
        known = newest.get(person)
        if known is None or known.payload.version < event.payload.version:
            newest[person] = event
    if newest:
        await tx.save_contacts([(_contact(e), e.payload.version) for e in newest.values()])


async def _forget_person(event: ProfileDeleted, tx: NotificationsTransaction) -> None:
    """Erasure: contact, emails, digest state and pending dead letters about the person."""
    await tx.forget_person(event.tenant_id, event.payload.user_id)
    await tx.erasures.record((event.tenant_id, event.payload.user_id), event.occurred_at)
    await tx.first_delivery(event.event_id)


async def record_proposals(
    batch: Sequence[ConsumedProposal],
    store: NotificationsStore,
    policy: QueuePolicy,
    clock: Clock,
    tracer: Tracer | None = None,
) -> int:
    """Queue the emails of one poll's proposals in one transaction; returns how many were newly
    queued (the dispatcher sends them).

    The poll costs the same few statements whatever its size: one waits for an erasure of
    the tenant in progress (and holds one off until the poll commits); one records the event
    ids, locks the goals' digests and reads their versions (and which emails exist); the
    digest rule is applied in memory, in order (`domain.digest`); one statement advances the
    versions and supersedes the waiting emails, one inserts the new rows. The result is that
    of applying the proposals one at a time, goal by goal: within the digest window a newer
    proposal replaces its goal's waiting one and keeps its due time, a lower ranking version
    is stale, and an empty proposal (nobody suitable left) replaces the goal's waiting email
    with the waiting-list email.
    """
    async with store.transaction() as tx:
        empty = {c.event.event_id for c in batch if not c.event.payload.mentors}
        poll = [_proposed(consumed.event, empty) for consumed in batch]
        known = await tx.begin_proposals(
            list(dict.fromkeys(p.event_id for p in poll)),
            list(dict.fromkeys(p.goal for p in poll)),
            [p.dedupe_key for p in poll if p.sendable],
            people_in(batch),
        )
        if known.erased:  # drop, or take erased mentors out of, proposals about them
            batch = without_erased(batch, known.erased)
            poll = [_proposed(consumed.event, empty) for consumed in batch]
        plan = plan_poll(poll, known.first_seen, known.versions, known.taken)
        for consumed, outcome in zip(batch, plan.outcomes, strict=True):
            event = consumed.event
            bind_event(event.event_id, event.correlation_id)
            with continued_trace(consumed.origin.headers, tracer, "notifications queue"):
                _log_outcome(event, outcome)
        if not plan.versions:
            return 0  # every proposal was a duplicate or stale
        replaced = await tx.settle_digests(plan.versions, plan.supersede)
        waiting = waiting_rows(plan, poll, replaced, lambda: clock() + policy.digest_window)
        emails = [
            _new_email(batch[row.item], poll[row.item], policy, kept, row.superseded_by)
            for row, kept in zip(plan.rows, waiting, strict=True)
        ]
        return await tx.queue_emails(emails) if emails else 0


async def record_proposal(
    event: MatchProposed,
    origin: ProposalOrigin,
    store: NotificationsStore,
    policy: QueuePolicy,
    clock: Clock,
) -> bool:
    return await record_proposals([ConsumedProposal(event, origin)], store, policy, clock) == 1


def _proposed(event: MatchProposed, empty_as_made: set[UUID]) -> Proposed:
    """`empty_as_made`: the events matching made empty (nobody suitable left), which are
    emailed, unlike those that an erasure emptied here."""
    proposal = event.payload
    return Proposed(
        event_id=event.event_id,
        goal=(event.tenant_id, proposal.mentee_id, proposal.goal_id),
        proposal_id=proposal.proposal_id,
        ranking_version=proposal.ranking_version,
        sendable=bool(proposal.mentors) or event.event_id in empty_as_made,
        dedupe_key=f"{event.tenant_id}:{proposal.mentee_id}:{proposal.proposal_id}",
        awaited=proposal.awaited,
        cause=proposal.cause.model_dump_json() if proposal.cause else None,
        refresh=proposal.cause is None or proposal.cause.kind == "others_changed",
    )


def _log_outcome(event: MatchProposed, outcome: Outcome) -> None:
    version = event.payload.ranking_version
    if outcome is Outcome.STALE:
        log.info("stale proposal ignored (ranking version %d)", version)
    elif outcome is Outcome.EMPTIED:
        # its mentors were erased: a waiting email was withdrawn, none is sent
        log.info("emptied proposal: nothing to email (ranking version %d)", version)
    elif outcome is Outcome.QUEUED and not event.payload.mentors:
        log.info("empty proposal: the waiting-list email (ranking version %d)", version)


def _new_email(
    consumed: ConsumedProposal,
    proposed: Proposed,
    policy: QueuePolicy,
    waiting: Waiting,
    superseded_by: UUID | None,
) -> NewEmail:
    event = consumed.event
    tenant, mentee, _goal = proposed.goal
    proposal = event.payload
    if waiting.cause != proposed.cause:  # a refresh keeps the cause of the email it replaced
        kept = ProposalCause.model_validate_json(waiting.cause) if waiting.cause else None
        proposal = proposal.model_copy(update={"cause": kept})
    return NewEmail(
        dedupe_key=proposed.dedupe_key,
        message_id=message_id(tenant, mentee, str(proposed.proposal_id), policy.message_id_domain),
        tenant_id=tenant,
        proposal=proposal,
        correlation_id=event.correlation_id,
        origin=consumed.origin,
        due_at=waiting.due_at,
        superseded_by=superseded_by,
        awaited=waiting.awaited,
    )

"""Event handlers: keep contacts and preferences current, queue one email per mentee digest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from services.notifications.domain.email import Contact, message_id
from services.notifications.service_layer.ports import (
    Clock,
    NewEmail,
    NotificationsStore,
    NotificationsTransaction,
    ProposalOrigin,
)
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
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


async def record_contact(event: ProfileUpdated, store: NotificationsStore) -> None:
    async with store.transaction() as tx:
        if not await tx.first_delivery(event.event_id):
            return
        known = await tx.contact_version(event.tenant_id, event.payload.user_id)
        if known is not None and known >= event.payload.version:
            return
        await tx.save_contact(_contact(event), event.payload.version)


async def forget_person(event: ProfileDeleted, store: NotificationsStore) -> None:
    """Erasure: contact, emails, digest state and pending dead letters about the person."""
    async with store.transaction() as tx:
        await tx.forget_person(event.tenant_id, event.payload.user_id)
        await tx.first_delivery(event.event_id)


@dataclass(frozen=True)
class ConsumedProposal:
    event: MatchProposed
    origin: ProposalOrigin


async def record_proposals(
    batch: Sequence[ConsumedProposal],
    store: NotificationsStore,
    policy: QueuePolicy,
    clock: Clock,
    tracer: Tracer | None = None,
) -> int:
    """Queue the emails of one poll's proposals, in order, in one transaction; returns how many
    were newly queued (the dispatcher sends them)."""
    queued = 0
    async with store.transaction() as tx:
        for consumed in batch:
            event = consumed.event
            bind_event(event.event_id, event.correlation_id)
            with continued_trace(consumed.origin.headers, tracer, "notifications queue"):
                queued += await _queue_email(tx, event, consumed.origin, policy, clock)
    return queued


async def record_proposal(
    event: MatchProposed,
    origin: ProposalOrigin,
    store: NotificationsStore,
    policy: QueuePolicy,
    clock: Clock,
) -> bool:
    return await record_proposals([ConsumedProposal(event, origin)], store, policy, clock) == 1


async def _queue_email(
    tx: NotificationsTransaction,
    event: MatchProposed,
    origin: ProposalOrigin,
    policy: QueuePolicy,
    clock: Clock,
) -> bool:
    """Queue the proposal's email; True when newly queued.

    Within the digest window a newer proposal replaces the waiting one and keeps its due time,
    so the mentee gets one email with the latest proposal. A lower ranking version is stale.
    An empty proposal (every mentor gone) withdraws a waiting email and sends nothing.
    """
    proposal = event.payload
    tenant, mentee = event.tenant_id, proposal.mentee_id
    if not await tx.first_delivery(event.event_id):
        return False
    # An empty proposal only withdraws a waiting email: it never creates state, so one that
    # arrives after the mentee's erasure (another topic, no order) leaves no trace.
    known_only = not proposal.mentors
    if not await tx.advance_ranking(tenant, mentee, proposal.ranking_version, known_only):
        log.info("stale proposal ignored (ranking version %d)", proposal.ranking_version)
        return False
    replaced_due = await tx.supersede_queued(tenant, mentee, by=proposal.proposal_id)
    if not proposal.mentors:
        log.info("empty proposal: nothing to email (ranking version %d)", proposal.ranking_version)
        return False  # nobody left to propose: a waiting email was withdrawn, none is sent
    email = NewEmail(
        dedupe_key=f"{tenant}:{mentee}:{proposal.proposal_id}",
        message_id=message_id(tenant, mentee, str(proposal.proposal_id), policy.message_id_domain),
        tenant_id=tenant,
        proposal=proposal,
        correlation_id=event.correlation_id,
        origin=origin,
        due_at=replaced_due or clock() + policy.digest_window,
    )
    return await tx.queue_email(email)

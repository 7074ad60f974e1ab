"""Relationship lifecycle events become emails, once per (relationship, event version) and
recipient; goal statements are kept for the mentor's request email, and a closed goal's
pending proposal email is withdrawn."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

from services.notifications.domain.email import message_id
from services.notifications.domain.lifecycle import (
    ASKING,
    Facts,
    LifecycleEmail,
    kind_of,
    mentor_side,
    plan_emails,
)
from services.notifications.service_layer.polls import first_seen, runs_apart
from services.notifications.service_layer.ports import (
    GoalStatement,
    NewLifecycleEmail,
    NotificationsStore,
    NotificationsTransaction,
    ProposalOrigin,
)
from shared.contracts.goals import GoalClosed, GoalSet
from shared.contracts.lifecycle import FitCheckRequested, LifecycleEvent, MatchStarted
from shared.contracts.preferences import PreferencesAdjusted
from shared.erasure import admit
from shared.logs import bind_event

log = logging.getLogger(__name__)


async def record_goals(
    events: Sequence[GoalSet | PreferencesAdjusted | GoalClosed], store: NotificationsStore
) -> None:
    """One poll of the goals topic in one transaction, in order (one commit, and one offset
    commit, per poll rather than per event). Each run of statements between closures costs
    the same few statements whatever its length."""
    async with store.transaction() as tx:
        for run in runs_apart(events, GoalClosed):
            if isinstance(run[0], GoalClosed):
                bind_event(run[0].event_id, run[0].correlation_id)
                await _close_goal(run[0], tx)
            else:
                await _record_goals(cast(Sequence[GoalSet | PreferencesAdjusted], run), tx)


async def record_goal(event: GoalSet | PreferencesAdjusted, store: NotificationsStore) -> None:
    await record_goals([event], store)


async def close_goal(event: GoalClosed, store: NotificationsStore) -> None:
    await record_goals([event], store)


async def _record_goals(
    events: Sequence[GoalSet | PreferencesAdjusted], tx: NotificationsTransaction
) -> None:
    """Statements from before the mentee's erasure are not admitted; of a goal's admitted
    statements the newest version is kept (the first of equal ones), unless it is stored."""
    fresh = await first_seen(events, tx)
    if not fresh:
        return
    erased = await tx.erasures.find({(e.tenant_id, e.payload.mentee_id) for e in fresh})
    newest: dict[tuple[str, str, str], GoalStatement] = {}
    for event in fresh:
        bind_event(event.event_id, event.correlation_id)
        goal = event.payload
        if not await admit(event, [(event.tenant_id, goal.mentee_id)], erased, tx.erasures):
            continue  # from before the mentee's erasure
        key = (event.tenant_id, goal.mentee_id, goal.goal_id)
        known = newest.get(key)
        if known is None or known.version < goal.version:
            newest[key] = GoalStatement(*key, goal.version, goal.statement)
    if newest:
        await tx.save_goal_statements(list(newest.values()))


async def _close_goal(event: GoalClosed, tx: NotificationsTransaction) -> None:
    """Stop that goal's pending proposal email (ADR 0012); the mentee's other goals go on. The
    goal's statement stays quoted in the emails of relationships that go on."""
    goal = event.payload
    if not await tx.first_delivery(event.event_id):
        return
    withdrawn = await tx.close_goal(event.tenant_id, goal.mentee_id, goal.goal_id, goal.version)
    if withdrawn:
        log.info("goal closed (%s): its waiting proposal email is withdrawn", goal.reason)


async def record_lifecycle(
    event: LifecycleEvent, origin: ProposalOrigin, store: NotificationsStore, domain: str
) -> int:
    """Queue the emails the event brings; returns how many were queued (the dispatcher sends
    them). A repeated event, or one older than the relationship's newest, sends nothing."""
    p, tenant = event.payload, event.tenant_id
    async with store.transaction() as tx:
        if not await tx.first_delivery(event.event_id):
            return 0
        begun = isinstance(event, MatchStarted | FitCheckRequested)
        started = await tx.advance_relationship(tenant, p.request_id, p.version, begun)
        if started is None:
            log.info("lifecycle event %s v%d is stale: no email", event.event_type, p.version)
            return 0
        await tx.withdraw_asking(tenant, p.request_id)  # settled, or asked again
        kind = kind_of(event, started)
        if kind is None:
            return 0
        people = [(tenant, p.mentee_id), (tenant, p.mentor_id)]
        erased = await tx.erasures.find(people)
        gone = frozenset(
            user
            for (_, user), erasure in erased.items()
            if erasure.hides_unrestored(event.occurred_at)
        )
        proposal = getattr(p, "proposal_id", None) if kind in ASKING else None
        known = await tx.lifecycle_facts(tenant, (p.mentee_id, p.mentor_id), p.goal_id, proposal)
        facts = Facts(
            contacts=dict(known.contacts),
            goal_statement=known.goal_statement,
            reasons=[mentor_side(text) for text in known.explanations],
            erased=gone,
            started=started,
        )
        emails = [
            _new_email(tenant, email, event.correlation_id, origin, domain)
            for email in plan_emails(event, facts)
        ]
        return await tx.queue_lifecycle_emails(emails) if emails else 0


def _new_email(
    tenant: str,
    email: LifecycleEmail,
    correlation_id: str | None,
    origin: ProposalOrigin,
    domain: str,
) -> NewLifecycleEmail:
    about = f"{email.request_id}:{email.version}"
    return NewLifecycleEmail(
        dedupe_key=f"{tenant}:{email.kind}:{about}:{email.recipient_id}",
        message_id=message_id(tenant, email.recipient_id, about, domain, email.kind),
        tenant_id=tenant,
        email=email,
        correlation_id=correlation_id,
        origin=origin,
    )

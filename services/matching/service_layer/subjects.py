"""Whom an event is about, for erasure: the person it is keyed by, and the mentor named by
an answer to a proposal or a relationship step."""

from __future__ import annotations

from collections.abc import Iterable

from services.matching.service_layer.unit_of_work import MatchingTransaction
from shared.contracts.envelope import EventEnvelope
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalClosed, GoalSet
from shared.contracts.lifecycle import LifecycleEvent
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated
from shared.erasure import Person

PAIR_EVENTS = MatchAccepted | MatchDeclined | LifecycleEvent  # about a mentee and a mentor


def mentor_named(event: EventEnvelope) -> list[Person]:
    """The mentor of feedback and of relationships: a mentee may answer an old email after
    the mentor was erased."""
    if isinstance(event, PAIR_EVENTS):
        return [(event.tenant_id, event.payload.mentor_id)]
    return []


def people_of(event: EventEnvelope) -> list[Person]:
    """Whom an event is about, for erasure: the person, and the mentor of feedback and of
    relationships."""
    if isinstance(event, PAIR_EVENTS):
        return [(event.tenant_id, event.key), (event.tenant_id, event.payload.mentor_id)]
    if isinstance(
        event, ProfileUpdated | ProfileDeleted | GoalSet | PreferencesAdjusted | GoalClosed
    ):
        return [(event.tenant_id, event.key)]
    return []  # the mentor fan-out follows a profile event that was admitted


async def lock_updated_people(tx: MatchingTransaction, events: Iterable[EventEnvelope]) -> None:
    """The stored rows of the people whose profiles the poll updates, locked and read in one
    statement per tenant rather than one per update (issue 29)."""
    updated: dict[str, list[str]] = {}
    for event in events:
        if isinstance(event, ProfileUpdated):
            updated.setdefault(event.tenant_id, []).append(event.payload.user_id)
    for tenant_id, user_ids in sorted(updated.items()):
        await tx.lock_people(tenant_id, user_ids)

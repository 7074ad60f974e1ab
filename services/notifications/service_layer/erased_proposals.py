"""Proposals that reach notifications after someone in them was erased.

A MatchProposed is made by matching, on its own clock, and travels on another topic than the
ProfileDeleted: it can arrive after the erasure (a late copy, a replayed dead letter). An erased
mentee's proposal is dropped; an erased mentor is taken out of the proposal (and out of the
original bytes kept for its dead letter) before it is queued, and a proposal left with no
mentor is emptied, which withdraws a waiting email (an empty proposal as matching made it is
the waiting-list email instead). As the proposal's time comes from another
clock than the erasure's, a person counts as erased until a profile created after the erasure
was seen (Erasure.hides_unrestored). An erased mentor named by the proposal's cause (who
declined, whose relationship ended) loses their id and name there too, and one named as an
alternative to an unmet must is left out of those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from services.notifications.service_layer.ports import ConsumedProposal
from shared.contracts.matches import MatchProposed, ProposalCause, UnmetMust
from shared.erasure import Erasure, Person


def people_in(batch: Sequence[ConsumedProposal]) -> list[Person]:
    """The mentees and mentors of a poll's proposals."""
    return list(dict.fromkeys(p for consumed in batch for p in _people(consumed.event)))


def without_erased(
    batch: Sequence[ConsumedProposal], erased: dict[Person, Erasure]
) -> list[ConsumedProposal]:
    kept = []
    for consumed in batch:
        event = consumed.event
        if _hidden(erased, (event.tenant_id, event.payload.mentee_id), event):
            continue
        mentors = [
            m
            for m in event.payload.mentors
            if not _hidden(erased, (event.tenant_id, m.mentor_id), event)
        ]
        cause = _cause_without_erased(event, erased)
        unmet = _musts_without_erased(event, erased)
        if (
            len(mentors) == len(event.payload.mentors)
            and cause == event.payload.cause
            and unmet == event.payload.unmet_musts
        ):
            kept.append(consumed)
            continue
        ranked = [m.model_copy(update={"rank": rank}) for rank, m in enumerate(mentors, 1)]
        update = {"mentors": ranked, "cause": cause, "unmet_musts": unmet}
        payload = event.payload.model_copy(update=update)
        changed = event.model_copy(update={"payload": payload})
        kept.append(ConsumedProposal(changed, replace(consumed.origin, value=changed.to_bytes())))
    return kept


def _musts_without_erased(event: MatchProposed, erased: dict[Person, Erasure]) -> list[UnmetMust]:
    """The alternatives of each unmet must without erased mentors."""
    return [
        unmet.model_copy(
            update={
                "alternatives": [
                    a
                    for a in unmet.alternatives
                    if not _hidden(erased, (event.tenant_id, a.mentor_id), event)
                ]
            }
        )
        for unmet in event.payload.unmet_musts
    ]


def _cause_without_erased(
    event: MatchProposed, erased: dict[Person, Erasure]
) -> ProposalCause | None:
    """The cause without an erased mentor's id and name (the email then says "a mentor")."""
    cause = event.payload.cause
    if cause is None:
        return None
    if cause.mentor_id and _hidden(erased, (event.tenant_id, cause.mentor_id), event):
        cause = cause.model_copy(update={"mentor_id": None, "mentor_name": None})
    learned = cause.adjustment
    if (
        learned
        and learned.mentor_id
        and _hidden(erased, (event.tenant_id, learned.mentor_id), event)
    ):
        learned = learned.model_copy(update={"mentor_id": None})
        cause = cause.model_copy(update={"adjustment": learned})
    return cause


def _people(event: MatchProposed) -> list[Person]:
    tenant, cause = event.tenant_id, event.payload.cause
    learned = cause.adjustment if cause else None
    named = [cause.mentor_id if cause else None, learned.mentor_id if learned else None]
    return (
        [(tenant, event.payload.mentee_id)]
        + [(tenant, m.mentor_id) for m in event.payload.mentors]
        + [(tenant, a.mentor_id) for u in event.payload.unmet_musts for a in u.alternatives]
        + [(tenant, mentor_id) for mentor_id in named if mentor_id]
    )


def _hidden(erased: dict[Person, Erasure], person: Person, event: MatchProposed) -> bool:
    erasure = erased.get(person)
    return erasure is not None and erasure.hides_unrestored(event.occurred_at)

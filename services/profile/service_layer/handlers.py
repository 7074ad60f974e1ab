"""Command handlers: decide, store and announce, all in one transaction.

Each `*_in(tx, cmd)` works inside a transaction the caller opened (so an Idempotency-Key record
or an ingress command id commits with the change); the plain variants open their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from services.profile.domain.commands import (
    DeclineProposal,
    DeleteProfile,
    Unsubscribe,
    UpsertProfile,
)
from services.profile.domain.model import (
    ProfileNotFound,
    check_version,
    next_profile,
    open_to_mentees,
    profile_fields,
)
from services.profile.service_layer.goals import GoalResult, set_goal, set_goal_in
from services.profile.service_layer.learning import learn_from
from services.profile.service_layer.lifecycle import (
    close_for_erasure,
    withdraw_request,
    withdraw_waiting_requests,
)
from services.profile.service_layer.unit_of_work import LinkResponse, ProfileTransaction, UnitOfWork
from shared.contracts.feedback import MatchDeclined, MatchDeclinedPayload
from shared.contracts.lifecycle import ENDING_REASONS, EndingReason
from shared.contracts.profiles import (
    ProfileDeleted,
    ProfileDeletedPayload,
    ProfilePayload,
    ProfileUpdated,
)
from shared.contracts.topics import FEEDBACK, PROFILES

__all__ = ["GoalResult", "set_goal", "set_goal_in"]  # goals.py's, as the entrypoints know them


async def _announce_change(
    tx: ProfileTransaction,
    tenant_id: str,
    before: ProfilePayload | None,
    after: ProfilePayload,
    correlation_id: str | None,
) -> ProfilePayload:
    """Store and publish a changed profile; a mentor closing to mentees withdraws the requests
    still waiting for their answer, in the same transaction (the mentor's row is locked)."""
    if _closes_to_mentees(before, after):
        now = datetime.now(UTC)
        taken = await withdraw_waiting_requests(tx, tenant_id, after.user_id, now, correlation_id)
        after = after.model_copy(update={"seats_taken": taken})
    await _announce_profile(tx, tenant_id, after, correlation_id)
    return after


def _closes_to_mentees(before: ProfilePayload | None, after: ProfilePayload) -> bool:
    return before is not None and open_to_mentees(before) and not open_to_mentees(after)


async def _announce_profile(
    tx: ProfileTransaction, tenant_id: str, profile: ProfilePayload, correlation_id: str | None
) -> None:
    await tx.save_profile(tenant_id, profile)
    await _publish_profile(tx, tenant_id, profile, correlation_id)


async def _publish_profile(
    tx: ProfileTransaction, tenant_id: str, profile: ProfilePayload, correlation_id: str | None
) -> None:
    event = ProfileUpdated(
        tenant_id=tenant_id, key=profile.user_id, payload=profile, correlation_id=correlation_id
    )
    await tx.publish(PROFILES, event)


async def upsert_profile_in(tx: ProfileTransaction, cmd: UpsertProfile) -> ProfilePayload:
    current = await tx.get_profile(cmd.tenant_id, cmd.user_id, for_update=True)
    unsubscribed = cmd.user_id in await tx.unsubscribed(cmd.tenant_id, [cmd.user_id])
    profile = next_profile(
        cmd.user_id, cmd.fields, current, cmd.expected_version, unsubscribed=unsubscribed
    )
    if profile is not current:
        return await _announce_change(tx, cmd.tenant_id, current, profile, cmd.correlation_id)
    return profile


async def upsert_profile(cmd: UpsertProfile, uow: UnitOfWork) -> ProfilePayload:
    async with uow.transaction() as tx:
        return await upsert_profile_in(tx, cmd)


async def delete_profile_in(tx: ProfileTransaction, cmd: DeleteProfile) -> None:
    """Right to erasure: forget every row about the person and tell the other services."""
    current = await tx.get_profile(cmd.tenant_id, cmd.user_id, for_update=True)
    if current is None:
        raise ProfileNotFound()
    check_version(cmd.expected_version, current.version)
    for report in await tx.profiles_managed_by(cmd.tenant_id, cmd.user_id):
        fields = profile_fields(report).model_copy(update={"manager_id": None})
        updated = next_profile(report.user_id, fields, report)
        await _announce_profile(tx, cmd.tenant_id, updated, cmd.correlation_id)
    now = datetime.now(UTC)  # the rows are erased: no clock would be seen
    await close_for_erasure(tx, cmd.tenant_id, cmd.user_id, now, cmd.correlation_id)
    await tx.erase_person(cmd.tenant_id, cmd.user_id)
    event = ProfileDeleted(
        tenant_id=cmd.tenant_id,
        key=cmd.user_id,
        payload=ProfileDeletedPayload(user_id=cmd.user_id),
        correlation_id=cmd.correlation_id,
    )
    await tx.publish(PROFILES, event)
    await tx.publish_tombstone(PROFILES, cmd.tenant_id, cmd.user_id)  # compaction erases
    await tx.erasures.record((cmd.tenant_id, cmd.user_id), event.occurred_at)


async def delete_profile(cmd: DeleteProfile, uow: UnitOfWork) -> None:
    async with uow.transaction() as tx:
        await delete_profile_in(tx, cmd)


@dataclass(frozen=True)
class Declined:
    first: bool  # False: this answer was recorded before, nothing changed now
    learned: bool = False  # the reason adjusted the mentee's goal (PreferencesAdjusted)
    withdrew: bool = False  # the mentee's waiting request to this mentor ended


async def decline_proposal(cmd: DeclineProposal, uow: UnitOfWork) -> Declined:
    """The mentee's "Not for me": MatchDeclined once per (proposal, mentor), and what its
    optional reason teaches (the learning rule, gently)."""
    async with uow.transaction() as tx:
        if await tx.get_profile(cmd.tenant_id, cmd.mentee_id) is None:
            raise ProfileNotFound()
        mentor = (cmd.tenant_id, cmd.mentor_id)
        if await tx.get_profile(*mentor) is None and await tx.erasures.find([mentor]):
            raise ProfileNotFound()  # a decline of an erased mentor would store their id
        record = LinkResponse(
            cmd.tenant_id, cmd.mentee_id, cmd.mentor_id, cmd.proposal_id, "decline"
        )
        if not await tx.first_link_response(record):
            # The same "Not for me" again, but a request may have been made since (the
            # accept link of this proposal): the withdrawal is idempotent, so it runs anyway.
            withdrew = await withdraw_request(tx, cmd, datetime.now(UTC))
            return Declined(first=False, withdrew=withdrew)
        payload = MatchDeclinedPayload(
            mentee_id=cmd.mentee_id,
            mentor_id=cmd.mentor_id,
            proposal_id=cmd.proposal_id,
            goal_id=cmd.goal_id,
            reason=cmd.reason,
        )
        event = MatchDeclined(
            tenant_id=cmd.tenant_id,
            key=cmd.mentee_id,
            payload=payload,
            correlation_id=cmd.correlation_id,
        )
        await tx.publish(FEEDBACK, event)
        withdrew = await withdraw_request(tx, cmd, datetime.now(UTC))
        learned = None
        if payload.reason in ENDING_REASONS:
            reason = cast(EndingReason, payload.reason)
            learned = await learn_from(tx, cmd, reason, "proposal_declined", cmd.correlation_id)
        return Declined(first=True, learned=learned is not None, withdrew=withdrew)


async def unsubscribe(cmd: Unsubscribe, uow: UnitOfWork) -> None:
    """Sticky opt-out: this and every later version of the profile has email_opt_in false."""
    async with uow.transaction() as tx:
        current = await tx.get_profile(cmd.tenant_id, cmd.user_id, for_update=True)
        if current is None:
            raise ProfileNotFound()
        await tx.mark_unsubscribed(cmd.tenant_id, cmd.user_id)
        profile = next_profile(cmd.user_id, profile_fields(current), current, unsubscribed=True)
        if profile is not current:
            await _announce_profile(tx, cmd.tenant_id, profile, cmd.correlation_id)


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


async def import_profiles(
    tenant_id: str,
    rows: list[UpsertProfile],
    uow: UnitOfWork,
) -> ImportCounts:
    """One batch of a bulk import, in one transaction; unchanged rows change nothing.

    Changed profiles are stored together, then announced in row order. A mentor closing to
    mentees withdraws their waiting requests (`_announce_change`): the rows before it are
    stored and announced first, so every row still sees the ones before it."""
    counts = ImportCounts()
    ids = sorted({row.user_id for row in rows})
    async with uow.transaction() as tx:
        current = await tx.get_profiles(tenant_id, ids, for_update=True)
        unsubscribed = await tx.unsubscribed(tenant_id, ids)
        changed: list[tuple[ProfilePayload, str | None]] = []
        for row in rows:
            before = current.get(row.user_id)
            after = next_profile(
                row.user_id, row.fields, before, unsubscribed=row.user_id in unsubscribed
            )
            if after is before:
                counts.unchanged += 1
                continue
            counts.created += before is None
            counts.updated += before is not None
            if _closes_to_mentees(before, after):
                await _announce_all(tx, tenant_id, changed)
                after = await _announce_change(tx, tenant_id, before, after, row.correlation_id)
            else:
                changed.append((after, row.correlation_id))
            current[row.user_id] = after
        await _announce_all(tx, tenant_id, changed)
    return counts


async def _announce_all(
    tx: ProfileTransaction, tenant_id: str, changed: list[tuple[ProfilePayload, str | None]]
) -> None:
    """Store the profiles with one statement, then publish each (as `_announce_profile`)."""
    await tx.save_profiles(tenant_id, [profile for profile, _ in changed])
    for profile, correlation_id in changed:
        await _publish_profile(tx, tenant_id, profile, correlation_id)
    changed.clear()

"""Event handlers: keep contacts current, queue one email per proposal."""

from __future__ import annotations

from services.notifications.domain.email import Contact, message_id
from services.notifications.service_layer.ports import NotificationsStore
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated


async def record_contact(event: ProfileUpdated, store: NotificationsStore) -> None:
    profile = event.payload
    async with store.transaction() as tx:
        if not await tx.first_delivery(event.event_id):
            return
        known = await tx.contact_version(event.tenant_id, profile.user_id)
        if known is not None and known >= profile.version:
            return
        contact = Contact(
            tenant_id=event.tenant_id,
            user_id=profile.user_id,
            email=str(profile.email) if profile.email else None,
            display_name=profile.display_name,
            email_opt_in=profile.notification_preferences.email_opt_in,
            timezone=profile.timezone,
        )
        await tx.save_contact(contact, profile.version)


async def forget_contact(event: ProfileDeleted, store: NotificationsStore) -> None:
    async with store.transaction() as tx:
        if await tx.first_delivery(event.event_id):
            await tx.forget_person(event.tenant_id, event.payload.user_id)


async def record_proposal(event: MatchProposed, store: NotificationsStore, domain: str) -> bool:
    """Queue the proposal's email; True when newly queued (the dispatcher sends it)."""
    proposal = event.payload
    dedupe_key = f"{event.tenant_id}:{proposal.mentee_id}:{proposal.proposal_id}"
    async with store.transaction() as tx:
        if not await tx.first_delivery(event.event_id):
            return False
        return await tx.queue_email(
            dedupe_key,
            message_id(event.tenant_id, proposal.mentee_id, str(proposal.proposal_id), domain),
            proposal,
            event.tenant_id,
            event.correlation_id,
        )

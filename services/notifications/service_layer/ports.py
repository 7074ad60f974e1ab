"""Ports of the notifications service: its store and its mailer."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol
from uuid import UUID

from services.notifications.domain.delivery import SendResult
from services.notifications.domain.email import Contact
from shared.contracts.matches import MatchProposedPayload


@dataclass(frozen=True)
class ClaimedEmail:
    id: int
    tenant_id: str
    mentee_id: str
    message_id: str
    proposal: MatchProposedPayload
    attempts: int
    created_at: datetime
    correlation_id: str | None


class NotificationsTransaction(Protocol):
    async def first_delivery(self, event_id: UUID) -> bool: ...

    async def contact_version(self, tenant_id: str, user_id: str) -> int | None: ...

    async def save_contact(self, contact: Contact, version: int) -> None: ...

    async def forget_person(self, tenant_id: str, user_id: str) -> None: ...

    async def queue_email(
        self,
        dedupe_key: str,
        message_id: str,
        proposal: MatchProposedPayload,
        tenant_id: str,
        correlation_id: str | None,
    ) -> bool: ...


class NotificationsStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[NotificationsTransaction]: ...

    async def claim_due(self, limit: int, lease_s: float) -> list[ClaimedEmail]: ...

    async def contact(self, tenant_id: str, user_id: str) -> Contact | None: ...

    async def mark_sent(self, email_id: int) -> None: ...

    async def mark_failed(self, email_id: int, state: str, reason: str) -> None: ...

    async def reschedule(
        self, email_id: int, delay_s: float, reason: str, *, count_attempt: bool = True
    ) -> None: ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> SendResult: ...

"""What a proposal email says and how it is addressed. No I/O: rendering only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from jinja2 import Environment, PackageLoader, select_autoescape

from shared.contracts.matches import MatchProposedPayload


@dataclass(frozen=True)
class Contact:
    tenant_id: str
    user_id: str
    email: str | None
    display_name: str
    email_opt_in: bool
    timezone: str

    @property
    def reachable(self) -> bool:
        return self.email is not None and self.email_opt_in


@dataclass(frozen=True)
class Sender:
    mail_from: str
    reply_to: str
    message_id_domain: str


def message_id(tenant_id: str, mentee_id: str, proposal_id: str, domain: str) -> str:
    """Stable across attempts, so a resent copy is recognised as the same message."""
    digest = hashlib.sha256(f"{tenant_id}\x00{mentee_id}\x00{proposal_id}".encode()).hexdigest()
    return f"<proposal.{digest[:32]}@{domain}>"


def _one_line(text: str) -> str:
    """Neutralise CR/LF and other line breaks before text reaches a header."""
    return " ".join(text.split())


_templates = Environment(
    loader=PackageLoader("services.notifications", "templates"),
    autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def compose(
    proposal: MatchProposedPayload,
    contact: Contact,
    sender: Sender,
    msg_id: str,
    now: datetime | None = None,
) -> EmailMessage:
    assert contact.email is not None
    count = len(proposal.mentors)
    context = {"name": contact.display_name, "proposal": proposal, "count": count}
    message = EmailMessage()
    message["Subject"] = _one_line(
        f"{count} mentor{'s' if count != 1 else ''} picked for your goal"
    )
    message["From"] = sender.mail_from
    message["Reply-To"] = sender.reply_to
    message["To"] = formataddr(
        (_one_line(contact.display_name), Address(addr_spec=contact.email).addr_spec)
    )
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = msg_id
    message.set_content(_templates.get_template("proposal.txt.j2").render(context))
    message.add_alternative(
        _templates.get_template("proposal.html.j2").render(context), subtype="html"
    )
    return message

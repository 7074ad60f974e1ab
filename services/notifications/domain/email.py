"""What a proposal email says and how it is addressed. No I/O: rendering only."""

from __future__ import annotations

import email.policy
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from jinja2 import Environment, PackageLoader, select_autoescape

from services.notifications.domain.links import ProposalLinks
from shared.contracts.matches import MatchProposedPayload

# Headers fold at 998 characters on the wire: a List-Unsubscribe URL longer than 78 characters
# would otherwise become an RFC 2047 encoded word, which mail clients do not treat as a URL.
# Bodies are quoted-printable (76-character lines), encoded when the parts are set.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class Contact:
    tenant_id: str
    user_id: str
    email: str | None
    display_name: str
    email_opt_in: bool
    timezone: str
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None

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


def one_line(text: str) -> str:
    """Neutralise CR/LF and every other line break before text reaches a header."""
    return " ".join(text.split())


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers never turned into encoded words."""
    return message.as_bytes(policy=WIRE_POLICY)


_templates = Environment(
    loader=PackageLoader("services.notifications", "templates"),
    autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def subject(count: int) -> str:
    return one_line(f"{count} mentor{'s' if count != 1 else ''} picked for your goal")


def compose(
    proposal: MatchProposedPayload,
    contact: Contact,
    sender: Sender,
    msg_id: str,
    links: ProposalLinks,
    now: datetime | None = None,
) -> EmailMessage:
    if contact.email is None:
        raise ValueError("contact has no email address")
    count = len(proposal.mentors)
    context = {"name": contact.display_name, "proposal": proposal, "count": count, "links": links}
    message = EmailMessage()
    message["Subject"] = subject(count)
    message["From"] = one_line(sender.mail_from)
    message["Reply-To"] = one_line(sender.reply_to)
    message["To"] = formataddr(
        (one_line(contact.display_name), Address(addr_spec=contact.email).addr_spec)
    )
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = one_line(msg_id)
    message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK
    message["Auto-Submitted"] = "auto-generated"
    text = _templates.get_template("proposal.txt.j2").render(context)
    html = _templates.get_template("proposal.html.j2").render(context)
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message

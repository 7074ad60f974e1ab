"""What a proposal email says and how it is addressed. No I/O: rendering only."""

from __future__ import annotations

import binascii
import email.policy
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr

from jinja2 import Environment, PackageLoader, select_autoescape

from services.notifications.domain.changes import what_changed
from services.notifications.domain.links import ProposalLinks
from services.notifications.domain.musts_told import musts_sentences
from shared.contracts.matches import MatchProposedPayload

# Headers fold at 998 characters on the wire: a List-Unsubscribe URL longer than 78 characters
# would otherwise become an RFC 2047 encoded word, which mail clients do not treat as a URL.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)
ONE_CLICK = "List-Unsubscribe=One-Click"
CRLF = "\r\n"
# Bodies go as they are, as the stdlib's `set_content` would send them (RFC 2045 2.7, 2.8):
# `7bit` when ASCII, `8bit` (UTF-8) when not, which a server takes only if it advertises
# 8BITMIME (RFC 6152; the mailer falls back to `ProposalMessage.seven_bit`). A body that SMTP
# cannot carry as it is (a line over 998 bytes, a NUL) is quoted-printable, as every body was:
# the decoded text is the same either way, and encoding it cost a quarter of composing.
SEVEN_BIT, EIGHT_BIT, QUOTED_PRINTABLE = "7bit", "8bit", "quoted-printable"
MAX_LINE = 998  # bytes, without the line's end (RFC 5322 2.1.1)
# One boundary per process will do: '=' never appears unencoded in a quoted-printable body, and
# a body sent as it is must not hold it (random digits: in practice it never does). The
# Content-Type headers are parsed (and folded) once: reading them again for every email was a
# large part of building one.
_BOUNDARY = f"==============={secrets.randbelow(10**19):019d}=="
_BOUNDARY_BYTES = _BOUNDARY.encode("ascii")
_CONTENT_TYPES = {
    value.split(";")[0]: email.policy.default.header_factory("Content-Type", value)
    for value in (
        f'multipart/alternative; boundary="{_BOUNDARY}"',
        'text/plain; charset="utf-8"',
        'text/html; charset="utf-8"',
    )
}
_FOLDED = {header: WIRE_POLICY.fold("Content-Type", header) for header in _CONTENT_TYPES.values()}
# An address whose local part and domain are dot-atoms (RFC 5322 3.2.3), as almost all are, is
# written as it is: the header parser, which quotes or refuses the others, would return it
# unchanged, and parsing it was a large part of building an email.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*")


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


def message_id(
    tenant_id: str, mentee_id: str, proposal_id: str, domain: str, kind: str = "proposal"
) -> str:
    """Stable across attempts, so a resent copy is recognised as the same message. `kind` names
    the email (a proposal, or a lifecycle email: domain/lifecycle.py)."""
    digest = hashlib.sha256(f"{tenant_id}\x00{mentee_id}\x00{proposal_id}".encode()).hexdigest()
    return f"<{kind}.{digest[:32]}@{domain}>"


def one_line(text: str) -> str:
    """Neutralise CR/LF and every other line break before text reaches a header."""
    return " ".join(text.split())


class ProposalMessage(EmailMessage):
    """What `compose` returns: also its bytes as sent, written once when it is built so that
    sending does not run the stdlib generator a second time (every line of them ends in CRLF,
    none in a bare CR or LF), and the recipient's address as the To header holds it, so that
    sending does not parse the header again. Not to be changed afterwards."""

    wire: bytes = b""
    recipients: tuple[str, ...] = ()
    eight_bit: bool = False  # a body is 8bit: the server must advertise 8BITMIME
    texts: tuple[tuple[str, bytes], ...] = ()  # (subtype, UTF-8 body with LF line ends)

    def seven_bit(self) -> ProposalMessage:
        """The same email with quoted-printable bodies, for a server without 8BITMIME."""
        copy = ProposalMessage()
        for name, value in self.raw_items():
            copy.set_raw(name, value)
        copy.recipients = self.recipients
        _set_bodies(copy, self.texts, QUOTED_PRINTABLE)
        return copy


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers never turned into encoded words."""
    if isinstance(message, ProposalMessage) and message.wire:
        return message.wire
    return message.as_bytes(policy=WIRE_POLICY)


# The templates ship with the package: a template is loaded once, never checked again for
# changes on disk (Jinja's default stats the file for every email).
_templates = Environment(
    loader=PackageLoader("services.notifications", "templates"),
    autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def subject(count: int) -> str:
    if count == 0:
        return "You are on the waiting list for a mentor"
    return one_line(f"{count} mentor{'s' if count != 1 else ''} picked for your goal")


def compose(
    proposal: MatchProposedPayload,
    contact: Contact,
    sender: Sender,
    msg_id: str,
    links: ProposalLinks,
    now: datetime | None = None,
    goal_statement: str | None = None,
) -> EmailMessage:
    """The proposal email; it quotes the goal it answers when its statement is known (a mentee
    may hold several goals, each with its own emails)."""
    count = len(proposal.mentors)
    context: dict[str, object] = {
        "name": contact.display_name,
        "goal_statement": goal_statement,
        "proposal": proposal,
        "count": count,
        "links": links,
        "changed": what_changed(proposal.cause),
        "musts": musts_sentences(proposal),
    }
    envelope = Envelope(contact, sender, msg_id, links.unsubscribe, now)
    return render_message(envelope, subject(count), "proposal", context)


@dataclass(frozen=True)
class Envelope:
    """Who an email goes to, from whom, under which Message-ID, and its unsubscribe link."""

    contact: Contact
    sender: Sender
    msg_id: str
    unsubscribe: str
    now: datetime | None = None


def render_message(
    envelope: Envelope, subject_line: str, template: str, context: dict[str, object]
) -> ProposalMessage:
    """A multipart email from `template`.txt.j2 and `template`.html.j2 (templates/)."""
    contact, sender = envelope.contact, envelope.sender
    if contact.email is None:
        raise ValueError("contact has no email address")
    message = ProposalMessage()
    to = (one_line(contact.display_name), _addr_spec(contact.email))
    message.recipients = (to[1],)
    _header(message, "Subject", one_line(subject_line))
    _header(message, "From", one_line(sender.mail_from))
    _header(message, "Reply-To", one_line(sender.reply_to))
    _header(message, "To", formataddr(to))
    _header(message, "Date", _date((envelope.now or datetime.now(UTC)).replace(microsecond=0)))
    _header(message, "Message-ID", one_line(envelope.msg_id))
    _header(message, "List-Unsubscribe", f"<{envelope.unsubscribe}>")
    _header(message, "List-Unsubscribe-Post", ONE_CLICK)
    _header(message, "Auto-Submitted", "auto-generated")
    message.set_raw("MIME-Version", "1.0")
    message.set_raw("Content-Type", _CONTENT_TYPES["multipart/alternative"])
    texts = (
        ("plain", _lf_lines(_templates.get_template(f"{template}.txt.j2").render(context))),
        ("html", _lf_lines(_templates.get_template(f"{template}.html.j2").render(context))),
    )
    _set_bodies(message, texts, transfer_encoding(texts))
    return message


def transfer_encoding(texts: tuple[tuple[str, bytes], ...]) -> str:
    """How the bodies are sent: as they are when SMTP can carry them so, else quoted-printable."""
    if not all(_sendable_as_is(body) for _, body in texts):
        return QUOTED_PRINTABLE
    return SEVEN_BIT if all(body.isascii() for _, body in texts) else EIGHT_BIT


def _sendable_as_is(body: bytes) -> bool:
    return (
        b"\0" not in body
        and _BOUNDARY_BYTES not in body
        and max(map(len, body.split(b"\n"))) <= MAX_LINE
    )


def _set_bodies(
    message: ProposalMessage, texts: tuple[tuple[str, bytes], ...], encoding: str
) -> None:
    """The message's parts and its bytes as sent, the bodies in `encoding`. An unencoded
    body's payload holds its bytes as `set_content` stores them (surrogate escapes)."""
    if encoding == QUOTED_PRINTABLE:
        sent = [(kind, binascii.b2a_qp(body)) for kind, body in texts]
    else:
        sent = list(texts)
    parts = [
        (_text_part(kind, body.decode("ascii", "surrogateescape"), encoding), body)
        for kind, body in sent
    ]
    message.set_payload(list[Message | str](part for part, _ in parts))
    message.wire = _serialised(message, parts)
    message.eight_bit = encoding == EIGHT_BIT
    message.texts = texts


@functools.lru_cache(maxsize=4)  # emails composed in the same second share their Date
def _date(moment: datetime) -> str:
    return format_datetime(moment)  # whole seconds: it leaves the microseconds out anyway


def _addr_spec(address: str) -> str:
    """The address as a header writes it; ValueError when it cannot be written."""
    if DOT_ATOM_ADDRESS.fullmatch(address):
        return address
    return Address(addr_spec=address).addr_spec


def _header(message: EmailMessage, name: str, value: str) -> None:
    """Plain one-line ASCII is stored as it will be written, skipping the header registry's
    parse and refold (most of the cost of building an email); anything else takes that path,
    which encodes it."""
    if value.isascii() and value.isprintable() and len(name) + len(value) < 996:
        message.set_raw(name, value)
    else:
        message[name] = value


def _lf_lines(text: str) -> bytes:
    """The text's UTF-8 bytes as `set_content` normalises them: every line ended by LF (a CR or
    a CRLF end too), the last one included. The quoted-printable encoder (the C one, 76-character
    lines) takes them as they are."""
    body = text.encode("utf-8")
    if b"\r" in body:  # rare (the templates end lines with LF): split and join again
        return b"\n".join(body.splitlines()) + b"\n"
    return body if body.endswith(b"\n") else body + b"\n"


def _text_part(subtype: str, payload: str, encoding: str) -> EmailMessage:
    part = EmailMessage()
    part.set_raw("Content-Type", _CONTENT_TYPES[f"text/{subtype}"])
    part.set_raw("Content-Transfer-Encoding", encoding)
    part.set_payload(payload)
    return part


def _serialised(message: EmailMessage, parts: list[tuple[EmailMessage, bytes]]) -> bytes:
    """What `BytesGenerator` with WIRE_POLICY writes for the message `compose` builds: headers
    stored raw (one short line) or parsed once (ASCII either way), then each part's headers and
    its body's bytes as sent (`\n` ends; an 8bit payload holds them as surrogate escapes, which
    the generator writes back as these bytes)."""
    delimiter = f"--{_BOUNDARY}".encode("ascii")
    texts = [_headers(part).encode("ascii") + body.replace(b"\n", b"\r\n") for part, body in parts]
    between = b"\r\n" + delimiter + b"\r\n"
    body = delimiter + b"\r\n" + between.join(texts) + b"\r\n" + delimiter + b"--\r\n"
    return _headers(message).encode("ascii") + body


def _headers(message: EmailMessage) -> str:
    return "".join(_folded(name, value) for name, value in message.raw_items()) + CRLF


def _folded(name: str, value: str) -> str:
    if type(value) is str:  # stored raw by `_header`: written as it is
        return f"{name}: {value}{CRLF}"
    return _FOLDED.get(value) or WIRE_POLICY.fold_binary(name, value).decode("ascii")

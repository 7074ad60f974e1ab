"""SMTP delivery with aiosmtplib, classified into sent / transient / permanent.

The conversation is spelled out (MAIL, RCPT, DATA, the message, then its end) so that the
`sent` record can be released just before the end of the message (`Release`, ADR 0003), and so
the kill test can stop the process between the steps (`before_data`, `before_release`,
`released`). Sessions stay open for the next email (smtp_sessions.py).
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import aiosmtplib
from aiosmtplib import SMTPStatus
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import SMTPProtocol, normalize_message_line_endings

from services.notifications.adapters.smtp_sessions import SmtpSessions
from services.notifications.domain.delivery import Outcome, SendResult
from services.notifications.domain.email import DOT_ATOM_ADDRESS, ProposalMessage, wire_bytes
from services.notifications.service_layer.ports import Checkpoint, Release, no_checkpoint
from services.notifications.settings import SmtpSettings

END_OF_DATA = b".\r\n"
EIGHT_BIT_MIME = "8bitmime"
BODY_8BITMIME = "BODY=8BITMIME"
FAILURES = (aiosmtplib.SMTPException, OSError, TimeoutError)
SERVICE_CLOSING = 421  # e.g. a kept session the server timed out
# A word: a maximal run of characters that can be part of an address. Matching it needs no
# backtracking, so redaction is linear in the reply's length.
_WORD = re.compile(r"[^\s<>\"']+")


class _ReleaseError(Exception):
    """`release` failed: the caller's error, carried past the SMTP error handling."""

    def __init__(self, reason: Exception) -> None:
        super().__init__(str(reason))
        self.reason = reason


def _address_or_word(word: re.Match[str]) -> str:
    text = word.group()
    return "<address>" if "@" in text[1:-1] else text


def redact(text: str) -> str:
    """SMTP replies often echo the recipient; keep addresses out of records and logs.

    A word with an `@` that has something on both sides is replaced whole."""
    return _WORD.sub(_address_or_word, text)[:500]


async def _sent_to_kernel(protocol: SMTPProtocol, timeout_s: float) -> None:
    """Wait until the transport holds none of the message: what a killed process leaves in
    its own buffers never reaches the server, while the end of the message must follow the
    record straight into the kernel."""
    transport = protocol.transport
    deadline = asyncio.get_running_loop().time() + timeout_s
    while isinstance(transport, asyncio.WriteTransport) and transport.get_write_buffer_size():
        if transport.is_closing() or asyncio.get_running_loop().time() > deadline:
            raise aiosmtplib.SMTPServerDisconnected("the message could not be written")
        await asyncio.sleep(0.001)


async def _or_close(client: aiosmtplib.SMTP, step: Awaitable[Any]) -> None:
    """Run one step of the conversation; a session whose step failed is closed."""
    try:
        await step
    except BaseException:
        client.close()
        raise


def data_bytes(message: bytes, crlf_only: bool = False) -> bytes:
    """The message as DATA carries it: what aiosmtplib writes (every line ended by CRLF, the
    message too, and a period that starts a line doubled), without its two regular-expression
    passes over the whole message when the lines already end in CRLF, as composed ones do
    (`crlf_only`: the caller knows they do, and the message ends in CRLF)."""
    crlf = -1 if crlf_only else message.count(b"\r\n")
    if not crlf_only and (
        message.count(b"\r") != crlf
        or message.count(b"\n") != crlf
        or not message.endswith(b"\r\n")
    ):
        message = normalize_message_line_endings(message)
    stuffed = message.replace(b"\n.", b"\n..")  # a line starts at the start or after a LF
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def classify_failure(exc: BaseException) -> SendResult:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # Our credentials, not the recipient: retry (and dead-letter) until an operator
        # fixes the settings, rather than failing every email for good.
        return SendResult(Outcome.TRANSIENT, redact(f"authentication failed: {exc.code}"))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        outcome = Outcome.PERMANENT if exc.code >= 500 else Outcome.TRANSIENT
        return SendResult(outcome, redact(f"{exc.code} {exc.message}"))
    return SendResult(Outcome.TRANSIENT, redact(f"{type(exc).__name__}: {exc}"))


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    headers = {name.lower(): str(value) for name, value in message.raw_items()}  # unparsed
    if isinstance(message, ProposalMessage) and message.recipients:
        return _sender(headers.get("from", "")), list(message.recipients)  # as composed
    recipients = [addr for _name, addr in getaddresses([headers.get("to", "")]) if addr]
    if not recipients:
        raise ValueError("no recipient")
    return _sender(headers.get("from", "")), recipients


@functools.lru_cache(maxsize=16)  # the same From on every email
def _sender(from_header: str) -> str:
    sender = getaddresses([from_header])[0][1]
    Address(addr_spec=sender)  # raises on an unusable sender address
    return sender


def _path(address: str) -> bytes:
    """MAIL's or RCPT's path as aiosmtplib's `quote_address` writes it. A dot-atom address
    (compose writes almost every recipient so) is that address: parsing it again, twice an
    email, was a tenth of the SMTP conversation's cost."""
    if DOT_ATOM_ADDRESS.fullmatch(address):
        return f"<{address}>".encode("ascii")
    return quote_address(address).encode("ascii")


async def _mail(client: aiosmtplib.SMTP, sender: str, options: list[str]) -> None:
    """`client.mail`, on a session whose EHLO was answered."""
    args = [option.encode("ascii") for option in options]
    reply = await client.execute_command(b"MAIL", b"FROM:" + _path(sender), *args)
    if reply.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)


async def _rcpt(client: aiosmtplib.SMTP, recipient: str) -> None:
    """`client.rcpt`."""
    reply = await client.execute_command(b"RCPT", b"TO:" + _path(recipient))
    if reply.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
        raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)


def _data(message: EmailMessage, client: aiosmtplib.SMTP) -> tuple[bytes, list[str]]:
    """DATA's bytes and MAIL's parameters for this session: a composed message's lines are
    known to end in CRLF; its 8bit bodies go as they are to a server that advertises 8BITMIME
    (declared with BODY=8BITMIME, RFC 6152), quoted-printable to one that does not."""
    if isinstance(message, ProposalMessage) and message.wire:
        if not message.eight_bit:
            return data_bytes(message.wire, crlf_only=True), []
        if client.supports_extension(EIGHT_BIT_MIME):
            return data_bytes(message.wire, crlf_only=True), [BODY_8BITMIME]
        return data_bytes(message.seven_bit().wire, crlf_only=True), []
    return data_bytes(wire_bytes(message)), []


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, checkpoint: Checkpoint = no_checkpoint) -> None:
        self._settings = settings
        self.checkpoint = checkpoint
        self._sessions = SmtpSessions(settings.keepalive_s, settings.max_messages_per_session)

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.use_tls,
            start_tls=s.start_tls,
            validate_certs=s.validate_certs,
            cert_bundle=s.ca_file,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            timeout=s.timeout_s,
        )

    async def send(self, message: EmailMessage, release: Release) -> SendResult:
        try:
            sender, recipients = _envelope(message)
        except ValueError as exc:
            return SendResult(Outcome.PERMANENT, f"invalid address: {type(exc).__name__}")
        try:
            client, delivered, data = await self._mail_from(sender, message)
        except FAILURES as exc:
            return classify_failure(exc)
        delivered_now = False
        try:
            for recipient in recipients:
                await _rcpt(client, recipient)
            self.checkpoint("before_data")
            await self._transfer(client, data, release)
            delivered_now = True
        except _ReleaseError as failed:
            raise failed.reason from None  # without the end of the message, nothing is sent
        except FAILURES as exc:
            return classify_failure(exc)
        finally:  # a failed or cancelled session is in an unknown state: never reused
            if delivered_now:
                self._sessions.give_back(client, delivered + 1)
            else:
                client.close()
        return SendResult(Outcome.SENT)

    async def _mail_from(
        self, sender: str, message: EmailMessage
    ) -> tuple[aiosmtplib.SMTP, int, bytes]:
        """A session that accepted MAIL FROM, how many emails it delivered before, and the
        message's DATA for it: a kept session if it still answers (MAIL is the probe), else a
        new one (its EHLO first, which says whether it takes 8bit bodies)."""
        while (kept := self._sessions.take()) is not None:
            client, delivered = kept
            data, options = _data(message, client)
            try:
                await _or_close(client, _mail(client, sender, options))
                return client, delivered, data
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code != SERVICE_CLOSING:
                    raise  # the server answered: its refusal is the outcome, on any session
            except FAILURES:
                pass  # closed by the server while idle: try the next, then a new one
        client = self._client()
        await _or_close(client, client.connect())
        await _or_close(client, client._ehlo_or_helo_if_needed())
        data, options = _data(message, client)
        await _or_close(client, _mail(client, sender, options))
        return client, 0, data

    async def close(self) -> None:
        await self._sessions.close()

    async def _transfer(self, client: aiosmtplib.SMTP, data: bytes, release: Release) -> None:
        """DATA, all of the message but its end, `release`, then the end: the server commits
        the message when it reads the end, the database the record when it reads the UPDATE,
        and both are written in the same turn of the event loop."""
        start = await client.execute_command(b"DATA")
        if start.code != SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("connection lost")
        protocol.write(data)
        await _sent_to_kernel(protocol, self._settings.timeout_s)
        self.checkpoint("before_release")
        try:
            await release()
        except Exception as exc:
            raise _ReleaseError(exc) from exc
        try:
            await asyncio.sleep(0)  # the record's write goes first, in this next turn
        finally:
            protocol.write(END_OF_DATA)  # even when cancelled: the record is on its way
        self.checkpoint("released")
        reply = await protocol.read_response(timeout=self._settings.timeout_s)
        if reply.code != SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)

"""SMTP delivery with aiosmtplib, classified into sent / transient / permanent.

The conversation is spelled out (MAIL, RCPT, then DATA) so the kill test can stop the process
after the envelope is accepted and before the message is: a `before_data` checkpoint. QUIT is
sent after `send` returned, so the outcome is recorded one round trip sooner.
"""

from __future__ import annotations

import asyncio
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses

import aiosmtplib

from services.notifications.domain.delivery import Outcome, SendResult
from services.notifications.domain.email import wire_bytes
from services.notifications.service_layer.ports import Checkpoint, no_checkpoint
from services.notifications.settings import SmtpSettings

_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


def redact(text: str) -> str:
    """SMTP replies often echo the recipient; keep addresses out of records and logs."""
    return _ADDRESS.sub("<address>", text)[:500]


def _classify_response(code: int, message: str) -> SendResult:
    outcome = Outcome.PERMANENT if code >= 500 else Outcome.TRANSIENT
    return SendResult(outcome, redact(f"{code} {message}"))


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    sender = getaddresses([str(message["From"])])[0][1]
    recipients = [addr for _name, addr in getaddresses([str(message["To"])]) if addr]
    if not recipients:
        raise ValueError("no recipient")
    Address(addr_spec=sender)  # raises on an unusable sender address
    return sender, recipients


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, checkpoint: Checkpoint = no_checkpoint) -> None:
        self._settings = settings
        self._checkpoint = checkpoint
        self._quitting: set[asyncio.Task[None]] = set()

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

    async def send(self, message: EmailMessage) -> SendResult:
        try:
            sender, recipients = _envelope(message)
        except ValueError as exc:
            return SendResult(Outcome.PERMANENT, f"invalid address: {type(exc).__name__}")
        client = self._client()
        try:
            await client.connect()
            await client.mail(sender)
            for recipient in recipients:
                await client.rcpt(recipient)
            self._checkpoint("before_data")
            await client.data(wire_bytes(message))
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our credentials, not the recipient: retry (and dead-letter) until an operator
            # fixes the settings, rather than failing every email for good.
            result = SendResult(Outcome.TRANSIENT, redact(f"authentication failed: {exc.code}"))
        except aiosmtplib.SMTPResponseException as exc:
            result = _classify_response(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            result = SendResult(Outcome.TRANSIENT, redact(f"{type(exc).__name__}: {exc}"))
        else:
            self._quit_later(client)
            return SendResult(Outcome.SENT)
        client.close()
        return result

    def _quit_later(self, client: aiosmtplib.SMTP) -> None:
        """QUIT after returning: the caller records `sent` without waiting for a round trip,
        which keeps the accepted-but-unrecorded window as small as it can be."""
        task = asyncio.create_task(_quit(client))
        self._quitting.add(task)
        task.add_done_callback(self._quitting.discard)


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass  # the message was accepted; a lost goodbye changes nothing
    finally:
        client.close()

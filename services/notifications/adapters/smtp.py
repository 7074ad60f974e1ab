"""SMTP delivery with aiosmtplib, classified into sent / transient / permanent."""

from __future__ import annotations

import re
from email.message import EmailMessage

import aiosmtplib

from services.notifications.domain.delivery import Outcome, SendResult
from services.notifications.settings import SmtpSettings

_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


def redact(text: str) -> str:
    """SMTP replies often echo the recipient; keep addresses out of records and logs."""
    return _ADDRESS.sub("<address>", text)[:500]


def _classify_response(code: int, message: str) -> SendResult:
    outcome = Outcome.PERMANENT if code >= 500 else Outcome.TRANSIENT
    return SendResult(outcome, redact(f"{code} {message}"))


class SmtpMailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> SendResult:
        s = self._settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                use_tls=s.use_tls,
                start_tls=s.start_tls if s.start_tls else False,
                username=s.username,
                password=s.password.get_secret_value() if s.password else None,
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            worst = max(exc.recipients, key=lambda r: r.code)
            return _classify_response(worst.code, worst.message)
        except aiosmtplib.SMTPResponseException as exc:
            return _classify_response(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return SendResult(Outcome.TRANSIENT, redact(f"{type(exc).__name__}: {exc}"))
        return SendResult(Outcome.SENT)

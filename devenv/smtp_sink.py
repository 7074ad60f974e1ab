"""A real SMTP server (aiosmtpd) that keeps every message it accepts, for tests and `make dev`.

Its behaviour can be scripted to exercise retries: answer 4xx a number of times, answer 5xx,
or drop the connection. It can require STARTTLS (or speak implicit TLS) and AUTH, to test
the client's security settings.
"""

from __future__ import annotations

import email
import email.policy
import functools
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class ReceivedMail:
    """An accepted message. It is parsed when first read: a benchmark's sink that only reports
    recipients does not pay for parsing every email."""

    mail_from: str
    recipients: list[str]
    raw: bytes
    mail_options: list[str] = field(default_factory=list)  # MAIL FROM's parameters

    @functools.cached_property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class SinkBehaviour:
    """Scripted answers: each DATA command consumes one entry; empty means 250."""

    script: list[str] = field(default_factory=list)

    def next_answer(self) -> str | None:
        return self.script.pop(0) if self.script else None


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_EHLO(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self._sink.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        answer = self._sink.behaviour.next_answer()
        if answer == "drop":
            if server.transport is not None:
                server.transport.close()
            return "421 closing"
        if answer is not None:
            return answer
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        options = list(envelope.mail_options)
        self._sink.record(
            ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), raw, options)
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SinkSecurity:
    """STARTTLS (or implicit TLS) with this context, and AUTH with these credentials."""

    tls: ssl.SSLContext | None = None
    implicit_tls: bool = False
    credentials: tuple[str, str] | None = None

    def server_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.tls is not None and self.implicit_tls:
            options["ssl_context"] = self.tls
        elif self.tls is not None:
            options.update(tls_context=self.tls, require_starttls=True)
        if self.credentials is not None:
            options.update(
                authenticator=_authenticator(self.credentials),
                auth_required=True,
                # aiosmtpd only knows STARTTLS as TLS; with implicit TLS the socket already is
                auth_require_tls=self.tls is not None and not self.implicit_tls,
            )
        return options


def _authenticator(credentials: tuple[str, str]) -> Callable[..., AuthResult]:
    expected = (credentials[0].encode(), credentials[1].encode())

    def check(
        _server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == expected
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535

    return check


class SmtpSink:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        security: SinkSecurity | None = None,
        eight_bit_mime: bool = True,
    ) -> None:
        """`eight_bit_mime=False`: a server that does not advertise 8BITMIME (and refuses
        MAIL FROM's BODY parameter), as aiosmtpd is when it decodes what it receives."""
        self.behaviour = SinkBehaviour()
        self.greetings = 0  # EHLOs answered: one per session (two with STARTTLS)
        self._messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._listeners: list[Callable[[ReceivedMail], Any]] = []
        self._controller = Controller(
            _Handler(self),
            hostname=host,
            port=port or _free_port(),
            decode_data=not eight_bit_mime,
            **(security or SinkSecurity()).server_options(),
        )

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)
        for listener in self._listeners:
            listener(mail)

    def on_message(self, listener: Callable[[ReceivedMail], Any]) -> None:
        self._listeners.append(listener)

    def messages(self, to: str | None = None) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self._messages if to is None or to in m.recipients]


def _free_port() -> int:
    from devenv.infra import free_port

    return free_port()

"""A real SMTP server (aiosmtpd) that keeps every message it accepts, for tests and `make dev`.

Its behaviour can be scripted to exercise retries: answer 4xx a number of times, answer 5xx,
or drop the connection.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class ReceivedMail:
    mail_from: str
    recipients: list[str]
    message: EmailMessage

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
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self._sink.record(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.behaviour = SinkBehaviour()
        self._messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._listeners: list[Callable[[ReceivedMail], Any]] = []
        self._controller = Controller(_Handler(self), hostname=host, port=port or _free_port())

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

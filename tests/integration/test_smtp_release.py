"""The mailer releases the `sent` record before the end of the message, against aiosmtpd:
the server has nothing while `release` runs, and nothing at all when `release` fails."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from devenv.smtp_sink import SmtpSink
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.delivery import Outcome
from services.notifications.settings import SmtpSettings


def mailer(sink: SmtpSink) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host=sink.host, port=sink.port, timeout_s=5.0))


def message(to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Mentorlink <matches@mentorlink.test>"
    mail["To"] = to
    mail["Subject"] = "release"
    mail["Message-ID"] = "<release.1@mentorlink.test>"
    mail.set_content(".a line that starts with a dot\nand a bare LF\n")
    return mail


async def test_the_server_takes_the_message_only_after_the_release(
    smtp_sink: SmtpSink, unique: str
) -> None:
    to = f"release-{unique}@example.org"
    seen_at_release: list[int] = []

    async def release() -> None:
        seen_at_release.append(len(smtp_sink.messages(to=to)))

    result = await mailer(smtp_sink).send(message(to), release)

    assert result.outcome is Outcome.SENT, result.detail
    assert seen_at_release == [0]
    (mail,) = smtp_sink.messages(to=to)
    assert mail.message_id == "<release.1@mentorlink.test>"
    body = mail.message.get_content()
    assert body.splitlines()[0] == ".a line that starts with a dot"  # the stuffing undone


async def test_a_failed_release_sends_nothing_and_reaches_the_caller(
    smtp_sink: SmtpSink, unique: str
) -> None:
    to = f"norelease-{unique}@example.org"

    async def release() -> None:
        raise ConnectionRefusedError("the database is away")

    with pytest.raises(ConnectionRefusedError):
        await mailer(smtp_sink).send(message(to), release)
    assert smtp_sink.messages(to=to) == []

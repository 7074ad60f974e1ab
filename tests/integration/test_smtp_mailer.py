"""The SMTP mailer against aiosmtpd: it releases the record before the end of the message (the
server has nothing while `release` runs, and nothing at all when `release` fails), and it keeps
sessions open for the next email."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from devenv.smtp_sink import SmtpSink
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.delivery import Outcome
from services.notifications.settings import SmtpSettings
from tests.support.mail import plain_message


def mailer(sink: SmtpSink, keepalive_s: float = 30.0) -> SmtpMailer:
    settings = SmtpSettings(host=sink.host, port=sink.port, timeout_s=5.0, keepalive_s=keepalive_s)
    return SmtpMailer(settings)


async def nothing_to_record() -> None:
    """These tests look at the SMTP conversation only."""


def message(to: str) -> EmailMessage:
    body = ".a line that starts with a dot\nand a bare LF\n"
    return plain_message(to, "release", "<release.1@mentorlink.test>", body)


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


@pytest.mark.parametrize(("keepalive_s", "sessions"), [(30.0, 1), (0.0, 3)])
async def test_a_session_is_kept_for_the_next_emails_unless_switched_off(
    smtp_sink: SmtpSink, unique: str, keepalive_s: float, sessions: int
) -> None:
    sender, before = mailer(smtp_sink, keepalive_s), smtp_sink.greetings
    for n in range(3):
        result = await sender.send(message(f"kept-{n}-{unique}@example.org"), nothing_to_record)
        assert result.outcome is Outcome.SENT, result.detail
    await sender.close()
    assert smtp_sink.greetings - before == sessions
    assert all(smtp_sink.messages(to=f"kept-{n}-{unique}@example.org") for n in range(3))


async def test_a_kept_session_the_server_closed_is_replaced(unique: str) -> None:
    first = SmtpSink().start()
    sender = mailer(first)
    to = f"replaced-{unique}@example.org"
    assert (await sender.send(message(to), nothing_to_record)).outcome is Outcome.SENT
    first.stop()  # closes the kept session from the server's side
    with SmtpSink(port=first.port) as second:
        result = await sender.send(message(to), nothing_to_record)
        assert result.outcome is Outcome.SENT, result.detail
        assert len(second.messages(to=to)) == 1
    await sender.close()

"""The SMTP mailer against aiosmtpd: it releases the record before the end of the message (the
server has nothing while `release` runs, and nothing at all when `release` fails), and it keeps
sessions open for the next email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from devenv.smtp_sink import ReceivedMail, SmtpSink
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.delivery import Outcome
from services.notifications.domain.email import Contact, Sender, compose
from services.notifications.domain.links import LinkSigner, proposal_links
from services.notifications.settings import SmtpSettings
from tests.support.mail import plain_message, plain_text
from tests.unit.builders import TENANT, proposal


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


def proposal_email(to: str, name: str) -> EmailMessage:
    now = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
    signer = LinkSigner("https://mentorlink.test/", b"test-link-key", timedelta(days=14))
    the_proposal = proposal()
    contact = Contact(TENANT, "u-mentee", to, name, True, "UTC")
    sender = Sender("Mentorlink <m@mentorlink.test>", "Support <s@mentorlink.test>", "t")
    links = proposal_links(TENANT, the_proposal, signer, now)
    return compose(the_proposal, contact, sender, "<eight.1@t>", links, now)


def transfer_encodings(mail: ReceivedMail) -> set[str]:
    return {str(part["Content-Transfer-Encoding"]) for part in mail.message.iter_parts()}


async def test_8bit_bodies_go_as_they_are_to_a_server_that_advertises_8bitmime(
    smtp_sink: SmtpSink, unique: str
) -> None:
    to = f"eight-{unique}@example.org"
    sender = mailer(smtp_sink)
    result = await sender.send(proposal_email(to, "José Müller"), nothing_to_record)
    await sender.close()

    assert result.outcome is Outcome.SENT, result.detail
    (mail,) = smtp_sink.messages(to=to)
    assert mail.mail_options == ["BODY=8BITMIME"]
    assert "Hello José Müller,".encode() in mail.raw
    assert transfer_encodings(mail) == {"8bit"}
    assert plain_text(mail).startswith("Hello José Müller,")


async def test_a_server_without_8bitmime_gets_quoted_printable_and_the_same_text(
    unique: str,
) -> None:
    to = f"seven-{unique}@example.org"
    with SmtpSink(eight_bit_mime=False) as old_server:
        sender = mailer(old_server)
        for _ in range(2):  # a new session, then the kept one
            result = await sender.send(proposal_email(to, "José Müller"), nothing_to_record)
            assert result.outcome is Outcome.SENT, result.detail
        await sender.close()
        mails = old_server.messages(to=to)
        assert len(mails) == 2
        for mail in mails:
            assert mail.mail_options == []  # BODY=8BITMIME would be refused (555)
            assert mail.raw.isascii()
            assert transfer_encodings(mail) == {"quoted-printable"}
            assert plain_text(mail).startswith("Hello José Müller,")

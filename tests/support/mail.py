"""Plain emails for tests of the SMTP client, and finding received emails by what they say."""

from __future__ import annotations

from email.message import EmailMessage

from devenv.smtp_sink import ReceivedMail, SmtpSink


def plain_message(to: str, subject: str, message_id: str, body: str = "hello") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Mentorlink <matches@mentorlink.test>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content(body)
    return mail


def plain_text(mail: ReceivedMail) -> str:
    body = mail.message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def mails_saying(smtp: SmtpSink, to: str, needle: str) -> list[ReceivedMail]:
    """The emails to `to` whose plain text says `needle`. Found by what they say, not by their
    place: a goal ranked before its mentors reach matching is first told that it waits."""
    return [m for m in smtp.messages(to=to) if needle in plain_text(m)]

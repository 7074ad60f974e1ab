"""Plain emails for tests of the SMTP client."""

from __future__ import annotations

from email.message import EmailMessage


def plain_message(to: str, subject: str, message_id: str, body: str = "hello") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Mentorlink <matches@mentorlink.test>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content(body)
    return mail

"""`make dev` saves each email as the bytes the SMTP sink received, not a re-serialised copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv import run
from devenv.smtp_sink import ReceivedMail

RAW = (
    b"From: Mentorlink <noreply@example.org>\r\n"
    b"To: ada@example.org\r\n"
    b"Subject: 1 mentor picked for your goal\r\n"
    b"Message-ID: <abc@example.org>\r\n"
    b"List-Unsubscribe: <http://127.0.0.1:8000/v1/links/token-with-a-long-tail-that-a-re-serialiser"
    b"-would-fold-and-encode>\r\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    b"\r\n"
    b"Hello Ada\r\n"
)


def test_the_saved_file_is_the_message_as_received(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "MAIL_DIR", tmp_path)
    run._save_mail(ReceivedMail("noreply@example.org", ["ada@example.org"], RAW))
    [saved] = tmp_path.glob("*.eml")
    assert saved.read_bytes() == RAW

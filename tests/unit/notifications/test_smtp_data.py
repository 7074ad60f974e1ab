"""The mailer writes DATA itself (adapters/smtp.py): the bytes must be what aiosmtplib writes."""

from __future__ import annotations

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.adapters.smtp import data_bytes

# Line ends of every kind, periods where lines start, and text between.
pieces = st.sampled_from([b"\r\n", b"\n", b"\r", b".", b"..", b"a", b"=2E", b" "])
messages = st.lists(pieces, max_size=40).map(b"".join)


def aiosmtplib_data(message: bytes) -> bytes:
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))


@settings(max_examples=500, deadline=None)
@given(message=messages)
def test_the_data_written_is_aiosmtplibs(message: bytes) -> None:
    assert data_bytes(message) == aiosmtplib_data(message)


def test_a_composed_message_is_only_dot_stuffed() -> None:
    message = b"Subject: x\r\n\r\n.first\r\nsecond\r\n.\r\n..third\r\n"
    assert data_bytes(message) == b"Subject: x\r\n\r\n..first\r\nsecond\r\n..\r\n...third\r\n"
    assert data_bytes(message) == aiosmtplib_data(message)

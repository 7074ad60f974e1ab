"""Retry backoff, SMTP reply classification and address redaction."""

from __future__ import annotations

import random

import pytest
from aiosmtplib import SMTPResponseException

from services.notifications.adapters.smtp import classify_failure, redact
from services.notifications.domain.delivery import Outcome, retry_delay


class Extreme(random.Random):
    """An rng whose `uniform` always returns the lower or the upper bound."""

    def __init__(self, upper: bool) -> None:
        super().__init__(0)
        self.upper = upper

    def uniform(self, a: float, b: float) -> float:
        return b if self.upper else a


def ceiling(attempt: int, base: float = 2.0, cap: float = 900.0) -> float:
    return retry_delay(attempt, base, cap, Extreme(upper=True))


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 5, 8, 20, 200])
def test_delay_stays_within_zero_and_the_capped_exponential(attempt: int) -> None:
    rng = random.Random(attempt)
    bound = min(900.0, 2.0 * 2 ** max(0, attempt - 1))
    for _ in range(200):
        delay = retry_delay(attempt, 2.0, 900.0, rng)
        assert 0 <= delay <= bound
        assert delay >= bound / 2  # current policy: jitter over the upper half only


def test_ceiling_doubles_per_attempt_until_the_cap() -> None:
    assert [ceiling(a) for a in range(1, 8)] == [2, 4, 8, 16, 32, 64, 128]
    assert ceiling(10) == 900.0
    assert ceiling(1000) == 900.0


def test_huge_attempt_counts_are_capped_not_overflowing() -> None:
    assert ceiling(10_000) == 900.0


def test_first_attempt_and_below_use_the_base() -> None:
    assert ceiling(0) == ceiling(1) == 2.0
    assert retry_delay(1, 2.0, 900.0, Extreme(upper=False)) == 1.0


def test_delay_without_an_rng_is_still_bounded() -> None:
    assert all(2.0 <= retry_delay(2, 2.0, 900.0) <= 4.0 for _ in range(100))


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <ada.lovelace+mentoring@example.org>: Recipient address rejected",
        "450 mailbox ada@example.org busy",
        "452 4.2.2 'ada@sub.example.co.uk' over quota",
        'Rejected "ada@example.org" and bob@example.net',
    ],
)
def test_redact_removes_addresses(reply: str) -> None:
    redacted = redact(reply)
    assert "@" not in redacted
    assert "example" not in redacted
    assert "<address>" in redacted


def test_redact_keeps_the_rest_and_bounds_the_length() -> None:
    assert redact("421 4.7.0 try again later") == "421 4.7.0 try again later"
    assert len(redact("x" * 5000)) == 500


@pytest.mark.parametrize("code", [400, 421, 450, 451, 452, 499])
def test_4xx_replies_are_transient(code: int) -> None:
    result = classify_failure(SMTPResponseException(code, "try later, ada@example.org"))
    assert result.outcome is Outcome.TRANSIENT
    assert result.detail.startswith(str(code))
    assert "@" not in result.detail


@pytest.mark.parametrize("code", [500, 550, 551, 552, 553, 554])
def test_5xx_replies_are_permanent(code: int) -> None:
    result = classify_failure(SMTPResponseException(code, "no such user ada@example.org"))
    assert result.outcome is Outcome.PERMANENT
    assert result.detail == f"{code} no such user <address>"

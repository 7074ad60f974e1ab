"""Quiet hours in the mentee's time zone and the per-mentee rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.notifications.domain.schedule import (
    RateLimit,
    later_of,
    quiet_until,
    rate_limited_until,
)


def utc(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(21, 30), utc(6, 0, day=26)),  # Berlin 22:30, overnight window 22:00-07:00
        (utc(3, 0), utc(6, 0)),  # Berlin 04:00
        (utc(20, 59), None),  # Berlin 21:59
        (utc(6, 0), None),  # Berlin 07:00: the end is not quiet
    ],
)
def test_overnight_quiet_hours_in_the_mentees_zone(
    now: datetime, expected: datetime | None
) -> None:
    assert quiet_until(now, "Europe/Berlin", time(22), time(7)) == expected


def test_daytime_quiet_hours() -> None:
    assert quiet_until(utc(12), "UTC", time(9), time(17)) == utc(17)
    assert quiet_until(utc(8), "UTC", time(9), time(17)) is None


def test_quiet_hours_end_on_the_local_clock_across_a_dst_change() -> None:
    # Night of 28-29 March 2026: Berlin moves from UTC+1 to UTC+2 at 02:00 local.
    now = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 local, UTC+1
    assert quiet_until(now, "Europe/Berlin", time(22), time(7)) == datetime(
        2026, 3, 29, 5, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(("start", "end"), [(None, time(7)), (time(7), None), (time(7), time(7))])
def test_missing_or_empty_quiet_hours_never_defer(start: time | None, end: time | None) -> None:
    assert quiet_until(utc(7), "UTC", start, end) is None


def test_an_unknown_zone_falls_back_to_utc() -> None:
    assert quiet_until(utc(12), "Mars/Olympus", time(11), time(13)) == utc(13)


LIMIT = RateLimit(emails=2, period=timedelta(hours=1))


def test_under_the_limit_sends_now() -> None:
    assert rate_limited_until([utc(11, 30)], utc(12), LIMIT) is None
    assert rate_limited_until([], utc(12), LIMIT) is None


def test_at_the_limit_waits_until_the_oldest_counted_send_expires() -> None:
    sends = [utc(10), utc(11, 20), utc(11, 50)]  # 10:00 is outside the period
    assert rate_limited_until(sends, utc(12), LIMIT) == utc(12, 20)


def test_later_of_ignores_missing_moments() -> None:
    assert later_of(None, None) is None
    assert later_of(utc(1), None, utc(2)) == utc(2)

"""The time the relationship lifecycle runs on: deadlines, reminders and fit checks.

Production reads the system clock. Development and tests may run on an offset clock: the
system time plus a number of seconds read from a file named by `MENTORLINK_CLOCK_OFFSET_FILE`,
so an end-to-end test moves the whole platform days ahead by writing that file, with no
sleeps. `KAFKA_PROFILE=production` refuses the offset clock.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

OFFSET_FILE_ENV = "MENTORLINK_CLOCK_OFFSET_FILE"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """System time plus the seconds written in `path` (a missing or empty file: no offset).

    The file is read on every call, so a test that advances it moves every service reading it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def offset(self) -> timedelta:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return timedelta(0)
        return timedelta(seconds=float(text or 0))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def advance(self, by: timedelta) -> None:
        """Move this clock (and every process reading the same file) forward."""
        self.path.write_text(str((self.offset() + by).total_seconds()))


def clock_from_env(kafka_profile: str) -> Clock:
    """The system clock, or the offset clock when its file is configured (never in production)."""
    path = os.environ.get(OFFSET_FILE_ENV)
    if not path:
        return SystemClock()
    if kafka_profile == "production":
        raise ValueError(f"{OFFSET_FILE_ENV} is for development and tests; production runs on time")
    return OffsetClock(Path(path))

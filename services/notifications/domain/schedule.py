"""When an email may go out: quiet hours in the mentee's time zone and a per-mentee rate limit.

Both only defer an email; neither drops it. The rate limit protects an inbox from refreshes
that other people's changes bring; an email that answers the mentee's own step is not held by
it (it still counts among the sends the limit reads). No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.contracts.matches import ProposalCause

# What the mentee did themselves: set or changed a goal or its preferences, or said "Not for
# me". They are waiting for the answer, so holding it for an hour would look like silence.
# A profile change is left out: an HR system may make it without the mentee.
_OWN_STEPS = frozenset({"goal_set", "goal_changed", "preferences_changed", "proposal_declined"})


@dataclass(frozen=True)
class RateLimit:
    emails: int
    period: timedelta


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _in_window(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # the window spans midnight


def quiet_until(
    now: datetime, timezone: str, start: time | None, end: time | None
) -> datetime | None:
    """The end of the mentee's quiet hours if `now` falls inside them, else None."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(_zone(timezone))
    if not _in_window(local.time().replace(tzinfo=None), start, end):
        return None
    ends = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(now.tzinfo)


def rate_limited_until(
    recent_sends: Sequence[datetime], now: datetime, limit: RateLimit
) -> datetime | None:
    """When the next email may go, if `limit.emails` already went out in the last period."""
    window_start = now - limit.period
    in_window = sorted(s for s in recent_sends if s > window_start)
    if len(in_window) < limit.emails:
        return None
    return in_window[-limit.emails] + limit.period


def answers_own_step(cause: ProposalCause | None) -> bool:
    """True when the proposal answers something the mentee did: no rate limit holds it."""
    return cause is not None and cause.kind in _OWN_STEPS


def later_of(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def local_time(moment: datetime, timezone: str) -> str:
    """A moment as the recipient reads it: "Friday 11 December 2026, 18:42 (Europe/London)"."""
    zone = _zone(timezone)
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({zone.key})"

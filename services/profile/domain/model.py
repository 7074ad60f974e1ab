"""Profiles and goals as the profile service decides them. No I/O here."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from shared.contracts.goals import GoalFields, GoalSetPayload
from shared.contracts.profiles import ProfileFields, ProfilePayload


class VersionConflict(Exception):  # noqa: N818 - reads as a state
    """The caller expected another version than the stored one (optimistic concurrency)."""

    def __init__(self, expected: int, actual: int | None) -> None:
        super().__init__(f"expected version {expected}, found {actual or 0}")
        self.expected = expected
        self.actual = actual


class NotAMentee(Exception):  # noqa: N818
    """Goals belong to mentees only."""


class ProfileNotFound(Exception):  # noqa: N818
    """No such person in this tenant."""


class GoalNotFound(Exception):  # noqa: N818
    """The mentee holds no open goal with this id."""


class TooManyGoals(Exception):  # noqa: N818
    """A new goal would hold more goals open than the tenant allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a mentee may hold at most {limit} open goals; close one first")
        self.limit = limit


Fields = TypeVar("Fields", bound=BaseModel)


def check_version(expected: int | None, current: int | None) -> None:
    """`expected` None: unconditional; 0: must not exist yet; n: the stored version must be n."""
    if expected is not None and expected != (current or 0):
        raise VersionConflict(expected, current)


def _same(stored: BaseModel | None, fields: Fields) -> bool:
    if stored is None:
        return False
    names = set(type(fields).model_fields)
    return stored.model_dump(include=names) == fields.model_dump()


def without_email(fields: ProfileFields) -> ProfileFields:
    """The person unsubscribed: only they can opt in again, an integrator update cannot."""
    preferences = fields.notification_preferences.model_copy(update={"email_opt_in": False})
    return fields.model_copy(update={"notification_preferences": preferences})


def next_profile(
    user_id: str,
    fields: ProfileFields,
    current: ProfilePayload | None,
    expected_version: int | None = None,
    *,
    unsubscribed: bool = False,
) -> ProfilePayload:
    """The profile after applying `fields` (a full replacement).

    Unchanged content returns `current` itself: no new version, nothing to publish.
    """
    check_version(expected_version, current.version if current else None)
    if unsubscribed:
        fields = without_email(fields)
    if current is not None and _same(current, fields):
        return current
    version = (current.version if current else 0) + 1
    seats = current.seats_taken if current else 0  # counted by relationships, not integrators
    return ProfilePayload.model_validate(
        {**fields.model_dump(), "user_id": user_id, "version": version, "seats_taken": seats}
    )


def open_to_mentees(profile: ProfilePayload) -> bool:
    """A mentor who takes requests: closing (opting out, or no longer a mentor) withdraws the
    requests still waiting for their answer."""
    return profile.is_mentor and profile.opted_in


def with_seats(profile: ProfilePayload, seats_taken: int) -> ProfilePayload:
    """The mentor's profile with a new seat count, one version on (unchanged: itself)."""
    if profile.seats_taken == seats_taken:
        return profile
    return profile.model_copy(update={"seats_taken": seats_taken, "version": profile.version + 1})


def next_goal(
    mentee: ProfilePayload | None,
    fields: GoalFields,
    current: GoalSetPayload | None,
    expected_version: int | None = None,
    *,
    mentee_version: int = 0,
    open_goals: int = 0,
    max_open_goals: int | None = None,
) -> GoalSetPayload:
    """The goal `fields.goal_id` after applying `fields`; unchanged content returns `current`.

    `current` is that goal if it is open. Versions count per mentee across their goals
    (`mentee_version`: the highest any of their goals, open or closed, reached), so one order
    covers all of a mentee's goal events; each goal's own versions still only grow. A goal not
    open yet must fit in `max_open_goals` beside the `open_goals` the mentee holds.
    """
    if mentee is None or not mentee.is_mentee:
        raise NotAMentee()
    check_version(expected_version, current.version if current else None)
    if current is not None and _same(current, fields):
        return current
    if current is None and max_open_goals is not None and open_goals >= max_open_goals:
        raise TooManyGoals(max_open_goals)
    version = max(mentee_version, current.version if current else 0) + 1
    return GoalSetPayload.model_validate(
        {**fields.model_dump(), "mentee_id": mentee.user_id, "version": version}
    )


def profile_fields(profile: ProfilePayload) -> ProfileFields:
    return ProfileFields.model_validate(profile.model_dump(include=set(ProfileFields.model_fields)))

"""Profiles and goals as the profile service decides them. No I/O here."""

from __future__ import annotations

from shared.contracts.goals import GoalFields, GoalSetPayload
from shared.contracts.profiles import ProfileFields, ProfilePayload


class VersionConflict(Exception):  # noqa: N818 - reads as a state
    """The caller expected another version than the stored one (optimistic concurrency)."""

    def __init__(self, expected: int, actual: int | None) -> None:
        super().__init__(f"expected version {expected}, found {actual}")
        self.expected = expected
        self.actual = actual


class NotAMentee(Exception):  # noqa: N818
    """Goals belong to mentees only."""


def next_profile(
    user_id: str, fields: ProfileFields, current_version: int | None, expected_version: int | None
) -> ProfilePayload:
    """The profile after applying `fields` (a full replacement), with the next version."""
    if expected_version is not None and expected_version != (current_version or 0):
        raise VersionConflict(expected_version, current_version)
    return ProfilePayload.model_validate(
        {**fields.model_dump(), "user_id": user_id, "version": (current_version or 0) + 1}
    )


def next_goal(
    mentee: ProfilePayload | None, fields: GoalFields, current_version: int | None
) -> GoalSetPayload:
    if mentee is None or not mentee.is_mentee:
        raise NotAMentee()
    return GoalSetPayload.model_validate(
        {**fields.model_dump(), "mentee_id": mentee.user_id, "version": (current_version or 0) + 1}
    )

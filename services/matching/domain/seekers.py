"""A seeker: one open goal of one mentee, the unit matching ranks (ADR 0012).

The engine, the search and the batch reference rank seekers where they once ranked mentees:
each goal has its own row, mentor-list entries, ranking and proposal, while the mentee's
person (profile, background, manager) is shared by their goals. A seeker's key is the mentee
id for the goal `default` (so rows stored before several goals keep their meaning) and
`mentee_id` + SEPARATOR + `goal_id` for any other goal. Neither ids nor goal ids can hold the
separator (shared/contracts/types.py, GOAL_ID_PATTERN), so the key splits back unambiguously.
"""

from __future__ import annotations

import functools
import sys

from shared.contracts.goals import DEFAULT_GOAL_ID

SEPARATOR = "\x1f"


@functools.lru_cache(maxsize=1 << 16)
def seeker_key(mentee_id: str, goal_id: str) -> str:
    if goal_id == DEFAULT_GOAL_ID:
        return mentee_id
    return sys.intern(f"{mentee_id}{SEPARATOR}{goal_id}")


def split_seeker(key: str) -> tuple[str, str]:
    """(mentee id, goal id) of a seeker key."""
    mentee_id, _, goal_id = key.partition(SEPARATOR)
    return mentee_id, goal_id or DEFAULT_GOAL_ID


def mentee_of(key: str) -> str:
    return key.partition(SEPARATOR)[0]

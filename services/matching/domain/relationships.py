"""What a mentee's relationships mean for their proposals: the one rule of who is not proposed
to whom, and when a goal waits (the engine, the restore and the batch reference all use it).

The profile service owns relationships and seats; matching keeps each relationship's newest
state (by its version) only to apply this rule:
- a mentor the mentee has asked (`requested`) or works with (`active`) is not proposed to them,
  whatever the goal;
- after a 'Not now' (`declined`), an unanswered request (`expired`) or an ending (`ended`), that
  mentor is not proposed again for that goal; after 'don't match us again', never;
- while a relationship for the mentee's current goal is `active`, the goal receives no
  proposals; they resume when it ends.
Seats are not counted here: the mentor's profile says how many are taken (Person.seats_taken).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

State = Literal["requested", "active", "declined", "expired", "ended"]
STATES: tuple[State, ...] = ("requested", "active", "declined", "expired", "ended")
HOLDING: frozenset[State] = frozenset({"requested", "active"})  # hold one of the mentor's seats


@dataclass(frozen=True, slots=True)
class Relationship:
    request_id: str
    mentee_id: str
    mentor_id: str
    goal_id: str
    state: State
    version: int
    never_again: bool = False


def excludes(relationship: Relationship, goal_id: str | None) -> bool:
    """Whether the relationship keeps its mentor out of the mentee's proposals for this goal."""
    return (
        relationship.state in HOLDING or relationship.never_again or relationship.goal_id == goal_id
    )


def pauses(relationship: Relationship, goal_id: str | None) -> bool:
    """Whether the relationship stops proposals for this goal (it is being worked on)."""
    return relationship.state == "active" and relationship.goal_id == goal_id


@dataclass(frozen=True)
class Blocks:
    """Who is not proposed to one mentee, and whether their goal waits."""

    excluded: frozenset[str]
    paused: bool


def blocks(
    goal_id: str | None, declined: Iterable[str], relationships: Iterable[Relationship]
) -> Blocks:
    """`declined`: mentors the mentee answered 'Not for me' (or accepted, in records from
    before relationships): never proposed to them again."""
    found = list(relationships)
    excluded = set(declined) | {r.mentor_id for r in found if excludes(r, goal_id)}
    return Blocks(frozenset(excluded), any(pauses(r, goal_id) for r in found))

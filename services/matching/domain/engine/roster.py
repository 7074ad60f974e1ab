"""The people one engine knows: owned mentees' profiles and goals, seats taken, exclusions,
and the mentees whose goal waits (domain/relationships.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.matching.domain.people import Goal, Person


@dataclass
class Roster:
    profiles: dict[str, Person] = field(default_factory=dict)  # owned (and parked) mentees
    goals: dict[str, Goal] = field(default_factory=dict)
    partition_of: dict[str, int] = field(default_factory=dict)
    # mentor id -> seats taken (held + active), from the mentor's profile (Person.seats_taken)
    accepted: dict[str, int] = field(default_factory=dict)
    # (mentee, mentor) pairs never to propose, both ways round: mentee -> mentors, and
    # mentor -> mentee -> the mentee's partition
    excluded: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    excluded_by_mentor: defaultdict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    paused: set[str] = field(default_factory=set)  # mentees in an active relationship for the goal

    def exclude(self, mentee_id: str, mentor_id: str, partition: int) -> bool:
        """Record the pair; False if it was already."""
        if mentor_id in self.excluded[mentee_id]:
            return False
        self.excluded[mentee_id].add(mentor_id)
        self.excluded_by_mentor[mentor_id][mentee_id] = partition
        return True

    def set_excluded(self, mentee_id: str, mentor_ids: Iterable[str], partition: int) -> bool:
        """Make the mentee's exclusions exactly these; False if they already were."""
        held, wanted = self.excluded.get(mentee_id, set()), set(mentor_ids)
        if held == wanted:
            return False
        for mentor_id in held - wanted:
            self.excluded_by_mentor[mentor_id].pop(mentee_id, None)
        for mentor_id in wanted - held:
            self.excluded_by_mentor[mentor_id][mentee_id] = partition
        self.excluded[mentee_id] = wanted
        return True

    def forget(self, user_id: str) -> None:
        """Everything about the person, except its partition (the caller's last step)."""
        self.profiles.pop(user_id, None)
        self.paused.discard(user_id)
        self.goals.pop(user_id, None)
        self.accepted.pop(user_id, None)
        for mentor_id in self.excluded.pop(user_id, set()):
            self.excluded_by_mentor[mentor_id].pop(user_id, None)
        for mentee_id in self.excluded_by_mentor.pop(user_id, set()):
            self.excluded[mentee_id].discard(user_id)

    def reset_exclusions(self, mentor_id: str, partition: int, mentee_ids: Iterable[str]) -> None:
        """Make the mentor's exclusions in one partition exactly these."""
        held = self.excluded_by_mentor[mentor_id]
        stored = set(mentee_ids)
        for mentee_id in [m for m, p in held.items() if p == partition and m not in stored]:
            del held[mentee_id]
            self.excluded[mentee_id].discard(mentor_id)
        for mentee_id in stored:
            held[mentee_id] = partition
            self.excluded[mentee_id].add(mentor_id)

    def check_invariants(self) -> None:
        """The two exclusion maps hold the same pairs."""
        pairs = {
            (mentee, mentor) for mentee, mentors in self.excluded.items() for mentor in mentors
        }
        mirrored = {(x, m) for m, mentees in self.excluded_by_mentor.items() for x in mentees}
        assert pairs == mirrored

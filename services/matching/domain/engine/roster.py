"""The people one engine knows: owned mentees' profiles and open goals, seats taken,
exclusions, and the goals that wait (domain/relationships.py).

Goals, exclusions and waits are per seeker (one open goal of a mentee, domain/seekers.py);
profiles and partitions are per mentee, shared by their goals.

There is an entry per mentee in most of these maps, so their values are kept small: a
mentee's seekers are found from the goals (the goal `default`'s key is the mentee id) and
from a tuple of the keys of their other goals, held only for mentees that have any.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.matching.domain.people import Goal, Person
from services.matching.domain.search.tracked import TrackedDict
from services.matching.domain.seekers import mentee_of, seeker_key


@dataclass
class Roster:
    profiles: dict[str, Person] = field(default_factory=dict)  # owned (and parked) mentees
    goals: dict[str, Goal] = field(default_factory=dict)  # seeker -> its open goal
    # mentee id -> the seekers of their goals other than `default`, for mentees holding any
    others: dict[str, tuple[str, ...]] = field(default_factory=TrackedDict)
    partition_of: dict[str, int] = field(default_factory=dict)  # mentee id -> partition
    # mentor id -> seats taken (held + active), from the mentor's profile (Person.seats_taken)
    accepted: dict[str, int] = field(default_factory=dict)
    # (seeker, mentor) pairs never to propose, both ways round: seeker -> mentors, and
    # mentor -> seeker -> the mentee's partition
    excluded: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    excluded_by_mentor: defaultdict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    paused: set[str] = field(default_factory=set)  # seekers in an active relationship

    def put_goal(self, goal: Goal) -> str:
        """Hold the goal (a newer version replaces the same goal's); its seeker key."""
        key = seeker_key(goal.mentee_id, goal.goal_id)
        self.goals[key] = goal
        held = self.others.get(goal.mentee_id, ())
        if key != goal.mentee_id and key not in held:
            self.others[goal.mentee_id] = (*held, key)
        return key

    def drop_goal(self, key: str) -> bool:
        """The goal closed: it and its exclusions and wait go; False if it was not held."""
        if self.goals.pop(key, None) is None:
            return False
        mentee_id = mentee_of(key)
        if key != mentee_id:
            left = tuple(k for k in self.others[mentee_id] if k != key)
            if left:
                self.others[mentee_id] = left
            else:
                del self.others[mentee_id]
        self.paused.discard(key)
        self.set_excluded(key, (), 0)
        self.excluded.pop(key, None)
        return True

    def seekers_of(self, mentee_id: str) -> list[str]:
        """The mentee's open goals' seekers, in a stable order."""
        keys = list(self.others.get(mentee_id, ()))
        if mentee_id in self.goals:
            keys.append(mentee_id)
        return sorted(keys)

    def goal_ids(self, mentee_id: str) -> list[str]:
        return sorted(self.goals[key].goal_id for key in self.seekers_of(mentee_id))

    def exclude(self, key: str, mentor_id: str, partition: int) -> bool:
        """Record the pair; False if it was already."""
        if mentor_id in self.excluded[key]:
            return False
        self.excluded[key].add(mentor_id)
        self.excluded_by_mentor[mentor_id][key] = partition
        return True

    def set_excluded(self, key: str, mentor_ids: Iterable[str], partition: int) -> bool:
        """Make the seeker's exclusions exactly these; False if they already were."""
        held, wanted = self.excluded.get(key, set()), set(mentor_ids)
        if held == wanted:
            return False
        for mentor_id in held - wanted:
            self.excluded_by_mentor[mentor_id].pop(key, None)
        for mentor_id in wanted - held:
            self.excluded_by_mentor[mentor_id][key] = partition
        self.excluded[key] = wanted
        return True

    def forget(self, user_id: str) -> list[str]:
        """Everything about the person, except its partition (the caller's last step); the
        seekers of the goals they held."""
        keys = self.seekers_of(user_id)
        for key in keys:
            self.drop_goal(key)
        self.profiles.pop(user_id, None)
        self.accepted.pop(user_id, None)
        for key in self.excluded_by_mentor.pop(user_id, {}):
            self.excluded[key].discard(user_id)
        return keys

    def reset_exclusions(self, mentor_id: str, partition: int, keys: Iterable[str]) -> bool:
        """Make the mentor's exclusions in one partition exactly these seekers; False if they
        already were."""
        held = self.excluded_by_mentor.get(mentor_id, {})
        stored = set(keys)
        gone = [k for k, p in held.items() if p == partition and k not in stored]
        if not gone and all(held.get(key) == partition for key in stored):
            return False
        held = self.excluded_by_mentor[mentor_id]
        for key in gone:
            del held[key]
            self.excluded[key].discard(mentor_id)
        for key in stored:
            held[key] = partition
            self.excluded[key].add(mentor_id)
        return True

    def check_invariants(self) -> None:
        """The two exclusion maps hold the same pairs, and each goal is its mentee's seeker."""
        pairs = {(key, mentor) for key, mentors in self.excluded.items() for mentor in mentors}
        mirrored = {(x, m) for m, keys in self.excluded_by_mentor.items() for x in keys}
        assert pairs == mirrored
        held = [key for keys in self.others.values() for key in keys]
        assert len(held) == len(set(held))
        assert set(held) == {key for key in self.goals if key != mentee_of(key)}
        assert all(mentee_of(key) == m for m, keys in self.others.items() for key in keys)
        assert all(seeker_key(g.mentee_id, g.goal_id) == k for k, g in self.goals.items())

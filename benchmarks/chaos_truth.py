"""The chaos run's ground truth: what the workload asked for, and the rankings that follow.

The driver appends every action the platform acknowledged to a `Record`, in the order it
acknowledged them (one action at a time). `expected_rankings` replays that record into the
matching domain's inputs (profile and goal payloads converted as matching converts them,
declines and accepts as excluded pairs, seats as `Seats` defines them, deletes) and runs the
batch reference (services/matching/domain/batch.py). Nothing here reads what the platform
stored, so a lost or dead-lettered event shows as a difference.

`compare` holds the run to that truth: every mentee with a non-empty expected ranking has a
latest email naming exactly those mentors, and matching's current proposals equal the truth
for every mentee (none or an empty one where the truth is empty).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aiokafka.partitioner import murmur2

from services.matching.domain.batch import Population, recompute
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.people import Person, goal_from_payload, person_from_profile
from shared.contracts.goals import GoalFields, GoalSetPayload
from shared.contracts.profiles import ProfileFields, ProfilePayload

Kind = Literal["profile", "goal", "delete", "accept", "decline"]


@dataclass(frozen=True)
class Entry:
    kind: Kind
    user_id: str  # the person; the mentee for accept and decline
    body: ProfileFields | GoalFields | None = None
    mentor_id: str = ""  # accept and decline
    proposal_id: str = ""  # accept and decline: the proposal whose link was followed


@dataclass
class Record:
    """Acknowledged actions, in order (appended by the driver after the platform said yes)."""

    entries: list[Entry] = field(default_factory=list)

    def profile(self, user_id: str, fields: ProfileFields) -> None:
        self.entries.append(Entry("profile", user_id, fields))

    def goal(self, mentee_id: str, fields: GoalFields) -> None:
        self.entries.append(Entry("goal", mentee_id, fields))

    def delete(self, user_id: str) -> None:
        self.entries.append(Entry("delete", user_id))

    def feedback(self, mentee_id: str, mentor_id: str, proposal_id: str, accepted: bool) -> None:
        kind: Kind = "accept" if accepted else "decline"
        self.entries.append(Entry(kind, mentee_id, None, mentor_id, proposal_id))

    def lines(self) -> list[str]:
        """One line per entry, for the run directory (what the truth was computed from)."""
        return [
            " ".join((e.kind, e.user_id, e.mentor_id, e.proposal_id)).rstrip()
            + (f" {e.body.model_dump_json()}" if e.body is not None else "")
            for e in self.entries
        ]


def partitioner(partitions: int) -> Callable[[str], int]:
    """Kafka's default partitioner for a string key (what the profile service's producer uses)."""
    return lambda key: (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def population(record: Record) -> Population:
    """Matching's inputs after every recorded action, applied in record order."""
    pop, seats = Population(), Seats()
    versions: dict[tuple[str, str], int] = {}
    answered: set[tuple[str, str, str, str]] = set()
    for entry in record.entries:
        if isinstance(entry.body, ProfileFields | GoalFields):
            key = (entry.kind, entry.user_id)
            versions[key] = versions.get(key, 0) + 1
            fields = {**entry.body.model_dump(), "version": versions[key]}
        if entry.kind == "profile":
            payload = ProfilePayload(**fields, user_id=entry.user_id)
            pop.people[entry.user_id] = person_from_profile(payload)
        elif entry.kind == "goal":
            goal = GoalSetPayload(**fields, mentee_id=entry.user_id)
            pop.goals[entry.user_id] = goal_from_payload(goal)
        elif entry.kind == "delete":
            _forget(pop, entry.user_id)
            seats.erase(entry.user_id)
        elif (
            link := (entry.user_id, entry.mentor_id, entry.proposal_id, entry.kind)
        ) not in answered:
            answered.add(link)  # the same link followed again has no further effect
            _feedback(pop, seats, entry)
    pop.accepted = seats.taken()
    return pop


def _forget(pop: Population, user_id: str) -> None:
    pop.people.pop(user_id, None)
    pop.goals.pop(user_id, None)
    pop.excluded = {pair for pair in pop.excluded if user_id not in pair}


def _feedback(pop: Population, seats: Seats, entry: Entry) -> None:
    """Either answer excludes the pair; an accept also takes a free seat of the mentor."""
    pop.excluded.add((entry.user_id, entry.mentor_id))
    if entry.kind == "accept":
        seats.accept(entry.user_id, pop.people.get(entry.mentor_id))


@dataclass
class Seats:
    """Who holds which mentor's seats: the truth's one definition of seat accounting.

    - An accept takes one of the mentor's seats if one is free at that point of the record
      (seats go in record order; matching takes them in the order it processes the accepts).
    - The erasure of the mentee gives the seat back; the erasure of the mentor ends them all.
    - A decline after an accept of the same pair changes nothing (the seat stays taken).

    Matching today keeps an erased mentee's seat taken when it processes the accept before
    the erasure, and never takes it when the erasure comes first (it drops the late accept
    of an erased person), so its seats depend on the order it consumed two topics in. This
    truth follows the rule issue 28 states ("the erasure of either person frees seats"),
    which is the same in both orders; tests/unit/matching/test_erasure_frees_seats.py holds
    matching to it. The relationship lifecycle (held seats, mentor answers, endings) changes
    these rules here and nowhere else.
    """

    holders: dict[str, list[str]] = field(default_factory=dict)  # mentor -> mentees

    def accept(self, mentee_id: str, mentor: Person | None) -> None:
        if mentor is None or not mentor.is_mentor:
            return
        held = self.holders.setdefault(mentor.user_id, [])
        if len(held) < mentor.capacity:
            held.append(mentee_id)

    def erase(self, user_id: str) -> None:
        self.holders.pop(user_id, None)
        for held in self.holders.values():
            while user_id in held:
                held.remove(user_id)

    def taken(self) -> dict[str, int]:
        return {mentor: len(held) for mentor, held in self.holders.items() if held}


def expected_rankings(
    record: Record, config: EngineConfig, partitions: int
) -> dict[str, frozenset[str]]:
    """Mentee -> the mentor set the batch reference ranks for them (empty sets included)."""
    rankings = recompute(population(record), config)
    return {mentee: frozenset(mentors) for mentee, mentors in rankings.items()}


def seats_differ(record: Record, stored: Mapping[str, int]) -> list[str]:
    """Mentors whose seats taken in matching (their profiles' `seats_taken`) are not the
    truth's `Seats`.

    A diagnosis printed next to the verdict, not part of it: a seat count shows in the
    rankings only when it decides whether a mentor is full."""
    want = population(record).accepted
    return [
        f"{mentor} has {stored.get(mentor, 0)} want {want.get(mentor, 0)}"
        for mentor in sorted(set(want) | set(stored))
        if want.get(mentor, 0) != stored.get(mentor, 0)
    ]


@dataclass
class Verdict:
    expected: int  # mentees with a non-empty expected ranking
    missing_emails: list[str] = field(default_factory=list)
    wrong_emails: list[str] = field(default_factory=list)
    ranking_differ: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.missing_emails) + len(self.wrong_emails)


def compare(
    expected: Mapping[str, frozenset[str]],
    latest_emails: Mapping[str, frozenset[str]],
    proposals: Mapping[str, frozenset[str]],
) -> Verdict:
    """Hold the latest email per mentee and matching's proposals to the expected rankings."""
    verdict = Verdict(expected=sum(1 for mentors in expected.values() if mentors))
    for mentee, mentors in sorted(expected.items()):
        if not mentors:
            continue
        email = latest_emails.get(mentee)
        if email is None:
            verdict.missing_emails.append(mentee)
        elif email != mentors:
            verdict.wrong_emails.append(f"{mentee} got {sorted(email)} want {sorted(mentors)}")
    for mentee in sorted(set(expected) | set(proposals)):
        want, have = expected.get(mentee, frozenset()), proposals.get(mentee, frozenset())
        if want != have:
            verdict.ranking_differ.append(f"{mentee} has {sorted(have)} want {sorted(want)}")
    return verdict

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

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aiokafka.partitioner import murmur2

from services.matching.domain.batch import Population, recompute
from services.matching.domain.constraints import EngineConfig, open_to_mentees
from services.matching.domain.people import Person, goal_from_payload, person_from_profile
from services.profile.settings import ProfileSettings
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
    goal_id: str = ""  # accept and decline: the goal the proposal was for


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

    def feedback(
        self, mentee_id: str, mentor_id: str, proposal_id: str, accepted: bool, goal_id: str = ""
    ) -> None:
        """A link of a proposal email followed: "Request an intro" (accept) or "Not for me"."""
        kind: Kind = "accept" if accepted else "decline"
        self.entries.append(Entry(kind, mentee_id, None, mentor_id, proposal_id, goal_id))

    def lines(self) -> list[str]:
        """One line per entry, for the run directory (what the truth was computed from)."""
        return [
            " ".join((e.kind, e.user_id, e.mentor_id, e.proposal_id, e.goal_id)).rstrip()
            + (f" {e.body.model_dump_json()}" if e.body is not None else "")
            for e in self.entries
        ]


def partitioner(partitions: int) -> Callable[[str], int]:
    """Kafka's default partitioner for a string key (what the profile service's producer uses)."""
    return lambda key: (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def population(record: Record) -> Population:
    """Matching's inputs after every recorded action, applied in record order."""
    return _replay(record)[0]


def asked(record: Record) -> dict[str, frozenset[str]]:
    """Mentee -> the mentors they have a request waiting with, at the end of the record."""
    found: dict[str, set[str]] = {}
    for mentee, mentor, _ in _replay(record)[1].waiting:
        found.setdefault(mentee, set()).add(mentor)
    return {mentee: frozenset(mentors) for mentee, mentors in found.items()}


def _replay(record: Record) -> tuple[Population, Seats]:
    pop, seats = Population(), Seats()
    versions: dict[tuple[str, str], int] = {}
    for entry in record.entries:
        if isinstance(entry.body, ProfileFields | GoalFields):
            key = (entry.kind, entry.user_id)
            versions[key] = versions.get(key, 0) + 1
            fields = {**entry.body.model_dump(), "version": versions[key]}
        if entry.kind == "profile":
            payload = ProfilePayload(**fields, user_id=entry.user_id)
            person = pop.people[entry.user_id] = person_from_profile(payload)
            if not (person.is_mentor and person.opted_in):
                seats.close(entry.user_id)
        elif entry.kind == "goal":
            goal = GoalSetPayload(**fields, mentee_id=entry.user_id)
            pop.goals[entry.user_id] = goal_from_payload(goal)
        elif entry.kind == "delete":
            _forget(pop, entry.user_id)
            seats.erase(entry.user_id)
        elif entry.kind == "accept":
            mentor = pop.people.get(entry.mentor_id)
            if seats.request(entry.user_id, mentor, entry.goal_id, entry.proposal_id):
                pop.excluded.add((entry.user_id, entry.mentor_id))  # the asked mentor leaves
        else:  # "Not for me": never proposed again, and a request waiting for them withdrawn
            seats.withdraw(entry.user_id, entry.mentor_id, entry.goal_id)
            pop.excluded.add((entry.user_id, entry.mentor_id))
    pop.accepted = seats.taken()
    return pop, seats


def _forget(pop: Population, user_id: str) -> None:
    pop.people.pop(user_id, None)
    pop.goals.pop(user_id, None)
    pop.excluded = {pair for pair in pop.excluded if user_id not in pair}


OPEN_REQUESTS_LIMIT = ProfileSettings.model_fields["open_requests_limit"].default


@dataclass
class Seats:
    """Requests and the seats they hold: the truth's one definition of seat accounting, the
    rules of the relationship lifecycle (docs/lifecycle.md) as the workload meets them.

    - "Request an intro" (the accept link) holds one of the mentor's seats, unless the profile
      service refuses it: this mentee already asked this mentor for this goal (the same link
      again, or another proposal's), the mentor is not open to mentees or has no free seat,
      or the mentee already has `OPEN_REQUESTS_LIMIT` requests waiting. A refused request
      changes nothing, so the mentor stays in the mentee's proposals.
    - The erasure of either person frees the seats of their requests; so does a mentor closing
      to mentees (opted out, or no longer a mentor) for the requests waiting for them.
    - A "Not for me" to the mentor the mentee asked for that goal withdraws the request.
    - An accept link followed before asks nothing again, even once its request was withdrawn:
      its page says where that request stands (docs/lifecycle.md).
    No mentor answers in the run and no deadline passes, so every request stays waiting; the
    mentor's answers, expiries, fit checks and endings would change these rules here.
    """

    waiting: dict[tuple[str, str, str], None] = field(default_factory=dict)  # mentee, mentor, goal
    links: set[tuple[str, str, str]] = field(default_factory=set)  # mentee, mentor, proposal

    def request(
        self, mentee_id: str, mentor: Person | None, goal_id: str, proposal_id: str = ""
    ) -> bool:
        """True when the request is made (and holds a seat), False when it is refused."""
        if mentor is None or (mentee_id, mentor.user_id, goal_id) in self.waiting:
            return False
        if (mentee_id, mentor.user_id, proposal_id) in self.links:
            return False  # the same link again: that request's page, nothing asked
        if not open_to_mentees(mentor, self.taken().get(mentor.user_id, 0)):
            return False
        if sum(1 for mentee, _, _ in self.waiting if mentee == mentee_id) >= OPEN_REQUESTS_LIMIT:
            return False
        self.waiting[mentee_id, mentor.user_id, goal_id] = None
        self.links.add((mentee_id, mentor.user_id, proposal_id))
        return True

    def withdraw(self, mentee_id: str, mentor_id: str, goal_id: str) -> None:
        self.waiting.pop((mentee_id, mentor_id, goal_id), None)

    def close(self, mentor_id: str) -> None:
        self.waiting = {k: None for k in self.waiting if k[1] != mentor_id}

    def erase(self, user_id: str) -> None:
        self.waiting = {k: None for k in self.waiting if user_id not in (k[0], k[1])}

    def taken(self) -> dict[str, int]:
        return dict(Counter(mentor for _, mentor, _ in self.waiting))


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
    asked_since: list[str] = field(default_factory=list)  # not lost: see `compare`

    @property
    def lost(self) -> int:
        return len(self.missing_emails) + len(self.wrong_emails)


def compare(
    expected: Mapping[str, frozenset[str]],
    latest_emails: Mapping[str, frozenset[str]],
    proposals: Mapping[str, frozenset[str]],
    asked_mentors: Mapping[str, frozenset[str]] | None = None,
) -> Verdict:
    """Hold the latest email per mentee and matching's proposals to the expected rankings.

    Asking a mentor takes them out of the mentee's ranking quietly (docs/lifecycle.md: no
    email, the mentee knows), so a latest email may still name mentors the mentee has asked
    since; beyond those it must name exactly the expected mentors."""
    asked_mentors = asked_mentors or {}
    verdict = Verdict(expected=sum(1 for mentors in expected.values() if mentors))
    for mentee, mentors in sorted(expected.items()):
        if not mentors:
            continue
        email = latest_emails.get(mentee)
        if email is None:
            verdict.missing_emails.append(mentee)
        elif email - asked_mentors.get(mentee, frozenset()) == mentors and email != mentors:
            verdict.asked_since.append(
                f"{mentee} got {sorted(email)}, asked {sorted(email - mentors)}"
            )
        elif email != mentors:
            verdict.wrong_emails.append(f"{mentee} got {sorted(email)} want {sorted(mentors)}")
    for mentee in sorted(set(expected) | set(proposals)):
        want, have = expected.get(mentee, frozenset()), proposals.get(mentee, frozenset())
        if want != have:
            verdict.ranking_differ.append(f"{mentee} has {sorted(have)} want {sorted(want)}")
    return verdict

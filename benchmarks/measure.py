"""The timed parts of the matching benchmark: each drives the engine exactly as the service does
for one event (minus PostgreSQL), then calls drain()."""

from __future__ import annotations

import dataclasses
import random
import time
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from services.matching.domain.constraints import free_seats
from services.matching.domain.engine import Changes, TenantEngine
from services.matching.domain.people import Goal, Person
from services.matching.domain.search.index import SearchCount
from tests.support import population

Progress = Callable[[str], None]


def partition_of(user_id: str, partitions: int) -> int:
    """The bench's mentee partition (the service uses Kafka's murmur2; same cost)."""
    return zlib.crc32(user_id.encode()) % partitions


def timed_ms(action: Callable[[], object], tally: Tally | None = None) -> float:
    """The action's wall time; its CPU time (the process's: a mentor's search may run on
    helper threads) goes to the tally. On a loaded machine the wall time is mostly waiting for
    a core, the CPU time is the code's own cost."""
    start, cpu = time.perf_counter(), time.process_time()
    action()
    wall = (time.perf_counter() - start) * 1000
    if tally is not None:
        tally.cpu_ms.append((time.process_time() - cpu) * 1000)
    return wall


@dataclasses.dataclass
class Tally:
    """What the timed events changed, counted: unlike their times, the machine's load does not
    move these."""

    cpu_ms: list[float] = dataclasses.field(default_factory=list)  # each event's CPU time
    events: int = 0
    # ExposureChanged notices, had each event been a poll of its own: one to every partition
    # for each mentor whose best entries in a partition changed (ADR 0010)
    notices: int = 0
    lists: int = 0  # mentor lists written
    rankings: int = 0  # rankings changed
    searching: int = 0  # events that searched a mentor's candidates (SearchIndex.mentor_searches)
    searches: int = 0
    candidates: int = 0  # candidates those searches read

    def searched(self, before: SearchCount, after: SearchCount) -> None:
        """The mentor searches of one event (a goal's old version may leave a list spent)."""
        self.searching += after.searches > before.searches
        self.searches += after.searches - before.searches
        self.candidates += after.candidates - before.candidates

    def add(self, changes: Changes, partitions: int) -> None:
        self.add_polls([changes], partitions)

    def add_polls(self, polls: Sequence[Changes], partitions: int) -> None:
        """One event handled over these polls."""
        self.events += 1
        for changes in polls:
            self.notices += len(changes.exposure) * partitions
            self.lists += len(changes.lists)
            self.rankings += len(changes.rankings)

    def per_event(self) -> str:
        each = max(1, self.events)
        return (
            f"{self.notices / each:.1f} notices, {self.lists / each:.1f} lists written,"
            f" {self.rankings / each:.1f} rankings changed per event;"
            f" {self.searching / each:.1%} of events searched a mentor,"
            f" {self.searches / max(1, self.searching):.1f} searches each,"
            f" {self.candidates / max(1, self.searches):.0f} candidates read per search"
        )


def set_goal(engine: TenantEngine, goal: Goal, tally: Tally | None = None) -> None:
    before = dataclasses.replace(engine.search.mentor_searches)
    engine.put_goal(goal, partition_of(goal.mentee_id, engine.config.partitions))
    changes = engine.drain()
    if tally is not None:
        tally.add(changes, engine.config.partitions)
        tally.searched(before, engine.search.mentor_searches)


def update_mentor(engine: TenantEngine, mentor: Person, tally: Tally | None = None) -> None:
    """In the service's order and polls: the profile's own handler, then one MentorChanged copy
    per partition, each a poll of its own (the fan-out handler's engine calls, without its
    PostgreSQL reads of the stored mentor, its exclusions and its lists elsewhere, and
    without Kafka)."""
    partitions = engine.config.partitions
    before = dataclasses.replace(engine.search.mentor_searches)
    engine.put_mentee(mentor, partition_of(mentor.user_id, partitions))
    polls = [engine.drain()]
    for partition in range(partitions):
        engine.set_accepted(mentor.user_id, engine.roster.accepted.get(mentor.user_id, 0))
        engine.put_mentor_data(mentor)
        engine.reset_exclusions(mentor.user_id, partition, ())
        engine.refresh_mentor(mentor.user_id, [partition])
        polls.append(engine.drain())
    if tally is not None:
        tally.add_polls(polls, partitions)
        tally.searched(before, engine.search.mentor_searches)


def add_mentee(engine: TenantEngine, mentee: Person, *goals: Goal) -> None:
    partition = partition_of(mentee.user_id, engine.config.partitions)
    engine.put_mentee(mentee, partition)
    engine.drain()
    for goal in goals:
        engine.put_goal(goal, partition)
        engine.drain()


def new_goal(rng: random.Random, engine: TenantEngine, seeker: str) -> Goal:
    """A newer version of the goal a seeker key names (one goal of one mentee, ADR 0012)."""
    held = engine.roster.goals[seeker]
    return population.goal(rng, held.mentee_id, held.version + 1, held.goal_id)


def new_mentor_profile(rng: random.Random, engine: TenantEngine, mentor_id: str) -> Person:
    """A changed profile: skills, levels, years, seats and the rest drawn afresh."""
    old = engine.mentor(mentor_id)
    assert old is not None
    return dataclasses.replace(population.mentor(rng, mentor_id), version=old.version + 1)


def goalset_costs(
    engine: TenantEngine,
    rng: random.Random,
    mentee_ids: Sequence[str],
    count: int,
    dress: Callable[[Goal], Goal] = lambda goal: goal,
    tally: Tally | None = None,
) -> list[float]:
    """`dress`: what to add to each drawn goal (musts, for a share of them)."""
    return [
        timed_ms(lambda m=m: set_goal(engine, dress(new_goal(rng, engine, m)), tally), tally)  # type: ignore[misc]
        for m in rng.sample(mentee_ids, count)
    ]


def mentor_update_costs(
    engine: TenantEngine,
    rng: random.Random,
    mentor_ids: Sequence[str],
    count: int,
    tally: Tally | None = None,
) -> list[float]:
    costs = []
    for mentor_id in rng.sample(mentor_ids, count):
        profile = new_mentor_profile(rng, engine, mentor_id)
        costs.append(timed_ms(lambda p=profile: update_mentor(engine, p, tally), tally))  # type: ignore[misc]
    return costs


def mixed_stream_rate(
    engine: TenantEngine,
    rng: random.Random,
    ids: tuple[Sequence[str], Sequence[str]],
    events: int,
    goal_share: float = 0.9,
) -> float:
    """Events per second for a GoalSet / mentor ProfileUpdated mix through the engine alone."""
    mentee_ids, mentor_ids = ids
    plan = [rng.random() < goal_share for _ in range(events)]
    inputs: list[Goal | Person] = [
        new_goal(rng, engine, rng.choice(mentee_ids))
        if is_goal
        else new_mentor_profile(rng, engine, rng.choice(mentor_ids))
        for is_goal in plan
    ]
    start = time.perf_counter()
    for item in inputs:
        if isinstance(item, Goal):
            set_goal(engine, item)
        else:
            update_mentor(engine, item)
    return events / (time.perf_counter() - start)


@dataclasses.dataclass(frozen=True)
class Exposure:
    gini: float  # 0: every open mentor proposed equally often; 1: one mentor gets all
    proposed_mentors: int
    open_mentors: int
    most_per_seat: float  # the largest (mentees proposed to) / (free seats)


def exposure(engine: TenantEngine) -> Exposure:
    """How evenly the current rankings spread the mentees over the open mentors."""
    counts: dict[str, int] = {}
    for ranking in engine.rankings.by_mentee.values():
        for ranked in ranking:
            counts[ranked.mentor_id] = counts.get(ranked.mentor_id, 0) + 1
    open_mentors = [
        p for p in engine.search.mentors.people if p is not None and p.is_mentor and p.opted_in
    ]
    seats = {
        p.user_id: free_seats(p, engine.roster.accepted.get(p.user_id, 0)) for p in open_mentors
    }
    shown = np.sort(np.array([counts.get(m, 0) for m in seats], dtype=np.float64))
    n = shown.size
    total = float(shown.sum())
    gini = (
        0.0
        if n == 0 or total == 0
        else float((2 * np.arange(1, n + 1) - n - 1).dot(shown) / (n * total))
    )
    per_seat = [counts.get(m, 0) / s for m, s in seats.items() if s > 0]
    return Exposure(gini, len(counts), n, max(per_seat, default=0.0))


def machine_jitter(repeats: int = 10_000) -> tuple[float, float, float]:
    """The same pure-Python work timed `repeats` times: its median, p99 and slowest, in ms.
    Nothing in it varies, so its spread is the machine's (scheduling, other tenants), the
    floor under any p99 this benchmark prints."""
    costs = []
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for i in range(2_000):
            total += i * i
        costs.append((time.perf_counter() - start) * 1000)
    return (
        float(np.median(costs)),
        float(np.percentile(costs, 99)),
        max(costs),
    )

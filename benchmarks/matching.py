"""`make bench-matching`: the matching engine on a seeded synthetic population.

Builds the population through the incremental path (mentors' data first, then each mentee's
profile and goal), then measures GoalSet ranking, a mentor ProfileUpdated (incremental and as
a full recompute), a mixed event stream, and recovery from PostgreSQL. Ends with key=value lines.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.fairness import fairness, never_shown, why_unseen
from benchmarks.measure import (
    Tally,
    add_mentee,
    exposure,
    goalset_costs,
    machine_jitter,
    mentor_update_costs,
    mixed_stream_rate,
)
from benchmarks.memory import own_peak_mb, reset_peak
from benchmarks.recovery import drop_schema, rankings_digest, recover_in_child, write_state
from devenv.infra import postgres
from services.matching.adapters.warm_up import compile_kernels
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal
from services.matching.service_layer.handlers import keep_out_of_collections
from services.matching.service_layer.search_threads import helper_threads
from tests.support import population


def say(message: str) -> None:
    print(message, flush=True)


def rss_mb() -> float:
    return own_peak_mb()


def p99(values: Sequence[float]) -> float:
    return float(np.percentile(values, 99))


DRAWN_AT_ONCE = 5_000  # mentees drawn, then put into the engine, before the next are drawn


def build(args: argparse.Namespace, rng: random.Random) -> tuple[TenantEngine, list[str], float]:
    """The population drawn, then put into a fresh engine one event at a time, as the service
    would: every ranking made from scratch with the engine's compiled kernels, lists and MMR.
    Its time (engine calls only) is the full recompute the incremental path saves.

    Mentees are drawn DRAWN_AT_ONCE at a time, from the same stream in the same order (one
    population, whatever the chunk): the benchmark's own list of every drawn mentee would
    otherwise count in the peak memory, which the service never holds."""
    compile_kernels()  # as the service does at start
    mentors = [population.mentor(rng, f"mentor-{i:06d}") for i in range(args.mentors)]
    engine = TenantEngine(EngineConfig(), helper_threads())  # as the service runs searches
    start = time.perf_counter()
    for mentor in mentors:
        engine.put_mentor_data(mentor)
    engine_s = time.perf_counter() - start
    say(f"build: {args.mentors} mentors in {engine_s:.1f} s")
    step = max(1, args.mentees // 20)
    goal_count = 0
    for first in range(0, args.mentees, DRAWN_AT_ONCE):
        drawn = []
        for index in range(first, min(first + DRAWN_AT_ONCE, args.mentees)):
            mentee = population.mentee(rng, f"mentee-{index:07d}")
            drawn.append((mentee, [args.dress(g) for g in goals_of(rng, mentee.user_id, args)]))
        goal_count += sum(len(goals) for _, goals in drawn)
        start = time.perf_counter()
        for index, (mentee, goals) in enumerate(drawn, first):
            add_mentee(engine, mentee, *goals)
            if (index + 1) % step == 0 or index + 1 == args.mentees:
                elapsed = engine_s + time.perf_counter() - start
                left = elapsed / (index + 1) * (args.mentees - index - 1)
                say(
                    f"build: {index + 1}/{args.mentees} mentees, {elapsed:.0f} s,"
                    f" {(index + 1) / elapsed:.0f}/s, about {left:.0f} s left,"
                    f" rss {rss_mb():.0f} MB"
                )
        engine_s += time.perf_counter() - start
    built_ms = engine_s * 1000
    say(f"build: done in {built_ms / 1000:.1f} s ({goal_count} goals, incremental)")
    return engine, [m.user_id for m in mentors], built_ms


class Collections:
    """The garbage collector's passes seen (a gc callback), by generation, with the longest in
    CPU time (its wall time on a loaded machine includes waits for a core)."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.longest_ms = 0.0
        self._start = 0.0

    def seen(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
            return
        self.counts[info["generation"]] += 1
        self.longest_ms = max(self.longest_ms, (time.thread_time() - self._start) * 1000)

    def __str__(self) -> str:
        young, middle, full = self.counts
        return (
            f"{young} young, {middle} middle and {full} full collections,"
            f" the longest {self.longest_ms:.2f} ms of CPU"
        )


EXTRA_GOAL_IDS = ("project", "role")


def goals_of(rng: random.Random, mentee_id: str, args: argparse.Namespace) -> list[Goal]:
    """The mentee's goal `default`, and for a share of mentees (`--several-goals-share`) one or
    two more, ranked apart (ADR 0012). With the share at 0 no extra draw is made, so the
    population is the same as before goals became plural."""
    goals = [population.goal(rng, mentee_id)]
    if args.several_goals_share and rng.random() < args.several_goals_share:
        extra = EXTRA_GOAL_IDS[: rng.choice((1, 2))]
        goals += [population.goal(rng, mentee_id, 1, goal_id) for goal_id in extra]
    return goals


def recovery(engine: TenantEngine) -> dict[str, object]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with postgres() as endpoint:
        start = time.perf_counter()
        counts = asyncio.run(write_state(endpoint.url, schema, engine))
        say(
            f"recovery: wrote {counts} with COPY in {time.perf_counter() - start:.1f} s,"
            f" peak rss {rss_mb():.0f} MB"
        )
        try:
            loaded = recover_in_child(endpoint.url, schema, engine.config.partitions)
        finally:
            asyncio.run(drop_schema(endpoint.url, schema))
    same = loaded["digest"] == rankings_digest(engine)
    say(f"recovery: {loaded}; rankings equal to the live engine's: {same}")
    return loaded


def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    engine, mentor_ids, full_ms = build(args, rng)
    mentee_ids = list(engine.search.mentees.slots.slot_of)
    # As the service does once its engines are restored. After the list above, which the
    # service does not have: young, its 500,000 references made collections in GoalSets slow.
    keep_out_of_collections()
    with_rankings = sum(1 for r in engine.rankings.by_mentee.values() if r)
    listed = sum(1 for _ in engine.lists.items())
    say(
        f"state: {listed} mentor lists, {with_rankings} goals with a ranking,"
        f" peak rss {rss_mb():.0f} MB"
    )
    spread = exposure(engine)
    say(
        f"exposure: {spread.proposed_mentors} of {spread.open_mentors} open mentors proposed,"
        f" at most {spread.most_per_seat:.2f} mentees per free seat"
        f" (cap {engine.config.exposure_per_seat}), Gini {spread.gini:.3f}"
    )
    before_fairness = rss_mb()
    fair = fairness(engine)  # the benchmark's own count, pair by pair: not the system's memory
    # each mentor never shown, with why (as `python -m benchmarks.fairness` says)
    unseen = [(m.user_id, why_unseen(engine, m)) for m in never_shown(engine)]
    fairness_mb = rss_mb()
    reset_peak()
    say(
        f"fairness: of {fair.rankable_mentees} goals,"
        f" {fair.unmatched_rankable_mentees} have no ranking though a mentor with exposure left"
        f" may meet them ({fair.unmatched_if_proposals_counted} if exposure counted the rankings"
        f" naming the mentor); of {fair.mentors_with_free_seats} mentors with free seats,"
        f" {fair.mentors_never_shown_with_free_seats} are in no ranking though a mentee may meet"
        " them"
    )
    for mentor_id, why in unseen:
        say(f"fairness: never shown: {mentor_id}, {why}")

    goals, updates, collections = Tally(), Tally(), Collections()
    gc.callbacks.append(collections.seen)
    count = min(args.goals, len(mentee_ids))
    goal_ms = goalset_costs(engine, rng, mentee_ids, count, args.dress, goals)
    say(
        f"goalset: {len(goal_ms)} GoalSet, median {statistics.median(goal_ms):.2f} ms"
        f" (CPU {statistics.median(goals.cpu_ms):.2f}, p99 {p99(goals.cpu_ms):.2f}),"
        f" peak rss {rss_mb():.0f} MB; {goals.per_event()}"
    )
    count = min(args.updates, len(mentor_ids))
    mentor_ms = mentor_update_costs(engine, rng, mentor_ids, count, updates)
    gc.callbacks.remove(collections.seen)
    median_update = statistics.median(mentor_ms)
    say(
        f"mentor update: {len(mentor_ms)} ProfileUpdated, median {median_update:.2f} ms"
        f" (CPU {statistics.median(updates.cpu_ms):.2f}, p99 {p99(updates.cpu_ms):.2f}),"
        f" peak rss {rss_mb():.0f} MB; {updates.per_event()}"
    )
    say(f"gc: during the timed GoalSets and mentor updates, {collections}")
    say(
        f"full recompute: the build above, measured whole: {args.mentors} mentors and"
        f" {len(mentee_ids)} goals ranked from scratch by the same engine"
    )
    rate = mixed_stream_rate(engine, rng, (mentee_ids, mentor_ids), args.events)
    say(
        f"stream: {args.events} events, 90% GoalSet / 10% mentor ProfileUpdated,"
        f" peak rss {rss_mb():.0f} MB"
    )
    median, p99_ms, slowest = machine_jitter()
    say(
        f"machine: one fixed pure-Python step, 10,000 times: median {median:.3f} ms,"
        f" p99 {p99_ms:.3f} ms ({p99_ms / median:.2f} x median), slowest {slowest:.2f} ms"
    )
    loaded = recovery(engine) if args.recovery else {"recovery_s": float("nan"), "rss_mb": 0}
    engine_mb = max(before_fairness, rss_mb())
    say(
        f"peak rss: this process {engine_mb:.0f} MB ({fairness_mb:.0f} MB during the fairness"
        f" count), recovery process {loaded['rss_mb']} MB"
    )

    print(f"exposure_gini={spread.gini:.3f}")
    print(f"exposure_most_per_seat={spread.most_per_seat:.2f}")
    print(f"unmatched_rankable_mentees={fair.unmatched_rankable_mentees}")
    print(f"unmatched_if_proposals_counted={fair.unmatched_if_proposals_counted}")
    print(f"mentors_never_shown_with_free_seats={fair.mentors_never_shown_with_free_seats}")
    print(f"goalset_notices_per_event={goals.notices / max(1, goals.events):.1f}")
    print(f"mentor_update_notices_per_event={updates.notices / max(1, updates.events):.1f}")
    print(f"goalset_rank_p99_ms={p99(goal_ms):.2f}")
    print(f"mentor_update_p99_ms={p99(mentor_ms):.2f}")
    print(f"goalset_rank_cpu_p99_ms={p99(goals.cpu_ms):.2f}")
    print(f"mentor_update_cpu_p99_ms={p99(updates.cpu_ms):.2f}")
    print(f"full_recompute_ms={full_ms:.0f}")
    print("full_recompute_basis=measured")
    print(f"incremental_speedup={full_ms / median_update:.0f}")
    print(f"engine_events_per_s={rate:.0f}")
    print(f"recovery_s={loaded['recovery_s']}")
    print(f"peak_rss_mb={max(engine_mb, float(str(loaded['rss_mb']))):.0f}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentors", type=int, default=50_000)
    parser.add_argument("--mentees", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--goals", type=int, default=2_000, help="GoalSet events timed")
    parser.add_argument("--updates", type=int, default=200, help="mentor updates timed")
    parser.add_argument("--events", type=int, default=2_000, help="mixed stream length")
    parser.add_argument(
        "--musts-share",
        type=float,
        default=0.0,
        help="share of goals (built and timed) with one must; 0 keeps the population as before",
    )
    parser.add_argument(
        "--several-goals-share",
        type=float,
        default=0.0,
        help="share of mentees holding 2-3 goals; 0 keeps the population as before",
    )
    parser.add_argument(
        "--goal-mix",
        action="store_true",
        help="issue 25's mix: 10%% of mentees hold 2-3 goals, 20%% of goals have a must",
    )
    parser.add_argument(
        "--no-recovery", dest="recovery", action="store_false", help="skip PostgreSQL"
    )
    args = parser.parse_args(argv)
    if args.goal_mix:
        args.several_goals_share, args.musts_share = 0.1, 0.2
    args.dress = musts_dress(args.musts_share, args.seed)
    return args


def musts_dress(share: float, seed: int) -> Callable[[Goal], Goal]:
    """Adds one must to `share` of the goals, from its own random stream: with 0 the
    population and the timed goals are those of a run without the option."""
    if share <= 0:
        return lambda goal: goal
    draws = random.Random(f"musts-{seed}")
    return lambda goal: population.with_musts(draws, goal) if draws.random() < share else goal


if __name__ == "__main__":
    run(parse())

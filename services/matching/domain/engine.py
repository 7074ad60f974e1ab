"""The incremental ranking engine for one tenant (pure: no I/O, no clocks).

What each change recomputes:
- a mentee's goal or profile: that mentee against the mentors holding a goal skill, then
  only the lists the mentee enters or leaves;
- a mentor's profile, seats or opt-in (`refresh_mentor`): that mentor against the mentees whose
  goals name one of its skills (inverted index), per partition, and only the mentees whose
  shown lists changed are re-ranked;
- an exclusion (accept / decline): that pair's list entry.
A mentee's ranking is MMR over the mentors whose shown part includes them; the engine reports
which rankings changed so that proposals go out only on real changes.
"""

from __future__ import annotations

import bisect
import itertools
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from services.matching.domain import kernels
from services.matching.domain.batch import Population
from services.matching.domain.constraints import (
    EngineConfig,
    exposure_budget,
    free_seats,
    kept_length,
    open_to_mentees,
    partition_share,
)
from services.matching.domain.criteria import (
    PairScore,
    active_weights,
    function_targets,
    industry_targets,
    score_pair,
    weight_total,
)
from services.matching.domain.memberships import Memberships
from services.matching.domain.mentor_lists import Entry, MentorList
from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.postings import Postings, Reach
from services.matching.domain.pruning import Contenders, best_mentees, mentors_reaching
from services.matching.domain.tables import (
    KINDS,
    IntArray,
    MenteeRow,
    MenteeTable,
    MentorTable,
    Vocabulary,
)

ListKey = tuple[str, int]  # (mentor id, partition)


class Floors:
    """Per (partition, mentor slot): the lowest score that can still enter the mentor's list.

    A goal's search reads one partition's floor of every mentor: a row each, contiguous."""

    def __init__(self, partitions: int) -> None:
        self.values = np.full((partitions, 256), 2.0)
        self.closed = np.zeros((partitions, 256), np.bool_)  # full, and believed complete

    def ensure(self, capacity: int) -> None:
        if capacity > self.values.shape[1]:
            grown = np.full((self.values.shape[0], capacity), 2.0)
            grown[:, : self.values.shape[1]] = self.values
            self.values = grown
            closed = np.zeros(grown.shape, np.bool_)
            closed[:, : self.closed.shape[1]] = self.closed
            self.closed = closed

    def set(self, slot: int, partition: int, value: float, closed: bool = False) -> None:
        self.values[partition, slot] = value
        self.closed[partition, slot] = closed


class Ranked(NamedTuple):
    """One mentor of a ranking. A named tuple rather than a frozen dataclass: a re-rank builds
    and compares a ranking's five in about half the time (4 µs against 7.5 µs), and the
    slowest GoalSets re-rank 20-40 mentees."""

    mentor_id: str
    score: float


PoolEntry = tuple[float, int, str]  # (-score, the mentor's tiebreak, mentor id): sorts best first
RERANKS_PER_CALL = 512  # mentees whose pools are held at once (a restore re-ranks all of them)


@dataclass
class Changes:
    rankings: set[str] = field(default_factory=set)  # mentee ids whose ranking changed
    lists: set[ListKey] = field(default_factory=set)  # mentor lists to persist


class TenantEngine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        vocab = {kind: Vocabulary() for kind in KINDS}
        self.person_ids = Vocabulary()
        self.mentors = MentorTable(vocab)
        self.mentees = MenteeTable(vocab)
        self.postings = Postings()
        self.profiles: dict[str, Person] = {}  # owned mentees' profiles (and parked ones)
        self.goals: dict[str, Goal] = {}
        self.partition_of: dict[str, int] = {}
        self.accepted: dict[str, int] = {}
        self.excluded: dict[str, set[str]] = defaultdict(set)
        self.excluded_by_mentor: dict[str, dict[str, int]] = defaultdict(dict)  # -> partition
        self.lists: dict[ListKey, MentorList] = {}
        self.floors = Floors(config.partitions)
        self.member_of = Memberships()  # mentee slot -> ids of the mentors listing it
        self.allowed: dict[int, dict[str, float]] = defaultdict(dict)  # mentee slot -> shown by
        self.rankings: dict[str, tuple[Ranked, ...]] = {}
        self.pool_floor: dict[int, float] = {}
        self._dirty: set[int] = set()
        self._changes = Changes()

    # ----------------------------------------------------------------- people and goals
    def put_mentor_data(self, person: Person) -> None:
        """Mentor-side data only; lists follow with refresh_mentor (per partition)."""
        self._touch_mentees_of(person.user_id)
        if person.is_mentor:
            slot = self.mentors.put(
                person,
                self.person_ids.id(person.user_id),
                self._manager_id(person),
                open_to_mentees(person, self.accepted.get(person.user_id, 0)),
            )
            self.floors.ensure(self.mentors.slots.capacity)
            for partition in range(self.config.partitions):
                self._set_floor(person.user_id, partition)
            del slot
        else:
            self.mentors.remove(person.user_id)

    def put_mentee(self, person: Person, partition: int) -> None:
        self.profiles[person.user_id] = person
        self.partition_of[person.user_id] = partition
        self._refresh_mentee(person.user_id)

    def put_goal(self, goal: Goal, partition: int) -> None:
        self.goals[goal.mentee_id] = goal
        self.partition_of[goal.mentee_id] = partition
        self._refresh_mentee(goal.mentee_id)

    def forget(self, user_id: str) -> None:
        """Erase a person from this engine (mentor side needs refresh_mentor afterwards)."""
        self.profiles.pop(user_id, None)
        self.goals.pop(user_id, None)
        self.accepted.pop(user_id, None)
        for mentor_id in self.excluded.pop(user_id, set()):
            self.excluded_by_mentor[mentor_id].pop(user_id, None)
        for mentee_id in self.excluded_by_mentor.pop(user_id, set()):
            self.excluded[mentee_id].discard(user_id)
        self._refresh_mentee(user_id)
        self.partition_of.pop(user_id, None)
        self._touch_mentees_of(user_id)
        self.mentors.remove(user_id)
        self._rerank_dirty()

    def drop_mentor(self, mentor_id: str) -> None:
        """The mentor is gone; its lists empty with refresh_mentor (per partition)."""
        self._touch_mentees_of(mentor_id)
        self.mentors.remove(mentor_id)
        self.accepted.pop(mentor_id, None)

    def set_accepted(self, mentor_id: str, count: int) -> None:
        """Seats taken, as stored; lists follow with refresh_mentor."""
        self.accepted[mentor_id] = count
        slot = self.mentors.slots.slot_of.get(mentor_id)
        if slot is not None:
            person = self.mentors.people[slot]
            assert person is not None
            self.mentors.open[slot] = open_to_mentees(person, self.accepted[mentor_id])
            for partition in range(self.config.partitions):
                self._set_floor(mentor_id, partition)

    def exclude(self, mentee_id: str, mentor_id: str, partition: int) -> None:
        """Never propose this mentor to this mentee again (declined, or already accepted)."""
        if mentor_id in self.excluded[mentee_id]:
            return
        self.excluded[mentee_id].add(mentor_id)
        self.excluded_by_mentor[mentor_id][mentee_id] = partition
        mentee = self.mentees.slots.slot_of.get(mentee_id)
        if mentee is None:
            return
        key = (mentor_id, self.partition_of[mentee_id])
        mentor_list = self.lists.get(key)
        if mentor_list is not None and mentor_list.contains(mentee):
            self._unlink(mentee, mentor_id)
            self._remove_from_list(key, mentee)
        self._rerank_dirty()

    def reset_exclusions(self, mentor_id: str, partition: int, mentee_ids: Iterable[str]) -> None:
        """Make the mentor's exclusions in one partition those stored; refresh_mentor follows.

        Erasing a mentor purges its pairs in every partition at once, while a partition learns
        of it later, from the fan-out, possibly after the mentor came back: only the store
        knows which exclusions still hold.
        """
        held = self.excluded_by_mentor[mentor_id]
        stored = set(mentee_ids)
        for mentee_id in [m for m, p in held.items() if p == partition and m not in stored]:
            del held[mentee_id]
            self.excluded[mentee_id].discard(mentor_id)
        for mentee_id in stored:
            held[mentee_id] = partition
            self.excluded[mentee_id].add(mentor_id)

    # ----------------------------------------------------------------- mentor lists
    def refresh_mentor(self, mentor_id: str, partitions: Iterable[int]) -> None:
        """Recompute the mentor's lists in these partitions from scratch (one bounded pass)."""
        self._rebuild_lists(mentor_id, sorted(set(partitions)))
        self._rerank_dirty()

    def _rebuild_lists(self, mentor_id: str, partitions: list[int]) -> None:
        mentor = self.mentor(mentor_id)
        shares = {p: 0 if mentor is None else self._share(mentor, p) for p in partitions}
        best = self._best_mentees(mentor, shares) if mentor is not None else {}
        for partition, share in shares.items():
            fresh = MentorList(share)
            found = best.get(partition)
            if found is not None and share > 0:
                fresh.entries, fresh.truncated = self._top(found, fresh.length)
            self._set_list((mentor_id, partition), fresh)

    def _best_mentees(self, mentor: Person, shares: dict[int, int]) -> dict[int, Contenders]:
        slot = self.mentors.slots.slot_of[mentor.user_id]
        if not self.mentors.open[slot] or not any(shares.values()):
            return {}
        candidates = self._candidates(mentor)
        if candidates[0].size == 0:
            return {}
        t = self.mentees
        excluded = self.excluded_by_mentor.get(mentor.user_id) or {}
        constraints = (
            self.person_ids.id(mentor.user_id),
            self._manager_id(mentor),
            np.array([t.slots.slot_of[m] for m in excluded if m in t.slots.slot_of], np.int64),
        )
        lengths = {p: kept_length(share) for p, share in shares.items()}
        split = (self.config.search_threads, self.config.min_search_part)
        return best_mentees(t, self.mentors, mentor, candidates, lengths, constraints, split)

    def _candidates(self, mentor: Person) -> Reach:
        """The mentees whose goal may name one of the mentor's skills, each with at least its
        goal's level sum in them."""
        skills = self.mentees.vocab["skills"]
        levels = [(skills.id(skill), level) for skill, level in mentor.skills.items()]
        return self.postings.reach(levels, self.mentees)

    def _top(self, found: Contenders, length: int) -> tuple[list[Entry], bool]:
        slots, totals = found.slots, found.totals
        if slots.size > length:
            threshold = np.partition(totals, slots.size - length)[slots.size - length]
            near = totals >= threshold
            slots, totals = slots[near], totals[near]
        names = self.mentees.slots.user_ids
        entries = sorted(
            (-score, tiebreak(names[s] or ""), s)
            for s, score in zip(slots.tolist(), totals.tolist(), strict=True)
        )
        return entries[:length], found.eligible > length

    def _share(self, mentor: Person, partition: int) -> int:
        seats = free_seats(mentor, self.accepted.get(mentor.user_id, 0))
        budget = exposure_budget(seats, self.config) if mentor.is_mentor and mentor.opted_in else 0
        return partition_share(budget, partition, mentor.user_id, self.config.partitions)

    def _set_list(self, key: ListKey, fresh: MentorList) -> None:
        old = self.lists.get(key)
        old_shown = {e[2]: -e[0] for e in old.shown()} if old else {}
        old_members = {e[2] for e in old.entries} if old else set()
        if fresh.entries or fresh.truncated:
            self.lists[key] = fresh
        else:
            self.lists.pop(key, None)
        mentor_id, partition = key
        new_members = {e[2] for e in fresh.entries}
        for mentee in old_members - new_members:
            self._unlink(mentee, mentor_id)
        for mentee in new_members - old_members:
            self.member_of.add(mentee, mentor_id)
        self._update_allowed(mentor_id, old_shown, {e[2]: -e[0] for e in fresh.shown()})
        self._set_floor(mentor_id, partition)
        if old is not None or key in self.lists:
            self._changes.lists.add(key)

    def _set_floor(self, mentor_id: str, partition: int) -> None:
        slot = self.mentors.slots.slot_of.get(mentor_id)
        if slot is None:
            return
        mentor_list = self.lists.get((mentor_id, partition))
        if mentor_list is not None:
            closed = not mentor_list.truncated and len(mentor_list.entries) >= mentor_list.length
            self.floors.set(slot, partition, mentor_list.floor(), closed)
        else:
            mentor = self.mentors.people[slot]
            assert mentor is not None
            self.floors.set(slot, partition, -1.0 if self._share(mentor, partition) > 0 else 2.0)

    def _remove_from_list(self, key: ListKey, mentee: int) -> None:
        """Take a mentee out of a mentor list in place: the first of the reserve moves up into
        the shown part. (Copying the list and comparing before and after, as a recomputed
        list needs, cost a goal of a mentee in a hundred lists a few milliseconds.)"""
        mentor_id, partition = key
        mentor_list = self.lists.get(key)
        entries = mentor_list.entries if mentor_list is not None else []
        index = next((i for i, entry in enumerate(entries) if entry[2] == mentee), None)
        if mentor_list is None or index is None:
            self._set_floor(mentor_id, partition)
            return
        if mentor_list.truncated and len(entries) <= mentor_list.share:
            self._rebuild_lists(mentor_id, [partition])  # the reserve is spent: search again
            return
        removed, share = entries.pop(index), mentor_list.share
        if index < share:
            self._disallow(mentee, mentor_id)
            self._note_allowed_changed(mentee, -removed[0])
            if len(entries) >= share:
                moved_up = entries[share - 1]
                self.allowed[moved_up[2]][mentor_id] = -moved_up[0]
                self._note_allowed_changed(moved_up[2], -moved_up[0])
        if not entries and not mentor_list.truncated:
            del self.lists[key]
        self._set_floor(mentor_id, partition)
        self._changes.lists.add(key)

    def _touch_mentees_of(self, mentor_id: str) -> None:
        """Rankings skip mentors not in the table and weigh their data (diversity): a mentor
        arriving, changing or leaving re-ranks the mentees its lists show, even when the
        lists themselves come out the same."""
        for partition in range(self.config.partitions):
            mentor_list = self.lists.get((mentor_id, partition))
            if mentor_list is not None:
                self._dirty.update(entry[2] for entry in mentor_list.shown())

    def _update_allowed(self, mentor_id: str, old: dict[int, float], new: dict[int, float]) -> None:
        for mentee in old.keys() - new.keys():
            self._disallow(mentee, mentor_id)
            self._note_allowed_changed(mentee, old[mentee])
        for mentee, score in new.items():
            before = old.get(mentee)
            if before == score:
                continue
            self.allowed[mentee][mentor_id] = score
            self._note_allowed_changed(mentee, score if before is None else max(score, before))

    def _unlink(self, mentee: int, mentor_id: str) -> None:
        self.member_of.discard(mentee, mentor_id)

    def _disallow(self, mentee: int, mentor_id: str) -> float | None:
        shown_by = self.allowed.get(mentee)
        if shown_by is None:
            return None
        score = shown_by.pop(mentor_id, None)
        if shown_by:
            self.allowed[mentee] = _compacted(shown_by)
        else:
            del self.allowed[mentee]
        return score

    def _note_allowed_changed(self, mentee: int, score: float) -> None:
        """A mentor at `score` joined or left the mentee's allowed set: re-rank the mentee only
        if that reaches its candidate pool. Below the pool's last score (with the pool full) it
        changes neither the pool nor the ranking drawn from it."""
        if score >= self.pool_floor.get(mentee, -1.0):
            self._dirty.add(mentee)

    # ----------------------------------------------------------------- mentees
    def _refresh_mentee(self, mentee_id: str) -> None:
        t = self.mentees
        slot = t.slots.slot_of.get(mentee_id)
        if slot is not None:
            t.clear(slot)  # first, so that a list recomputed below no longer sees the old data
            partition = int(t.partition[slot])
            for mentor_id in sorted(self.member_of.pop(slot)):
                self._remove_from_list((mentor_id, partition), slot)
        person, goal = self.profiles.get(mentee_id), self.goals.get(mentee_id)
        if person is None or goal is None or not person.is_mentee:
            if slot is not None:
                self._release_mentee(mentee_id, slot)
            self._rerank_dirty()
            return
        slot = t.slot(mentee_id)
        t.fill([self._mentee_row(slot, person, goal, self.partition_of[mentee_id])])
        self.postings.add(slot, t.goal_skills[slot], t)
        self._offer_mentee(slot, mentee_id)
        self._dirty.add(slot)
        self._rerank_dirty()

    def _mentee_row(self, slot: int, person: Person, goal: Goal, partition: int) -> MenteeRow:
        weights = active_weights(goal, person)
        return MenteeRow(
            slot,
            person,
            goal,
            partition,
            self.person_ids.id(person.user_id),
            self._manager_id(person),
            weights,
            weight_total(weights),
            (industry_targets(goal, person), function_targets(goal, person)),
        )

    def _release_mentee(self, mentee_id: str, slot: int) -> None:
        self.allowed.pop(slot, None)
        self.pool_floor.pop(slot, None)
        self._dirty.discard(slot)
        self.mentees.slots.release(mentee_id)
        if self.rankings.pop(mentee_id, None):
            self._changes.rankings.add(mentee_id)

    def _offer_mentee(self, slot: int, mentee_id: str) -> None:
        t, m = self.mentees, self.mentors
        excluded = self.excluded.get(mentee_id) or ()
        partition = int(t.partition[slot])
        # In one part: since the bound pass (kernels._within_reach) a goal's search is short,
        # and handing half to a helper thread made it slower, above all in the tail.
        found = mentors_reaching(
            t,
            m,
            slot,
            (
                int(t.uid[slot]),
                int(t.manager[slot]),
                np.array([m.slots.slot_of[x] for x in excluded if x in m.slots.slot_of], np.int64),
            ),
            (self.floors.values[partition], self.floors.closed[partition]),
        )
        self._note_left_out(found.left_out, partition)
        own_key = tiebreak(mentee_id)
        for mentor_slot, score in zip(found.slots.tolist(), found.totals.tolist(), strict=True):
            self._insert(mentor_slot, partition, (-score, own_key, slot))

    def _insert(self, mentor_slot: int, partition: int, entry: Entry) -> None:
        """Offer one mentee to one mentor list, in place (the hot path of a goal or profile)."""
        mentor_id = self.mentors.slots.user_ids[mentor_slot] or ""
        key = (mentor_id, partition)
        mentor_list = self.lists.get(key)
        if mentor_list is None:
            person = self.mentors.people[mentor_slot]
            assert person is not None
            mentor_list = self.lists[key] = MentorList(self._share(person, partition))
        if not mentor_list.share:
            return
        entries = mentor_list.entries
        if mentor_list.truncated and (not entries or entry >= entries[-1]):
            return
        position = bisect.bisect_left(entries, entry)
        entries.insert(position, entry)
        mentee = entry[2]
        self.member_of.add(mentee, mentor_id)
        if position < mentor_list.share:
            self.allowed[mentee][mentor_id] = -entry[0]
            self._note_allowed_changed(mentee, -entry[0])
            if len(entries) > mentor_list.share:
                pushed = entries[mentor_list.share][2]  # was shown, now in the reserve
                lost = self._disallow(pushed, mentor_id)
                if lost is not None:
                    self._note_allowed_changed(pushed, lost)
        if len(entries) > mentor_list.length:
            mentor_list.truncated = True
            self._unlink(entries.pop()[2], mentor_id)
        closed = not mentor_list.truncated and len(entries) >= mentor_list.length
        self.floors.set(mentor_slot, partition, mentor_list.floor(), closed)
        self._changes.lists.add(key)

    def _note_left_out(self, mentor_slots: IntArray, partition: int) -> None:
        """Full lists that a candidate did not enter now have candidates beyond them."""
        for slot in mentor_slots.tolist():
            key = (self.mentors.slots.user_ids[slot] or "", partition)
            self.lists[key].truncated = True
            self.floors.closed[partition, slot] = False
            self._changes.lists.add(key)

    # ----------------------------------------------------------------- rankings
    def _rerank_dirty(self) -> None:
        """Re-rank every mentee marked dirty, RERANKS_PER_CALL at a time: one compiled MMR call
        for each batch, as one call per mentee cost more to enter than to run."""
        while self._dirty:
            batch = [self._dirty.pop() for _ in range(min(len(self._dirty), RERANKS_PER_CALL))]
            self._rerank(batch)

    def _rerank(self, slots: list[int]) -> None:
        size = self.config.pool_factor * self.config.top_k
        names, ranked = self.mentees.slots.user_ids, self.mentees.ranked
        mentees, pools = [], []
        for slot in slots:
            mentee_id = names[slot]
            if mentee_id is None or not ranked[slot]:
                continue
            pool = self._pool(slot, size)
            if len(pool) == size:
                self.pool_floor[slot] = -pool[-1][0]
            else:
                self.pool_floor.pop(slot, None)  # -1.0, by default: any score enters the pool
            mentees.append(mentee_id)
            pools.append(pool)
        rankings, changed = self.rankings, self._changes.rankings
        for mentee_id, picked in zip(mentees, self._diversified(pools), strict=True):
            before = rankings.get(mentee_id, ())
            if picked == before:  # as plain pairs (a third of the re-ranks change nothing)
                continue
            changed.add(mentee_id)
            if picked:
                rankings[mentee_id] = tuple(itertools.starmap(Ranked, picked))
            else:
                del rankings[mentee_id]

    def _pool(self, slot: int, size: int) -> list[PoolEntry]:
        """The mentee's best `size` shown-by mentors still in the table, as sorted entries."""
        shown_by = self.allowed.get(slot, {})
        known = self.mentors.tiebreaks  # and their tiebreaks, computed once per mentor
        if len(shown_by) > 4 * size:
            # A mentee near the top of many lists is shown by a hundred mentors or more: find
            # the size-th best score in C first, then build entries only for those above it.
            bar = sorted(shown_by.values(), reverse=True)[size - 1]
            above = [(m, score) for m, score in shown_by.items() if score >= bar]
            if all(m in known for m, _ in above):
                return sorted((-score, known[m], m) for m, score in above)[:size]
        entries = [(-score, known[m], m) for m, score in shown_by.items() if m in known]
        entries.sort()  # a few dozen at most here: a sort is faster than heapq.nsmallest
        return entries[:size]

    def _diversified(self, pools: list[list[PoolEntry]]) -> list[tuple[tuple[str, float], ...]]:
        """MMR over each pool (in relevance order), compiled: kernels.diversified_each. Each
        ranking as (mentor id, score) pairs, equal to Ranked tuples of the same values."""
        entries = [entry for pool in pools for entry in pool]
        if not entries:
            return [() for _ in pools]
        known, traits = self.mentors.slots.slot_of, self.mentors.traits
        picks = kernels.diversified_each(
            np.array([-negated for negated, _, _ in entries]),
            np.array([known[mentor_id] for _, _, mentor_id in entries], np.int64),
            np.array([0, *itertools.accumulate(map(len, pools))], np.int64),  # np.cumsum: slower
            traits.rows,
            traits.skill_words,
            self.config.top_k,
            self.config.diversity,
        )
        return [
            tuple([(pool[i][2], -pool[i][0]) for i in row if i >= 0])
            for pool, row in zip(pools, picks.tolist(), strict=True)
        ]

    # ----------------------------------------------------------------- queries
    def drain(self) -> Changes:
        changes, self._changes = self._changes, Changes()
        return changes

    def ranking(self, mentee_id: str) -> tuple[Ranked, ...]:
        return self.rankings.get(mentee_id, ())

    def ranking_ids(self) -> dict[str, tuple[str, ...]]:
        return {
            mentee_id: tuple(r.mentor_id for r in self.rankings.get(mentee_id, ()))
            for mentee_id in self.mentees.slots.slot_of
            if self.mentees.ranked[self.mentees.slots.slot_of[mentee_id]]
        }

    def explain(self, mentee_id: str, mentor_id: str) -> tuple[PairScore, Goal, Person, Person]:
        mentor = self.mentors.people[self.mentors.slots.slot_of[mentor_id]]
        assert mentor is not None
        goal, mentee = self.goals[mentee_id], self.profiles[mentee_id]
        return score_pair(goal, mentee, mentor), goal, mentee, mentor

    def mentor(self, mentor_id: str) -> Person | None:
        slot = self.mentors.slots.slot_of.get(mentor_id)
        return None if slot is None else self.mentors.people[slot]

    def list_entries(self, mentor_id: str, partition: int) -> tuple[list[tuple[str, float]], bool]:
        mentor_list = self.lists.get((mentor_id, partition))
        if mentor_list is None:
            return [], False
        names = self.mentees.slots.user_ids
        return [(names[e[2]] or "", -e[0]) for e in mentor_list.entries], mentor_list.truncated

    def _manager_id(self, person: Person) -> int:
        return self.person_ids.id(person.manager_id) if person.manager_id else -9


class Restorer:
    """Rebuilds an engine from stored state without re-scoring: lists come back as saved.

    Fed in this order: mentors, people, goals, exclusions, lists, proposals, then finish(). Each
    list is applied as it arrives (holding them all until the end took hundreds of MB at
    500,000 mentees), so the mentees' table rows are complete before the first one.
    """

    ROWS_PER_WRITE = 10_000  # mentees written to the table at once

    def __init__(self, engine: TenantEngine) -> None:
        self.engine = engine
        self._proposed: dict[str, set[str]] = {}
        self._rows: list[MenteeRow] = []  # table rows not yet written
        self._goals_started = False
        self._mentees_done = False

    def mentor(self, person: Person, accepted: int) -> None:
        self.engine.accepted[person.user_id] = accepted
        self.engine.put_mentor_data(person)

    def person(self, person: Person, partition: int) -> None:
        """A stored profile; fed before any goal."""
        assert not self._goals_started, "people come before goals"
        self.engine.partition_of[person.user_id] = partition
        self.engine.profiles[person.user_id] = person

    def goal(self, goal: Goal, partition: int) -> None:
        """A stored goal: with its mentee's profile (restored before it), a row of the table."""
        self._goals_started = True
        assert not self._mentees_done, "goals come before lists"
        e = self.engine
        mentee_id = goal.mentee_id
        partition = max(partition, e.partition_of.get(mentee_id, partition))
        e.partition_of[mentee_id] = partition
        e.goals[mentee_id] = goal
        person = e.profiles.get(mentee_id)
        if person is None or not person.is_mentee:
            return
        self._rows.append(e._mentee_row(e.mentees.slot(mentee_id), person, goal, partition))
        if len(self._rows) >= self.ROWS_PER_WRITE:
            self._write_rows()

    def _write_rows(self) -> None:
        self.engine.mentees.fill(self._rows)
        self._rows = []

    def exclusion(self, mentee_id: str, mentor_id: str, partition: int) -> None:
        self.engine.excluded[mentee_id].add(mentor_id)
        self.engine.excluded_by_mentor[mentor_id][mentee_id] = partition

    def _finish_mentees(self) -> None:
        if not self._mentees_done:
            self._write_rows()
            self.engine.postings.rebuild(self.engine.mentees)
            self._mentees_done = True

    def mentor_list(
        self, mentor_id: str, partition: int, entries: list[tuple[str, float]], truncated: bool
    ) -> None:
        self._finish_mentees()
        e = self.engine
        mentor = e.mentor(mentor_id)
        if mentor is None:
            return
        slots = e.mentees.slots.slot_of
        restored = MentorList(e._share(mentor, partition), truncated=truncated)
        restored.entries = sorted(
            (-score, tiebreak(mentee_id), slots[mentee_id])
            for mentee_id, score in entries
            if mentee_id in slots and e.mentees.ranked[slots[mentee_id]]
        )[: restored.length]
        if restored.truncated and len(restored.entries) < restored.share:
            e.refresh_mentor(mentor_id, [partition])
        else:
            e._set_list((mentor_id, partition), restored)

    def proposal(self, mentee_id: str, mentor_ids: Iterable[str]) -> None:
        """The mentee's last proposal, as stored."""
        self._proposed[mentee_id] = set(mentor_ids)

    def finish(self) -> TenantEngine:
        """The engine, with the mentees whose restored ranking differs from their stored
        proposal left as changed rankings, to be proposed with the next event.

        They can differ: a mentor's newest data is restored while the lists of a partition
        still wait for that mentor's fan-out event, and the list the fan-out recomputes may
        then equal the restored one, so no later change would correct the stored proposal.
        """
        e = self.engine
        self._finish_mentees()
        e._dirty.update(slot for slot, shown_by in e.allowed.items() if shown_by)  # others: none
        e._rerank_dirty()
        e.drain()
        for mentee_id in self._proposed.keys() | e.rankings.keys():
            ranked = {r.mentor_id for r in e.rankings.get(mentee_id, ())}
            if ranked != self._proposed.get(mentee_id, set()):
                e._changes.rankings.add(mentee_id)
        return e


def _compacted(shown_by: dict[str, float]) -> dict[str, float]:
    """The same, in a table sized for what it holds: Python dicts never shrink, and a mentee
    that was briefly shown by thousands of mentors (early in a build, when lists are short)
    would otherwise keep a table that large for good."""
    if sys.getsizeof(shown_by) > 1024 + 256 * len(shown_by):
        return dict(shown_by)
    return shown_by


def population(engine: TenantEngine) -> Population:
    """The engine's inputs, for a from-scratch batch recompute to compare against."""
    people = {p.user_id: p for p in engine.mentors.people if p is not None}
    people.update(engine.profiles)
    return Population(
        people=people,
        goals=dict(engine.goals),
        accepted=dict(engine.accepted),
        excluded={(x, m) for x, mentors in engine.excluded.items() for m in mentors},
    )

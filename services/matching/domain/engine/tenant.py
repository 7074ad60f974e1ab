"""The incremental ranking engine for one tenant (pure: no I/O, no clocks).

What each change recomputes:
- a mentee's goal or profile: that mentee against the mentors holding a goal skill, then
  only the lists the mentee enters or leaves;
- a mentor's profile, seats or opt-in (`refresh_mentor`): that mentor against the mentees whose
  goals name one of its skills, per partition, and only the mentees whose shown lists changed
  are re-ranked;
- an exclusion (accept / decline): that pair's list entry.
A mentee's ranking is MMR over the mentors whose shown part includes them; the engine reports
which rankings changed so that proposals go out only on real changes.

The engine is four parts, each keeping its own invariants (check_invariants): the roster
(people, goals, seats, exclusions), the search index (how candidates are found fast), the
mentor lists (with their floors, memberships and shown-by), and the rankings (with their
pools and dirtiness).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from services.matching.domain.batch import Population
from services.matching.domain.constraints import (
    EngineConfig,
    exposure_budget,
    free_seats,
    kept_length,
    open_to_mentees,
)
from services.matching.domain.criteria import PairScore, score_pair
from services.matching.domain.engine.lists import ListKey, MentorLists, keep_within_cutoff
from services.matching.domain.engine.rankings import Ranked, Rankings
from services.matching.domain.engine.roster import Roster
from services.matching.domain.mentor_lists import Entry, MentorList, stored_best
from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.search import Contenders, PartRunner, SearchIndex, in_order


@dataclass
class Changes:
    rankings: set[str] = field(default_factory=set)  # mentee ids whose ranking changed
    lists: set[ListKey] = field(default_factory=set)  # mentor lists to persist
    exposure: set[str] = field(default_factory=set)  # mentors whose best in a partition changed


class TenantEngine:
    def __init__(self, config: EngineConfig, run: PartRunner = in_order) -> None:
        """`run` runs the parts of a search split across config.search_threads."""
        self.config = config
        self.roster = Roster()
        self.search = SearchIndex((config.search_threads, config.min_search_part), run)
        self.rankings = Rankings(config, self.search)
        self.lists = MentorLists(config.partitions, self.search, self.budget, self.rankings.note)

    def run_searches_with(self, run: PartRunner) -> None:
        self.search.run = run

    # ----------------------------------------------------------------- people and goals
    def put_mentor_data(self, person: Person) -> None:
        """Mentor-side data only; lists follow with refresh_mentor (per partition)."""
        self._touch_mentees_of(person.user_id)
        if person.is_mentor:
            accepted = self.roster.accepted.get(person.user_id, 0)
            self.search.put_mentor(person, open_to_mentees(person, accepted))
            self.lists.fit_floors()
            for partition in range(self.config.partitions):
                self.lists.set_floor(person.user_id, partition)
        else:
            self.search.remove_mentor(person.user_id)
        self.lists.reshare(person.user_id)  # the budget may have changed

    def put_mentee(self, person: Person, partition: int) -> None:
        self.roster.profiles[person.user_id] = person
        self.roster.partition_of[person.user_id] = partition
        self._refresh_mentee(person.user_id)

    def put_goal(self, goal: Goal, partition: int) -> None:
        self.roster.goals[goal.mentee_id] = goal
        self.roster.partition_of[goal.mentee_id] = partition
        self._refresh_mentee(goal.mentee_id)

    def drop_goal(self, mentee_id: str) -> None:
        """The mentee's goal closed: their ranking is dropped (nothing is proposed for it)."""
        if self.roster.goals.pop(mentee_id, None) is not None:
            self._refresh_mentee(mentee_id)

    def forget(self, user_id: str) -> None:
        """Erase a person from this engine (mentor side needs refresh_mentor afterwards)."""
        self.roster.forget(user_id)
        self._refresh_mentee(user_id)
        self.roster.partition_of.pop(user_id, None)
        self._touch_mentees_of(user_id)
        self.search.remove_mentor(user_id)
        self.lists.reshare(user_id)
        self._rerank_dirty()

    def drop_mentor(self, mentor_id: str) -> None:
        """The mentor is gone; its lists empty with refresh_mentor (per partition)."""
        self._touch_mentees_of(mentor_id)
        self.search.remove_mentor(mentor_id)
        self.roster.accepted.pop(mentor_id, None)
        self.lists.reshare(mentor_id)

    def set_accepted(self, mentor_id: str, count: int) -> None:
        """Seats taken, from the mentor's stored profile; lists follow with refresh_mentor."""
        self.roster.accepted[mentor_id] = count
        mentor = self.search.mentor(mentor_id)
        if mentor is not None:
            self.search.set_open(mentor_id, open_to_mentees(mentor, count))
            for partition in range(self.config.partitions):
                self.lists.set_floor(mentor_id, partition)
            self.lists.reshare(mentor_id)

    def exclude(self, mentee_id: str, mentor_id: str, partition: int) -> None:
        """Do not propose this mentor to this mentee (see domain/relationships.py)."""
        if not self.roster.exclude(mentee_id, mentor_id, partition):
            return
        mentee = self.search.mentee_slot(mentee_id)
        if mentee is None:
            return
        key = (mentor_id, self.roster.partition_of[mentee_id])
        mentor_list = self.lists.get(key)
        if mentor_list is not None and mentor_list.contains(mentee):
            self.lists.remove(key, mentee)
        self._rerank_dirty()

    def set_blocks(
        self, mentee_id: str, partition: int, excluded: Iterable[str], paused: bool
    ) -> None:
        """The mentee's exclusions and whether their goal waits, as the store's relationships
        and answers give them now (domain/relationships.blocks); the mentee is re-ranked if
        either changed."""
        changed = self.roster.set_excluded(mentee_id, excluded, partition)
        if paused != (mentee_id in self.roster.paused):
            changed = True
            if paused:
                self.roster.paused.add(mentee_id)
            else:
                self.roster.paused.discard(mentee_id)
        if changed:
            self._refresh_mentee(mentee_id)

    def reset_exclusions(self, mentor_id: str, partition: int, mentee_ids: Iterable[str]) -> None:
        """Make the mentor's exclusions in one partition those stored; refresh_mentor follows.

        Erasing a mentor purges its pairs in every partition at once, while a partition learns
        of it later, from the fan-out, possibly after the mentor came back: only the store
        knows which exclusions still hold.
        """
        self.roster.reset_exclusions(mentor_id, partition, mentee_ids)

    # ----------------------------------------------------------------- mentor lists
    def refresh_mentor(self, mentor_id: str, partitions: Iterable[int]) -> None:
        """Recompute the mentor's lists in these partitions from scratch (one bounded pass)."""
        self._rebuild_lists(mentor_id, sorted(set(partitions)))
        self._rerank_dirty()

    def budget(self, mentor_id: str) -> int:
        """The mentor's tenant-wide exposure budget, from its free seats now (0: not in the
        table, or not open to mentees)."""
        mentor = self.search.mentor(mentor_id)
        if mentor is None or not mentor.is_mentor or not mentor.opted_in:
            return 0
        seats = free_seats(mentor, self.roster.accepted.get(mentor_id, 0))
        return exposure_budget(seats, self.config)

    def set_lists_elsewhere(
        self, mentor_id: str, stored: Mapping[int, list[tuple[str, float]]]
    ) -> None:
        """The mentor's lists in the partitions other instances own, as stored there: with the
        lists here, their best entries decide how many of this engine's entries the cap shows."""
        budget = self.budget(mentor_id)
        best = {p: stored_best(entries, budget) for p, entries in stored.items()}
        self.lists.set_remote(mentor_id, {p: keys for p, keys in best.items() if keys})
        self._rerank_dirty()

    def _rebuild_lists(self, mentor_id: str, partitions: list[int]) -> None:
        budget = self.budget(mentor_id)
        mentor = self.search.mentor(mentor_id)
        best: dict[int, Contenders] = {}
        if mentor is not None and budget > 0:
            lengths = dict.fromkeys(partitions, kept_length(budget))
            excluded = self.roster.excluded_by_mentor.get(mentor_id) or {}
            best = self.search.best_mentees(mentor, lengths, excluded)
        fresh = {partition: MentorList(budget) for partition in partitions}
        for partition, found in best.items():
            fresh[partition].entries, fresh[partition].truncated = self._top(
                found, kept_length(budget)
            )
        keep_within_cutoff(self.lists, mentor_id, fresh)
        for partition in partitions:
            self.lists.replace((mentor_id, partition), fresh[partition])
        for partition in partitions:  # now that the cutoff is known
            self.lists.trim((mentor_id, partition))

    def _top(self, found: Contenders, length: int) -> tuple[list[Entry], bool]:
        slots, totals = found.slots, found.totals
        if slots.size > length:
            threshold = np.partition(totals, slots.size - length)[slots.size - length]
            near = totals >= threshold
            slots, totals = slots[near], totals[near]
        entries = sorted(
            (-score, tiebreak(self.search.mentee_id(s)), s)
            for s, score in zip(slots.tolist(), totals.tolist(), strict=True)
        )
        return entries[:length], found.eligible > length

    def search_spent(self) -> None:
        """Search again each list whose every entry is shown while more lie beyond it: the
        mentor's cutoff moved down past what the list keeps (a mentee left, or the mentor's
        best elsewhere did). A list searched afresh keeps the whole budget, so it is not spent
        again, and each search only raises the cutoff: the loop ends."""
        while self.lists.spent:
            mentor_id, partition = self.lists.spent.pop()
            mentor_list = self.lists.get((mentor_id, partition))
            if mentor_list is not None and mentor_list.spent() and self.budget(mentor_id) > 0:
                self._rebuild_lists(mentor_id, [partition])

    def _touch_mentees_of(self, mentor_id: str) -> None:
        """Rankings skip mentors not in the table and weigh their data (diversity): a mentor
        arriving, changing or leaving re-ranks the mentees its lists show, even when the
        lists themselves come out the same."""
        self.rankings.mark(self.lists.shown_mentees(mentor_id))

    # ----------------------------------------------------------------- mentees
    def _refresh_mentee(self, mentee_id: str) -> None:
        slot = self.search.mentee_slot(mentee_id)
        if slot is not None:
            self.search.clear_mentee(slot)  # first: a list recomputed below no longer sees it
            partition = self.search.mentee_partition(slot)
            for mentor_id in self.lists.leave(slot):
                self.lists.remove((mentor_id, partition), slot)
        person, goal = self.roster.profiles.get(mentee_id), self.roster.goals.get(mentee_id)
        waits = mentee_id in self.roster.paused
        if person is None or goal is None or not person.is_mentee or waits:
            if slot is not None:
                self.lists.release(slot)
                self.rankings.release(mentee_id, slot)
                self.search.release_mentee(mentee_id)
            self._rerank_dirty()
            return
        partition = self.roster.partition_of[mentee_id]
        slot = self.search.put_mentee(mentee_id, person, goal, partition)
        self._offer_mentee(slot, mentee_id)
        self.rankings.mark([slot])
        self._rerank_dirty()

    def _offer_mentee(self, slot: int, mentee_id: str) -> None:
        excluded = self.roster.excluded.get(mentee_id) or ()
        partition = self.search.mentee_partition(slot)
        found = self.search.mentors_reaching(slot, excluded, self.lists.floors_of(partition))
        self.lists.left_out(found.left_out, partition)
        own_key = tiebreak(mentee_id)
        for mentor_slot, score in zip(found.slots.tolist(), found.totals.tolist(), strict=True):
            self.lists.insert(mentor_slot, partition, (-score, own_key, slot))

    def _rerank_dirty(self) -> None:
        self.search_spent()
        self.rankings.rerank_dirty(self.lists.shown_by)

    # ----------------------------------------------------------------- queries
    def drain(self) -> Changes:
        changes = Changes(self.rankings.changed, self.lists.changed, self.lists.best_changed)
        self.rankings.changed, self.lists.changed, self.lists.best_changed = set(), set(), set()
        return changes

    def ranking(self, mentee_id: str) -> tuple[Ranked, ...]:
        return self.rankings.get(mentee_id)

    def ranking_ids(self) -> dict[str, tuple[str, ...]]:
        return {
            mentee_id: tuple(r.mentor_id for r in self.rankings.get(mentee_id))
            for mentee_id in self.search.ranked_mentee_ids()
        }

    def mentor(self, mentor_id: str) -> Person | None:
        return self.search.mentor(mentor_id)

    def list_entries(self, mentor_id: str, partition: int) -> tuple[list[tuple[str, float]], bool]:
        mentor_list = self.lists.get((mentor_id, partition))
        if mentor_list is None:
            return [], False
        entries = [(self.search.mentee_id(e[2]), -e[0]) for e in mentor_list.entries]
        return entries, mentor_list.truncated

    def check_invariants(self) -> None:
        """Each part's own invariants (for tests: this walks every list and ranking)."""
        self.roster.check_invariants()
        self.search.check_invariants()
        self.lists.check_invariants()
        self.rankings.check_invariants(self.lists.shown_by)


def explain(
    engine: TenantEngine, mentee_id: str, mentor_id: str
) -> tuple[PairScore, Goal, Person, Person]:
    """A ranked pair's score, with the goal and both people it was computed from."""
    mentor = engine.search.mentor(mentor_id)
    assert mentor is not None
    goal, mentee = engine.roster.goals[mentee_id], engine.roster.profiles[mentee_id]
    return score_pair(goal, mentee, mentor), goal, mentee, mentor


def waiting_goals(engine: TenantEngine) -> list[str]:
    """The waiting list: mentees whose goal is ranked (a mentee's profile, the goal not paused by
    an active relationship) but who have no mentor to propose. A suitable mentor joining, or
    freeing a seat, re-ranks them (refresh_mentor)."""
    roster = engine.roster
    return [
        mentee_id
        for mentee_id in roster.goals
        if (person := roster.profiles.get(mentee_id)) is not None
        and person.is_mentee
        and mentee_id not in roster.paused
        and not engine.ranking(mentee_id)
    ]


def population(engine: TenantEngine) -> Population:
    """The engine's inputs, for a from-scratch batch recompute to compare against."""
    roster = engine.roster
    people = {p.user_id: p for p in engine.search.mentor_people()}
    people.update(roster.profiles)
    return Population(
        people=people,
        goals=dict(roster.goals),
        accepted=dict(roster.accepted),
        excluded={(x, m) for x, mentors in roster.excluded.items() for m in mentors},
        elsewhere={
            mentor_id: [key for keys in best.values() for key in keys[: engine.budget(mentor_id)]]
            for mentor_id, best in engine.lists.remote.items()
        },
        paused=set(roster.paused),
    )

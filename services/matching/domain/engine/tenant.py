"""The incremental ranking engine for one tenant (pure: no I/O, no clocks).

The engine ranks seekers: each open goal of a mentee apart (domain/seekers.py), with the
mentee's profile shared by their goals. What each change recomputes:
- a goal: that seeker against the mentors holding a goal skill, then only the lists it enters
  or leaves; a mentee's profile: each of their goals so;
- a mentor's profile, seats or opt-in (`refresh_mentor`): that mentor against the mentees whose
  goals name one of its skills, per partition, and only the mentees whose shown lists changed
  are re-ranked;
- an exclusion (accept / decline): that pair's list entry.
A seeker's ranking is MMR over the mentors whose shown part includes it; the engine reports
which rankings changed so that proposals go out only on real changes.

The engine is four parts, each keeping its own invariants (check_invariants): the roster
(people, goals, seats, exclusions), the search index (how candidates are found fast), the
mentor lists (with their floors, memberships and shown-by), and the rankings (with their
pools and dirtiness).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from services.matching.domain.batch import Population
from services.matching.domain.constraints import (
    EngineConfig,
    exposure_budget,
    free_seats,
    open_to_mentees,
)
from services.matching.domain.criteria import PairScore, score_pair
from services.matching.domain.engine.hosts import walk_of
from services.matching.domain.engine.list_checks import check_lists
from services.matching.domain.engine.lists import MentorLists
from services.matching.domain.engine.rankings import Ranked, Rankings
from services.matching.domain.engine.records import ListKey
from services.matching.domain.engine.roster import Roster
from services.matching.domain.engine.searched import Searched, rebuild_lists
from services.matching.domain.mentor_lists import stored_best
from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.search import PartRunner, SearchIndex, in_order
from services.matching.domain.seekers import mentee_of, seeker_key


@dataclass
class Changes:
    rankings: set[str] = field(default_factory=set)  # seekers whose ranking changed
    lists: set[ListKey] = field(default_factory=set)  # mentor lists to persist
    exposure: set[str] = field(default_factory=set)  # mentors whose best in a partition changed
    reranked: set[str] = field(default_factory=set)  # seekers re-ranked (pools may have moved)


class TenantEngine:
    def __init__(self, config: EngineConfig, run: PartRunner = in_order) -> None:
        """`run` runs the parts of a search split across config.search_threads."""
        self.config = config
        self.roster = Roster()
        self.search = SearchIndex((config.search_threads, config.min_search_part), run)
        self.rankings = Rankings(config, self.search)  # with each mentor's host
        self.lists = MentorLists(
            config.partitions, self.search, self.budget, self.rankings.note, self.rankings.hosts
        )
        self.rankings.hosts.walk = partial(walk_of, self.lists)
        self.searched = Searched()  # mentor lists searched ahead of their partition's copy

    def run_searches_with(self, run: PartRunner) -> None:
        self.search.run = run

    # ----------------------------------------------------------------- people and goals
    def put_mentor_data(self, person: Person) -> None:
        """Mentor-side data only; lists follow with refresh_mentor (per partition)."""
        accepted = self.roster.accepted.get(person.user_id, 0)
        if held_as_is(self.search, person, accepted):  # a later partition's copy of a change
            return
        self.searched.forget(person.user_id)
        self._touch_mentees_of(person.user_id)
        if person.is_mentor:
            self.search.put_mentor(person, open_to_mentees(person, accepted))
            self.lists.fit_floors()
            for partition in range(self.config.partitions):
                self.lists.set_floor(person.user_id, partition)
        else:
            self.search.remove_mentor(person.user_id)
        self.lists.reshare(person.user_id)  # the budget may have changed

    def put_mentee(self, person: Person, partition: int) -> None:
        """The mentee's person: each of their open goals is ranked again."""
        self.roster.profiles[person.user_id] = person
        self.roster.partition_of[person.user_id] = partition
        for key in self.roster.seekers_of(person.user_id):
            self._refresh_seeker(key)

    def put_goal(self, goal: Goal, partition: int) -> str:
        """One open goal of the mentee (a newer version of it replaces it); its seeker key."""
        key = self.roster.put_goal(goal)
        self.roster.partition_of[goal.mentee_id] = partition
        self._refresh_seeker(key)
        return key

    def drop_goal(self, mentee_id: str, goal_id: str) -> None:
        """The goal closed: its ranking is dropped (nothing is proposed for it), not the others."""
        key = seeker_key(mentee_id, goal_id)
        if self.roster.drop_goal(key):
            self._refresh_seeker(key)

    def forget(self, user_id: str) -> None:
        """Erase a person from this engine (mentor side needs refresh_mentor afterwards)."""
        for key in self.roster.forget(user_id):
            self._refresh_seeker(key)
        self.roster.partition_of.pop(user_id, None)
        self.searched.forget(user_id)
        self._touch_mentees_of(user_id)
        self.search.remove_mentor(user_id)
        self.lists.reshare(user_id)
        self._rerank_dirty()

    def drop_mentor(self, mentor_id: str) -> None:
        """The mentor is gone; its lists empty with refresh_mentor (per partition)."""
        self.searched.forget(mentor_id)
        self._touch_mentees_of(mentor_id)
        self.search.remove_mentor(mentor_id)
        self.roster.accepted.pop(mentor_id, None)
        self.lists.reshare(mentor_id)

    def set_accepted(self, mentor_id: str, count: int) -> None:
        """Seats taken, from the mentor's stored profile; lists follow with refresh_mentor."""
        if self.roster.accepted.get(mentor_id) == count:  # floors and cutoff follow it already
            return
        self.roster.accepted[mentor_id] = count
        self.searched.forget(mentor_id)
        mentor = self.search.mentor(mentor_id)
        if mentor is not None:
            self.search.set_open(mentor_id, open_to_mentees(mentor, count))
            for partition in range(self.config.partitions):
                self.lists.set_floor(mentor_id, partition)
            self.lists.reshare(mentor_id)

    def exclude(self, mentee_id: str, mentor_id: str, partition: int) -> None:
        """Never propose this mentor to this mentee, for any goal ('Not for me' is per person)."""
        for key in self.roster.seekers_of(mentee_id):
            if not self.roster.exclude(key, mentor_id, partition):
                continue
            slot = self.search.mentee_slot(key)
            if slot is None:
                continue
            list_key = (mentor_id, self.roster.partition_of[mentee_id])
            mentor_list = self.lists.get(list_key)
            if mentor_list is not None and mentor_list.contains(slot):
                self.lists.remove(list_key, slot)
        self._rerank_dirty()

    def set_blocks(self, key: str, partition: int, excluded: Iterable[str], paused: bool) -> None:
        """One goal's exclusions and whether it waits, as the store gives them now
        (domain/relationships.blocks); re-ranked if either changed."""
        changed = self.roster.set_excluded(key, excluded, partition)
        if paused != (key in self.roster.paused):
            changed = True
            if paused:
                self.roster.paused.add(key)
            else:
                self.roster.paused.discard(key)
        if changed:
            self._refresh_seeker(key)

    def reset_exclusions(self, mentor_id: str, partition: int, keys: Iterable[str]) -> None:
        """Make the mentor's exclusions in one partition those stored (seekers); refresh_mentor
        follows.

        Erasing a mentor purges its pairs in every partition at once, while a partition learns
        of it later, from the fan-out, possibly after the mentor came back: only the store
        knows which exclusions still hold.
        """
        if self.roster.reset_exclusions(mentor_id, partition, keys):
            self.searched.forget(mentor_id, partition)

    # ----------------------------------------------------------------- mentor lists
    def refresh_mentor(self, mentor_id: str, partitions: Iterable[int]) -> None:
        """Recompute the mentor's lists in these partitions from scratch (one bounded pass),
        and in the others where it finds mentees, ahead of their copies of the change: a list
        searched ahead from the mentor's inputs as they still are is not searched again when
        its copy comes (engine/searched.py)."""
        wanted = sorted(set(partitions))
        stale = [p for p in wanted if not self.searched.take(self.lists, (mentor_id, p))]
        if stale:
            rebuild_lists(self, mentor_id, stale, ahead=True)
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

    def search_spent(self) -> None:
        """Search again each list whose every entry is shown while more lie beyond it: the
        mentor's cutoff moved down past what the list keeps (a mentee left, or the mentor's
        best elsewhere did). A list searched afresh keeps the whole budget, so it is not spent
        again, and each search only raises the cutoff: the loop ends."""
        while self.lists.spent:
            mentor_id, partition = self.lists.spent.pop()
            mentor_list = self.lists.get((mentor_id, partition))
            if mentor_list is not None and mentor_list.spent() and self.budget(mentor_id) > 0:
                rebuild_lists(self, mentor_id, [partition])

    def _touch_mentees_of(self, mentor_id: str) -> None:
        """Rankings skip mentors not in the table and weigh their data (diversity): a mentor
        arriving, changing or leaving re-ranks the mentees its lists show, even when the
        lists themselves come out the same."""
        self.rankings.mark(self.lists.shown_mentees(mentor_id))

    # ----------------------------------------------------------------- mentees
    def _refresh_seeker(self, key: str) -> None:
        """One goal of a mentee, against the mentors, from its person, goal and blocks now."""
        slot = self.search.mentee_slot(key)
        if slot is not None:
            self.search.clear_mentee(slot)  # first: a list recomputed below no longer sees it
            partition = self.search.mentee_partition(slot)
            for mentor_id in self.lists.leave(slot):
                self.lists.remove((mentor_id, partition), slot)
        mentee_id = mentee_of(key)
        person, goal = self.roster.profiles.get(mentee_id), self.roster.goals.get(key)
        if person is None or goal is None or not person.is_mentee or key in self.roster.paused:
            if slot is not None:
                self.lists.release(slot)
                self.rankings.release(key, slot)
                self.search.release_mentee(key)
            self._rerank_dirty()
            return
        if slot is None:  # ranked from now on: its first ranking is news, even an empty one
            self.rankings.changed.add(key)
        partition = self.roster.partition_of[mentee_id]
        slot = self.search.put_mentee(key, person, goal, partition)
        self._offer_seeker(slot, key)
        self.rankings.mark([slot])
        self._rerank_dirty()

    def _offer_seeker(self, slot: int, key: str) -> None:
        excluded = self.roster.excluded.get(key) or ()
        partition = self.search.mentee_partition(slot)
        found = self.search.mentors_reaching(slot, excluded, self.lists.floors_of(partition))
        self.lists.left_out(found.left_out, partition)
        own_key = tiebreak(key)
        for mentor_slot, score in zip(found.slots.tolist(), found.totals.tolist(), strict=True):
            self.lists.insert(mentor_slot, partition, (-score, own_key, slot))

    def _rerank_dirty(self) -> None:
        self.search_spent()
        self.rankings.rerank_dirty(self.lists.shown_by)

    # ----------------------------------------------------------------- queries
    def drain(self) -> Changes:
        r, lists = self.rankings, self.lists
        changes = Changes(r.changed, lists.changed, lists.notices.take(), r.reranked)
        r.changed, r.reranked, lists.changed = set(), set(), set()
        return changes

    def ranking(self, key: str) -> tuple[Ranked, ...]:
        """A seeker's ranking (domain/seekers.py: the mentee id, for the goal `default`)."""
        return self.rankings.get(key)

    def ranking_ids(self) -> dict[str, tuple[str, ...]]:
        """Every ranked seeker's mentor ids."""
        return {
            key: tuple(r.mentor_id for r in self.rankings.get(key))
            for key in self.search.ranked_mentee_ids()
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
        check_lists(self.lists)
        self.rankings.check_invariants(self.lists.shown_by)


def held_as_is(search: SearchIndex, person: Person, accepted: int) -> bool:
    """The mentor is in the table with this very data and openness: putting it again would
    change nothing (each partition's copy of one change brings the same)."""
    slot = search.mentor_slot(person.user_id)
    return (
        person.is_mentor
        and slot is not None
        and search.mentor(person.user_id) == person
        and bool(search.mentors.open[slot]) == open_to_mentees(person, accepted)
    )


def explain(
    engine: TenantEngine, key: str, mentor_id: str
) -> tuple[PairScore, Goal, Person, Person]:
    """A ranked pair's score (for one seeker), with the goal and both people it came from."""
    mentor = engine.search.mentor(mentor_id)
    assert mentor is not None
    goal, mentee = engine.roster.goals[key], engine.roster.profiles[mentee_of(key)]
    return score_pair(goal, mentee, mentor), goal, mentee, mentor


def is_open(engine: TenantEngine, key: str) -> bool:
    """The seeker is ranked: an open goal of a mentee, not waiting on an active relationship."""
    roster = engine.roster
    person = roster.profiles.get(mentee_of(key))
    return (
        key in roster.goals and person is not None and person.is_mentee and key not in roster.paused
    )


def waiting_goals(engine: TenantEngine) -> list[str]:
    """The waiting list: open goals (seekers) that are ranked but have no mentor to propose.
    A suitable mentor joining, or freeing a seat, re-ranks them (refresh_mentor)."""
    return [key for key in engine.roster.goals if is_open(engine, key) and not engine.ranking(key)]


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

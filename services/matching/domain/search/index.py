"""The one way into the fast search: a tenant's people as columns, and the searches over them.

The engine keeps what a match is (lists, rankings, people); this keeps how it is found fast:
interned ids, the mentor and mentee tables, the goal-skill postings, and the two bounded
searches (pruning.py) and the compiled MMR (diversity.diversified_each). Every total it returns
equals criteria.score_pair for that pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from services.matching.domain.criteria import (
    active_weights,
    function_targets,
    industry_targets,
    weight_total,
)
from services.matching.domain.musts import Must
from services.matching.domain.people import Goal, Person
from services.matching.domain.search import packed_rows
from services.matching.domain.search import pools as pooling
from services.matching.domain.search.diversity import diversified_each
from services.matching.domain.search.must_index import MustIndex
from services.matching.domain.search.pools import PoolEntry
from services.matching.domain.search.postings import Postings, Reach, Summed
from services.matching.domain.search.pruning import (
    Contenders,
    PartRunner,
    Reaching,
    best_mentees,
    in_order,
    mentors_reaching,
)
from services.matching.domain.search.slots import Vocabulary
from services.matching.domain.search.tables import (
    KINDS,
    BoolArray,
    FloatArray,
    MenteeRow,
    MenteeTable,
    MentorTable,
)


@dataclass
class SearchCount:
    """Mentor searches run, and the candidates they read between them."""

    searches: int = 0
    candidates: int = 0

    def add(self, candidates: int) -> None:
        self.searches += 1
        self.candidates += candidates


class SearchIndex:
    """The tenant's mentors and ranked mentees (a profile and a goal each), by slot."""

    def __init__(self, split: tuple[int, int] = (1, 1), run: PartRunner = in_order) -> None:
        vocab = {kind: Vocabulary() for kind in KINDS}
        self.person_ids = Vocabulary()
        self.mentors = MentorTable(vocab)
        self.mentees = MenteeTable(vocab)
        self.postings = Postings()
        self.musts = MustIndex()
        self.split = split  # a mentor's search: up to this many parts, of at least this many
        self.run = run
        self.mentor_searches = SearchCount()  # what the mentors' searches read (a benchmark's)

    # ----------------------------------------------------------------- mentors
    def put_mentor(self, person: Person, is_open: bool) -> int:
        uid = self.person_ids.id(person.user_id)
        return self.mentors.put(person, uid, self.manager_id(person), is_open)

    def remove_mentor(self, mentor_id: str) -> None:
        self.mentors.remove(mentor_id)

    def set_open(self, mentor_id: str, is_open: bool) -> bool:
        """Whether the mentor takes mentees now; False if it is not in the table."""
        slot = self.mentors.slots.slot_of.get(mentor_id)
        if slot is None:
            return False
        self.mentors.open[slot] = is_open
        return True

    def mentor(self, mentor_id: str) -> Person | None:
        slot = self.mentors.slots.slot_of.get(mentor_id)
        return None if slot is None else self.mentors.people[slot]

    def mentor_slot(self, mentor_id: str) -> int | None:
        return self.mentors.slots.slot_of.get(mentor_id)

    def mentor_at(self, slot: int) -> Person:
        person = self.mentors.people[slot]
        assert person is not None
        return person

    def mentor_capacity(self) -> int:
        return self.mentors.slots.capacity

    def mentor_people(self) -> Iterator[Person]:
        return (p for p in self.mentors.people if p is not None)

    # ----------------------------------------------------------------- mentees
    def mentee_slot(self, mentee_id: str) -> int | None:
        return self.mentees.slots.slot_of.get(mentee_id)

    def mentee_id(self, slot: int) -> str:
        return self.mentees.slots.user_ids[slot] or ""

    def mentee_partition(self, slot: int) -> int:
        return int(self.mentees.partition[slot])

    def is_ranked(self, slot: int) -> bool:
        return bool(self.mentees.ranked[slot])

    def ranked_mentee_ids(self) -> list[str]:
        ranked, slot_of = self.mentees.ranked, self.mentees.slots.slot_of
        return [mentee_id for mentee_id, slot in slot_of.items() if ranked[slot]]

    def mentee_row(self, mentee_id: str, person: Person, goal: Goal, partition: int) -> MenteeRow:
        """The row to write for the mentee (taking its slot)."""
        weights = active_weights(goal, person)
        return MenteeRow(
            self.mentees.slot(mentee_id),
            person,
            goal,
            partition,
            self.person_ids.id(person.user_id),
            self.manager_id(person),
            weights,
            weight_total(weights),
            (industry_targets(goal, person), function_targets(goal, person)),
        )

    def put_mentee(self, mentee_id: str, person: Person, goal: Goal, partition: int) -> int:
        row = self.mentee_row(mentee_id, person, goal, partition)
        self.mentees.fill([row])
        self.musts.put(row.slot, goal.musts)
        self.postings.add(row.slot, self.mentees.goal_skills[row.slot], self.mentees)
        return row.slot

    def fill(self, rows: Sequence[MenteeRow]) -> None:
        """Write many rows at once (a restore); rebuild_postings() follows."""
        self.mentees.fill(rows)
        for row in rows:
            self.musts.put(row.slot, row.goal.musts)

    def rebuild_postings(self) -> None:
        self.postings.rebuild(self.mentees)

    def clear_mentee(self, slot: int) -> None:
        """No longer ranked; searches skip the slot until it is written again."""
        self.mentees.clear(slot)
        self.musts.clear(slot)

    def release_mentee(self, mentee_id: str) -> None:
        self.mentees.slots.release(mentee_id)

    def manager_id(self, person: Person) -> int:
        return self.person_ids.id(person.manager_id) if person.manager_id else -9

    # ----------------------------------------------------------------- searches
    def candidates(self, mentor: Person) -> Reach:
        """The mentees whose goal may name one of the mentor's skills, each with at least its
        goal's level sum in them."""
        skills = self.mentees.vocab["skills"]
        levels = [(skills.id(skill), level) for skill, level in mentor.skills.items()]
        return self.postings.reach(levels, self.mentees)

    def level_sums(self, mentor: Person) -> Summed:
        """Per mentee slot, at least its goal's level sum in the mentor's skills (the postings'
        scratch: a mentor's search sets it back to 0)."""
        skills = self.mentees.vocab["skills"]
        levels = [(skills.id(skill), level) for skill, level in mentor.skills.items()]
        return self.postings.summed(levels, self.mentees)

    def best_mentees(
        self, mentor: Person, lengths: dict[int, int], excluded: Iterable[str]
    ) -> dict[int, Contenders]:
        """Per partition, the open mentor's best `lengths[p]` mentees (and possibly more), never
        one whose goal has a must the mentor lacks. Only the partitions with a length are read:
        a search of some partitions' lists (a list left spent) skips the others' candidates."""
        slot = self.mentors.slots.slot_of[mentor.user_id]
        if not self.mentors.open[slot] or not any(lengths.values()):
            return {}
        summed = self.level_sums(mentor)
        slot_of = self.mentees.slots.slot_of
        constraints = (
            self.person_ids.id(mentor.user_id),
            self.manager_id(mentor),
            np.array([slot_of[m] for m in excluded if m in slot_of], np.int64),
        )
        t, m, count = self.mentees, self.mentors, self.mentor_searches.add
        return best_mentees(t, m, mentor, summed, lengths, constraints, self.split, self.run, count)

    def mentors_reaching(
        self,
        slot: int,
        excluded: Iterable[str],
        floors: tuple[FloatArray, BoolArray],
        musts: tuple[Must, ...] | None = None,
    ) -> Reaching:
        """The mentors whose list in the mentee's partition the mentee reaches (floors), never
        one lacking a must of the mentee's goal (or of `musts`, when given)."""
        t, m = self.mentees, self.mentors
        slot_of = m.slots.slot_of
        ruled_out = np.array([slot_of[x] for x in excluded if x in slot_of], np.int64)
        musts = self.musts.of_slot.get(slot) if musts is None else musts
        meeting = self.musts.mentors_meeting(musts, m) if musts else None
        constraints = (int(t.uid[slot]), int(t.manager[slot]), ruled_out)
        return mentors_reaching(t, m, slot, constraints, floors, run=self.run, meeting=meeting)

    def eligible_mentors(
        self, slot: int, excluded: Iterable[str], musts: tuple[Must, ...]
    ) -> Reaching:
        """Every open mentor holding a goal skill that may meet the mentee and meets `musts`
        (instead of the goal's), exactly scored: what the mentee would get with those musts,
        before the exposure cap."""
        capacity = self.mentor_capacity()
        floors = (np.full(capacity, -1.0), np.zeros(capacity, np.bool_))
        return self.mentors_reaching(slot, excluded, floors, musts)

    def pool(self, shown_by: Mapping[str, float], size: int) -> list[PoolEntry]:
        """The mentee's pool (pools.pool): the mentors it picks from, best first."""
        return pooling.pool(self.mentors, shown_by, size)

    def diversified(
        self, pools: list[list[PoolEntry]], top_k: int, diversity: float
    ) -> list[tuple[tuple[str, float], ...]]:
        """MMR over each pool (in relevance order), compiled. Each ranking as (mentor id,
        score) pairs."""
        entries = [entry for pool in pools for entry in pool]
        if not entries:
            return [() for _ in pools]
        traits = self.mentors.traits
        picks = diversified_each(
            -np.array(list(map(itemgetter(0), entries)), np.float64),  # negated twice: exact
            np.array(list(map(itemgetter(3), entries)), np.int64),  # the slots (pools.py)
            np.array([0, *itertools.accumulate(map(len, pools))], np.int64),
            traits.rows,
            traits.skill_words,
            top_k,
            diversity,
        )
        return [
            tuple([(pool[i][2], -pool[i][0]) for i in row if i >= 0])
            for pool, row in zip(pools, picks.tolist(), strict=True)
        ]

    # ----------------------------------------------------------------- invariants
    def check_invariants(self) -> None:
        """The tables agree with themselves: what a search reads equals what was written."""
        m, t = self.mentors, self.mentees
        assert set(m.tiebreaks) == set(m.slots.slot_of)
        assert all(m.tiebreak_at[s] == m.tiebreaks[i] for i, s in m.slots.slot_of.items())
        for mentor_id, slot in m.slots.slot_of.items():
            person = m.people[slot]
            assert person is not None and person.user_id == mentor_id
        ranked = np.flatnonzero(t.ranked[: t.slots.high_water])
        assert t.ranked_goal_skills == int(t.n_goal[ranked].sum())
        assert all(t.slots.user_ids[s] is not None for s in ranked.tolist())
        packed = t.packed[ranked]
        for name in ("uid", "manager", "profile", "partition", "years", "n_goal", "n_ind"):
            assert (packed[name] == getattr(t, name)[ranked]).all(), name
        masked = (("industries", t.targets_ind, t.n_ind), ("functions", t.targets_fun, t.n_fun))
        for name, column, counts in (*masked, ("styles", t.styles, t.n_sty)):
            expected = [packed_rows.row_mask(column, s, int(counts[s])) for s in ranked.tolist()]
            assert (packed[name] == np.array(expected, np.uint64)).all(), name
        self.musts.check_invariants(set(ranked.tolist()))
        for slot in ranked.tolist():
            for skill in t.goal_skills[slot].tolist():
                assert skill < 0 or self.postings.holds(skill, slot), (slot, skill)

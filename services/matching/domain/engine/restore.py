"""Rebuild an engine from stored state without re-scoring: lists come back as saved."""

from __future__ import annotations

from collections.abc import Iterable

from services.matching.domain.constraints import kept_length
from services.matching.domain.engine.proposed import proposed
from services.matching.domain.engine.tenant import TenantEngine
from services.matching.domain.mentor_lists import MentorList, stored_best
from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.relationships import Blocks, Relationship, blocks
from services.matching.domain.search import MenteeRow
from services.matching.domain.seekers import seeker_key


class Restorer:
    """Fed in this order: mentors, people, relationships, goals, exclusions, lists owned
    elsewhere (their best keys), lists, proposals, then finish().

    Each list is put in place as it arrives (rather than all held until the end), so the
    mentees' table rows are complete before the first one; what follows from a mentor's lists
    together (its cutoff, what each list shows, its floors and host) is worked out once per
    mentor in finish(), not again for each of its lists as it arrives.
    """

    ROWS_PER_WRITE = 10_000  # mentees written to the table at once

    def __init__(self, engine: TenantEngine) -> None:
        self.engine = engine
        self._proposed: dict[str, set[str]] = {}
        self._relationships: dict[str, list[Relationship]] = {}
        self._partition_of: dict[str, int] = {}  # the partition of each such mentee
        self._rows: list[MenteeRow] = []  # table rows not yet written
        self._goals_started = False
        self._mentees_done = False
        self._lists_started = False
        self._listed: dict[str, list[int]] = {}  # mentor -> partitions of its restored lists

    def mentor(self, person: Person) -> None:
        self.engine.roster.accepted[person.user_id] = person.seats_taken
        self.engine.put_mentor_data(person)

    def person(self, person: Person, partition: int) -> None:
        """A stored profile; fed before any goal."""
        assert not self._goals_started, "people come before goals"
        self.engine.roster.partition_of[person.user_id] = partition
        self.engine.roster.profiles[person.user_id] = person

    def relationship(self, relationship: Relationship, partition: int) -> None:
        """A stored relationship; fed before any goal (a goal may wait on it)."""
        assert not self._goals_started, "relationships come before goals"
        self._relationships.setdefault(relationship.mentee_id, []).append(relationship)
        self._partition_of[relationship.mentee_id] = partition

    def _blocks(self, key: str) -> Blocks:
        goal = self.engine.roster.goals[key]
        return blocks(goal.goal_id, (), self._relationships.get(goal.mentee_id, ()))

    def goal(self, goal: Goal, partition: int) -> None:
        """A stored open goal: with its mentee's profile (restored before it), a row of the
        table (one per goal: a seeker, domain/seekers.py)."""
        self._goals_started = True
        assert not self._mentees_done, "goals come before lists"
        roster = self.engine.roster
        mentee_id = goal.mentee_id
        partition = max(partition, roster.partition_of.get(mentee_id, partition))
        roster.partition_of[mentee_id] = partition
        key = roster.put_goal(goal)
        person = roster.profiles.get(mentee_id)
        if self._blocks(key).paused:
            roster.paused.add(key)
        if person is None or not person.is_mentee or key in roster.paused:
            return
        self._rows.append(self.engine.search.mentee_row(key, person, goal, partition))
        if len(self._rows) >= self.ROWS_PER_WRITE:
            self._write_rows()

    def _write_rows(self) -> None:
        self.engine.search.fill(self._rows)
        self._rows = []

    def exclusion(self, mentee_id: str, mentor_id: str, partition: int) -> None:
        """A stored 'Not for me': about the person, so for each of their open goals."""
        roster = self.engine.roster
        for key in roster.seekers_of(mentee_id):
            roster.exclude(key, mentor_id, partition)

    def _finish_mentees(self) -> None:
        if not self._mentees_done:
            roster = self.engine.roster
            for mentee_id, partition in self._partition_of.items():
                for key in roster.seekers_of(mentee_id):
                    for mentor_id in self._blocks(key).excluded:
                        roster.exclude(key, mentor_id, partition)
            self._write_rows()
            self.engine.search.rebuild_postings()
            self._mentees_done = True

    def remote_list(self, mentor_id: str, partition: int, entries: list[tuple[str, float]]) -> None:
        """The mentor's list in a partition another instance owns: its best order keys count
        toward the mentor's tenant-wide cap. Fed before the lists of the owned partitions."""
        assert not self._lists_started, "lists owned elsewhere come before the owned ones"
        best = stored_best(entries, self.engine.budget(mentor_id))
        self.engine.lists.remote.setdefault(mentor_id, {})[partition] = best

    def mentor_list(
        self, mentor_id: str, partition: int, entries: list[tuple[str, float]], truncated: bool
    ) -> None:
        self._finish_mentees()
        self._lists_started = True
        e = self.engine
        mentor = e.mentor(mentor_id)
        if mentor is None:
            return
        slot_of, is_ranked = e.search.mentee_slot, e.search.is_ranked
        budget = e.budget(mentor_id)
        slots = ((slot_of(key), key, score) for key, score in entries)
        kept = sorted(
            (-score, tiebreak(key), slot)
            for slot, key, score in slots
            if slot is not None and is_ranked(slot)
        )
        restored = MentorList(budget, truncated=truncated or len(kept) > kept_length(budget))
        restored.entries = kept[: kept_length(budget)]
        key = (mentor_id, partition)
        assert e.lists.get(key) is None, "one stored list per mentor and partition"
        self._listed.setdefault(mentor_id, []).append(partition)
        if restored.entries or restored.truncated:  # an empty, complete one is no list
            e.lists.record(mentor_id)[partition] = restored
            for entry in restored.entries:
                e.lists.member_of.add(entry[2], mentor_id)

    def _share_lists(self) -> None:
        """Each mentor's restored lists shown within its cutoff, taken over all of them (and
        those elsewhere) at once, as MentorLists.replace would leave them one after another:
        the shown part, shown-by, floors and host touched follow from the lists alone. A
        spent one is searched in finish()."""
        lists = self.engine.lists
        for mentor_id, partitions in self._listed.items():
            lists.reshare(mentor_id, {partition: {} for partition in partitions})
            for partition in partitions:
                lists.set_floor(mentor_id, partition)
        self._listed = {}

    def proposal(self, mentee_id: str, goal_id: str, mentor_ids: Iterable[str]) -> None:
        """A goal's last proposal, as stored."""
        self._proposed[seeker_key(mentee_id, goal_id)] = set(mentor_ids)

    def finish(self) -> TenantEngine:
        """The engine, with the goals whose restored proposal (domain/engine/proposed.py)
        differs from their stored one (or that have none yet) left as changed rankings, to be
        proposed with the next event.

        They can differ: a mentor's newest data is restored while the lists of a partition
        still wait for that mentor's fan-out event, and the list the fan-out recomputes may
        then equal the restored one, so no later change would correct the stored proposal.
        """
        e = self.engine
        self._finish_mentees()
        self._share_lists()
        e.search_spent()
        shown_by = e.lists.shown_by
        e.rankings.mark(slot for slot, mentors in shown_by.items() if mentors)  # others: none
        e.rankings.rerank_dirty(shown_by)
        e.drain()
        # What the last owner held back (engine/notices.py) went with it: each mentor is told
        # of with the next notice handled for it here.
        e.lists.notices.unsent.update(mentor.user_id for mentor in e.search.mentor_people())
        for key in self._proposed.keys() | set(e.search.ranked_mentee_ids()):
            stored = self._proposed.get(key)  # a ranked goal never proposed: its first, too
            if stored is None or {r.mentor_id for r in proposed(e, key)} != stored:
                e.rankings.changed.add(key)
        return e

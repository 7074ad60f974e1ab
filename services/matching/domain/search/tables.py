"""Column storage for the engine: mentors as dense per-value rows, mentees as fixed-width ids.

Mentor rows (value x mentor slot) make "score one goal against every mentor" a few row
gathers; mentee fixed-width id arrays make "score one mentor against many mentees" a few
table lookups. Nothing here is a Python object per (mentee, mentor) pair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from services.matching.domain.people import Goal, Person, tiebreak
from services.matching.domain.search import packed_rows
from services.matching.domain.search.slots import Slots, Vocabulary
from services.matching.domain.search.trait_words import TraitWords
from services.matching.domain.search.weight_profiles import WeightProfiles

In = TypeVar("In")
Out = TypeVar("Out")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
PAD = -1  # an id slot with no value; lookup vectors keep a trailing 0 so PAD reads as 0
WIDE, NARROW = 20, 6
KINDS = ("skills", "industries", "functions", "styles", "languages", "bgpairs", "bgdims")
BACKGROUND_CODES = {"no_preference": 0, "similar": 1, "different": 2}


def background_pairs(background: dict[str, str]) -> list[str]:
    return [f"{dim}\x1f{value}" for dim, value in sorted(background.items())]


def _grow_last(array: Any, capacity: int) -> Any:
    pad = [(0, 0)] * (array.ndim - 1) + [(0, capacity - array.shape[-1])]
    return np.pad(array, pad)


def _widen(array: Any, width: int) -> Any:
    return np.pad(array, [(0, 0), (0, width - array.shape[1])], constant_values=PAD)


def _grow_first(array: Any, capacity: int) -> Any:
    """More rows: PAD in id arrays (two-dimensional int16), 0 elsewhere."""
    ids = array.ndim == 2 and array.dtype == np.int16
    pad = [(0, capacity - array.shape[0])] + [(0, 0)] * (array.ndim - 1)
    return np.pad(array, pad, constant_values=PAD if ids else 0)


class MentorTable:
    def __init__(self, vocab: dict[str, Vocabulary], capacity: int = 256) -> None:
        self.vocab = vocab
        self.slots = Slots(capacity)
        self.people: list[Person | None] = []
        self.years = np.zeros(capacity, np.int64)
        self.offset = np.zeros(capacity, np.int64)
        self.week = np.zeros((capacity, 3), np.uint64)
        self.uid = np.full(capacity, -2, np.int64)
        self.manager = np.full(capacity, -3, np.int64)
        self.open = np.zeros(capacity, np.bool_)
        self.rows: dict[str, Any] = {
            kind: np.zeros((64, capacity), np.uint8 if kind == "skills" else np.bool_)
            for kind in KINDS
        }
        self.traits = TraitWords(capacity)
        self.tiebreaks: dict[str, int] = {}  # people.tiebreak of each mentor in the table
        # The same by slot: a pool looks each mentor's slot up, and reads its tiebreak here
        # rather than in a second 50,000-entry dict (pools.py)
        self.tiebreak_at: list[int] = []

    def _grow(self) -> None:
        cap = self.slots.capacity
        for name in ("years", "offset", "uid", "manager", "open"):
            setattr(self, name, _grow_first(getattr(self, name), cap))
        self.week = _grow_first(self.week, cap)
        for kind, rows in self.rows.items():
            self.rows[kind] = _grow_last(rows, cap)
        self.traits.grow(cap)

    def _row_capacity(self, kind: str) -> None:
        rows = self.rows[kind]
        need = len(self.vocab[kind])
        if need > rows.shape[0]:
            new = max(need, rows.shape[0] * 2)
            self.rows[kind] = np.pad(rows, [(0, new - rows.shape[0]), (0, 0)])

    def put(self, person: Person, uid: int, manager: int, is_open: bool) -> int:
        slot, grow = self.slots.take(person.user_id)
        if grow:
            self._grow()
        while len(self.people) <= slot:
            self.people.append(None)
        previous, self.people[slot] = self.people[slot], person
        while len(self.tiebreak_at) <= slot:
            self.tiebreak_at.append(0)
        self.tiebreaks[person.user_id] = self.tiebreak_at[slot] = tiebreak(person.user_id)
        self.years[slot] = person.years
        self.offset[slot] = person.utc_offset_minutes
        self.week[slot] = split_week(person.week)
        self.uid[slot] = uid
        self.manager[slot] = manager
        self.open[slot] = is_open
        # A slot's column is all zero while no one holds it: clearing only the cells of the
        # person it held avoids touching every row (a page each, 64 KB apart) for each put.
        old_cells = _cells(previous) if previous is not None else {}
        for kind, pairs in _cells(person).items():
            ids = [(self.vocab[kind].id(name), level) for name, level in pairs]
            self._row_capacity(kind)
            rows = self.rows[kind]
            for name, _ in old_cells.get(kind, ()):
                rows[self.vocab[kind].id(name), slot] = 0
            for value_id, level in ids:
                rows[value_id, slot] = level
        skills, industries = self.vocab["skills"], self.vocab["industries"]
        self.traits.put(slot, map(skills.id, person.skills), map(industries.id, person.industries))
        return slot

    def remove(self, user_id: str) -> int | None:
        slot = self.slots.release(user_id)
        if slot is not None:
            self.people[slot] = None
            del self.tiebreaks[user_id]
            self.tiebreak_at[slot] = 0
            self.open[slot] = False
            self.uid[slot] = -2
            self.manager[slot] = -3
            for rows in self.rows.values():
                rows[:, slot] = 0
            self.traits.clear(slot)
        return slot

    def lookup(self, kind: str, person: Person) -> IntArray:
        """A vector over the kind's vocabulary (plus the PAD cell): the person's values."""
        vector = np.zeros(len(self.vocab[kind]) + 1, np.int64)
        vocab = self.vocab[kind]
        for name, level in _cells(person)[kind]:
            vector[vocab.id(name)] = level
        return vector


def _cells(person: Person) -> dict[str, list[tuple[str, int]]]:
    """The person's non-zero cells in each of the mentor table's rows, by kind."""
    return {
        "skills": list(person.skills.items()),
        "industries": [(v, 1) for v in person.industries],
        "functions": [(v, 1) for v in person.functions],
        "styles": [(v, 1) for v in person.styles],
        "languages": [(v, 1) for v in person.languages],
        "bgpairs": [(v, 1) for v in background_pairs(person.background)],
        "bgdims": [(v, 1) for v in person.background],
    }


def split_week(week: int) -> list[int]:
    return [(week >> (64 * i)) & (2**64 - 1) for i in range(3)]


def _write(column: np.ndarray, slots: IntArray, values: Sequence[Any]) -> None:
    """column[slots] = values; one row (every GoalSet) as a plain item write."""
    if len(values) == 1:
        column[int(slots[0])] = values[0]
    else:
        column[slots] = values


def _each_once(convert: Callable[[In], Out], values: Sequence[In]) -> list[Out]:
    """convert(value) for each value, computed once per distinct object: people share their
    lists of names and their backgrounds (people.shared_names), and a restore writes
    thousands of rows at once."""
    if len(values) == 1:  # an event's one row
        return [convert(values[0])]
    done: dict[int, Out] = {}
    converted = []
    for value in values:
        found = done.get(id(value))
        if found is None:
            found = done[id(value)] = convert(value)
        converted.append(found)
    return converted


_MUST_COLUMNS = (("must_langs", "languages"), ("must_inds", "industries"), ("must_stys", "styles"))


def musts_of(goal: Goal, kind: str) -> tuple[str, ...]:
    """The values the goal requires of this kind (most goals: none)."""
    return tuple(value for k, value in goal.musts if k == kind) if goal.musts else ()


def ids_row(vocab: Vocabulary, names: Sequence[str], width: int) -> list[int]:
    ids = [vocab.id(n) for n in names][:width]
    return ids + [PAD] * (width - len(ids))


@dataclass(frozen=True, slots=True)
class MenteeRow:
    """What a mentee's table row is written from."""

    slot: int
    person: Person
    goal: Goal
    partition: int
    uid: int
    manager: int
    weights: tuple[float, ...]
    weight_total: float
    targets: tuple[tuple[str, ...], tuple[str, ...]]  # industries, functions


class MenteeTable:
    """Owned mentees: their own data, their goal, and what scoring derives from both."""

    def __init__(self, vocab: dict[str, Vocabulary], capacity: int = 256) -> None:
        self.vocab = vocab
        self.slots = Slots(capacity)
        # Columns as narrow as their values allow (there is a row per mentee): person ids and
        # partitions in 32 bits; years, minutes of UTC offset (within ±14 h) and counts in 16.
        self.partition = np.zeros(capacity, np.int32)
        self.years = np.zeros(capacity, np.int16)
        self.offset = np.zeros(capacity, np.int16)
        self.week = np.zeros((capacity, 3), np.uint64)
        self.uid = np.full(capacity, -4, np.int32)
        self.manager = np.full(capacity, -5, np.int32)
        self.ranked = np.zeros(capacity, np.bool_)  # is a mentee with both profile and goal
        self.ranked_goal_skills = 0  # n_goal summed over ranked slots, kept as they change
        self.n_goal = np.ones(capacity, np.int16)
        self.n_ind = np.zeros(capacity, np.int16)
        self.n_fun = np.zeros(capacity, np.int16)
        self.n_bg = np.zeros(capacity, np.int16)
        self.n_sty = np.zeros(capacity, np.int16)
        self.pref = np.zeros(capacity, np.int16)
        self.profile = np.zeros(capacity, np.int32)  # row of the goal's weights in profiles
        self.profiles = WeightProfiles()
        # Id arrays are as wide as their longest row so far (at most WIDE or NARROW): most
        # rows name one to three things, and 20 columns each would be most of the table.
        self.goal_skills = np.full((capacity, 0), PAD, np.int16)
        self.targets_ind = np.full((capacity, 0), PAD, np.int16)
        self.targets_fun = np.full((capacity, 0), PAD, np.int16)
        self.bgpairs = np.full((capacity, 0), PAD, np.int16)
        self.bgdims = np.full((capacity, 0), PAD, np.int16)
        self.langs = np.full((capacity, 0), PAD, np.int16)
        self.styles = np.full((capacity, 0), PAD, np.int16)
        # the goal's musts by kind, as ids of the kind's vocabulary (domain/musts.py)
        self.must_langs = np.full((capacity, 0), PAD, np.int16)
        self.must_inds = np.full((capacity, 0), PAD, np.int16)
        self.must_stys = np.full((capacity, 0), PAD, np.int16)
        self.packed = packed_rows.packed_rows(capacity)  # the columns a mentor's search reads

    def _grow(self) -> None:
        """Every column, one at a time: each old one is freed before the next is copied."""
        cap = self.slots.capacity
        self.packed = packed_rows.packed_rows(cap, self.packed)
        names = [n for n, v in vars(self).items() if isinstance(v, np.ndarray) and n != "packed"]
        for name in names:
            setattr(self, name, _grow_first(getattr(self, name), cap))

    def slot(self, user_id: str) -> int:
        slot, grow = self.slots.take(user_id)
        if grow:
            self._grow()
        return slot

    def fill(self, rows: Sequence[MenteeRow]) -> None:
        """Write these mentees' rows (distinct slots): one at a time for an event, thousands
        at once for a restore, where the column-at-a-time writes are what makes it fast."""
        if not rows:
            return
        slots = np.fromiter((r.slot for r in rows), np.int64, len(rows))
        for row in rows:
            self._count_goal_skills(row.slot, -1)
        people = [r.person for r in rows]
        goals = [r.goal for r in rows]
        v = self.vocab
        _write(self.partition, slots, [r.partition for r in rows])
        _write(self.years, slots, [p.years for p in people])
        _write(self.offset, slots, [p.utc_offset_minutes for p in people])
        _write(self.week, slots, [split_week(p.week) for p in people])
        _write(self.uid, slots, [r.uid for r in rows])
        _write(self.manager, slots, [r.manager for r in rows])
        self._put_ids("goal_skills", slots, v["skills"], [g.skills for g in goals], WIDE)
        _write(self.n_goal, slots, [len(g.skills) for g in goals])
        self._put_ids("targets_ind", slots, v["industries"], [r.targets[0] for r in rows], WIDE)
        _write(self.n_ind, slots, [len(r.targets[0]) for r in rows])
        self._put_ids("targets_fun", slots, v["functions"], [r.targets[1] for r in rows], WIDE)
        _write(self.n_fun, slots, [len(r.targets[1]) for r in rows])
        backgrounds = [p.background for p in people]
        pairs = _each_once(background_pairs, backgrounds)
        self._put_ids("bgpairs", slots, v["bgpairs"], pairs, WIDE)
        self._put_ids("bgdims", slots, v["bgdims"], _each_once(tuple, backgrounds), WIDE)
        _write(self.n_bg, slots, [len(x) for x in pairs])
        _write(self.pref, slots, [BACKGROUND_CODES[g.background_preference] for g in goals])
        self._put_ids("styles", slots, v["styles"], [g.styles for g in goals], NARROW)
        _write(self.n_sty, slots, [len(g.styles) for g in goals])
        self._put_ids("langs", slots, v["languages"], [p.languages for p in people], WIDE)
        if self.has_musts or any(g.musts for g in goals):  # none yet in the tenant: no cost
            for name, kind in _MUST_COLUMNS:
                self._put_ids(name, slots, v[kind], [musts_of(g, kind) for g in goals], NARROW)
        _write(self.profile, slots, [self.profiles.row(r.weights, r.weight_total) for r in rows])
        self.ranked[slots] = True
        for row in rows:
            self._count_goal_skills(row.slot, 1)
        self._pack(slots)
        if len(self.profiles) > 2 * len(self.slots.slot_of) + 1024:
            self._drop_unused_profiles()

    @property
    def has_musts(self) -> bool:
        """Some goal written here had musts (their columns are wider than 0)."""
        return any(getattr(self, name).shape[1] for name, _ in _MUST_COLUMNS)

    def _pack(self, slots: IntArray) -> None:
        columns = (self.uid, self.manager, self.profile, self.partition, self.years)
        counts = (self.n_goal, self.n_ind, self.n_fun, self.n_sty)
        ids = (self.targets_ind, self.targets_fun, self.styles, self.langs)
        packed_rows.pack(self.packed, slots, (*columns, *counts), ids)

    def _drop_unused_profiles(self) -> None:
        """Rows of weights no mentee has any more (each distinct vector ever seen adds one)."""
        renumber = self.profiles.keep_only(np.unique(self.profile[self.ranked]))
        self.profile[:] = np.where(self.ranked, renumber[self.profile], 0)
        self.packed["profile"] = self.profile

    def _count_goal_skills(self, slot: int, sign: int) -> None:
        if self.ranked[slot]:
            self.ranked_goal_skills += sign * int(self.n_goal[slot])

    def _put_ids(
        self,
        name: str,
        slots: IntArray,
        vocab: Vocabulary,
        names: Sequence[Sequence[str]],
        width: int,
    ) -> None:
        array = getattr(self, name)
        needed = min(max(map(len, names)), width)
        if array.shape[1] < needed:
            array = _widen(array, needed)
            setattr(self, name, array)
        columns = array.shape[1]
        _write(array, slots, _each_once(lambda row: ids_row(vocab, row, columns), names))

    def clear(self, slot: int) -> None:
        self._count_goal_skills(slot, -1)
        self.ranked[slot] = False

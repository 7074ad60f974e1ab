"""Exact scores for only the pairs that can matter: the engine's two searches.

- A goal or mentee profile: which candidate mentors score at least their list's floor.
- A mentor's lists: per partition, the mentees that can be among the mentor's best.

Both run compiled passes over the candidates (kernels.py, mentor_scan.py) that stop scoring a
pair once its bound shows it cannot reach what it must. Here the engine's tables are laid out
for it. A search over many candidates may run in parts; the caller's PartRunner decides whether
they run one after the other (in_order) or at once on threads (the service layer's).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from services.matching.domain.people import Person
from services.matching.domain.search import kernels, mentor_scan, packed_rows
from services.matching.domain.search.postings import Summed
from services.matching.domain.search.tables import (
    BoolArray,
    FloatArray,
    IntArray,
    MenteeTable,
    MentorTable,
    split_week,
)


class PartRunner(Protocol):
    """Runs kernel(*arguments, part) for each part; returns the results in the parts' order."""

    def __call__(
        self, kernel: Callable[..., Any], arguments: tuple[Any, ...], parts: list[Any]
    ) -> list[Any]: ...


def in_order(kernel: Callable[..., Any], arguments: tuple[Any, ...], parts: list[Any]) -> list[Any]:
    """Each part in turn, in the caller's thread."""
    return [kernel(*arguments, part) for part in parts]


@dataclass(frozen=True)
class Contenders:
    """A mentor's best mentees in one partition, exactly scored, and how many were eligible.

    `slots` holds every eligible mentee scoring at least the partition's length-th best
    (ties included), and possibly some below it. `eligible` is exact up to length + 1: enough
    to tell whether the list holds every eligible mentee.
    """

    slots: IntArray
    totals: FloatArray
    eligible: int


def best_mentees(
    table: MenteeTable,
    mentors: MentorTable,
    mentor: Person,
    candidates: Summed,
    lengths: Mapping[int, int],
    constraints: tuple[int, int, IntArray],
    split: tuple[int, int] = (1, 1),
    run: PartRunner = in_order,
    read: Callable[[int], None] = lambda _: None,
) -> dict[int, Contenders]:
    """`candidates`: per mentee slot, at least its goal's level sum in the mentor's skills,
    and how many postings were summed (Postings.summed); the search sets the sums back to 0.
    `constraints`: the mentor's person id, its manager's, and the mentee slots it excludes.
    `split`: up to this many parts (sharing their bars), and the fewest postings per part;
    `run` runs the parts; `read` is told how many candidates they read."""
    me, manager, excluded = constraints
    length_of = np.zeros(max(lengths, default=0) + 1, np.int64)
    for partition, length in lengths.items():
        length_of[partition] = length
    week = np.array(split_week(mentor.week), np.uint64)
    lookups = tuple(mentors.lookup(kind, mentor) for kind in _LOOKUP_ORDER)
    masks = np.array([packed_rows.mentor_mask(lookups[i]) for i in range(1, 5)], np.uint64)
    arguments = (
        length_of,
        np.sort(excluded),
        (mentor.years, mentor.utc_offset_minutes, week, me, manager, masks),
        lookups,
        _mentee_columns(table),
    )
    sums, named = candidates
    size = table.ranked.size
    parts = max(1, min(split[0], named // split[1]))  # a part's work: the postings it may read
    spans = _spans(size, (parts, 1))
    bars = np.full((len(spans), length_of.size), -1.0)
    levels = (sums, table.ranked, table.partition)
    found = run(
        mentor_scan.best_mentees,
        (*arguments, bars, levels),
        [(first, end, row) for row, (first, end) in enumerate(spans)],
    )
    slots = np.concatenate([part_slots[:count] for part_slots, _, count, _, _ in found])
    totals = np.concatenate([part_totals[:count] for _, part_totals, count, _, _ in found])
    eligible = sum(part[3] for part in found)
    read(sum(part[4] for part in found))
    in_partition = table.partition[slots]
    return {
        p: Contenders(slots[in_partition == p], totals[in_partition == p], int(eligible[p]))
        for p in lengths
    }


# the mentor's lookup vectors, in the order the kernel unpacks them; 1 to 4 are also masked
_LOOKUP_ORDER = ("skills", "industries", "functions", "styles", "languages", "bgpairs", "bgdims")


def _mentee_columns(t: MenteeTable) -> tuple[Any, ...]:
    ids = (t.goal_skills, t.targets_ind, t.targets_fun, t.bgpairs, t.bgdims, t.langs, t.styles)
    weights = (t.profiles.weights, t.profiles.totals)
    musts = (t.must_langs, t.must_inds, t.must_stys)
    return ids, (t.n_bg, t.pref, t.offset, t.week, *weights, t.packed), musts


@dataclass(frozen=True)
class Reaching:
    """A mentee's search over the mentors: who reaches their list's floor, and the others
    whose full (closed) list it did not enter."""

    slots: IntArray
    totals: FloatArray
    left_out: IntArray


def mentors_reaching(
    table: MenteeTable,
    mentors: MentorTable,
    slot: int,
    constraints: tuple[int, int, IntArray],
    floors: tuple[FloatArray, BoolArray],
    split: tuple[int, int] = (1, 1),
    run: PartRunner = in_order,
    meeting: BoolArray | None = None,
) -> Reaching:
    """Open mentors holding one of the goal's skills that score at least their list's floor
    for this mentee (in slot order). `constraints`: the mentee's person id, its manager's,
    and the mentor slots it excludes; `floors`: per mentor, the floor of its list in the
    mentee's partition and whether that list is closed; `split`: up to this many parts, and
    the fewest mentors per part, run by `run`; `meeting`: per mentor slot, whether it meets
    the goal's musts (None: no musts; one that does not is looked at no more than a mentor
    who is not open)."""
    t, rows = table, mentors.rows

    def ids(kind: str, column: Any) -> IntArray:
        """The row's ids the mentors' table knows (PAD and newer ids left out)."""
        known = rows[kind].shape[0]
        return np.array([v for v in column[slot].tolist() if 0 <= v < known], np.int64)

    row = int(t.profile[slot])
    mentee = (
        (
            t.profiles.weights[row : row + 1],
            float(t.profiles.totals[row]),
            int(t.years[slot]),
            int(t.offset[slot]),
            t.week[slot],
            int(t.n_goal[slot]),
            int(t.n_ind[slot]),
            int(t.n_fun[slot]),
            int(t.n_bg[slot]),
            int(t.n_sty[slot]),
            int(t.pref[slot]),
        ),
        tuple(ids(kind, column) for kind, column in _mentee_ids(t)),
    )
    me, manager, excluded = constraints
    high = mentors.slots.high_water
    allowed = mentors.open[:high] if meeting is None else mentors.open[:high] & meeting
    arguments = (
        ids("skills", t.goal_skills),
        (rows["skills"], allowed, mentors.uid, mentors.manager),
        (me, manager, np.sort(excluded)),
        floors,
        mentee,
        tuple(rows[kind] for kind, _ in _mentee_ids(t)),
        (mentors.years, mentors.offset, mentors.week),
    )
    found = run(kernels.mentors_reaching, arguments, _spans(high, split))
    return Reaching(*(np.concatenate(column) for column in zip(*found, strict=True)))


def _spans(size: int, split: tuple[int, int]) -> list[tuple[int, int]]:
    """[first, end) of up to `threads` near-equal parts of at least `min_part` each."""
    threads, min_part = split
    parts = max(1, min(threads, size // min_part))
    edges = [size * index // parts for index in range(parts + 1)]
    return list(itertools.pairwise(edges))


def _mentee_ids(t: MenteeTable) -> tuple[tuple[str, Any], ...]:
    return (
        ("industries", t.targets_ind),
        ("functions", t.targets_fun),
        ("bgpairs", t.bgpairs),
        ("bgdims", t.bgdims),
        ("styles", t.styles),
        ("languages", t.langs),
    )

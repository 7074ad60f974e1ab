"""Must-have criteria: the rule that a mentor lacking one of a goal's musts is never proposed.

Written once here; the batch reference (batch.may_meet) and the fast search
(search/must_index.py) both apply `unmet`, and the email's "nobody meets your musts" is
computed with it too.
"""

from __future__ import annotations

from services.matching.domain.people import Goal, Person

# A must's kind names the mentor attribute it reads (as in the profile contract and the search
# tables' vocabularies): languages spoken, industries worked in, mentoring styles offered.
MUST_KINDS = ("languages", "industries", "styles")
Must = tuple[str, str]  # (kind, value)


def holds(mentor: Person, must: Must) -> bool:
    kind, value = must
    held: tuple[str, ...] = getattr(mentor, kind)
    return value in held


def unmet(goal: Goal, mentor: Person) -> tuple[Must, ...]:
    """The goal's musts this mentor does not hold (empty: it meets them all)."""
    return tuple(must for must in goal.musts if not holds(mentor, must))


def meets(goal: Goal, mentor: Person) -> bool:
    return all(holds(mentor, must) for must in goal.musts)


def without(goal: Goal, must: Must) -> tuple[Must, ...]:
    """The goal's musts with this one relaxed."""
    return tuple(m for m in goal.musts if m != must)

"""MentorLists' own invariants, checked against a merge of every list (for tests)."""

from __future__ import annotations

from collections import defaultdict

from services.matching.domain.engine.lists import UNKNOWN, MentorLists


def check_lists(lists: MentorLists) -> None:
    """Memberships and shown-by are the lists read the other way; floors and shown parts are
    theirs."""
    members: dict[int, set[str]] = defaultdict(set)
    shown: dict[int, dict[str, float]] = defaultdict(dict)
    for (mentor_id, partition), mentor_list in lists.items():
        entries = mentor_list.entries
        assert entries == sorted(set(entries)), (mentor_id, partition)
        assert not (lists.budget(mentor_id) and mentor_list.spent()), (mentor_id, partition)
        for _, _, mentee in entries:
            members[mentee].add(mentor_id)
        for score, _, mentee in mentor_list.shown():
            shown[mentee][mentor_id] = -score
        cutoff, listed = lists._counts(mentor_id)
        counts = {p: count for p, _, count in listed}
        assert mentor_list.shown_count == counts[partition], (mentor_id, partition)
        assert lists.records[mentor_id].cutoff in (cutoff, UNKNOWN), mentor_id
        slot = lists.search.mentor_slot(mentor_id)
        if slot is not None:
            closed = not mentor_list.truncated and len(entries) >= mentor_list.length
            assert lists.floors.values[partition, slot] == mentor_list.floor()
            assert lists.floors.closed[partition, slot] == closed, (mentor_id, partition)
    held = {mentee: set(lists.member_of.of(mentee)) for mentee in lists.member_of.mentees()}
    assert held == members
    assert {m: by for m, by in lists.shown_by.items() if by} == shown
    mentors = {m for (m, _), _ in lists.items()} | lists.remote.keys() | lists.hosts.prefix.keys()
    lists.hosts.check(lists, mentors)

"""Hand one partition over to another instance without reloading the rest of the engine."""

from __future__ import annotations

from services.matching.domain.engine.tenant import TenantEngine
from services.matching.domain.mentor_lists import MentorList, stored_best


def drop_partition(engine: TenantEngine, partition: int) -> None:
    """Another instance owns the partition from now on: its mentees and goals leave the engine,
    and each mentor's list there counts toward the mentor's tenant-wide cap as a list owned
    elsewhere, as a restore would read it from the store (it was saved with the last change).

    What this changes is the engine's alone: nothing is left to persist or propose (the lists
    of the partition are no longer this engine's to save, and the cap each mentor's lists here
    see is the same).
    """
    lists, roster, search = engine.lists, engine.roster, engine.search
    for mentor_id, _ in [key for key in lists.by_key if key[1] == partition]:
        entries, _ = engine.list_entries(mentor_id, partition)
        budget = engine.budget(mentor_id)
        lists.remote.setdefault(mentor_id, {})[partition] = stored_best(entries, budget)
        lists.replace((mentor_id, partition), MentorList(budget))  # gone: the cap is shared
    for mentee_id in [m for m, p in roster.partition_of.items() if p == partition]:
        for key in roster.seekers_of(mentee_id):
            slot = search.mentee_slot(key)
            if slot is not None:
                search.clear_mentee(slot)
                lists.leave(slot)  # its lists were all in this partition: gone above
                lists.release(slot)
                engine.rankings.release(key, slot)
                search.release_mentee(key)
            roster.drop_goal(key)
        roster.profiles.pop(mentee_id, None)
        del roster.partition_of[mentee_id]
    engine.search_spent()
    engine.rankings.rerank_dirty(lists.shown_by)
    engine.drain()

"""Hand partitions over to another instance without reloading the rest of the engine."""

from __future__ import annotations

from collections.abc import Collection

from services.matching.domain.engine.tenant import TenantEngine


def drop_partition(engine: TenantEngine, partition: int) -> None:
    drop_partitions(engine, (partition,))


def drop_partitions(engine: TenantEngine, partitions: Collection[int]) -> None:
    """Other instances own these partitions from now on: their mentees and goals leave the
    engine, and each mentor's list there counts toward the mentor's tenant-wide cap as a list
    owned elsewhere, as a restore would read it from the store (it was saved with the last
    change).

    What this changes is the engine's alone: nothing is left to persist or propose (the lists
    of the partitions are no longer this engine's to save, and the cap each mentor's lists here
    see is the same).

    It runs while no poll may (Matching.turn), so the stall of the partitions that stay grows
    with it: one pass over the lists and one over the mentees, whatever the number of
    partitions, and each mentor's budget worked out once, not once a partition. No mentor's
    walk is weighed again: its keys are the same, only the moved seekers in it are now held
    elsewhere (Hosts.held_elsewhere), so every host stays where it is.
    """
    moved = frozenset(partitions)
    if not moved:
        return
    lists, roster, search = engine.lists, engine.roster, engine.search
    in_order = sorted(moved)
    for mentor_id, record in lists.records.items():
        budget = None
        for partition in in_order:
            mentor_list = record[partition]
            if mentor_list is None:
                continue
            record[partition] = None
            lists.spent.discard((mentor_id, partition))
            if budget is None:
                budget = engine.budget(mentor_id)
            best = mentor_list.entries[:budget]  # entries are in order
            lists.remote.setdefault(mentor_id, {})[partition] = [(e[0], e[1]) for e in best]
    # Each mentor's best keys there now count as its list elsewhere: its cutoff, and so what
    # its lists here show, are the same. The partitions' mentees were in their lists alone.
    held: list[int] = []  # the moved seekers' slots
    for mentee_id in [m for m, p in roster.partition_of.items() if p in moved]:
        for key in roster.seekers_of(mentee_id):
            slot = search.mentee_slot(key)
            if slot is not None:
                held.append(slot)
                search.clear_mentee(slot)
                lists.leave(slot)  # its lists were all in these partitions: gone above
                lists.release(slot)
                engine.rankings.release(key, slot)
                search.release_mentee(key)
            roster.drop_goal(key)
        roster.profiles.pop(mentee_id, None)
        del roster.partition_of[mentee_id]
    lists.hosts.held_elsewhere(held)
    engine.rankings.rerank_dirty(lists.shown_by)  # the hosts are the same, only held elsewhere
    engine.drain()

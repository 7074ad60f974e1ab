"""A poll's goals stored with one statement before its events run (issue 29), where running
them in order would store the same goals and read the same blocks.

That holds for a poll of profile updates and goal sets only: a profile update writes no goal,
pair or relationship and does not change which goals the engine holds, so a goal set's
store, and the blocks read with it, come out the same at the poll's start as at its turn.
Any other event (a goal closed or adjusted, feedback, a relationship step, an erasure, a
mentor's change) may write what a later goal set reads: such a poll stores its goals one by
one, in order, as before. A goal set stored ahead is one that will run: delivered for the
first time, about a person with no erasure on record (a profile update in the poll could
restore one, which `admit` then decides), the first of the poll for its goal (a later one
compares with it, one by one). Its handler then finds the store's answer instead of
running a statement (`save_goal_if_newer`, `save_goal_reading_blocks`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal, goal_from_payload
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.unit_of_work import MatchingTransaction
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileUpdated
from shared.erasure import Erasure, Person

ONLY = (ProfileUpdated, GoalSet)  # the events a poll may hold for its goals to go ahead
# goal, partition, whether its blocks are read with it (a goal new to the engine)
GoalAhead = tuple[Goal, int, bool]


def goals_ahead(
    poll: Sequence[tuple[EventEnvelope, int]],
    fresh: Collection[object],
    erased: Mapping[Person, Erasure],
    engines: Mapping[str, TenantEngine],
) -> dict[str, list[GoalAhead]]:
    """Per tenant, the goals of the poll that can be stored ahead (none if the poll holds an
    event other than profile updates and goal sets)."""
    if not all(type(event) in ONLY for event, _ in poll):
        return {}
    ahead: dict[str, list[GoalAhead]] = {}
    seen: set[tuple[str, str]] = set()
    for event, partition in poll:
        if type(event) is not GoalSet or event.event_id not in fresh:
            continue
        goal = goal_from_payload(event.payload)
        key = seeker_key(goal.mentee_id, goal.goal_id)
        if (event.tenant_id, event.key) in erased or (event.tenant_id, key) in seen:
            continue
        seen.add((event.tenant_id, key))
        new_to_engine = key not in engines[event.tenant_id].roster.goals
        ahead.setdefault(event.tenant_id, []).append((goal, partition, new_to_engine))
    return ahead


async def store_goals_ahead(
    tx: MatchingTransaction,
    poll: Sequence[tuple[EventEnvelope, int]],
    fresh: Collection[object],
    erased: Mapping[Person, Erasure],
    engines: Mapping[str, TenantEngine],
) -> None:
    for tenant_id, goals in sorted(goals_ahead(poll, fresh, erased, engines).items()):
        await tx.save_goals_ahead(tenant_id, goals)

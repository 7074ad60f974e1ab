"""Why a mentee's next proposal goes out, as MatchProposed.cause says it.

Each of the mentee's own events (a goal, their profile, a decline, a step of a relationship)
tells what it means for their next proposal (`Told`); events of other people leave the cause
`others_changed`. A proposal that is the first for its goal says `goal_set`, whatever brought it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from services.matching.domain.causes import goal_changes, is_new_goal, only_preferences
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal
from services.matching.domain.seekers import mentee_of, seeker_key
from shared.contracts.matches import CauseKind, ProposalCause
from shared.contracts.preferences import Adjustment

OTHERS_CHANGED = ProposalCause(kind="others_changed")
FIRST_FOR_GOAL = ProposalCause(kind="goal_set")


@dataclass(frozen=True)
class Told:
    """What one of the mentee's own events means for their next proposal.

    `cause` None: quiet, the ranking is stored but not sent (the mentee just asked a mentor,
    an email now would only repeat what they know). `forced`: sent even with the same mentors
    as the last proposal (the mentee changed what they want, or a relationship step moved
    them on: they are told what follows, even when it is the same list). `goal_id`: the one
    goal of the mentee it is about; None: each of their goals whose ranking it changed.
    """

    cause: ProposalCause | None
    forced: bool = False
    goal_id: str | None = None


QUIET = Told(None)
PROFILE_CHANGED = Told(ProposalCause(kind="profile_changed"))
# A later event of the same batch does not hide these: an adjustment says more than the
# ending that caused it.
_KEPT_OVER = {
    "preferences_adjusted": frozenset({"relationship_ended", "proposal_declined"}),
    "proposal_declined": frozenset({"relationship_ended"}),  # 'Not for me' withdrew a request
}


def merged(before: Told | None, after: Told) -> Told:
    """Two own events of the mentee in one transaction: the later one speaks, unless it is
    quiet or says less; either one forcing forces."""
    if before is None:
        return after
    forced = before.forced or after.forced
    goal_id = after.goal_id or before.goal_id
    if after.cause is None:
        return Told(before.cause, forced, goal_id)
    if before.cause is not None and after.cause.kind in _KEPT_OVER.get(before.cause.kind, ()):
        return Told(before.cause, forced, goal_id)
    return Told(after.cause, forced, goal_id)


def goal_told(
    previous: Goal | None,
    new: Goal,
    adjustment: Adjustment | None = None,
    mentor_name: str | None = None,
) -> Told:
    """A newer goal (set by the mentee, or adjusted by the learning rule; `mentor_name` names
    the mentor whose ending or decline taught the adjustment)."""
    goal_id = new.goal_id
    if adjustment is not None:
        cause = ProposalCause(
            kind="preferences_adjusted",
            adjustment=adjustment,
            mentor_id=adjustment.mentor_id,
            mentor_name=mentor_name,
        )
        return Told(cause, True, goal_id)
    if previous is None or is_new_goal(previous, new):
        return Told(ProposalCause(kind="goal_set"), True, goal_id)
    changed = goal_changes(previous, new)
    kind: CauseKind = "preferences_changed" if only_preferences(changed) else "goal_changed"
    return Told(ProposalCause(kind=kind, changed=changed), bool(changed), goal_id)


def about_mentor(kind: CauseKind, mentor_id: str, mentor_name: str | None) -> ProposalCause:
    return ProposalCause(kind=kind, mentor_id=mentor_id, mentor_name=mentor_name)


def told_seekers(
    engine: TenantEngine, mentee_id: str, told: Told, changed: Collection[str]
) -> list[str]:
    """The mentee's goals (seekers) an event of theirs speaks for: the goal it names, or each
    of their goals whose ranking changed; a forced answer goes out even for an unchanged one."""
    if told.goal_id is not None:
        key = seeker_key(mentee_id, told.goal_id)
        return [key] if key in changed or told.forced else []
    mine = {key for key in changed if mentee_of(key) == mentee_id}
    if told.forced:
        mine.update(engine.roster.seekers_of(mentee_id))
    return sorted(mine)

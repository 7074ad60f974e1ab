"""The learning rule: what an ending's reason (or a declined proposal's) changes in the mentee's
goal. One definition; docs/lifecycle.md shows it as a table.

Each reason raises some criteria weights (`RAISES`); `style` also stops preferring the
mentor's own styles (no preference before: every other style is preferred now). A declined
proposal teaches half as much as an ended relationship: one proposal read in an email says
less than weeks of meetings. Weights stay within 0..1; a change that moves nothing (every
weight already at 1, no style left to avoid) is no adjustment at all. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID, uuid4

from shared.contracts.goals import CriteriaWeights, GoalSetPayload
from shared.contracts.lifecycle import EndingReason
from shared.contracts.preferences import Adjustment, WeightChange
from shared.contracts.types import MentoringStyle

Trigger = Literal["relationship_ended", "proposal_declined"]

RAISES: dict[EndingReason, dict[str, float]] = {
    "style": {"style": 0.2},
    "availability": {"availability": 0.3},
    "expertise": {"skills": 0.2, "experience": 0.2},
    "chemistry": {"background": 0.2},
    "other": {},
    "goal_reached": {},
}
GENTLENESS: dict[Trigger, float] = {"relationship_ended": 1.0, "proposal_declined": 0.5}


@dataclass(frozen=True)
class Preferences:
    """The part of a goal the rule changes, and an undo restores."""

    criteria: CriteriaWeights
    preferred_styles: tuple[MentoringStyle, ...]

    @classmethod
    def of(cls, goal: GoalSetPayload) -> Preferences:
        return cls(goal.criteria, tuple(goal.preferred_styles))

    def applied_to(self, goal: GoalSetPayload) -> GoalSetPayload:
        """The goal with these preferences, one version on."""
        return goal.model_copy(
            update={
                "criteria": self.criteria,
                "preferred_styles": list(self.preferred_styles),
                "version": goal.version + 1,
            }
        )


@dataclass(frozen=True)
class Learned:
    before: Preferences
    after: Preferences
    adjustment: Adjustment


def _styles_after(
    preferred: tuple[MentoringStyle, ...], mentor_styles: list[MentoringStyle]
) -> tuple[MentoringStyle, ...]:
    """Without the ended mentor's styles. No preference before means every style was fine:
    now every style but theirs is. Avoiding every style would leave none, so that changes
    nothing."""
    wanted = preferred or tuple(MentoringStyle)
    kept = tuple(s for s in wanted if s not in mentor_styles)
    return kept if kept else preferred


def _diff(
    before: Preferences, after: Preferences
) -> tuple[list[WeightChange], list[MentoringStyle], list[MentoringStyle]]:
    old, new = before.criteria.model_dump(), after.criteria.model_dump()
    weights = [
        WeightChange(criterion=name, before=old[name], after=new[name])
        for name in old
        if old[name] != new[name]
    ]
    favoured = [s for s in after.preferred_styles if s not in before.preferred_styles]
    avoided = [s for s in before.preferred_styles if s not in after.preferred_styles]
    if not before.preferred_styles and after.preferred_styles:
        avoided = [s for s in MentoringStyle if s not in after.preferred_styles]
    return weights, favoured, avoided


def _adjustment(before: Preferences, after: Preferences, **fields: object) -> Adjustment | None:
    weights, favoured, avoided = _diff(before, after)
    if not (weights or favoured or avoided):
        return None
    return Adjustment.model_validate(
        {
            "adjustment_id": uuid4(),
            "weights": weights,
            "styles_favoured": favoured,
            "styles_avoided": avoided,
            **fields,
        }
    )


def learn(
    goal: GoalSetPayload,
    reason: EndingReason | None,
    trigger: Trigger,
    mentor_id: str,
    mentor_styles: list[MentoringStyle],
) -> Learned | None:
    """What `reason` teaches about this mentee's goal; None when it teaches nothing."""
    if reason is None:
        return None
    before = Preferences.of(goal)
    weights = goal.criteria.model_dump()
    for criterion, raise_by in RAISES[reason].items():
        weights[criterion] = round(min(1.0, weights[criterion] + raise_by * GENTLENESS[trigger]), 2)
    styles = before.preferred_styles
    if reason == "style":
        styles = _styles_after(styles, mentor_styles)
    after = Preferences(CriteriaWeights(**weights), styles)
    adjustment = _adjustment(before, after, trigger=trigger, reason=reason, mentor_id=mentor_id)
    return Learned(before, after, adjustment) if adjustment else None


def undo(current: GoalSetPayload, restored: Preferences, undoes: UUID) -> Learned | None:
    """Back to the preferences from before adjustment `undoes`; None when they are current."""
    before = Preferences.of(current)
    adjustment = _adjustment(before, restored, trigger="undo", undoes=undoes)
    return Learned(before, restored, adjustment) if adjustment else None

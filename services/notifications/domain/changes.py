"""The one line a proposal email opens with: what changed since the mentee last heard from us.

One function renders it for every cause matching can give (`ProposalCause.kind`), from the
cause alone, so the line says only what the event behind the proposal says. A proposal without a
cause (version 1 records) has no line.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.contracts.matches import ProposalCause
from shared.contracts.preferences import Adjustment

# How the goal fields in `ProposalCause.changed` read in a sentence.
_FIELDS = {
    "target_skills": "the skills of your goal",
    "target_industries": "the industries of your goal",
    "target_functions": "the functions of your goal",
    "statement": "your goal's statement",
    "timeframe_months": "your goal's timeframe",
    "background_preference": "your background preference",
    "preferred_styles": "your preferred mentoring styles",
    "musts": "your must-haves",
}
_CRITERIA = {
    "skills": "skills",
    "experience": "experience",
    "industry": "industry",
    "function": "function",
    "background": "background",
    "style": "mentoring style",
    "language": "language",
    "availability": "availability",
}
_REASONS = {
    "goal_reached": "goal reached",
    "style": "mentoring style",
    "availability": "availability",
    "expertise": "expertise",
    "chemistry": "chemistry",
    "other": "another reason",
}


def what_changed(cause: ProposalCause | None) -> str | None:
    """One sentence, or None when there is no cause to tell."""
    if cause is None:
        return None
    mentor = cause.mentor_name or "A mentor"
    match cause.kind:
        case "goal_set":
            return "You set a new goal."
        case "goal_changed" | "preferences_changed":
            return f"You changed {_listed([_field(name) for name in cause.changed])}."
        case "preferences_adjusted":
            return _adjusted(cause.adjustment, cause.mentor_name)
        case "profile_changed":
            return "You updated your profile."
        case "proposal_declined":
            return f"You told us {cause.mentor_name or 'a mentor'} is not for you."
        case "request_declined":
            return f"{mentor} cannot take you on as a mentee right now."
        case "request_expired":
            return f"{mentor} did not answer your request in time."
        case "relationship_ended":
            with_whom = f" with {cause.mentor_name}" if cause.mentor_name else ""
            return f"Your mentoring relationship{with_whom} has ended."
        case "others_changed":
            return "Mentors joined, left or filled their places since our last email."
    return None


def _field(name: str) -> str:
    if name.startswith("criteria."):
        criterion = name.removeprefix("criteria.")
        return f"how much {_CRITERIA.get(criterion, criterion)} matters to you"
    return _FIELDS.get(name, name.replace("_", " "))


def _listed(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items)) or ["your preferences"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _adjusted(adjustment: Adjustment | None, mentor_name: str | None) -> str:
    """What the learning rule changed, and why, in one sentence."""
    if adjustment is None:
        return "We adjusted your preferences."
    if adjustment.trigger == "undo":
        return "We undid our last adjustment: your preferences are as they were before it."
    who = mentor_name or "a mentor"
    if adjustment.trigger == "relationship_ended":
        because = f"your mentoring relationship with {who} ended"
    else:
        because = f"you told us {who} is not for you"
    if adjustment.reason is not None:
        because += f" (reason given: {_REASONS.get(adjustment.reason, adjustment.reason)})"
    changes = [
        f"give {'more' if w.after > w.before else 'less'} weight to {_CRITERIA.get(c, c)}"
        for w in adjustment.weights
        if w.after != w.before and (c := w.criterion)
    ]
    if adjustment.styles_favoured:
        changes.append(f"prefer mentors whose style is {_styles(adjustment.styles_favoured)}")
    if adjustment.styles_avoided:
        changes.append(f"no longer prefer the {_styles(adjustment.styles_avoided)} style")
    if not changes:
        return f"Because {because}, we looked again."
    return f"Because {because}, we now {_listed(changes)}."


def _styles(styles: Sequence[str]) -> str:
    return _listed([str(s).replace("_", " ") for s in styles])

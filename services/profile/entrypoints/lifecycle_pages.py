"""What the lifecycle links' pages say: each sentence is what the service does next.

A request's pages speak to the mentee, the answers' pages to the mentor; the ending and fit
check pages to whichever of the two follows the link.
"""

from __future__ import annotations

from datetime import datetime

from services.profile.domain.relationships import (
    Answer,
    LifecycleTerms,
    Move,
    Refusal,
    Relationship,
)
from services.profile.entrypoints.link_pages import Page

ENDING_REASONS = (
    ("style", "The mentoring style did not suit"),
    ("availability", "We could not find time to meet"),
    ("expertise", "Different expertise was needed"),
    ("chemistry", "We did not click"),
    ("goal_reached", "The goal was reached"),
    ("other", "Something else"),
)


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def asked(mentor: str, r: Relationship) -> Page:
    return Page(
        "Request sent",
        f"We asked {mentor} for an introduction and sent them your goal. They have until "
        f"{day(r.deadline)} to answer. If they accept, we will introduce you to each other by "
        "email; if they say not now or do not answer in time, we will look for another mentor "
        "for you.",
    )


def asked_before(mentor: str, r: Relationship) -> Page:
    """The same "Request an intro" link, followed again: where that request stands now."""
    said = {
        "requested": f"You asked {mentor} on {day(r.requested_at)}; they have until "
        f"{day(r.deadline)} to answer.",
        "active": f"{mentor} accepted your request; your introduction email has their address.",
        "declined": f"{mentor} cannot take you on now; we are looking for another mentor for you.",
        "expired": f"{mentor} did not answer in time; we are looking for another mentor for you.",
        "ended": f"Your mentoring relationship with {mentor} has ended.",
    }
    return Page("You already asked", f"{said[r.state]} Nothing was sent again.")


def refused(refusal: Refusal, mentor: str, terms: LifecycleTerms) -> Page:
    if refusal is Refusal.NO_SEAT:
        return Page(
            "No free place",
            f"{mentor} has no free place for a new mentee right now, so we did not send your "
            "request. You can request an intro to another mentor from your email.",
        )
    if refusal is Refusal.UNREACHABLE:
        return Page(
            "This mentor cannot be reached",
            f"{mentor} cannot be reached by email right now, so we did not send your request. "
            "You can request an intro to another mentor from your email.",
        )
    if refusal is Refusal.LIMIT_REACHED:
        return Page(
            "Too many open requests",
            f"You already have {terms.open_requests_limit} requests waiting for a mentor's "
            "answer, the most this programme allows at once, so we did not send this one. "
            "Once a mentor answers, or a request passes its deadline "
            f"({terms.request_deadline.days} days after you sent it), you can ask again.",
        )
    if refusal is Refusal.GOAL_CLOSED:
        return Page(
            "This goal is closed",
            "The email you followed was for a goal you no longer hold, so we did not send "
            "this request. Your open goals each get emails of their own.",
        )
    if refusal is Refusal.HAS_MENTOR:
        return Page(
            "You already have a mentor for this goal",
            "So we did not send this request. If that relationship ends, you can request "
            "another introduction.",
        )
    return Page(
        "You already asked",
        f"You already have a request or a relationship with {mentor} for this goal, so we "
        "did not send another.",
    )


def confirm_answer(accept: bool, mentee: str, r: Relationship) -> Page:
    if accept:
        return Page(
            f"Mentor {mentee}?",
            f"If you accept, we will introduce you to {mentee} by email and share your email "
            "addresses with each other.",
            "Accept",
        )
    return Page(
        "Not now?",
        f"We will let {mentee} know you cannot take them on now and look for another mentor "
        "for them.",
        "Not now",
    )


def answered(accept: bool, mentee: str, move: Move) -> Page:
    """The mentor's answer, as it turned out."""
    r = move.after
    if move.answer is Answer.TOO_LATE:
        return Page(
            "This request has expired",
            f"The deadline to answer was {day(r.deadline)}, so the request can no longer be "
            f"answered; we are looking for another mentor for {mentee}.",
        )
    if move.answer is Answer.DONE and accept:
        return Page(
            "You accepted",
            f"You are now {mentee}'s mentor. We are sending you both an introduction email "
            "with each other's address.",
        )
    if move.answer is Answer.DONE:
        return Page(
            "Thanks for letting us know",
            f"We will let {mentee} know you cannot take them on now and look for another "
            "mentor for them.",
        )
    return Page("Already answered", f"{_state(r, mentee)} Nothing was changed.")


def _state(r: Relationship, other: str) -> str:
    """Where the relationship stands, in words true for either of the two."""
    return {
        "requested": "This request is still waiting for an answer.",
        "active": f"The relationship with {other} is active.",
        "declined": "This request was answered with not now.",
        "expired": f"This request expired on {day(r.deadline)}.",
        "ended": f"The relationship with {other} ended on {day(r.ended_at or r.deadline)}.",
    }[r.state]


def ending_form(other: str, *, fit_check: bool) -> Page:
    title = "Sorry it is not a good fit" if fit_check else "End the relationship?"
    return Page(
        title,
        f"We will end your mentoring relationship with {other} and let them know. The "
        "reason is optional; it helps us choose better next time.",
        "End the relationship",
        ENDING_REASONS,
        "Why? (optional)",
        ending=True,
    )


def ended(other: str, move: Move, learned: bool, mentee_side: bool) -> Page:
    if move.answer is Answer.DONE:
        next_step = " We will suggest new mentors for your goal." if mentee_side else ""
        told = f"We are letting {other} know.{next_step}"
        if learned:
            told += " Your next proposals take your reason into account; that email says how."
        return Page("The relationship has ended", told)
    if move.answer is Answer.REPEATED:
        return Page("Already ended", f"{_state(move.after, other)} Nothing was changed.")
    return Page("Nothing to end", f"{_state(move.after, other)} Nothing was changed.")


def confirm_fit(other: str) -> Page:
    return Page(
        "Going well?",
        f"Glad to hear it. Confirm, and we will note that your relationship with {other} "
        "is going well.",
        "Yes, it is going well",
    )


def fit_noted(other: str, move: Move) -> Page:
    if move.answer is Answer.CLOSED:
        return Page("Nothing to answer", f"{_state(move.after, other)} Nothing was changed.")
    return Page(
        "Thanks, noted",
        f"Your relationship with {other} is going well. If that changes, the end link in "
        "any of our emails about it ends the relationship.",
    )


def confirm_undo() -> Page:
    return Page(
        "Undo this change?",
        "Your next proposals will use the preferences you had before this change.",
        "Undo",
    )


def undone(done: bool) -> Page:
    if done:
        return Page(
            "Change undone", "Your next proposals use the preferences you had before the change."
        )
    return Page(
        "Nothing to undo",
        "This change was undone already, or your goal has changed since. Nothing was changed.",
    )


UNKNOWN = Page(
    "This link is not valid",
    "It does not match a request or relationship of yours. Nothing was changed.",
)
EXPIRED = Page(
    "This link has expired",
    "Links in our emails work for a limited time. Nothing was changed.",
)

"""What a lifecycle email says (templates/*.j2) and its subject. No I/O: rendering only."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from services.notifications.domain.email import Contact, Envelope, Sender, render_message
from services.notifications.domain.lifecycle import LifecycleEmail
from services.notifications.domain.lifecycle_links import LifecycleLinks
from services.notifications.domain.promises import promise
from services.notifications.domain.schedule import local_time

TEMPLATES = {
    "mentor_request": "mentor_request",
    "request_reminder": "mentor_request",
    "request_withdrawn": "request_withdrawn",
    "introduction": "introduction",
    "fit_check": "fit_check",
    "relationship_ended": "relationship_ended",
}


def other_name(email: LifecycleEmail) -> str:
    if email.other_name:
        return email.other_name
    return "your mentee" if email.recipient_role == "mentor" else "your mentor"


def subject(email: LifecycleEmail) -> str:
    other = other_name(email)
    if email.kind == "mentor_request":
        return f"{other} asks you to be their mentor"
    if email.kind == "request_reminder":
        return f"Reminder: {other} is waiting for your answer"
    if email.kind == "introduction":
        role = "mentee" if email.recipient_role == "mentor" else "mentor"
        return f"Meet your {role}, {other}"
    if email.kind == "fit_check":
        return f"How is it going with {other}?"
    if email.kind == "request_withdrawn":
        return f"{other} withdrew their request" if email.other_id else "A request was withdrawn"
    return "Your mentoring relationship has ended"


def what_ended(email: LifecycleEmail) -> str:
    """The first sentence of the ending notice (or the withdrawal): who ended it."""
    other = other_name(email)
    if email.kind == "request_withdrawn":
        if email.other_id is None:
            return "A request for an introduction to you was withdrawn: the mentee left Mentorlink."
        return f"{other} withdrew their request for an introduction to you."
    if email.ended_by in ("mentee", "mentor"):
        return f"{other} ended your mentoring relationship."
    if email.ended_by == "integrator":
        return f"Your mentoring programme ended your relationship with {other}."
    if email.other_id is None:
        return f"Your mentoring relationship ended because {other} left Mentorlink."
    return f"Your mentoring relationship with {other} ended."


def compose_lifecycle(
    email: LifecycleEmail,
    contact: Contact,
    sender: Sender,
    msg_id: str,
    links: LifecycleLinks,
    now: datetime,
) -> EmailMessage:
    def when(moment: datetime | None) -> str:
        return local_time(moment, contact.timezone) if moment else ""

    context: dict[str, object] = {
        "name": contact.display_name,
        "email": email,
        "links": links,
        "other": other_name(email),
        "deadline": when(email.deadline),
        "fit_check": when(email.fit_check_at),
        "what": what_ended(email),
        "promise": promise,
        "title": subject(email),
    }
    envelope = Envelope(contact, sender, msg_id, links.unsubscribe, now)
    return render_message(envelope, subject(email), TEMPLATES[email.kind], context)

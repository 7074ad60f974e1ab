"""The small HTML pages behind the signed links in proposal emails (autoescaped)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from shared.links import LinkAction

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Page:
    title: str
    message: str
    button: str | None = None
    reasons: tuple[tuple[str, str], ...] = ()  # optional radio choices (value, label)
    reasons_legend: str = ""
    ending: bool = False  # the ending form: rating and "don't match us again" too


DECLINE_REASONS = (
    ("style", "Their mentoring style"),
    ("availability", "Their availability"),
    ("expertise", "Their expertise"),
    ("chemistry", "Not the right person for me"),
    ("other", "Something else"),
)


def confirmation(action: LinkAction, mentor_name: str) -> Page:
    if action is LinkAction.ACCEPT:
        return Page(
            "Request an introduction",
            f"Would you like an introduction to {mentor_name}? "
            "We will let them know you would like them as your mentor.",
            "Yes, request an intro",
        )
    if action is LinkAction.DECLINE:
        return Page(
            "Not the right mentor?",
            f"We will not suggest {mentor_name} to you again and will look for an alternative.",
            "Not for me",
            DECLINE_REASONS,
            "Why not? (optional: it helps us choose better)",
        )
    return Page(
        "Unsubscribe",
        "Stop receiving all Mentorlink emails: mentor proposals, requests from mentees and the "
        "emails about your mentoring relationships?",
        "Unsubscribe",
    )


def declined(mentor_name: str, learned: bool, withdrew: bool) -> Page:
    withdrawn = f" Your request to {mentor_name} is withdrawn." if withdrew else ""
    more = " Your next proposals take your reason into account." if learned else ""
    return Page(
        "Thanks, noted",
        f"We will not suggest {mentor_name} to you again and will look for a mentor who suits "
        f"you better.{withdrawn}{more}",
    )


def unsubscribed() -> Page:
    # The opt-out is the contact's: notifications suppresses every email to them, whatever it is.
    return Page(
        "You are unsubscribed",
        "You will not receive any Mentorlink emails: no mentor proposals, no requests from "
        "mentees and no emails about your mentoring relationships.",
    )


INVALID = Page(
    "This link is not valid",
    "It may have been copied incompletely. Please open it again from the email.",
)
EXPIRED = Page(
    "This link has expired",
    "Proposals are valid for a limited time; a new email will bring fresh suggestions.",
)
EXPIRED_UNSUBSCRIBE = Page(
    "This link has expired",
    "Links in our emails are valid for a limited time. "
    "Every email we send carries its own unsubscribe link.",
)
GONE = Page(
    "This proposal is no longer available",
    "The people it was about are no longer in the programme.",
)


def render(page: Page, status: int = 200) -> HTMLResponse:
    html = _TEMPLATES.get_template("link.html.j2").render(
        title=page.title,
        message=page.message,
        button=page.button,
        reasons=page.reasons,
        reasons_legend=page.reasons_legend,
        ending=page.ending,
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)

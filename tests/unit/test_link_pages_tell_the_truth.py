"""Link pages tell the truth (issue 28): every page behind a link in our emails (the profile
service's proposal and lifecycle pages) is rendered in every state, and every sentence in it
that says what the system does next matches one of the statements below, each naming what does
it (checked in the code as for emails: tests/unit/test_emails_tell_the_truth.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.profile.domain import relationships as rel
from services.profile.entrypoints import lifecycle_pages as pages
from services.profile.entrypoints import link_pages
from shared.links import LinkAction
from tests.unit.test_emails_tell_the_truth import PROMISING, defined_in_shared, names_used

NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
TERMS = rel.LifecycleTerms()

# (what the page says, as a pattern) -> what does it: (symbol in shared/, service)
STATEMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    r"we will introduce you to each other by email": (
        ("MatchStarted", "profile"),
        ("MatchStarted", "notifications"),
    ),
    r"we will introduce you to .+ by email and share your email addresses": (
        ("MatchStarted", "notifications"),
    ),
    r"We are sending you both an introduction email with each other's address": (
        ("MatchStarted", "notifications"),
    ),
    r"your introduction email has their address": (("MatchStarted", "notifications"),),
    r"(we will|we are) look(ing)? for another mentor for \w+": (
        ("RequestDeclined", "matching"),
        ("RequestExpired", "matching"),
    ),
    r"We will let .+ know you cannot take them on now": (
        ("request_declined", "matching"),
        ("request_declined", "notifications"),
    ),
    r"We asked .+ for an introduction and sent them your goal": (
        ("MatchRequested", "profile"),
        ("MatchRequested", "notifications"),
    ),
    r"We will let them know you would like them as your mentor": (
        ("MatchRequested", "profile"),
        ("MatchRequested", "notifications"),
    ),
    r"We will end your mentoring relationship with .+ and let them know": (
        ("MatchEnded", "profile"),
        ("MatchEnded", "notifications"),
    ),
    r"We are letting .+ know": (("MatchEnded", "notifications"),),
    r"We will suggest new mentors for your goal": (("MatchEnded", "matching"),),
    r"it helps us choose better": (("PreferencesAdjusted", "profile"),),
    r"Your next proposals take your reason into account": (
        ("PreferencesAdjusted", "profile"),
        ("PreferencesAdjusted", "matching"),
        ("preferences_adjusted", "notifications"),
    ),
    r"that email says how": (("preferences_adjusted", "notifications"),),
    r"we will note that your relationship with .+ is going well": (("FIT_GOOD", "profile"),),
    r"the end link in any of our emails about it ends the relationship": (
        ("END", "notifications"),
        ("END", "profile"),
    ),
    r"Your next proposals (will )?use the preferences you had before": (
        ("UNDO_ADJUSTMENT", "profile"),
        ("PreferencesAdjusted", "matching"),
    ),
    r"We will not suggest .+ to you again and will look for (an alternative|a mentor who)": (
        ("MatchDeclined", "profile"),
        ("MatchDeclined", "matching"),
    ),
    r"Your request to .+ is withdrawn": (
        ("MatchEnded", "profile"),
        ("MatchEnded", "matching"),
        ("MatchEnded", "notifications"),
    ),
    r"You will not receive any Mentorlink emails": (
        ("UNSUBSCRIBE", "profile"),
        ("ProfileUpdated", "notifications"),
    ),
    r"Every email we send carries its own unsubscribe link": (("UNSUBSCRIBE", "notifications"),),
    r"a new email will bring fresh suggestions": (("MatchProposed", "matching"),),
    r"You can request an intro to another mentor from your email": (("ACCEPT", "profile"),),
    r"you can ask again|you can request another introduction": (("ACCEPT", "profile"),),
}
# Sentences that say nothing happened, or describe the page or the person's situation.
STATUS = re.compile(
    r"Nothing was (changed|sent again)|we did not send|so we did not send|Stop receiving"
    r"|Would you like an introduction",
    re.IGNORECASE,
)


def relationships() -> list[rel.Relationship]:
    asked = rel.request("acme", "u-ada", "u-grace", "g1", None, NOW, TERMS)
    active = rel.accept(asked, NOW, TERMS).after
    late = NOW + timedelta(days=6)
    return [
        asked,
        active,
        rel.decline(asked, NOW).after,
        rel.accept(asked, late, TERMS).after,  # expired
        rel.end(active, rel.Ending("mentee", "style"), NOW).after,
    ]


def moves() -> list[rel.Move]:
    asked = relationships()[0]
    late = NOW + timedelta(days=6)
    out = [rel.accept(asked, NOW, TERMS), rel.decline(asked, NOW), rel.accept(asked, late, TERMS)]
    for r in relationships():
        out += [rel.accept(r, NOW, TERMS), rel.decline(r, NOW)]
        out.append(rel.end(r, rel.Ending("mentee", "style"), NOW))
        out.append(rel.answer_fit(r, "u-ada", "good"))
    return out


def every_page() -> list[link_pages.Page]:
    found = [pages.asked("Grace Hopper", relationships()[0])]
    found += [pages.asked_before("Grace Hopper", r) for r in relationships()]
    found += [pages.refused(refusal, "Grace Hopper", TERMS) for refusal in rel.Refusal]
    found += [pages.confirm_answer(accept, "Ada", relationships()[0]) for accept in (True, False)]
    for move in moves():
        found += [pages.answered(True, "Ada", move), pages.answered(False, "Ada", move)]
        for learned, mentee_side in ((True, True), (False, True), (False, False)):
            found.append(pages.ended("Grace Hopper", move, learned, mentee_side))
        found.append(pages.fit_noted("Grace Hopper", move))
    found += [pages.ending_form("Grace Hopper", fit_check=f) for f in (True, False)]
    found += [pages.confirm_fit("Grace Hopper"), pages.confirm_undo()]
    found += [pages.undone(True), pages.undone(False), pages.UNKNOWN, pages.EXPIRED]
    for action in (LinkAction.ACCEPT, LinkAction.DECLINE, LinkAction.UNSUBSCRIBE):
        found.append(link_pages.confirmation(action, "Grace Hopper"))
    found += [
        link_pages.declined("Grace Hopper", learned, withdrew)
        for learned in (True, False)
        for withdrew in (True, False)
    ]
    found += [link_pages.unsubscribed(), link_pages.INVALID, link_pages.EXPIRED, link_pages.GONE]
    found.append(link_pages.EXPIRED_UNSUBSCRIBE)
    return found


def sentences(page: link_pages.Page) -> list[str]:
    said = re.split(r"(?<=[.!?;])\s+", page.message)
    return [s.strip() for s in (page.title, *said, page.reasons_legend) if s.strip()]


def test_every_page_sentence_that_promises_is_a_known_statement() -> None:
    unknown = set()
    for page in every_page():
        for sentence in sentences(page):
            if not PROMISING.search(sentence) or STATUS.search(sentence):
                continue
            if not any(re.search(p, sentence) for p in STATEMENTS):
                unknown.add(sentence)
    assert unknown == set()


def test_every_statement_is_said_by_some_page() -> None:
    said = " ".join(s for page in every_page() for s in sentences(page))
    assert [p for p in STATEMENTS if not re.search(p, said)] == []


@pytest.mark.parametrize("pattern", sorted(STATEMENTS))
def test_each_statement_is_backed_by_the_services_it_names(pattern: str) -> None:
    missing = [
        f"{symbol} in services/{service}"
        for symbol, service in STATEMENTS[pattern]
        if not defined_in_shared(symbol) or symbol not in names_used(service)
    ]
    assert missing == [], pattern


def test_the_walk_covers_every_state_a_page_can_describe() -> None:
    states = {r.state for r in relationships()}
    assert states == set(rel.STATES)
    assert len(every_page()) > 40

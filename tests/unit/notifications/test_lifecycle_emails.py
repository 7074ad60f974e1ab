"""Lifecycle emails: who gets which email for each relationship event, what each says, and the
links in it (domain/lifecycle.py, lifecycle_email.py, lifecycle_links.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from services.matching.domain.criteria import CRITERIA, explain
from services.matching.domain.people import Goal, Person
from services.notifications.domain.email import Contact, Sender, message_id
from services.notifications.domain.lifecycle import Facts, mentor_side, plan_emails
from services.notifications.domain.lifecycle_email import compose_lifecycle
from services.notifications.domain.lifecycle_links import lifecycle_links
from services.notifications.domain.links import LinkSigner
from shared.links import LinkAction, verify_link
from tests.unit.notifications.lifecycle_builders import NOW, Relationship

KEY = b"k" * 32
SIGNER = LinkSigner("https://mentorlink.example", KEY, timedelta(days=14))
SENDER = Sender("Mentorlink <m@x.org>", "Support <s@x.org>", "x.org")
ADA = Contact("acme", "u-ada", "ada@example.org", "Ada Lovelace", True, "Europe/London")
GRACE = Contact("acme", "u-grace", "grace@example.org", "Grace Hopper", True, "America/New_York")
CONTACTS = {"u-ada": ADA, "u-grace": GRACE}
FACTS = Facts(dict(CONTACTS), "Lead our migration to Kubernetes", ["senior in kubernetes"])


def rendered(event, facts=FACTS):
    out = {}
    for email in plan_emails(event, facts):
        contact = CONTACTS[email.recipient_id]
        links = lifecycle_links("acme", email, SIGNER, NOW)
        msg_id = message_id("acme", email.recipient_id, "x", "x.org", email.kind)
        message = compose_lifecycle(email, contact, SENDER, msg_id, links, NOW)
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        out[email.recipient_id] = (message, text, html)
    return out


def links_in(text: str) -> dict[LinkAction, dict]:
    claims = [verify_link(t, [KEY], NOW) for t in re.findall(r"/v1/links/([\w.-]+)", text)]
    return {c.action: c.model_dump() for c in claims}


R = Relationship()


def test_each_event_emails_the_people_the_design_names() -> None:
    assert list(rendered(R.requested())) == ["u-grace"]
    assert list(rendered(R.reminded())) == ["u-grace"]
    assert list(rendered(R.started())) == ["u-ada", "u-grace"]
    assert list(rendered(R.fit_check())) == ["u-ada", "u-grace"]
    assert list(rendered(R.ended(by="mentee"))) == ["u-grace"]
    assert list(rendered(R.ended(by="mentor"))) == ["u-ada"]
    assert list(rendered(R.ended(by="integrator"))) == ["u-ada", "u-grace"]
    assert rendered(R.declined()) == {} and rendered(R.expired()) == {}
    withdrawn = replace(FACTS, started=False)
    assert list(rendered(R.ended(by="mentee"), withdrawn)) == ["u-grace"]
    assert list(rendered(R.ended(by="system"), withdrawn)) == ["u-grace"]


def test_a_relationship_ended_before_it_started_is_a_request_withdrawn() -> None:
    message, text, _ = rendered(R.ended(by="mentee"), replace(FACTS, started=False))["u-grace"]
    assert message["Subject"] == "Ada Lovelace withdrew their request"
    assert "Ada Lovelace withdrew their request for an introduction to you." in text
    assert "ended your mentoring relationship" not in text
    assert set(links_in(text)) == {LinkAction.UNSUBSCRIBE}


def test_the_mentor_is_asked_with_the_goal_the_reasons_the_deadline_and_two_links() -> None:
    message, text, html = rendered(R.requested())["u-grace"]
    assert message["Subject"] == "Ada Lovelace asks you to be their mentor"
    assert message.get_content_type() == "multipart/alternative"
    for part in (text, html):
        assert "Lead our migration to Kubernetes" in part
        assert "senior in kubernetes" in part
        # five days after NOW, in the mentor's own time zone
        assert "Friday 11 December 2026, 13:00 (America/New_York)" in part
        assert "ada@example.org" not in part  # addresses are shared only on acceptance
    links = links_in(text)
    assert set(links) == {
        LinkAction.MENTOR_ACCEPT,
        LinkAction.MENTOR_DECLINE,
        LinkAction.UNSUBSCRIBE,
    }
    accept = links[LinkAction.MENTOR_ACCEPT]
    assert (accept["request_id"], accept["actor_id"]) == (R.request_id, "u-grace")
    assert (accept["mentee_id"], accept["mentor_id"], accept["goal_id"]) == (
        "u-ada",
        "u-grace",
        "g1",
    )
    assert links[LinkAction.UNSUBSCRIBE]["mentee_id"] == "u-grace"  # the recipient opts out
    assert links_in(html).keys() == links.keys()


def test_the_reminder_asks_again_and_does_not_promise_another() -> None:
    message, text, _ = rendered(R.reminded())["u-grace"]
    assert message["Subject"] == "Reminder: Ada Lovelace is waiting for your answer"
    assert "still waiting for your answer" in text
    assert "we remind you once" not in text
    assert LinkAction.MENTOR_ACCEPT in links_in(text)


def test_the_introduction_shares_both_addresses_and_offers_to_end() -> None:
    emails = rendered(R.started())
    _, to_ada, _ = emails["u-ada"]
    _, to_grace, _ = emails["u-grace"]
    assert "grace@example.org" in to_ada and "ada@example.org" in to_grace
    assert emails["u-ada"][0]["Subject"] == "Meet your mentor, Grace Hopper"
    assert emails["u-grace"][0]["Subject"] == "Meet your mentee, Ada Lovelace"
    # the fit check date, in each one's time zone
    assert "Sunday 20 December 2026, 18:00 (Europe/London)" in to_ada
    assert "Sunday 20 December 2026, 13:00 (America/New_York)" in to_grace
    for text, actor in ((to_ada, "u-ada"), (to_grace, "u-grace")):
        end = links_in(text)[LinkAction.END]
        assert (end["request_id"], end["actor_id"]) == (R.request_id, actor)


def test_an_opted_out_person_is_not_said_to_have_been_sent_an_address() -> None:
    quiet = replace(GRACE, email_opt_in=False)
    facts = replace(FACTS, contacts={"u-ada": ADA, "u-grace": quiet})
    _, to_ada, _ = rendered(R.started(), facts)["u-ada"]
    assert "we sent Grace Hopper yours" not in to_ada
    assert "Please write first: Grace Hopper does not receive emails" in to_ada


def test_the_fit_check_has_both_answers_and_the_end_link() -> None:
    for recipient, (message, text, _) in rendered(R.fit_check()).items():
        links = links_in(text)
        assert {LinkAction.FIT_GOOD, LinkAction.FIT_BAD, LinkAction.END} <= set(links)
        assert links[LinkAction.FIT_BAD]["actor_id"] == recipient
        assert message["Subject"].startswith("How is it going with ")


def test_the_ending_notice_says_who_ended_it_and_has_no_end_link() -> None:
    (_, to_grace, _) = rendered(R.ended(by="mentee"))["u-grace"]
    assert "Ada Lovelace ended your mentoring relationship." in to_grace
    assert "Your seat is free again" in to_grace
    assert LinkAction.END not in links_in(to_grace)
    (_, to_ada, _) = rendered(R.ended(by="mentor"))["u-ada"]
    assert "Grace Hopper ended your mentoring relationship." in to_ada
    assert "We suggest other mentors for your goal." in to_ada


def test_nobody_erased_is_emailed_or_named() -> None:
    facts = replace(FACTS, erased=frozenset({"u-ada"}))
    emails = rendered(R.ended(by="system"), facts)
    assert list(emails) == ["u-grace"]
    message, text, html = emails["u-grace"]
    assert "Ada" not in text + html + str(message["Subject"])
    assert "Lead our migration" not in text  # the goal was the erased mentee's
    assert "ended because your mentee left Mentorlink" in text
    assert rendered(R.requested(), replace(FACTS, erased=frozenset({"u-grace"}))) == {}


def _all_explanations() -> list[str]:
    """Every sentence shape matching writes as a proposal reason (criteria.explain)."""
    mentee = Person(
        "u-ada",
        1,
        False,
        True,
        "Ada",
        None,
        {},
        2,
        ("fintech",),
        ("engineering",),
        {"education": "first generation"},
        ("en",),
        (),
        0,
        True,
        None,
        week=0b1111,
    )
    mentor = Person(
        "u-grace",
        1,
        True,
        False,
        "Grace",
        None,
        {"kubernetes": 4, "go": 5},
        12,
        ("fintech",),
        ("engineering",),
        {"education": "first generation"},
        ("en",),
        ("coaching",),
        2,
        True,
        None,
        week=0b0111,
    )
    out = []
    for preference in ("similar", "different"):
        goal = Goal(
            "u-ada",
            1,
            "g1",
            ("kubernetes", "go"),
            ("fintech",),
            ("engineering",),
            preference,
            ("coaching",),
        )
        out += [explain(goal, mentee, mentor, criterion) for criterion in CRITERIA]
    out.append(explain(goal, replace(mentee, week=0), mentor, "availability"))
    return sorted(set(out))


@pytest.mark.parametrize("explanation", _all_explanations())
def test_every_reason_matching_writes_reads_right_to_the_mentor(explanation: str) -> None:
    said = mentor_side(explanation)
    leftover = re.sub(r"\byou are both\b", "", said)
    assert not re.search(r"\byou(r)?\b", leftover), said
    assert not re.search(r"\bthem (asked|prefer|want|are|were|have|need)\b", said), said
    if re.search(r"\byou(r)?\b", re.sub(r"\byou are both\b", "", explanation)):
        assert said != explanation


def test_mentor_side_examples() -> None:
    assert mentor_side("senior in kubernetes, one of your goal skills") == (
        "senior in kubernetes, one of their goal skills"
    )
    assert mentor_side("10 years further along than you") == "10 years further along than them"
    assert mentor_side("brings a different perspective, as you asked") == (
        "brings a different perspective, as they asked"
    )
    assert mentor_side("mentors the way you prefer: coaching") == (
        "mentors the way they prefer: coaching"
    )
    assert mentor_side("3 hours a week when you are both available") == (
        "3 hours a week when you are both available"
    )

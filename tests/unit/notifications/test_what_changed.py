"""The "what changed" line and the waiting-list email (issue 26: proposals follow the mentee)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args
from uuid import UUID

import pytest

from services.notifications.domain.changes import what_changed
from services.notifications.domain.email import Contact, Sender, compose
from services.notifications.domain.links import LinkSigner, proposal_links
from shared.contracts.matches import CauseKind, MatchProposedPayload, ProposalCause
from shared.contracts.preferences import Adjustment, WeightChange
from shared.links import LinkAction, verify_link
from tests.unit.builders import TENANT, proposal

KEY = b"test-link-key"
NOW = datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
SIGNER = LinkSigner("https://mentorlink.test/", KEY, timedelta(days=14))
ADJUSTMENT = Adjustment(
    adjustment_id=UUID(int=7),
    trigger="relationship_ended",
    reason="style",
    mentor_id="u-grace",
    weights=[WeightChange(criterion="style", before=0.4, after=0.6)],
    styles_favoured=["sounding_board"],
    styles_avoided=["challenging"],
)


def text_of(payload: MatchProposedPayload) -> tuple[str, str, str]:
    contact = Contact(TENANT, payload.mentee_id, "ada@example.org", "Ada", True, "UTC")
    sender = Sender("m@mentorlink.test", "s@mentorlink.test", "mentorlink.test")
    links = proposal_links(TENANT, payload, SIGNER, NOW)
    message = compose(payload, contact, sender, "<id@mentorlink.test>", links, now=NOW)
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    return str(message["Subject"]), plain, html


@pytest.mark.parametrize("kind", get_args(CauseKind))
def test_every_cause_kind_reads_as_one_sentence(kind: CauseKind) -> None:
    cause = ProposalCause(
        kind=kind,
        changed=["preferred_styles"] if "changed" in kind else [],
        mentor_name="Grace Hopper",
        adjustment=ADJUSTMENT if kind == "preferences_adjusted" else None,
    )
    line = what_changed(cause)
    assert line and line[0].isupper() and line.endswith(".") and "\n" not in line
    assert line.count(". ") == 0  # one sentence


def test_the_lines_say_what_changed() -> None:
    changed = ProposalCause(kind="preferences_changed", changed=["preferred_styles"])
    assert what_changed(changed) == "You changed your preferred mentoring styles."
    goal = ProposalCause(kind="goal_changed", changed=["target_skills", "criteria.style"])
    assert what_changed(goal) == (
        "You changed the skills of your goal and how much mentoring style matters to you."
    )
    assert what_changed(ProposalCause(kind="goal_set")) == "You set a new goal."
    declined = ProposalCause(kind="request_declined", mentor_name="Grace Hopper")
    assert what_changed(declined) == "Grace Hopper cannot take you on as a mentee right now."
    adjusted = ProposalCause(
        kind="preferences_adjusted", mentor_name="Grace Hopper", adjustment=ADJUSTMENT
    )
    assert what_changed(adjusted) == (
        "Because your mentoring relationship with Grace Hopper ended (reason given: mentoring "
        "style), we now give more weight to mentoring style, prefer mentors whose style is "
        "sounding board and no longer prefer the challenging style."
    )
    assert what_changed(None) is None


def test_a_changed_preference_opens_the_email_with_its_line() -> None:
    cause = ProposalCause(kind="preferences_changed", changed=["preferred_styles"])
    _, plain, html = text_of(proposal(cause=cause))
    assert plain.index("You changed your preferred mentoring styles.") < plain.index("We found")
    assert "You changed your preferred mentoring styles." in html


def test_an_adjustment_comes_with_an_undo_link_naming_it_and_the_goal() -> None:
    cause = ProposalCause(kind="preferences_adjusted", adjustment=ADJUSTMENT)
    payload = proposal(goal_id="g7", cause=cause)
    links = proposal_links(TENANT, payload, SIGNER, NOW)
    assert links.undo is not None and links.widen is None
    claims = verify_link(links.undo.rsplit("/", 1)[1], [KEY], NOW)
    assert claims.action is LinkAction.UNDO_ADJUSTMENT
    assert (claims.adjustment_id, claims.goal_id) == (ADJUSTMENT.adjustment_id, "g7")
    _, plain, _ = text_of(payload)
    assert f"Undo this change: {links.undo}" in plain
    undo = ADJUSTMENT.model_copy(update={"trigger": "undo", "undoes": UUID(int=6)})
    undone = ProposalCause(kind="preferences_adjusted", adjustment=undo)
    assert proposal_links(TENANT, proposal(cause=undone), SIGNER, NOW).undo is None


def test_an_empty_proposal_is_the_waiting_list_email_with_a_widen_link() -> None:
    cause = ProposalCause(kind="proposal_declined", mentor_name="Grace Hopper")
    payload = proposal(goal_id="g2", mentors=[], cause=cause)
    subject, plain, html = text_of(payload)
    assert subject == "You are on the waiting list for a mentor"
    assert plain.index("You told us Grace Hopper is not for you.") < plain.index("waiting list")
    assert "we email you a new choice" in plain and "we email you a new choice" in html
    links = proposal_links(TENANT, payload, SIGNER, NOW)
    assert links.widen is not None and links.widen in plain and links.widen in html
    claims = verify_link(links.widen.rsplit("/", 1)[1], [KEY], NOW)
    assert claims.action is LinkAction.WIDEN
    assert (claims.goal_id, claims.proposal_id) == ("g2", payload.proposal_id)
    assert "Not for me" not in plain and "Request an intro" not in plain

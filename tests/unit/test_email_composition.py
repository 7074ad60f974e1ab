"""The proposal email: parts, escaping, safe headers and a stable Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from services.notifications.domain.email import Contact, Sender, compose, message_id
from shared.contracts.matches import CriterionReason, MatchProposedPayload, ProposedMentor
from tests.unit.builders import TENANT, proposal

SENDER = Sender(
    mail_from="Mentorlink <matches@mentorlink.test>",
    reply_to="Mentorlink support <support@mentorlink.test>",
    message_id_domain="mentorlink.test",
)
NOW = datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"


def contact(**overrides: object) -> Contact:
    fields: dict[str, object] = {
        "tenant_id": TENANT,
        "user_id": "u-mentee",
        "email": "ada@example.org",
        "display_name": "Ada Lovelace",
        "email_opt_in": True,
        "timezone": "Europe/London",
    }
    fields.update(overrides)
    return Contact(**fields)  # type: ignore[arg-type]


def hostile_proposal() -> MatchProposedPayload:
    """Markup in every free-text field a mentor controls (all valid: no control characters)."""
    mentor = ProposedMentor(
        mentor_id="u-eve",
        display_name=f"Eve {SCRIPT}",
        headline=f"<img src=x onerror=alert(2)> {SCRIPT}",
        rank=1,
        score=0.8,
        reasons=[
            CriterionReason(
                criterion="skills",
                contribution=0.8,
                explanation=f"senior in {SCRIPT}, one of your goal skills",
            )
        ],
    )
    return proposal(mentors=[mentor])


def build(
    the_proposal: MatchProposedPayload | None = None, **contact_overrides: object
) -> EmailMessage:
    the_proposal = the_proposal or proposal()
    msg_id = message_id(
        TENANT, the_proposal.mentee_id, str(the_proposal.proposal_id), SENDER.message_id_domain
    )
    return compose(the_proposal, contact(**contact_overrides), SENDER, msg_id, now=NOW)


def parts(message: EmailMessage) -> dict[str, str]:
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    return {
        part.get_content_type(): part.get_content()
        for part in parsed.walk()
        if not part.is_multipart()
    }


def test_is_multipart_alternative_with_text_and_html() -> None:
    message = build()
    assert message.get_content_type() == "multipart/alternative"
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    for body in bodies.values():
        assert "Grace Hopper" in body
        assert "expert in kubernetes" in body
        assert "Ada Lovelace" in body


def test_plain_text_keeps_names_verbatim() -> None:
    assert f"Eve {SCRIPT}" in parts(build(hostile_proposal()))["text/plain"]


def test_html_escapes_markup_from_mentor_names_headlines_and_reasons() -> None:
    html = parts(build(hostile_proposal(), display_name="Ada <b>"))["text/html"]
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Ada &lt;b&gt;" in html


def test_headers_are_present() -> None:
    message = build()
    assert message["From"] == SENDER.mail_from
    assert message["Reply-To"] == SENDER.reply_to
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["Subject"] == "1 mentor picked for your goal"
    assert message["Message-ID"].startswith("<proposal.")
    assert message["Message-ID"].endswith("@mentorlink.test>")


@pytest.mark.parametrize(("count", "subject"), [(0, "0 mentors"), (2, "2 mentors")])
def test_subject_counts_mentors(count: int, subject: str) -> None:
    mentors = [
        m.model_copy(update={"mentor_id": f"u-{i}", "rank": i + 1})
        for i, m in enumerate(proposal().mentors * count)
    ]
    assert build(proposal(mentors=mentors))["Subject"].startswith(subject)


@pytest.mark.parametrize("name", ["Ada\r\nBcc: everyone@example.org", "Ada\nLovelace", "Ada\rX"])
def test_to_header_has_no_line_breaks_even_for_unvalidated_names(name: str) -> None:
    message = build(display_name=name)
    for header in ("To", "Subject"):
        assert "\r" not in str(message[header]) and "\n" not in str(message[header])
    reparsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert reparsed["Bcc"] is None  # no header was injected
    (address,) = reparsed["To"].addresses
    assert address.addr_spec == "ada@example.org"


def test_message_id_is_stable_for_the_same_proposal() -> None:
    the_proposal = proposal()
    assert build(the_proposal)["Message-ID"] == build(the_proposal)["Message-ID"]
    assert message_id("t", "m", "p", "d") == message_id("t", "m", "p", "d")


def test_message_id_differs_when_tenant_mentee_or_proposal_differs() -> None:
    ids = {
        message_id("t", "m", "p", "d"),
        message_id("t2", "m", "p", "d"),
        message_id("t", "m2", "p", "d"),
        message_id("t", "m", "p2", "d"),
        message_id("tm", "", "p", "d"),  # separator: no ambiguity from concatenation
    }
    assert len(ids) == 5
    assert build()["Message-ID"] != build()["Message-ID"]  # each build is a new proposal_id

"""The proposal email: parts, escaping, safe headers and a stable Message-ID."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from services.notifications.domain.email import (
    Contact,
    ProposalMessage,
    Sender,
    compose,
    message_id,
    wire_bytes,
)
from services.notifications.domain.links import LinkSigner, proposal_links
from shared.contracts.matches import (
    CriterionReason,
    MatchProposedPayload,
    MustAlternative,
    ProposedMentor,
    UnmetMust,
)
from shared.links import LinkAction, verify_link
from tests.unit.builders import TENANT, proposal

SENDER = Sender(
    mail_from="Mentorlink <matches@mentorlink.test>",
    reply_to="Mentorlink support <support@mentorlink.test>",
    message_id_domain="mentorlink.test",
)
NOW = datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
KEY = b"test-link-key"
SIGNER = LinkSigner("https://mentorlink.test/", KEY, timedelta(days=14))
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
    links = proposal_links(TENANT, the_proposal, SIGNER, NOW)
    return compose(the_proposal, contact(**contact_overrides), SENDER, msg_id, links, now=NOW)


def on_the_wire(message: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(wire_bytes(message), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> dict[str, str]:
    parsed = on_the_wire(message)
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


@pytest.mark.parametrize(
    ("count", "subject"), [(0, "You are on the waiting list"), (1, "1 mentor "), (2, "2 mentors")]
)
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
    reparsed = on_the_wire(message)
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


def two_mentors() -> MatchProposedPayload:
    grace = proposal().mentors[0]
    linus = grace.model_copy(update={"mentor_id": "u-linus", "display_name": "Linus", "rank": 2})
    return proposal(mentors=[grace, linus])


def link_tokens(body: str) -> list[str]:
    return re.findall(r"https://mentorlink\.test/v1/links/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", body)


@pytest.mark.parametrize("kind", ["text/plain", "text/html"])
def test_each_mentor_has_an_intro_and_a_not_for_me_link_and_there_is_one_unsubscribe(
    kind: str,
) -> None:
    the_proposal = two_mentors()
    body = parts(build(the_proposal))[kind]
    assert "Request an intro" in body and "Not for me" in body
    claims = [verify_link(t, [KEY], now=NOW) for t in link_tokens(body)]
    seen = {(c.action, c.mentor_id) for c in claims}
    assert seen == {
        (LinkAction.ACCEPT, "u-grace"),
        (LinkAction.DECLINE, "u-grace"),
        (LinkAction.ACCEPT, "u-linus"),
        (LinkAction.DECLINE, "u-linus"),
        (LinkAction.UNSUBSCRIBE, None),
    }
    for c in claims:
        assert (c.tenant_id, c.mentee_id) == (TENANT, the_proposal.mentee_id)
        assert c.expires_at == int((NOW + timedelta(days=14)).timestamp())
        if c.action is not LinkAction.UNSUBSCRIBE:
            assert (c.proposal_id, c.goal_id) == (the_proposal.proposal_id, "g1")


def test_list_unsubscribe_is_one_unbroken_url_on_the_wire() -> None:
    message = on_the_wire(build())
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<https://mentorlink.test/v1/links/") and header.endswith(">")
    assert "=?" not in header  # not an RFC 2047 encoded word
    (token,) = link_tokens(header)
    assert verify_link(token, [KEY], now=NOW).action is LinkAction.UNSUBSCRIBE
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_wire_format_uses_crlf_and_lines_smtp_carries() -> None:
    """Lines of at most 998 bytes (RFC 5322 2.1.1), bodies as they are; the quoted-printable
    copy for a server without 8BITMIME keeps its body lines within 78."""
    message = build(two_mentors())
    assert isinstance(message, ProposalMessage)
    for raw, body_line in ((wire_bytes(message), 998), (message.seven_bit().wire, 78)):
        assert b"\n" not in raw.replace(b"\r\n", b"")
        header_block, _, body = raw.partition(b"\r\n\r\n")
        assert all(len(line) <= 998 for line in header_block.split(b"\r\n"))
        assert all(len(line) <= body_line for line in body.split(b"\r\n"))


def test_the_html_part_is_escaped_but_links_are_intact() -> None:
    html = parts(build(hostile_proposal()))["text/html"]
    assert len(link_tokens(html)) == 3
    assert 'href="https://mentorlink.test/v1/links/' in html


def test_a_waiting_list_email_names_the_must_nobody_meets_and_the_alternatives() -> None:
    unmet = [
        UnmetMust(
            kind="languages",
            value="de",
            met_by_nobody=True,
            alternatives=[
                MustAlternative(mentor_id="u-grace", display_name="Grace Hopper"),
                MustAlternative(mentor_id="u-alan", display_name=f"Alan {SCRIPT}"),
            ],
        ),
        UnmetMust(kind="styles", value="sounding_board", met_by_nobody=False),
    ]
    bodies = parts(build(proposal(mentors=[], unmet_musts=unmet)))
    plain, html = bodies["text/plain"], bodies["text/html"]
    assert "no mentor with room and your goal's skills meets all your musts together" in plain
    assert "None of them speaks de." in plain
    assert (
        "Without the must that your mentor speaks de (your other musts kept), we could suggest: "
        f"Grace Hopper, Alan {SCRIPT}." in plain
    )
    assert "sounding board" not in plain  # met by someone, and dropping it alone gives no one
    assert "The mentors with its skills are fully booked" not in plain
    assert "None of them speaks de." in html and SCRIPT not in html  # escaped
    assert "waiting list" in plain


def test_a_waiting_list_email_without_unmet_musts_says_what_it_said_before() -> None:
    plain = parts(build(proposal(mentors=[])))["text/plain"]
    assert "The mentors with its skills are fully booked" in plain
    assert "musts" not in plain


def test_the_email_names_the_goal_it_answers_escaped_in_html() -> None:
    the_proposal = proposal()
    msg_id = message_id(TENANT, the_proposal.mentee_id, "p", SENDER.message_id_domain)
    links = proposal_links(TENANT, the_proposal, SIGNER, NOW)
    statement = f"Ship the <b>billing</b> service with {SCRIPT}"
    message = compose(the_proposal, contact(), SENDER, msg_id, links, NOW, statement)
    bodies = parts(message)
    assert f'For your goal: "{statement}"' in bodies["text/plain"]
    assert "For your goal: &ldquo;Ship the &lt;b&gt;billing&lt;/b&gt;" in bodies["text/html"]
    assert "For your goal" not in parts(build())["text/plain"]  # statement unknown: not named

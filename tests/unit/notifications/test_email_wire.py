"""compose() writes its message's bytes itself: they must be what the stdlib generator writes."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.adapters.smtp import data_bytes
from services.notifications.domain import email as email_module
from services.notifications.domain.email import (
    DOT_ATOM_ADDRESS,
    WIRE_POLICY,
    Contact,
    ProposalMessage,
    Sender,
    compose,
    wire_bytes,
)
from services.notifications.domain.links import LinkSigner, proposal_links
from tests.unit.builders import TENANT, proposal

NOW = datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
SIGNER = LinkSigner("https://mentorlink.test/", b"test-link-key", timedelta(days=14))
# Contracts refuse control characters in names (shared/contracts/types.py).
names = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=40).filter(
    str.strip
)
# The sender comes from settings; the stdlib cannot parse every odd From (".¡ <a@b>" raises).
sender_names = st.text(st.characters(whitelist_categories=["L", "Nd", "Zs"]), min_size=1).filter(
    str.strip
)


def composed(display_name: str, sender_name: str, mentors: int) -> bytes:
    grace = proposal().mentors[0]
    the_proposal = proposal(
        mentors=[
            grace.model_copy(update={"mentor_id": f"u-{i}", "display_name": f"{display_name} {i}"})
            for i in range(mentors)
        ]
    )
    contact = Contact(TENANT, "u-mentee", "ada@example.org", display_name, True, "UTC")
    sender = Sender(f"{sender_name} <m@mentorlink.test>", "Support <s@mentorlink.test>", "t")
    links = proposal_links(TENANT, the_proposal, SIGNER, NOW)
    message = compose(the_proposal, contact, sender, "<p.1@t>", links, NOW)
    assert isinstance(message, ProposalMessage)
    written = wire_bytes(message)
    for sent in (message, message.seven_bit()):  # with 8BITMIME, and without
        assert sent.wire == sent.as_bytes(policy=WIRE_POLICY)
        # what the mailer takes from the composed message without reading it again
        assert data_bytes(sent.wire, crlf_only=True) == data_bytes(sent.wire)
        assert list(sent.recipients) == [a for _, a in getaddresses([str(sent["To"])])]
        assert bodies(sent.wire) == bodies(written)  # the same text, whatever the encoding
    assert message.seven_bit().wire.isascii()
    return written


def parts(wire: bytes) -> list[EmailMessage]:
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return [part for part in parsed.iter_parts() if isinstance(part, EmailMessage)]


def bodies(wire: bytes) -> list[tuple[str, str]]:
    """Each part's type and decoded text, as a mail client reads them."""
    return [(part.get_content_type(), part.get_content()) for part in parts(wire)]


def encodings(wire: bytes) -> set[str]:
    return {str(part["Content-Transfer-Encoding"]) for part in parts(wire)}


@settings(max_examples=60, deadline=None)
@given(display_name=names, sender_name=sender_names, mentors=st.integers(0, 3))
def test_the_bytes_sent_are_the_generators_for_any_names(
    display_name: str, sender_name: str, mentors: int
) -> None:
    composed(display_name, sender_name, mentors)


def test_non_ascii_names_are_encoded_words_and_utf8_in_8bit_bodies() -> None:
    written = composed("José Müller", "Mentorlink Zürich", 2)
    headers, _, body = written.partition(b"\r\n\r\n")
    headers.decode("ascii")
    assert b"=?utf-8?" in headers
    assert "Hello José Müller,".encode() in body  # as it is: no encoding to undo
    assert encodings(written) == {"8bit"}


def test_ascii_bodies_are_7bit_and_need_no_extension() -> None:
    written = composed("Ada Lovelace", "Mentorlink", 2)
    assert encodings(written) == {"7bit"}
    assert b"Hello Ada Lovelace," in written
    assert max(len(line) for line in written.split(b"\r\n")) > 76  # links are not cut


@pytest.mark.parametrize(
    "statement",
    ["x" * 999, f"the boundary {email_module._BOUNDARY}", "a NUL \x00 character"],
    ids=["line-over-998-bytes", "boundary", "nul"],
)
def test_a_body_smtp_cannot_carry_as_it_is_is_quoted_printable(statement: str) -> None:
    the_proposal = proposal()
    contact = Contact(TENANT, "u-mentee", "ada@example.org", "Ada", True, "UTC")
    sender = Sender("M <m@mentorlink.test>", "S <s@mentorlink.test>", "t")
    links = proposal_links(TENANT, the_proposal, SIGNER, NOW)
    message = compose(the_proposal, contact, sender, "<p.1@t>", links, NOW, statement)
    assert isinstance(message, ProposalMessage)
    assert message.wire == message.as_bytes(policy=WIRE_POLICY)
    assert encodings(message.wire) == {"quoted-printable"}
    assert not message.eight_bit
    assert any(statement in text for _, text in bodies(message.wire))


@settings(max_examples=300, deadline=None)
@given(address=st.from_regex(DOT_ATOM_ADDRESS, fullmatch=True))
def test_a_dot_atom_address_is_what_the_header_parser_writes(address: str) -> None:
    """compose() writes such an address without parsing it: the parser would not change it."""
    assert Address(addr_spec=address).addr_spec == address

"""compose() writes its message's bytes itself: they must be what the stdlib generator writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.adapters.smtp import data_bytes
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
    written = wire_bytes(message)
    assert written == message.as_bytes(policy=WIRE_POLICY)
    # what the mailer takes from the composed message without reading it again
    assert data_bytes(written, crlf_only=True) == data_bytes(written)
    assert isinstance(message, ProposalMessage)
    assert list(message.recipients) == [a for _, a in getaddresses([str(message["To"])])]
    return written


@settings(max_examples=60, deadline=None)
@given(display_name=names, sender_name=sender_names, mentors=st.integers(0, 3))
def test_the_bytes_sent_are_the_generators_for_any_names(
    display_name: str, sender_name: str, mentors: int
) -> None:
    composed(display_name, sender_name, mentors)


def test_non_ascii_names_are_encoded_words_and_the_bytes_are_ascii() -> None:
    written = composed("José Müller", "Mentorlink Zürich", 2)
    written.decode("ascii")
    assert b"=?utf-8?" in written


@settings(max_examples=300, deadline=None)
@given(address=st.from_regex(DOT_ATOM_ADDRESS, fullmatch=True))
def test_a_dot_atom_address_is_what_the_header_parser_writes(address: str) -> None:
    """compose() writes such an address without parsing it: the parser would not change it."""
    assert Address(addr_spec=address).addr_spec == address

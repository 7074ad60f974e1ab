"""A proposal email's links are written without a `LinkClaims` each (domain/links.py): every
token must be the one `shared.links.sign_link` writes for the same claims, byte for byte, and
verify to them."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.domain.links import LinkSigner, proposal_links
from shared.contracts.matches import MatchProposedPayload, ProposalCause
from shared.contracts.preferences import Adjustment
from shared.links import LinkAction, LinkClaims, expiry, sign_link, verify_link
from tests.unit.builders import proposal

NOW = datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
BASE = "https://mentorlink.test/"
# Identifiers as the contracts allow them; goal ids are free text up to 64 characters, so
# quotes, backslashes and non-ASCII characters (which JSON escapes or keeps) come in too.
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}\Z")
goal_ids = st.one_of(ids, st.text(min_size=1, max_size=64))
keys = st.binary(min_size=1, max_size=130)  # beyond SHA-256's 64-byte block too


def expected(
    tenant: str, payload: MatchProposedPayload, key: bytes, action: LinkAction, mentor: str | None
) -> str:
    """The link as the claims model writes and signs it."""
    cause = payload.cause
    adjustment = cause.adjustment if cause is not None else None
    on_goal = mentor is not None or action in (LinkAction.WIDEN, LinkAction.UNDO_ADJUSTMENT)
    claims = LinkClaims(
        action=action,
        tenant_id=tenant,
        mentee_id=payload.mentee_id,
        mentor_id=mentor,
        proposal_id=payload.proposal_id if on_goal else None,
        goal_id=payload.goal_id if on_goal else None,
        adjustment_id=(
            adjustment.adjustment_id
            if adjustment and action is LinkAction.UNDO_ADJUSTMENT
            else None
        ),
        expires_at=expiry(NOW, timedelta(days=14)),
    )
    return f"{BASE}v1/links/{sign_link(claims, key)}"


@settings(max_examples=150, deadline=None)
@given(
    tenant=ids,
    mentee=ids,
    mentors=st.lists(ids, max_size=4, unique=True),
    goal_id=goal_ids,
    key=keys,
    undo=st.booleans(),
)
def test_every_link_is_the_one_the_claims_model_signs(
    tenant: str, mentee: str, mentors: list[str], goal_id: str, key: bytes, undo: bool
) -> None:
    grace = proposal().mentors[0]
    adjustment = Adjustment(adjustment_id=UUID(int=7), trigger="relationship_ended")
    payload = proposal(
        mentee,
        goal_id=goal_id,
        mentors=[grace.model_copy(update={"mentor_id": m}) for m in mentors],
        cause=ProposalCause(kind="preferences_adjusted", adjustment=adjustment) if undo else None,
    )
    signer = LinkSigner(BASE, key, timedelta(days=14))
    links = proposal_links(tenant, payload, signer, NOW)
    for mentor in mentors:
        accept, decline = links.mentors[mentor].accept, links.mentors[mentor].decline
        assert accept == expected(tenant, payload, key, LinkAction.ACCEPT, mentor)
        assert decline == expected(tenant, payload, key, LinkAction.DECLINE, mentor)
    assert links.unsubscribe == expected(tenant, payload, key, LinkAction.UNSUBSCRIBE, None)
    widen = expected(tenant, payload, key, LinkAction.WIDEN, None)
    assert links.widen == (None if mentors else widen)
    undone = expected(tenant, payload, key, LinkAction.UNDO_ADJUSTMENT, None)
    assert links.undo == (undone if undo else None)
    token = links.unsubscribe.rsplit("/", 1)[1]
    assert verify_link(token, [key], now=NOW).action is LinkAction.UNSUBSCRIBE


@given(key=keys, body=st.binary(max_size=300))
def test_the_kept_key_state_signs_as_hmac_does(key: bytes, body: bytes) -> None:
    signer = LinkSigner(BASE, key, timedelta(days=1))
    assert signer.mac(body) == hmac.digest(key, body, hashlib.sha256)

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.links import (
    ExpiredLink,
    InvalidLink,
    LinkAction,
    LinkClaims,
    expiry,
    sign_link,
    verify_link,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def claims(**overrides: object) -> LinkClaims:
    values: dict[str, object] = {
        "action": LinkAction.ACCEPT,
        "tenant_id": "acme",
        "mentee_id": "u-1",
        "mentor_id": "u-2",
        "proposal_id": uuid4(),
        "goal_id": "g-1",
        "expires_at": expiry(NOW, timedelta(days=14)),
    }
    values.update(overrides)
    return LinkClaims.model_validate(values)


def test_a_signed_link_verifies_to_its_claims() -> None:
    original = claims()
    assert verify_link(sign_link(original, b"k1"), [b"k1"], now=NOW) == original


def test_a_rotated_key_still_verifies_links_already_sent() -> None:
    token = sign_link(claims(), b"old")
    assert verify_link(token, [b"new", b"old"], now=NOW).mentee_id == "u-1"


def test_an_unknown_key_is_rejected() -> None:
    with pytest.raises(InvalidLink, match="bad signature"):
        verify_link(sign_link(claims(), b"other"), [b"k1"], now=NOW)


def test_changing_the_claims_breaks_the_signature() -> None:
    token = sign_link(claims(mentee_id="u-1"), b"k1")
    forged = sign_link(claims(mentee_id="u-9"), b"k1").split(".")[0]
    with pytest.raises(InvalidLink):
        verify_link(f"{forged}.{token.split('.')[1]}", [b"k1"], now=NOW)


def test_an_expired_link_is_rejected() -> None:
    token = sign_link(claims(expires_at=expiry(NOW, timedelta(seconds=-1))), b"k1")
    with pytest.raises(ExpiredLink):
        verify_link(token, [b"k1"], now=NOW)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "%%%.%%%", "x" * 5000 + ".y"])
def test_garbage_is_invalid_not_a_crash(token: str) -> None:
    with pytest.raises(InvalidLink):
        verify_link(token, [b"k1"], now=NOW)

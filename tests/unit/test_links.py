import base64
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


URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _same_bytes_other_text(token: str) -> list[str]:
    """Tokens whose signature's last character differs only in bits base64 leaves unused."""
    body, signature = token.split(".")
    decoded = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    variants = []
    for char in URLSAFE.replace(signature[-1], ""):
        other = signature[:-1] + char
        if base64.urlsafe_b64decode(other + "=" * (-len(other) % 4)) == decoded:
            variants.append(f"{body}.{other}")
    return variants


def test_a_signature_is_accepted_only_in_its_canonical_encoding() -> None:
    token = sign_link(claims(), b"k1")
    variants = _same_bytes_other_text(token)
    assert variants  # a 32-byte MAC leaves 2 bits of its last character unused
    for variant in variants:
        with pytest.raises(InvalidLink, match="malformed signature"):
            verify_link(variant, [b"k1"], now=NOW)


@pytest.mark.parametrize("change", ["pad", "junk", "plus"])
def test_padding_stray_or_standard_alphabet_characters_are_rejected(change: str) -> None:
    body, signature = sign_link(claims(), b"k1").split(".")
    altered = {
        "pad": signature + "=",
        "junk": signature[:10] + "!" + signature[10:],
        "plus": signature.replace("-", "+").replace("_", "/"),
    }[change]
    if altered == signature:  # this MAC happens to have neither - nor _
        altered = signature[:5] + "+" + signature[6:]
    with pytest.raises(InvalidLink):
        verify_link(f"{body}.{altered}", [b"k1"], now=NOW)

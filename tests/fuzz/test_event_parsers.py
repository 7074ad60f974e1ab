"""Every event parser either accepts a message or rejects it with a classified reason.

Never another exception, whatever the bytes: those reach `DeadLetterMiddleware`, whose only
safe outcomes are "handled" or "dead-lettered with a reason".
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.kafka.dead_letter import classify_invalid
from tests.fuzz.budget import count, examples
from tests.fuzz.seeds import PARSERS, Parser
from tests.fuzz.strategies import raw_bodies

REASONS = {"invalid_json", "schema_violation", "unknown_event_type", "unknown_schema_version"}


def bodies(parser: Parser) -> st.SearchStrategy[bytes]:
    return st.one_of(*(raw_bodies(seed) for seed in parser.seeds))


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_a_parser_accepts_or_rejects_with_a_known_reason(parser: Parser) -> None:
    @examples()
    @example(body=b"[" * 5000 + b"]" * 5000)  # json.loads raised RecursionError in classify
    @given(body=bodies(parser))
    def check(body: bytes) -> None:
        count(f"event parser {parser.name}")
        try:
            event = parser.parse(body)
        except ValidationError as exc:
            reason, error = classify_invalid(body, exc)
            assert reason in REASONS
            assert error
            return
        assert parser.parse(event.model_dump_json().encode()) == event  # stable round trip

    check()


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_every_seed_is_valid(parser: Parser) -> None:
    """Guards the fuzzers: mutations of an invalid seed would never reach deep validation."""
    for seed in parser.seeds:
        parser.parse(json.dumps(seed).encode())

"""Ports chosen before anything listens on them are never handed out twice."""

from __future__ import annotations

import itertools

import pytest

from devenv import infra


def test_a_port_handed_out_is_not_handed_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    picks = itertools.chain([21011, 21011, 21011], itertools.count(21013))
    monkeypatch.setattr("devenv.infra.random.randrange", lambda *_: next(picks))
    monkeypatch.setattr(infra, "_HANDED_OUT", set())
    first = infra.free_port()  # nothing listens on it yet, as with services chosen up front
    second = infra.free_port()
    assert (first, second) == (21011, 21013)


def test_a_pair_is_not_handed_out_over_a_port_given_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    picks = itertools.chain([22000, 21999, 21997], itertools.count(22002))
    monkeypatch.setattr("devenv.infra.random.randrange", lambda *_: next(picks))
    monkeypatch.setattr(infra, "_HANDED_OUT", set())
    single = infra.free_port()
    pair = infra.free_port_pair()  # 21999 would take 22000 as its second port
    assert single == 22000 and pair == 21997

"""The system benchmark's search for the sustainable and the saturation rate."""

from __future__ import annotations

import random

import pytest

from benchmarks.rate_search import Probe, RateSearch
from benchmarks.system_window import delivered_per_second


def pipeline(capacity: float, knee: float):  # type: ignore[no-untyped-def]
    """A pipeline that delivers at most `capacity`/s and keeps p99 low up to `knee`/s."""

    def probe(rate: float) -> Probe:
        delivered = min(rate, capacity)
        p99 = 100.0 if rate <= knee else 100.0 * rate / knee * 3
        return Probe(rate, rate, delivered, p99, 0)

    return probe


def search_with(run, search: RateSearch) -> RateSearch:  # type: ignore[no-untyped-def]
    while (rate := search.next_rate()) is not None:
        search.probes.append(run(rate))
    return search


def test_the_search_doubles_to_a_confirmed_saturation_then_narrows_the_latency_knee() -> None:
    search = search_with(pipeline(capacity=70, knee=30), RateSearch(start=5, refine=2))
    assert [p.rate for p in search.probes] == [5, 10, 20, 40, 80, 160, 30, 35]
    sustainable = search.sustainable()
    assert sustainable is not None and sustainable.rate == 30
    saturated = search.saturated()
    assert saturated is not None and saturated.rate == 80
    assert search.saturation_rate() == 70


def test_a_rate_that_breaks_the_bound_caps_the_sustainable_rate_even_if_a_higher_one_kept_it() -> (
    None
):
    search = RateSearch(start=5)
    search.probes = [
        Probe(5, 5, 5, 50, 0),
        Probe(10, 10, 10, 400, 0),  # a noisy probe
        Probe(20, 20, 20, 100, 0),
    ]
    sustainable = search.sustainable()
    assert sustainable is not None and sustainable.rate == 5


def test_a_mentee_left_without_email_breaks_the_rate_but_is_no_saturation() -> None:
    probe = Probe(10, 10, 10, 50, without_email=1)
    assert probe.follows(0.9)
    assert not RateSearch().sustains(probe)


def test_no_rate_keeps_the_bound_and_the_search_stops_at_saturation() -> None:
    search = search_with(pipeline(capacity=15, knee=1), RateSearch(start=5, refine=2))
    assert search.sustainable() is None
    assert [p.rate for p in search.probes] == [5, 10, 20, 40]
    assert search.saturation_rate() == 15


def test_the_ceiling_ends_a_search_that_never_saturates() -> None:
    search = search_with(pipeline(capacity=1e9, knee=1e9), RateSearch(start=5, ceiling=40))
    assert [p.rate for p in search.probes] == [5, 10, 20, 40]
    assert search.saturated() is None
    sustainable = search.sustainable()
    assert sustainable is not None and sustainable.rate == 40


def emails(rate: float, capacity: float, delay_s: float, jitter_s: float, count: int = 400):  # type: ignore[no-untyped-def]
    """Goal i published at i/rate, emailed once the pipeline (`capacity`/s) reaches it, after a
    constant delay and a jitter that alternates around it."""
    rng = random.Random(5)
    sent = {f"m{i}": i / rate for i in range(count)}
    arrived = {
        f"m{i}": max(i / rate, i / capacity) + delay_s + rng.uniform(0, jitter_s)
        for i in range(count)
    }
    return sent, arrived


def test_a_constant_delay_and_jitter_are_no_lost_throughput() -> None:
    sent, arrived = emails(rate=5, capacity=1e9, delay_s=10, jitter_s=12)
    assert delivered_per_second(sent, arrived) == pytest.approx(5, rel=0.05)


def test_a_growing_backlog_shows_the_pipelines_pace() -> None:
    sent, arrived = emails(rate=20, capacity=8, delay_s=10, jitter_s=3)
    assert delivered_per_second(sent, arrived) == pytest.approx(8, rel=0.05)


def test_one_probe_behind_then_one_that_follows_is_no_saturation() -> None:
    search = RateSearch(start=5, ceiling=80)
    search.probes = [Probe(5, 5, 4, 900, 0), Probe(10, 10, 9.5, 900, 0)]
    assert search.saturated() is None
    assert search.next_rate() == 20

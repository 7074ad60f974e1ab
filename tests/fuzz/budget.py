"""How many examples a fuzz test runs, and the count of those it ran."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings

CASES: Counter[str] = Counter()


# Fixtures (platform, broker harness) are built once per test and shared by its examples on
# purpose: every example uses fresh ids or leaves nothing behind.
_SHARED_FIXTURES = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
]


def examples(weight: float = 1.0) -> settings:
    """A share of the loaded profile's budget (at least 10 examples)."""
    budget = max(10, int(settings.default.max_examples * weight))
    return settings(max_examples=budget, suppress_health_check=_SHARED_FIXTURES)


def count(name: str) -> None:
    CASES[name] += 1

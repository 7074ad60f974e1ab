"""Hypothesis profiles for the fuzz suite and a count of the cases it ran.

`HYPOTHESIS_PROFILE=fuzz` (`make fuzz`) runs the full budget (well over 10,000 cases in all);
without it the suite runs a small pass so `make test` stays fast. Each fuzz test asks for a
share of the profile's budget with `examples(weight)`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.fuzz.budget import CASES

# "ci" keeps Hypothesis' default budget (other suites' property tests are unaffected).
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CASES:
        return
    terminalreporter.section("fuzz cases")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{count:>7}  {name}")
    terminalreporter.write_line(f"{sum(CASES.values()):>7}  total generated cases")

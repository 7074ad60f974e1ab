"""Hypothesis profiles for the fuzz suite and a count of the cases it ran.

`HYPOTHESIS_PROFILE=fuzz` (`make fuzz`) runs the full budget (well over 10,000 cases in all);
without it the suite runs a small pass so `make test` stays fast. Each fuzz test asks for a
share of the profile's budget with `examples(weight)`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import settings

from services.profile.bootstrap import bootstrap as profile_bootstrap
from services.profile.settings import ProfileSettings
from shared.settings import DatabaseSettings, KafkaSettings
from tests.fuzz.budget import CASES
from tests.fuzz.profile_api import Profile

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


@pytest.fixture
async def profile(kafka_endpoint, database_url, topic_prefix) -> AsyncIterator[Profile]:
    settings = ProfileSettings(
        kafka=KafkaSettings(
            **kafka_endpoint.settings(),
            topic_prefix=topic_prefix,
            partitions=3,
        ),
        db=DatabaseSettings(database_url=database_url),
        # Thousands of generated requests from one tenant: the API limits have their own tests.
        tenant_rate_per_s=1e9,
        tenant_burst=10**9,
    )
    async with profile_bootstrap(settings) as service:
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://profile") as http:
            spec = service.app.openapi()["paths"]
            paths = {(m.upper(), p) for p, item in spec.items() for m in item}
            yield Profile(service, http, paths)

"""Session-scoped real infrastructure; per-test databases, topic prefixes and consumer groups."""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from devenv import infra
from devenv.smtp_sink import SmtpSink
from tests.support import limits

# The services have no default link key (a default would be public): one random key per test run,
# shared by the in-process services and inherited by the ones the tests start as processes.
os.environ.setdefault("LINK_SIGNING_KEYS", secrets.token_urlsafe(32))
os.environ.setdefault("ERASURE_HASH_KEYS", secrets.token_urlsafe(32))

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.support.hang_report"]  # where tasks wait, printed before a timeout


def _numba_cache_of_these_sources() -> None:
    """numba keys a compiled kernel's cache on the kernel's own file only: a kernel that calls
    or inlines a function of another module (search/steps.py, search/bound.py, criteria.py)
    would be loaded stale after that module changed, and a test would pass on old code. Tests
    compile into a cache directory named after every source of the matching domain."""
    sources = sorted((ROOT / "services" / "matching" / "domain").rglob("*.py"))
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".cache" / "numba" / digest[:16]))


_numba_cache_of_these_sources()  # before any test module imports numba


@pytest.fixture(scope="session")
def kafka_endpoint() -> Iterator[infra.KafkaEndpoint]:
    with infra.kafka() as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def _needs(request: pytest.FixtureRequest) -> None:
    """Skip (or, for programs under CI, fail) a test whose needs are not met; see
    tests/support/limits.py."""
    for marker in request.node.iter_markers("needs_tool"):
        for name in marker.args:
            if (reason := limits.missing_tool_reason(name)) is not None:
                if limits.in_ci():
                    pytest.fail(f"{reason} (CI installs it first)")
                pytest.skip(reason)
    features = [f for m in request.node.iter_markers("broker_feature") for f in m.args]
    if features and request.getfixturevalue("kafka_endpoint").kind == "embedded":
        pytest.skip(limits.EMBEDDED_BROKER_LIMITS[features[0]])


@pytest.hookimpl(tryfirst=True)  # before `-m` selects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `session_broker` the tests whose fixtures reach the session's broker: CI runs these
    once more on the embedded broker; for the others that pass would repeat the first."""
    for item in items:
        if "kafka_endpoint" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.session_broker)


def pytest_report_header() -> str:
    return "infrastructure: resolved by devenv.infra (README, 'Real infrastructure')"


@pytest.fixture(scope="session")
def postgres_endpoint() -> Iterator[infra.PostgresEndpoint]:
    with infra.postgres() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def topic_prefix(unique: str) -> str:
    return f"t{unique}."


@pytest.fixture
async def database_url(
    postgres_endpoint: infra.PostgresEndpoint, unique: str
) -> AsyncIterator[str]:
    """A fresh database per test, dropped afterwards."""
    name = f"t_{unique}"
    admin = await asyncpg.connect(postgres_endpoint.url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield postgres_endpoint.database(name)
    admin = await asyncpg.connect(postgres_endpoint.url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()

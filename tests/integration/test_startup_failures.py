"""A service pointed at an unreachable Kafka or PostgreSQL exits fast with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from devenv.infra import free_port

SERVICES = ["profile", "matching", "notifications"]


def _run(service: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        env={**os.environ, "HTTP_PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, time.monotonic() - started


def _assert_one_clear_line(
    result: subprocess.CompletedProcess[str], elapsed: float, prefix: str
) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert elapsed < 20


@pytest.mark.parametrize("service", SERVICES)
def test_unreachable_postgres_is_one_line_and_exit_2(service: str) -> None:
    port = free_port()
    result, elapsed = _run(
        service,
        {
            "DATABASE_URL": f"postgresql://nobody:secret@127.0.0.1:{port}/nothing",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        },
    )
    _assert_one_clear_line(
        result, elapsed, f"{service}: cannot reach PostgreSQL at 127.0.0.1:{port}/nothing"
    )
    assert "secret" not in result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_unreachable_kafka_is_one_line_and_exit_2(service: str, postgres_endpoint) -> None:
    port = free_port()
    result, elapsed = _run(
        service,
        {
            "DATABASE_URL": postgres_endpoint.url,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
            "KAFKA_CONNECT_TIMEOUT_S": "3",
        },
    )
    _assert_one_clear_line(result, elapsed, f"{service}: cannot reach Kafka at 127.0.0.1:{port}")

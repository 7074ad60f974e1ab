"""`mentorlink-ops matching rebuild|verify` against a real matching service over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from typer.testing import CliRunner, Result

from devenv.infra import KafkaEndpoint, free_port
from ops.cli import app
from services.matching.bootstrap import bootstrap
from services.matching.settings import MatchingSettings
from shared.settings import DatabaseSettings, KafkaSettings
from tests.support.platform import served
from tests.support.polling import eventually

TOKEN = "test-admin-token"


@pytest.fixture
async def matching_url(
    kafka_endpoint: KafkaEndpoint, topic_prefix: str, database_url: str
) -> AsyncIterator[str]:
    kafka = KafkaSettings(
        **kafka_endpoint.settings(),
        topic_prefix=topic_prefix,
        partitions=2,
    )
    settings = MatchingSettings(
        kafka=kafka, db=DatabaseSettings(database_url=database_url), admin_token=TOKEN
    )
    port = free_port()
    async with bootstrap(settings) as service:
        await eventually(lambda: service.ownership.assigned, timeout=60, what="partitions")
        async with served(service.app, port):
            yield f"http://127.0.0.1:{port}"


async def cli(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def test_rebuild_restores_the_owned_partitions(matching_url: str) -> None:
    result = await cli("matching", "rebuild", "--url", matching_url, "--token", TOKEN)
    assert result.exit_code == 0, result.output
    assert "rebuild answered 200" in result.output
    body = json.loads(result.output.split("\n", 1)[1])
    assert body["partitions"] == [0, 1]


async def test_verify_reports_no_difference_from_a_batch_recompute(matching_url: str) -> None:
    result = await cli("matching", "verify", "--url", matching_url, "--token", TOKEN)
    assert result.exit_code == 0, result.output
    assert '"differ": []' in result.output


async def test_without_the_admin_token_the_service_refuses(matching_url: str) -> None:
    result = await cli("matching", "rebuild", "--url", matching_url)
    assert result.exit_code == 1
    assert "answered 401" in result.output


async def test_only_http_urls_are_accepted() -> None:
    result = await cli("matching", "rebuild", "--url", "file:///etc/passwd")
    assert result.exit_code == 1
    assert "not an http(s) URL" in result.output

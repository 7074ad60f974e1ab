"""The example page of the read API (docs/examples/read-api.html) in headless Chromium: served
as an integrator would serve it, behind a backend that adds the API key, it shows a mentee their
proposals and the answer to "why not?". The screenshot is saved as
docs/images/read-api-example.png for docs/integrators.md."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

from devenv.infra import free_port
from devenv.smtp_sink import SmtpSink
from tests.e2e.test_read_api import TOKEN, create_people
from tests.integration.test_notifications_screenshot import rgb_pixels, screenshot
from tests.support.platform import running_platform, served
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


PAGE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "read-api.html"
PAGE_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "read-api-example.png"


def integrator_backend(profile_app: Any, api_key: str) -> Starlette:
    """What the example page expects to be served by: the page, and /v1/... forwarded to the
    profile API with the tenant's key added (the browser never holds the key)."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=profile_app), base_url="http://p")

    async def page(_request: StarletteRequest) -> Response:
        return Response(PAGE.read_bytes(), media_type="text/html")

    async def forward(request: StarletteRequest) -> Response:
        answer = await client.get(
            request.url.path,
            params=request.query_params,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        return Response(answer.content, answer.status_code, media_type="application/json")

    return Starlette(routes=[Route("/read-api.html", page), Route("/v1/{rest:path}", forward)])


@pytest.mark.needs_tool("chromium")
async def test_the_example_page_shows_proposals_and_why_not_in_chromium(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    u = "demo"  # a fresh database and topic prefix per test: fixed ids, the same screenshot
    async with running_platform(
        kafka_endpoint, database_url, topic_prefix, smtp_sink, read_token=TOKEN
    ) as platform:
        ids = await create_people(platform, u)

        async def three_proposed() -> bool:
            response = await platform.http.get(
                f"/v1/profiles/x-{u}/goals/g1/proposals", headers=platform.auth
            )
            return response.status_code == 200 and len(response.json()["items"]) == 3

        await eventually(three_proposed, timeout=60, what="a proposal of three mentors")
        port = free_port()
        async with served(integrator_backend(platform.profile.app, platform.api_key), port):
            url = (
                f"http://127.0.0.1:{port}/read-api.html?mentee=x-{u}&goal=g1"
                f"&why_not={ids['Olga Taussky']}"
            )
            render = functools.partial(
                screenshot, url, PAGE_SCREENSHOT, tmp_path / "chromium", (680, 440), 5000
            )
            dom = await asyncio.to_thread(render, dump_dom=True)
            await asyncio.to_thread(render)
    for name in ("Grace Hopper", "Alan Turing", "Linus Torvalds"):
        assert name in dom, dom
    assert "expert in kubernetes, one of your goal skills" in dom
    assert "Not proposed: Olga Taussky is not taking mentees now." in dom
    width, height, rows = rgb_pixels(PAGE_SCREENSHOT.read_bytes())
    assert (width, height) == (680, 440)
    why_background = bytes((0xF4, 0xF1, 0xEA))
    assert any(why_background * 40 in row for row in rows), "no 'why not' answer on the page"

"""What the goal API says about the waiting list, from matching's answer to the proposals read
(services/profile/entrypoints/goal_waiting.py). Matching is an httpx MockTransport here; the
real one answers in tests/e2e/test_two_goals.py."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from services.profile.adapters.matching_reads import MatchingReads
from services.profile.entrypoints.goal_waiting import goal_waiting, goals_waiting

MENTOR = {
    "mentor_id": "u-grace",
    "display_name": "Grace Hopper",
    "rank": 1,
    "score": 0.9,
    "contributions": [],
    "reasons": [],
}


def page(proposal_id: uuid.UUID | None, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "mentee_id": "u-ada",
        "goal_id": "g1",
        "proposal_id": str(proposal_id) if proposal_id else None,
        "ranking_version": 3 if proposal_id else 0,
        "waiting": proposal_id is not None and not items,  # as matching words it (reads.py)
        "items": items,
        "next_cursor": None,
    }


def request_to(answer: httpx.Response | Exception | None) -> Any:
    """A request whose app forwards reads to a matching that answers `answer` (None: no
    matching address configured)."""
    asked: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if isinstance(answer, Exception):
            raise answer
        assert answer is not None
        return answer

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://m")
    reads = MatchingReads(None if answer is None else client, "token")
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(matching_reads=reads)))


@pytest.mark.parametrize(
    ("answer", "waiting"),
    [
        (httpx.Response(200, json=page(uuid.uuid4(), [])), True),  # proposed nobody
        (httpx.Response(200, json=page(uuid.uuid4(), [MENTOR])), False),
        (httpx.Response(200, json=page(None, [])), False),  # no proposal yet
        (httpx.Response(404, json={"title": "No such goal"}), False),  # not ranked yet
        (httpx.Response(503, json={"title": "starting"}), None),
        (httpx.Response(500, text="boom"), None),
        (httpx.ConnectError("refused"), None),
        (httpx.ReadTimeout("slow"), None),
        (None, None),  # no matching address configured
    ],
)
async def test_waiting_says_what_matching_answered_and_null_when_it_cannot(
    answer: httpx.Response | Exception | None, waiting: bool | None
) -> None:
    assert await goal_waiting(request_to(answer), "acme", "u-ada", "g1", "c-1") is waiting


async def test_every_goal_of_the_list_is_asked_with_the_callers_tenant() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        empty = request.url.path.endswith("/goals/proj/proposals")
        return httpx.Response(200, json=page(uuid.uuid4(), [] if empty else [MENTOR]))

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://m")
    state = SimpleNamespace(matching_reads=MatchingReads(client, "token"))
    request: Any = SimpleNamespace(app=SimpleNamespace(state=state))
    assert await goals_waiting(request, "acme", "u-ada", ["career", "proj"], "c-1") == [False, True]
    assert sorted(seen) == [
        "/internal/v1/tenants/acme/mentees/u-ada/goals/career/proposals",
        "/internal/v1/tenants/acme/mentees/u-ada/goals/proj/proposals",
    ]

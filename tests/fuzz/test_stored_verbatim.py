"""Markup, SQL and unusual unicode are stored and returned verbatim: no stored injection.

The HTTP fuzzer checks this for whatever it generates; these cases always run, so the
property holds for the classic payloads even in the small `make test` pass.
"""

from __future__ import annotations

import pytest

from tests.fuzz.profile_api import Profile
from tests.fuzz.strategies import MARKUP_AND_SQL
from tests.support.people import goal_body, mentee_body


@pytest.mark.parametrize("text", MARKUP_AND_SQL)
async def test_hostile_text_round_trips_unchanged(profile: Profile, text: str) -> None:
    issued = await profile.service.api_keys.create("verbatim", "tests")
    auth = {"Authorization": f"Bearer {issued.token}"}
    body = mentee_body(name=text, headline=text)
    statement = f"{text} Lead our migration to Kubernetes within six months"

    stored = await profile.http.put("/v1/profiles/u-1", json=body, headers=auth)
    goal = await profile.http.put(
        "/v1/profiles/u-1/goal", json=goal_body(statement=statement), headers=auth
    )

    assert stored.status_code == 200, stored.text
    assert goal.is_success, goal.text
    read = (await profile.http.get("/v1/profiles/u-1", headers=auth)).json()
    read_goal = (await profile.http.get("/v1/profiles/u-1/goal", headers=auth)).json()
    assert (read["display_name"], read["headline"]) == (text, text)
    assert read_goal["statement"] == statement

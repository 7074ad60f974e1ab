"""The read API when matching cannot answer (ADR 0011): a 503 problem with Retry-After, and
every other route unaffected; the request is still authenticated and validated first. The goal
reads still answer, with `waiting` null (unknown)."""

from __future__ import annotations

from devenv.infra import free_port
from shared.contracts.goals import CriteriaWeights
from tests.integration.test_profile_api import running_profile
from tests.support.people import goal_body, mentee_body

ROUTES = ("proposals", "explain?mentor_id=u-1")


async def test_without_matching_the_read_routes_answer_503_and_the_rest_works(
    kafka_endpoint, postgres_endpoint
) -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    async with running_profile(
        kafka_endpoint, postgres_endpoint, matching_url=nobody_listens, matching_read_token="t"
    ) as profile:
        auth = await profile.key_for("acme")
        http = profile.http
        put = await http.put("/v1/profiles/x-1", json=mentee_body(), headers=auth)
        assert put.status_code == 200, put.text
        base = "/v1/profiles/x-1/goals/g1"
        answers = [await http.get(f"{base}/{route}", headers=auth) for route in ROUTES]
        answers.append(await http.post(f"{base}/preview", json={"criteria": {}}, headers=auth))
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "5"
            assert answer.json()["detail"] == "ConnectError", answer.json()
        # authentication and validation come first
        assert (await http.get(f"{base}/proposals")).status_code == 401
        zero = {"criteria": dict.fromkeys(CriteriaWeights().model_dump(), 0)}
        refused = await http.post(f"{base}/preview", json=zero, headers=auth)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "criteria"
        assert (await http.get("/v1/profiles/x-1", headers=auth)).status_code == 200
        # a goal is read as usual, with `waiting` null: unknown without matching
        put = await http.put(base, json=goal_body(goal_id="g1"), headers=auth)
        assert put.status_code == 200, put.text
        one = await http.get(base, headers=auth)
        assert one.status_code == 200, one.text
        assert one.json()["goal_id"] == "g1" and one.json()["waiting"] is None
        listed = await http.get("/v1/profiles/x-1/goals", headers=auth)
        assert listed.status_code == 200, listed.text
        assert [(g["goal_id"], g["waiting"]) for g in listed.json()["goals"]] == [("g1", None)]

"""The relationship lifecycle on real PostgreSQL and Kafka: requests and the one seat rule,
the mentor's answers (late ones too), races, replays and tampered links (issue 28)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from shared.clock import OffsetClock
from shared.contracts.lifecycle import (
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
)
from shared.links import LinkAction
from tests.integration.test_profile_api import running_profile
from tests.support.lifecycle import Programme
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> OffsetClock:
    return OffsetClock(Path(tmp_path_factory.mktemp("clock")) / "offset")


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint, clock):
    # The timers wait an hour between turns here: each test moves them itself or not at all.
    async with running_profile(
        kafka_endpoint, postgres_endpoint, clock, lifecycle_tick_s=3600, tenant_concurrency=8
    ) as running:
        yield running


@pytest.fixture
async def programme(profile, clock) -> Programme:
    return await Programme(profile, clock).start()


async def test_a_request_holds_a_seat_and_the_mentor_accepts_once(programme: Programme) -> None:
    mentor = await programme.mentor(capacity=2)
    mentee = await programme.mentee()
    r = await programme.request(mentee, mentor)
    assert r["version"] == 1 and r["goal_id"] == "default"

    http = programme.http
    accept = programme.about(LinkAction.MENTOR_ACCEPT, r, actor=mentor)
    confirm = await http.get(accept)
    assert confirm.status_code == 200 and "Ada Lovelace" in confirm.text and "<form" in confirm.text
    answers = [await http.post(accept) for _ in range(2)]
    assert "You accepted" in answers[0].text
    assert "Already answered" in answers[1].text and "Nothing was changed" in answers[1].text

    events = await programme.feedback(MatchRequested, MatchStarted)
    assert [type(e) for e in events] == [MatchRequested, MatchStarted]
    assert [e.payload.version for e in events] == [1, 2]
    assert all(
        e.key == mentee and e.payload.request_id == uuid.UUID(r["request_id"]) for e in events
    )
    assert await programme.seats(mentor) == [0, 1]  # held at the request, kept when active
    (active,) = await programme.relationships(mentee_id=mentee)
    assert active["state"] == "active" and active["fit_check_at"] is not None


async def test_two_mentees_racing_for_the_last_seat_one_gets_it(programme: Programme) -> None:
    mentor = await programme.mentor(capacity=1)
    mentees = [await programme.mentee(), await programme.mentee("Bob Byte")]
    pages = await asyncio.gather(
        *(programme.http.post(programme.intro(m, mentor)) for m in mentees)
    )
    titles = sorted("Request sent" if "Request sent" in p.text else p.text for p in pages)
    assert titles[1] == "Request sent" and "No free place" in titles[0]
    assert {p.status_code for p in pages} == {200}
    assert len(await programme.feedback(MatchRequested)) == 1
    assert await programme.seats(mentor) == [0, 1]


async def test_the_open_request_limit_is_a_clear_answer(programme: Programme, profile) -> None:
    conn = await asyncpg.connect(profile.database_url)
    try:
        await conn.execute(
            "INSERT INTO profile.tenant_settings (tenant_id, open_requests_limit) VALUES ($1, 1)",
            programme.tenant,
        )
    finally:
        await conn.close()
    mentee = await programme.mentee()
    first, second = await programme.mentor(), await programme.mentor("Linus Torvalds")
    await programme.request(mentee, first)
    page = await programme.http.post(programme.intro(mentee, second))
    assert page.status_code == 200 and "Too many open requests" in page.text
    assert "1 requests waiting" in page.text and "5 days" in page.text
    assert len(await programme.feedback(MatchRequested)) == 1


async def test_a_late_accept_is_too_late_and_the_mentee_hears_once(
    programme: Programme, clock: OffsetClock
) -> None:
    mentor, mentee = await programme.mentor(), await programme.mentee()
    r = await programme.request(mentee, mentor)
    clock.advance(timedelta(days=5, minutes=1))
    accept = programme.about(LinkAction.MENTOR_ACCEPT, r, actor=mentor)
    preview = await programme.http.get(accept)
    assert "has expired" in preview.text and "<form" not in preview.text
    pages = [await programme.http.post(accept) for _ in range(2)]
    pages.append(await programme.http.post(programme.about(LinkAction.MENTOR_DECLINE, r, mentor)))
    assert all(p.status_code == 200 and "has expired" in p.text for p in pages)
    assert "looking for another mentor" in pages[0].text

    events = await programme.feedback()
    assert [type(e) for e in events] == [MatchRequested, RequestExpired]
    assert await programme.seats(mentor) == [0, 1, 0]


async def test_the_mentor_says_not_now_and_the_seat_is_free(programme: Programme) -> None:
    mentor, mentee = await programme.mentor(), await programme.mentee()
    r = await programme.request(mentee, mentor)
    page = await programme.http.post(programme.about(LinkAction.MENTOR_DECLINE, r, mentor))
    assert "Thanks for letting us know" in page.text
    (declined,) = await programme.feedback(RequestDeclined)
    assert declined.payload.declined_by == "mentor" and declined.payload.version == 2
    assert await programme.seats(mentor) == [0, 1, 0]


async def test_a_mentor_erased_while_a_request_waits_rematches_the_mentee(
    programme: Programme,
) -> None:
    mentor, mentee = await programme.mentor(), await programme.mentee()
    await programme.request(mentee, mentor)
    deleted = await programme.http.delete(f"/v1/profiles/{mentor}", headers=programme.auth)
    assert deleted.status_code == 204
    (declined,) = await programme.feedback(RequestDeclined)
    assert declined.payload.declined_by == "mentor_left" and declined.key == mentee
    assert await programme.relationships(mentee_id=mentee) == []  # erased with the mentor


async def test_both_sides_ending_at_the_same_moment_end_it_once(programme: Programme) -> None:
    mentor, mentee = await programme.mentor(), await programme.mentee()
    r = await programme.request(mentee, mentor)
    await programme.http.post(programme.about(LinkAction.MENTOR_ACCEPT, r, actor=mentor))
    by_mentee = programme.about(LinkAction.END, r)
    by_mentor = programme.about(LinkAction.END, r, actor=mentor)
    api = f"/v1/relationships/{r['request_id']}/end"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answers = await asyncio.gather(
        programme.http.post(by_mentee, content=b"reason=availability&rating=2", headers=form),
        programme.http.post(by_mentor, content=b"reason=chemistry", headers=form),
        programme.http.post(api, json={"reason": "other"}, headers=programme.auth),
    )
    assert [a.status_code for a in answers[:2]] == [200, 200]
    ended_now = [a for a in answers[:2] if "The relationship has ended" in a.text]
    ended_now += [answers[2]] if answers[2].status_code == 200 else []
    assert len(ended_now) == 1
    assert answers[2].status_code in (200, 409)

    (ended,) = await programme.feedback(MatchEnded)
    assert ended.payload.version == 3
    assert await programme.seats(mentor) == [0, 1, 0]
    again = await programme.http.post(api, json={}, headers=programme.auth)
    assert again.status_code == 409 and again.json()["state"] == "ended"


@pytest.mark.parametrize(
    "mangle",
    [
        "tampered",
        "someone_else",
        "unknown_request",
        "other_tenant",
        "expired",
        "no_request",
    ],
)
async def test_bad_lifecycle_links_get_a_clear_page_and_change_nothing(
    programme: Programme, mangle: str
) -> None:
    mentor, mentee = await programme.mentor(), await programme.mentee()
    r = await programme.request(mentee, mentor)
    good = programme.about(LinkAction.MENTOR_ACCEPT, r, actor=mentor)
    request_id = uuid.UUID(r["request_id"])
    if mangle == "tampered":
        url = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    elif mangle == "someone_else":
        url = programme.about(LinkAction.MENTOR_ACCEPT, r, actor="mallory")
    elif mangle == "unknown_request":
        unknown = {**r, "request_id": str(uuid.uuid4())}
        url = programme.about(LinkAction.MENTOR_ACCEPT, unknown, actor=mentor)
    elif mangle == "other_tenant":
        other = await Programme(programme.profile, programme.clock).start()
        url = other.about(LinkAction.MENTOR_ACCEPT, r, actor=mentor)
    elif mangle == "expired":
        past = int(programme.clock.now().timestamp()) - 1
        url = programme.link(
            LinkAction.MENTOR_ACCEPT,
            mentee,
            mentor_id=mentor,
            request_id=request_id,
            expires_at=past,
        )
    else:
        url = programme.link(LinkAction.END, mentee, mentor_id=mentor)
    for method in ("GET", "POST"):
        page = await programme.http.request(method, url)
        assert page.status_code in (404, 410), page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "Nothing was changed" in page.text or "not valid" in page.text
    await eventually(programme.profile.relayed, what="outbox relayed")
    assert [type(e) for e in await programme.feedback()] == [MatchRequested]

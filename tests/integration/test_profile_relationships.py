"""Relationships on real PostgreSQL and Kafka: ending with a reason and what it teaches (and its
undo), "Not for me" with a reason, the integrators' listing, the timers on an offset clock and
the migration of requests accepted before relationships existed (issue 28)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from click.testing import Result

from services.profile.adapters.postgres import PostgresUnitOfWork
from services.profile.bootstrap import MIGRATIONS
from services.profile.domain.relationships import LifecycleTerms
from services.profile.service_layer.lifecycle import Lifecycle
from services.profile.service_layer.timers import reconcile_seats
from shared.clock import OffsetClock
from shared.contracts.feedback import MatchDeclined
from shared.contracts.lifecycle import (
    FitCheckRequested,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestExpired,
    RequestReminded,
)
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfilePayload
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.erasure import ErasureKeys
from shared.links import LinkAction
from shared.settings import DatabaseSettings
from tests.integration.test_profile_api import running_profile
from tests.support.lifecycle import Programme
from tests.support.polling import eventually
from tests.unit import builders

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> OffsetClock:
    return OffsetClock(Path(tmp_path_factory.mktemp("clock")) / "offset")


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint, clock):
    async with running_profile(
        kafka_endpoint, postgres_endpoint, clock, lifecycle_tick_s=0.2
    ) as running:
        yield running


@pytest.fixture
async def programme(profile, clock) -> Programme:
    return await Programme(profile, clock).start()


async def active(programme: Programme, mentee: str, mentor: str) -> dict:
    r = await programme.request(mentee, mentor)
    await programme.http.post(programme.about(LinkAction.MENTOR_ACCEPT, r, actor=mentor))
    return r


async def test_ending_for_style_adjusts_the_goal_and_undo_restores_it(
    programme: Programme,
) -> None:
    mentor = await programme.mentor(mentoring_styles=["coaching", "challenging"])
    mentee = await programme.mentee(preferred_styles=["coaching", "advising"])
    r = await active(programme, mentee, mentor)

    form = await programme.http.get(programme.about(LinkAction.END, r))
    assert 'name="reason" value="style"' in form.text and 'name="never_again"' in form.text
    ended = await programme.http.post(
        programme.about(LinkAction.END, r),
        content=b"reason=style&rating=2&never_again=true",
        headers=FORM,
    )
    assert "The relationship has ended" in ended.text
    assert "take your reason into account" in ended.text

    (end,) = await programme.feedback(MatchEnded)
    assert (end.payload.ended_by, end.payload.reason, end.payload.rating) == ("mentee", "style", 2)
    assert end.payload.never_again is True
    assert await programme.seats(mentor) == [0, 1, 0]

    set_goal, adjusted = await programme.goals()
    assert isinstance(adjusted, PreferencesAdjusted) and adjusted.payload.version == 2
    change = adjusted.payload.adjustment
    assert change.trigger == "relationship_ended" and change.reason == "style"
    assert change.styles_avoided == ["coaching"] and adjusted.payload.preferred_styles == [
        "advising"
    ]
    assert [(w.criterion, w.before, w.after) for w in change.weights] == [("style", 0.4, 0.6)]

    undo = programme.link(LinkAction.UNDO_ADJUSTMENT, mentee, adjustment_id=change.adjustment_id)
    assert "Undo" in (await programme.http.get(undo)).text
    assert "Change undone" in (await programme.http.post(undo)).text
    assert "Nothing to undo" in (await programme.http.post(undo)).text
    *_, restored = await programme.goals()
    assert restored.payload.adjustment.trigger == "undo"
    assert restored.payload.adjustment.undoes == change.adjustment_id
    assert restored.payload.criteria == set_goal.payload.criteria
    assert restored.payload.preferred_styles == set_goal.payload.preferred_styles
    assert restored.payload.version == 3
    assert len(await programme.goals()) == 3


async def test_not_for_me_takes_an_optional_reason_and_one_click_still_declines(
    programme: Programme,
) -> None:
    mentee = await programme.mentee()
    first, second = await programme.mentor(), await programme.mentor("Linus Torvalds")
    proposal = uuid.uuid4()

    def decline(mentor: str) -> str:
        return programme.link(
            LinkAction.DECLINE, mentee, mentor_id=mentor, proposal_id=proposal, goal_id="default"
        )

    page = await programme.http.get(decline(first))
    assert 'name="reason" value="availability"' in page.text
    with_reason = await programme.http.post(
        decline(first), content=b"reason=availability", headers=FORM
    )
    assert "take your reason into account" in with_reason.text
    one_click = await programme.http.post(decline(second))
    assert one_click.status_code == 200 and "Thanks, noted" in one_click.text

    reasons = [e.payload.reason for e in await programme.feedback(MatchDeclined)]
    assert reasons == ["availability", None]
    _, adjusted = await programme.goals()
    assert adjusted.payload.adjustment.trigger == "proposal_declined"
    assert adjusted.payload.criteria.availability == 0.45  # half of an ending's +0.3


async def test_the_listing_is_tenant_scoped_filtered_and_paged(
    programme: Programme, profile, clock
) -> None:
    mentor = await programme.mentor(capacity=5)
    mentees = [await programme.mentee(f"Mentee {n}") for n in range(5)]
    for mentee in mentees:
        await programme.request(mentee, mentor)
    other = await Programme(profile, clock).start()
    await other.request(await other.mentee(), await other.mentor())

    seen, cursor = [], None
    while True:
        query = {"mentor_id": mentor, "limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = await programme.http.get("/v1/relationships", params=query, headers=programme.auth)
        page = answer.json()
        assert len(page["items"]) <= 2
        seen += [item["mentee_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == mentees  # oldest request first, each once

    assert len(await programme.relationships()) == 5  # not the other tenant's
    assert await programme.relationships(state="active") == []
    assert len(await other.relationships()) == 1
    bad = await programme.http.get(
        "/v1/relationships", params={"cursor": "nonsense"}, headers=programme.auth
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    strange = await programme.http.get(
        "/v1/relationships", params={"state": "dancing"}, headers=programme.auth
    )
    assert strange.status_code == 422
    unknown = await programme.http.post(
        f"/v1/relationships/{uuid.uuid4()}/end", json={}, headers=programme.auth
    )
    assert unknown.status_code == 404
    theirs = (await other.relationships())[0]["request_id"]
    foreign = await programme.http.post(
        f"/v1/relationships/{theirs}/end", json={}, headers=programme.auth
    )
    assert foreign.status_code == 404
    assert (await programme.http.get("/v1/relationships")).status_code == 401


async def test_the_timers_remind_expire_and_check_the_fit_on_the_clock(
    programme: Programme, clock: OffsetClock
) -> None:
    mentor = await programme.mentor(capacity=3)
    waiting = await programme.request(await programme.mentee(), mentor)
    started = await active(programme, await programme.mentee("Bob Byte"), mentor)

    async def kinds() -> list[type]:
        return [type(e) for e in await programme.feedback()]

    clock.advance(timedelta(days=2, hours=13))  # past half of the 5 days
    await eventually(lambda: _has(kinds, RequestReminded), what="reminder")
    clock.advance(timedelta(days=3))  # past the deadline
    await eventually(lambda: _has(kinds, RequestExpired), what="expiry")
    clock.advance(timedelta(days=9))  # 14 days and more since the start
    await eventually(lambda: _has(kinds, FitCheckRequested), what="fit check")
    clock.advance(timedelta(days=30))
    await eventually(programme.profile.relayed, what="outbox relayed")

    events = await programme.feedback()
    assert [type(e) for e in events].count(RequestReminded) == 1
    by_request = {}
    for e in events:
        by_request.setdefault(str(e.payload.request_id), []).append(type(e))
    assert by_request[waiting["request_id"]] == [MatchRequested, RequestReminded, RequestExpired]
    assert by_request[started["request_id"]] == [MatchRequested, MatchStarted, FitCheckRequested]
    assert await programme.seats(mentor) == [0, 1, 2, 1]

    fit = programme.about(LinkAction.FIT_GOOD, started)
    assert "going well" in (await programme.http.post(fit)).text
    bad_fit = await programme.http.get(programme.about(LinkAction.FIT_BAD, started))
    assert "Sorry it is not a good fit" in bad_fit.text and 'name="reason"' in bad_fit.text


async def _has(kinds, kind: type) -> bool:
    return kind in await kinds()


async def test_requests_accepted_before_relationships_become_active_and_are_counted(
    postgres_endpoint, tmp_path: Path
) -> None:
    """The migration turns accepted link answers into active relationships (not those declined
    afterwards); at start the service publishes the mentors' seat counts."""
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql"))[:4]:
        (earlier / path.name).write_text(path.read_text())
    name = f"m_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_endpoint.url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    settings = DatabaseSettings(database_url=postgres_endpoint.database(name))
    pool = await create_pool(settings, "profile")
    try:
        await apply_migrations(pool, "profile", earlier)
        async with pool.acquire() as conn:
            await _old_rows(conn)
        await apply_migrations(pool, "profile", MIGRATIONS)
        uow = PostgresUnitOfWork(pool, "m.", ErasureKeys([b"k" * 32]))
        assert await reconcile_seats(Lifecycle(uow, LifecycleTerms())) == 1
        assert await reconcile_seats(Lifecycle(uow, LifecycleTerms())) == 0
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT mentee_id, mentor_id, state, goal_id FROM relationships"
            )
            grace = await conn.fetchval("SELECT profile FROM profiles WHERE user_id = 'u-grace'")
            published = await conn.fetchval("SELECT count(*) FROM outbox")
    finally:
        await pool.close()
        admin = await asyncpg.connect(postgres_endpoint.url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert [tuple(r) for r in rows] == [("u-ada", "u-grace", "active", "g1")]
    counted = ProfilePayload.model_validate_json(grace)
    assert (counted.seats_taken, counted.version) == (1, 2) and published == 1


async def _old_rows(conn: asyncpg.Connection) -> None:
    people = (builders.mentee("u-ada"), builders.mentee("u-bob"), builders.mentor("u-grace"))
    for person in people:
        await conn.execute(
            "INSERT INTO profiles (tenant_id, user_id, version, profile)"
            " VALUES ('acme', $1, 1, $2::jsonb)",
            person.user_id,
            person.model_dump_json(),
        )
    await conn.execute(
        "INSERT INTO goals (tenant_id, mentee_id, version, goal)"
        " VALUES ('acme', 'u-ada', 1, $1::jsonb)",
        builders.goal("u-ada").model_dump_json(),
    )
    kept, declined = uuid.uuid4(), uuid.uuid4()
    for proposal, mentee_id, action in (
        (kept, "u-ada", "accept"),
        (declined, "u-bob", "accept"),
        (declined, "u-bob", "decline"),
    ):
        await conn.execute(
            "INSERT INTO link_responses (tenant_id, proposal_id, mentor_id, action,"
            " mentee_id) VALUES ('acme', $1, 'u-grace', $2, $3)",
            proposal,
            action,
            mentee_id,
        )


async def test_a_programme_manager_sets_the_tenants_terms(database_url: str) -> None:
    from typer.testing import CliRunner

    from services.profile.entrypoints.cli import cli

    async def run(*args: str) -> Result:
        env = {"DATABASE_URL": database_url}
        return await asyncio.to_thread(CliRunner().invoke, cli, ["tenants", "set", *args], env=env)

    first = await run("--tenant", "acme", "--request-deadline-days", "7")
    assert "acme: 7 days to answer a request, fit check after 14 days, 3 open" in first.output
    second = await run("--tenant", "acme", "--open-requests-limit", "2")
    assert "acme: 7 days to answer a request, fit check after 14 days, 2 open" in second.output
    assert (await run("--tenant", "acme", "--fit-check-days", "0")).exit_code != 0


async def test_an_integrator_ends_on_the_mentees_behalf_and_the_reason_teaches(
    programme: Programme,
) -> None:
    mentor, mentee = await programme.mentor(), await programme.mentee()
    r = await active(programme, mentee, mentor)
    body = {"on_behalf_of": "mentee", "reason": "expertise", "rating": 3, "never_again": True}
    answer = await programme.http.post(
        f"/v1/relationships/{r['request_id']}/end", json=body, headers=programme.auth
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "ended" and answer.json()["ended_by"] == "integrator"
    (ended,) = await programme.feedback(MatchEnded)
    assert (ended.payload.reason, ended.payload.rating, ended.payload.never_again) == (
        "expertise",
        3,
        True,
    )
    _, adjusted = await programme.goals()
    moved = {w.criterion: w.after for w in adjusted.payload.adjustment.weights}
    assert moved == {"experience": 0.7}  # skills were at 1 already
    refused = await programme.http.post(
        f"/v1/relationships/{r['request_id']}/end", json={"rating": 9}, headers=programme.auth
    )
    assert refused.status_code == 422

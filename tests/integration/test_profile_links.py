"""The signed links in proposal emails: GET confirms without effect, POST acts once."""

from __future__ import annotations

import time
import uuid

import pytest

from shared.contracts.feedback import MatchDeclined
from shared.contracts.lifecycle import LifecycleEvent, MatchEnded, MatchRequested
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import FEEDBACK, FEEDBACK_EVENT, PROFILES
from shared.links import LinkAction, LinkClaims, sign_link
from tests.integration.test_profile_api import LINK_KEY, RunningProfile, running_profile
from tests.support.kafka import read_all
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.polling import eventually

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(kafka_endpoint, postgres_endpoint) as running:
        yield running


class People:
    def __init__(self, profile: RunningProfile) -> None:
        self.profile = profile
        self.tenant = f"t-{uuid.uuid4().hex[:8]}"
        self.mentee = f"mentee-{uuid.uuid4().hex[:8]}"
        self.mentor = f"mentor-{uuid.uuid4().hex[:8]}"

    async def create(self) -> People:
        self.auth = await self.profile.key_for(self.tenant)
        http = self.profile.http
        await http.put(f"/v1/profiles/{self.mentee}", json=mentee_body(), headers=self.auth)
        goal = await http.put(
            f"/v1/profiles/{self.mentee}/goal", json=goal_body(), headers=self.auth
        )
        assert goal.is_success, goal.text  # the default goal, which the links below answer
        await http.put(
            f"/v1/profiles/{self.mentor}", json=mentor_body("Grace <Hopper>"), headers=self.auth
        )
        return self

    def link(self, action: LinkAction, proposal_id: uuid.UUID | None = None, **claims) -> str:
        fields = {
            "action": action,
            "tenant_id": self.tenant,
            "mentee_id": self.mentee,
            "expires_at": int(time.time()) + 3600,
        }
        if action is not LinkAction.UNSUBSCRIBE:
            fields |= {
                "mentor_id": self.mentor,
                "proposal_id": proposal_id or uuid.uuid4(),
                "goal_id": "default",
            }
        token = sign_link(LinkClaims(**(fields | claims)), LINK_KEY.encode())
        return f"/v1/links/{token}"

    async def feedback(self, expected: int) -> list[MatchDeclined | LifecycleEvent]:
        topic = FEEDBACK.qualified(self.profile.kafka.topic_prefix)

        async def mine() -> list[MatchDeclined | LifecycleEvent]:
            await eventually(self.profile.relayed, what="outbox relayed")
            records = await read_all(self.profile.kafka, topic)
            events = [FEEDBACK_EVENT.validate_json(r.value) for r in records]
            found = [e for e in events if e.tenant_id == self.tenant]
            return found if len(found) >= expected else []

        return await eventually(mine, timeout=30, what=f"{expected} feedback events")


@pytest.fixture
async def people(profile) -> People:
    return await People(profile).create()


async def test_get_shows_a_confirmation_page_and_changes_nothing(people: People) -> None:
    url = people.link(LinkAction.ACCEPT)
    page = await people.profile.http.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Grace &lt;Hopper&gt;" in page.text  # the mentor's name, escaped
    assert '<form method="post">' in page.text
    assert page.headers["Cache-Control"] == "no-store"

    await people.profile.http.post(people.link(LinkAction.DECLINE))  # a marker after the GET
    (only,) = await people.feedback(1)
    assert isinstance(only, MatchDeclined)


async def test_request_an_intro_publishes_match_requested_once_however_often_it_is_posted(
    people: People,
) -> None:
    proposal = uuid.uuid4()
    url = people.link(LinkAction.ACCEPT, proposal)
    answers = [await people.profile.http.post(url) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert "Request sent" in answers[0].text and "until" in answers[0].text
    assert "You already asked" in answers[-1].text and "Nothing was sent again" in answers[-1].text
    again = await people.profile.http.get(url)  # the page says where the request stands
    assert "You already asked" in again.text and "<form" not in again.text

    decline = await people.profile.http.post(
        people.link(LinkAction.DECLINE, proposal), content=b"", headers=ONE_CLICK
    )
    assert (
        decline.status_code == 200
        and "request to Grace &lt;Hopper&gt; is withdrawn" in decline.text
    )
    # "Not for me" after asking the same mentor withdraws the request: its seat is free again
    requested, declined, withdrawn = await people.feedback(3)
    assert isinstance(requested, MatchRequested) and isinstance(declined, MatchDeclined)
    assert isinstance(withdrawn, MatchEnded) and withdrawn.payload.ended_by == "mentee"
    assert requested.key == people.mentee and requested.payload.mentor_id == people.mentor
    assert requested.payload.proposal_id == proposal and requested.payload.goal_id == "default"
    await eventually(people.profile.relayed, what="outbox relayed")
    assert len(await people.feedback(3)) == 3


async def test_one_click_unsubscribe_is_sticky(people: People) -> None:
    url = people.link(LinkAction.UNSUBSCRIBE)
    for _ in range(2):
        done = await people.profile.http.post(
            url, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
        )
        assert done.status_code == 200 and "unsubscribed" in done.text

    http, auth = people.profile.http, people.auth
    read = (await http.get(f"/v1/profiles/{people.mentee}", headers=auth)).json()
    assert read["version"] == 2
    assert read["notification_preferences"]["email_opt_in"] is False

    body = mentee_body(display_name="Ada L.", notification_preferences={"email_opt_in": True})
    later = await http.put(f"/v1/profiles/{people.mentee}", json=body, headers=auth)
    assert later.json()["version"] == 3
    assert later.json()["notification_preferences"]["email_opt_in"] is False

    topic = PROFILES.qualified(people.profile.kafka.topic_prefix)

    async def updates() -> list[ProfileUpdated]:
        records = await read_all(people.profile.kafka, topic)
        mine = [
            ProfileUpdated.model_validate_json(r.value)
            for r in records
            if r.key is not None and r.key.split(b"/")[-1] == people.mentee.encode()
        ]
        return mine if len(mine) == 3 else []

    events = await eventually(updates, timeout=30, what="three ProfileUpdated")
    assert [e.payload.notification_preferences.email_opt_in for e in events] == [
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("mangle", "status", "title"),
    [
        (lambda url: url[:-3] + "abc", 404, "not valid"),
        (lambda url: url.replace("/v1/links/", "/v1/links/x"), 404, "not valid"),
        (lambda url: "/v1/links/" + "a" * 3000, 404, "not valid"),
    ],
)
async def test_tampered_links_get_a_friendly_page(people: People, mangle, status, title) -> None:
    url = mangle(people.link(LinkAction.ACCEPT))
    for method in ("GET", "POST"):
        page = await people.profile.http.request(method, url)
        assert page.status_code == status and title in page.text
        assert page.headers["content-type"].startswith("text/html")


async def test_expired_links_and_people_who_are_gone_get_410(people: People) -> None:
    expired = people.link(LinkAction.ACCEPT, expires_at=int(time.time()) - 1)
    assert (await people.profile.http.post(expired)).status_code == 410
    stranger = people.link(LinkAction.ACCEPT, tenant_id="another-tenant")
    gone = await people.profile.http.post(stranger)
    assert gone.status_code == 410 and "no longer available" in gone.text
    await people.profile.http.delete(f"/v1/profiles/{people.mentor}", headers=people.auth)
    assert (await people.profile.http.post(people.link(LinkAction.ACCEPT))).status_code == 410

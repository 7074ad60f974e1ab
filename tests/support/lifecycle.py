"""One tenant's people on a running profile service, the links their emails would carry, and
the events the service published about them (tests of the relationship lifecycle)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from shared.clock import Clock
from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import DEFAULT_GOAL_ID
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import (
    FEEDBACK,
    FEEDBACK_EVENT,
    GOAL_EVENT,
    GOALS,
    PROFILE_EVENT,
    PROFILES,
)
from shared.links import LinkAction, LinkClaims, sign_link
from tests.integration.test_profile_api import LINK_KEY, RunningProfile
from tests.support.kafka import read_all
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.polling import eventually


class Programme:
    def __init__(self, profile: RunningProfile, clock: Clock) -> None:
        self.profile = profile
        self.clock = clock
        self.tenant = f"t-{uuid.uuid4().hex[:8]}"
        self.http = profile.http

    async def start(self) -> Programme:
        self.auth = await self.profile.key_for(self.tenant)
        return self

    async def mentor(self, name: str = "Grace Hopper", **fields: Any) -> str:
        user = f"mentor-{uuid.uuid4().hex[:8]}"
        body = mentor_body(name, **fields)
        assert (
            await self.http.put(f"/v1/profiles/{user}", json=body, headers=self.auth)
        ).is_success
        return user

    async def mentee(self, name: str = "Ada Lovelace", **goal: Any) -> str:
        user = f"mentee-{uuid.uuid4().hex[:8]}"
        body = mentee_body(name)
        assert (
            await self.http.put(f"/v1/profiles/{user}", json=body, headers=self.auth)
        ).is_success
        put = await self.http.put(
            f"/v1/profiles/{user}/goal", json=goal_body(**goal), headers=self.auth
        )
        assert put.is_success, put.text
        return user

    def link(self, action: LinkAction, mentee: str, **claims: Any) -> str:
        expires = int((self.clock.now() + timedelta(days=14)).timestamp())
        fields = {"action": action, "tenant_id": self.tenant, "mentee_id": mentee}
        claims = {"expires_at": expires, **claims}
        signed = sign_link(LinkClaims(**fields, **claims), LINK_KEY.encode())
        return f"/v1/links/{signed}"

    def intro(
        self,
        mentee: str,
        mentor: str,
        proposal: uuid.UUID | None = None,
        goal_id: str = DEFAULT_GOAL_ID,
    ) -> str:
        return self.link(
            LinkAction.ACCEPT,
            mentee,
            mentor_id=mentor,
            proposal_id=proposal or uuid.uuid4(),
            goal_id=goal_id,
        )

    def about(self, action: LinkAction, r: dict[str, Any], actor: str | None = None) -> str:
        """A relationship link, as the email to `actor` (default: the mentee) carries it."""
        return self.link(
            action,
            r["mentee_id"],
            mentor_id=r["mentor_id"],
            request_id=uuid.UUID(r["request_id"]),
            actor_id=actor,
        )

    async def request(
        self, mentee: str, mentor: str, goal_id: str = DEFAULT_GOAL_ID
    ) -> dict[str, Any]:
        page = await self.http.post(self.intro(mentee, mentor, goal_id=goal_id))
        assert page.status_code == 200 and "Request sent" in page.text, page.text
        (found,) = await self.relationships(mentee_id=mentee, mentor_id=mentor, state="requested")
        return found

    async def relationships(self, **query: Any) -> list[dict[str, Any]]:
        answer = await self.http.get("/v1/relationships", params=query, headers=self.auth)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    async def _events(self, topic_spec: Any, parse: Any) -> list[EventEnvelope]:
        await eventually(self.profile.relayed, what="outbox relayed")
        records = await read_all(
            self.profile.kafka, topic_spec.qualified(self.profile.kafka.topic_prefix)
        )
        events = [parse(r.value) for r in records if r.value is not None]
        return [e for e in events if e.tenant_id == self.tenant]

    async def feedback(self, *types: type) -> list[Any]:
        events = await self._events(FEEDBACK, FEEDBACK_EVENT.validate_json)
        return [e for e in events if not types or isinstance(e, types)]

    async def goals(self) -> list[Any]:
        return await self._events(GOALS, GOAL_EVENT.validate_json)

    async def seats(self, mentor: str) -> list[int]:
        """The mentor's `seats_taken`, in every ProfileUpdated published about them."""
        events = await self._events(PROFILES, PROFILE_EVENT.validate_json)
        updates = [e for e in events if isinstance(e, ProfileUpdated) and e.key == mentor]
        return [e.payload.seats_taken for e in updates]

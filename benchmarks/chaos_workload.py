"""The chaos run's seeded workload and the driver that pushes it through the API and ingress.

Every action is retried until the platform takes it (a killed profile service, a Kafka or
PostgreSQL fault): HTTP writes are idempotent (PUT of the full state; a link answers once; a
repeated DELETE answers 404) and an ingress command keeps its command_id across retries, so a
retry never doubles an effect. What the platform acknowledged is appended to the run's
`Record` (benchmarks/chaos_truth.py), the ground truth the run is checked against. A few
deliberately invalid ingress commands (marked INVALID_MARK) must end in the dead-letter topic;
any other dead letter is a valid event the platform gave up on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks import wire
from benchmarks.chaos_truth import Record
from benchmarks.kafka_io import Publisher
from devenv.smtp_sink import ReceivedMail
from shared.contracts.ingress import DeleteProfile, SetGoal, UpsertProfile

TOKEN = re.compile(r"/v1/links/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
RETRY_S = 0.5
INVALID_MARK = "chaos-invalid"
Log = Callable[[str], None]


def link_claims(token: str) -> dict[str, Any]:
    """The claims part of a signed link (readable by anyone; only the signature is secret)."""
    body = token.split(".")[0]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


@dataclass
class Inbox:
    """The newest proposal email's links per mentee, and every Message-ID with its count
    (relationship emails included)."""

    links: dict[str, list[str]] = field(default_factory=dict)
    message_ids: dict[str, list[str]] = field(default_factory=dict)  # id -> receive times
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, mail: ReceivedMail) -> None:
        body = mail.message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        tokens = sorted(set(TOKEN.findall(text)))
        with self._lock:
            self.message_ids.setdefault(mail.message_id, []).append(time.strftime("%H:%M:%S"))
            if not mail.message_id.startswith("<proposal."):
                return  # a relationship email (to a mentor, or an introduction) proposes nobody
            for recipient in mail.recipients:
                self.links[recipient.split("@")[0]] = tokens

    def received(self) -> dict[str, list[str]]:
        with self._lock:
            return {message_id: list(times) for message_id, times in self.message_ids.items()}

    def tokens_of(self, mentee_id: str) -> list[str]:
        with self._lock:
            return list(self.links.get(mentee_id, ()))

    def mentees(self) -> list[str]:
        with self._lock:
            return sorted(self.links)

    def latest_mentors(self) -> dict[str, frozenset[str]]:
        """Per mentee, the mentors named (by their accept links) in the last email received."""
        with self._lock:
            latest = dict(self.links)
        return {
            mentee: frozenset(
                str(claims["mentor_id"])
                for claims in map(link_claims, tokens)
                if claims["action"] == "accept"
            )
            for mentee, tokens in latest.items()
        }


@dataclass
class Action:
    kind: str  # mentor, mentee, goal, feedback, delete, invalid
    channel: str  # api or ingress
    user_id: str
    body: Any = None


@dataclass
class Workload:
    """Seeded actions: mentors first, then mentees, goals, profile changes and feedback."""

    rng: random.Random
    mentors: int
    channel: dict[str, str] = field(default_factory=dict)
    goal_versions: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # ids are never used again after a delete

    def seed_mentors(self) -> list[Action]:
        ids = [f"mentor-{i}" for i in range(self.mentors)]
        return [Action("mentor", "api", m, wire.mentor(self.rng, m)) for m in ids]

    def next(self, index: int) -> Action:
        roll = self.rng.random()
        mentees = list(self.channel)
        if len(mentees) < 2 or roll < 0.22:
            return self.new_mentee(f"mentee-{index}")
        if roll < 0.25:
            mentor = f"mentor-{self.rng.randrange(self.mentors)}"
            if mentor in self.deleted:
                return self.goal(self.rng.choice(mentees))
            if roll < 0.2505:  # about one mentor in 30 is erased over a 10,000-event run
                return self.delete(mentor)
            return Action("mentor", "api", mentor, wire.mentor(self.rng, mentor))
        if roll < 0.30:
            mentee = self.rng.choice(mentees)
            return Action("mentee", self.channel[mentee], mentee, wire.mentee(self.rng, mentee))
        if roll < 0.31:
            return self.delete(self.rng.choice(mentees))
        if roll < 0.315:
            return Action("invalid", "ingress", self.rng.choice(mentees), f"{INVALID_MARK}-{index}")
        if roll < 0.48:
            return Action("feedback", "api", "")  # whose: decided when it runs, from the inbox
        return self.goal(self.rng.choice(mentees))

    def delete(self, user_id: str) -> Action:
        """Through the person's own channel, so it is ordered after their earlier commands."""
        self.deleted.add(user_id)
        return Action("delete", self.channel.pop(user_id, "api"), user_id)

    def new_mentee(self, mentee: str) -> Action:
        self.channel[mentee] = self.rng.choice(("api", "ingress"))
        return Action("mentee", self.channel[mentee], mentee, wire.mentee(self.rng, mentee))

    def goal(self, mentee: str) -> Action:
        version = self.goal_versions[mentee] = self.goal_versions.get(mentee, 0) + 1
        return Action("goal", self.channel[mentee], mentee, wire.goal(self.rng, mentee, version))


@dataclass
class Driver:
    http: httpx.AsyncClient
    publisher: Publisher
    ingress_topic: str
    tenant: str
    inbox: Inbox
    rng: random.Random
    log: Log
    record: Record = field(default_factory=Record)
    deleted: set[str] = field(default_factory=set)
    applied: dict[str, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    invalid_sent: int = 0
    retries: int = 0

    async def run(self, action: Action) -> None:
        attempt, tries = self.attempt_for(action), 0
        while True:
            try:
                outcome = await attempt()
                if outcome == "404" and action.kind == "delete" and tries:
                    outcome = "ok"  # an earlier attempt erased them; its answer was lost
            except Exception as error:  # connection refused, timeouts, Kafka errors: all retried
                outcome = f"retry: {type(error).__name__}"
            if not outcome.startswith("retry"):
                break
            self.retries += 1
            tries += 1
            if tries % 20 == 0:
                self.log(f"still retrying {action.kind} {action.user_id}: {outcome}")
            await asyncio.sleep(RETRY_S)
        if outcome == "ok":
            self.applied[action.kind] = self.applied.get(action.kind, 0) + 1
            self.remember(action)
        elif outcome != "gone":
            self.rejected.append(f"{action.kind} {action.user_id}: {outcome}")

    def remember(self, action: Action) -> None:
        """Append an acknowledged action to the ground-truth record."""
        if action.kind in ("mentor", "mentee"):
            self.record.profile(action.user_id, action.body)
        elif action.kind == "goal":
            self.record.goal(action.user_id, action.body)
        elif action.kind == "delete":
            self.deleted.add(action.user_id)
            self.record.delete(action.user_id)
        elif action.kind == "feedback":
            claims = link_claims(action.body)
            accepted = claims["action"] == "accept"
            mentor, proposal = str(claims["mentor_id"]), str(claims["proposal_id"])
            goal = str(claims["goal_id"])
            self.record.feedback(action.user_id, mentor, proposal, accepted, goal)
        else:
            self.invalid_sent += 1

    def feedback(self) -> Action | None:
        """A mentee follows a link of their newest email: decline mostly, accept sometimes."""
        mentees = [m for m in self.inbox.mentees() if m not in self.deleted]
        if not mentees:
            return None
        mentee = self.rng.choice(mentees)
        wanted = "accept" if self.rng.random() < 0.15 else "decline"
        tokens = [t for t in self.inbox.tokens_of(mentee) if link_claims(t)["action"] == wanted]
        return Action("feedback", "api", mentee, self.rng.choice(tokens)) if tokens else None

    def attempt_for(self, action: Action) -> Callable[[], Any]:
        if action.kind == "feedback":
            return lambda: self.http_call("POST", f"/v1/links/{action.body}", None)
        if action.kind == "delete" and action.channel == "api":
            return lambda: self.http_call("DELETE", f"/v1/profiles/{action.user_id}", None)
        if action.kind == "invalid":  # not a command at all: valid JSON of the wrong shape
            invalid = json.dumps({"command_type": action.body, "tenant_id": self.tenant})
            return lambda: self.publish(action.user_id, invalid.encode())
        if action.channel == "api":
            path = f"/v1/profiles/{action.user_id}" + ("/goal" if action.kind == "goal" else "")
            return lambda: self.http_call("PUT", path, action.body.model_dump(mode="json"))
        command = self.ingress_command(action)
        return lambda: self.publish(action.user_id, command)

    def ingress_command(self, action: Action) -> bytes:
        common = {"command_id": uuid.uuid4(), "tenant_id": self.tenant, "user_id": action.user_id}
        if action.kind == "goal":
            return SetGoal(**common, goal=action.body).model_dump_json().encode()
        if action.kind == "delete":
            return DeleteProfile(**common).model_dump_json().encode()
        return UpsertProfile(**common, profile=action.body).model_dump_json().encode()

    async def http_call(self, method: str, path: str, body: Any) -> str:
        response = await self.http.request(method, path, json=body)
        if response.status_code >= 500 or response.status_code == 429:
            return f"retry: {response.status_code}"
        if response.status_code in (200, 201, 204):
            return "ok"
        if response.status_code == 410:  # the link expired or a person in it was erased
            return "gone"
        if response.status_code == 404:
            return "404"
        return f"{response.status_code} {response.text[:200]}"

    async def publish(self, key: str, command: bytes) -> str:
        """Publish and wait; a producer that cannot deliver in time is replaced, then retried.

        (After a broker restart aiokafka's producer was seen retrying NotLeaderForPartition
        for minutes on one partition.) The same command_id makes a re-sent command one effect.
        """
        try:
            await asyncio.wait_for(self.publisher.publish_now(self.ingress_topic, key, command), 15)
        except Exception:
            with contextlib.suppress(Exception):
                await self.publisher.reset()
            raise
        return "ok"


async def paced(
    actions: list[Action],
    workload: Workload,
    driver: Driver,
    total: int,
    rate: float,
    keep_going: Callable[[], bool] = lambda: False,
) -> None:
    """Run the seeded actions at `rate` per second (slower when the platform pushes back):
    `total` of them, and more while `keep_going()` says so."""
    started, index = time.monotonic(), 0
    queue = list(actions)
    while index < total or keep_going():
        action = queue.pop(0) if queue else workload.next(index)
        if action.kind == "feedback":  # no email to answer yet: set a goal instead
            action = driver.feedback() or workload.goal(workload.rng.choice(list(workload.channel)))
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await driver.run(action)
        index += 1
        if index % 250 == 0:
            driver.log(
                f"workload {index}/{total} applied {driver.applied} retries {driver.retries}"
            )

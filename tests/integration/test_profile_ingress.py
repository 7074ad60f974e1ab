"""Integrators publish commands to the ingress topic: kcat (a non-Python client) exactly as
docs/integrators.md shows, and invalid commands that land in the dead-letter topic."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from pathlib import Path

import pytest

from shared.contracts.goals import GoalSet
from shared.contracts.profiles import ProfileUpdated
from shared.contracts.topics import GOALS, INGRESS, PROFILES
from shared.kafka.producer import kafka_producer
from tests.integration.test_profile_api import RunningProfile, running_profile
from tests.support.kafka import header, read_all
from tests.support.people import ingress_set_goal, ingress_upsert, mentee_body
from tests.support.polling import eventually

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(scope="module")
async def profile(kafka_endpoint, postgres_endpoint):
    async with running_profile(kafka_endpoint, postgres_endpoint) as running:
        yield running


async def kcat(profile: RunningProfile, key: str, example: str) -> None:
    """`kcat -P -b BROKERS -t TOPIC -k KEY -H correlation_id=... FILE`: the file is one message."""
    kcat_bin = shutil.which("kcat")
    assert kcat_bin, "kcat is missing: run `bash scripts/install-kcat.sh`"
    process = await asyncio.create_subprocess_exec(
        kcat_bin,
        "-P",
        "-b",
        profile.kafka.bootstrap_servers,
        "-t",
        INGRESS.qualified(profile.kafka.topic_prefix),
        "-k",
        key,
        "-H",
        "correlation_id=hris-sync-7",
        str(EXAMPLES / example),
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()


async def publish(profile: RunningProfile, key: bytes | None, value: bytes) -> None:
    async with kafka_producer(profile.kafka, "ingress-test") as producer:
        await producer.send_and_wait(
            INGRESS.qualified(profile.kafka.topic_prefix), value=value, key=key
        )


def about(record_key: bytes | None, user: str) -> bool:
    """A record keyed by the user id, or by tenant/user id (the compacted profiles topic)."""
    return record_key is not None and record_key.split(b"/")[-1] == user.encode()


async def events_about(profile: RunningProfile, topic: str, key: str, expected: int) -> list:
    async def found() -> list:
        records = [r for r in await read_all(profile.kafka, topic) if about(r.key, key)]
        return records if len(records) >= expected else []

    return await eventually(found, timeout=60, what=f"{expected} events on {topic} for {key}")


@pytest.mark.needs_tool("kcat")
@pytest.mark.broker_feature("librdkafka")
async def test_kcat_publishes_the_documented_examples_and_canonical_events_follow(
    profile: RunningProfile,
) -> None:
    auth = await profile.key_for("acme")  # the example's tenant holds an API key
    await kcat(profile, "mentee-42", "ingress-upsert-profile.json")
    await kcat(profile, "mentee-42", "ingress-set-goal.json")

    prefix = profile.kafka.topic_prefix
    (updated,) = await events_about(profile, PROFILES.qualified(prefix), "mentee-42", 1)
    (goal,) = await events_about(profile, GOALS.qualified(prefix), "mentee-42", 1)
    profile_event = ProfileUpdated.model_validate_json(updated.value)
    goal_event = GoalSet.model_validate_json(goal.value)
    assert profile_event.payload.display_name == "Katherine Johnson"
    assert profile_event.correlation_id == "hris-sync-7"
    assert goal_event.payload.target_skills == ["machine learning", "python"]
    assert goal_event.payload.version == 1

    read = await profile.http.get("/v1/profiles/mentee-42/goal", headers=auth)
    assert read.json()["goal_id"] == "default"  # the ingress command sets the default goal


async def test_a_resent_command_has_one_effect(profile: RunningProfile) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    await profile.key_for(tenant)
    user = f"u-{uuid.uuid4().hex[:8]}"
    first = ingress_upsert(user, tenant, body=mentee_body("First"))
    second = {**first, "profile": mentee_body("Second")}  # same command id: a re-send
    marker = ingress_upsert(user, tenant, body=mentee_body("Marker"))
    for command in (first, second, marker):
        await publish(profile, user.encode(), json.dumps(command).encode())

    records = await events_about(profile, PROFILES.qualified(profile.kafka.topic_prefix), user, 2)
    names = [ProfileUpdated.model_validate_json(r.value).payload.display_name for r in records]
    assert names == ["First", "Marker"]


def _invalid_commands(tenant: str, user: str) -> list[tuple[bytes | None, bytes, str]]:
    def encoded(command: dict) -> bytes:
        return json.dumps(command).encode()

    key = user.encode()
    no_profile = {k: v for k, v in ingress_upsert(user, tenant).items() if k != "profile"}
    return [
        (key, b'{"command_type": "UpsertProfile", ', "invalid_json"),
        (key, encoded(no_profile), "schema_violation"),
        (
            key,
            encoded({**ingress_upsert(user, tenant), "command_type": "Fire"}),
            "unknown_event_type",
        ),
        (
            key,
            encoded({**ingress_upsert(user, tenant), "schema_version": 9}),
            "unknown_schema_version",
        ),
        (key, encoded(ingress_upsert(user, "no-such-tenant")), "unknown_tenant"),
        (b"someone-else", encoded(ingress_upsert(user, tenant)), "key_mismatch"),
        (None, encoded(ingress_upsert(user, tenant)), "key_mismatch"),
        (key, encoded(ingress_set_goal(user, tenant, statement="be successful")), "vague_goal"),
        (
            key,  # PostgreSQL cannot store a NUL: refused by the contract, never by the database
            encoded(ingress_set_goal(user, tenant, statement="Learn go\x00 within 3 months")),
            "schema_violation",
        ),
        (b"nobody", encoded(ingress_set_goal("nobody", tenant)), "not_a_mentee"),
        (key, encoded({**ingress_upsert(user, tenant), "expected_version": 5}), "version_conflict"),
    ]


async def test_invalid_commands_are_dead_lettered_with_a_reason_and_the_original_bytes(
    profile: RunningProfile,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    await profile.key_for(tenant)
    user = f"u-{uuid.uuid4().hex[:8]}"
    invalid = _invalid_commands(tenant, user)
    for key, value, _reason in invalid:
        await publish(profile, key, value)
    valid = ingress_upsert(user, tenant, body=mentee_body("After the poison"))
    await publish(profile, user.encode(), json.dumps(valid).encode())

    dlq = INGRESS.dead_letter(profile.kafka.topic_prefix)

    async def dead_letters() -> list:
        records = await read_all(profile.kafka, dlq)
        return records if len(records) >= len(invalid) else []

    records = await eventually(dead_letters, timeout=60, what="dead letters")
    by_value = {(r.key, r.value): header(r, "x-dlq-reason") for r in records}
    assert by_value == {(key, value): reason for key, value, reason in invalid}
    assert all(header(r, "x-dlq-service") == "profile" for r in records)
    assert all(header(r, "x-dlq-error") for r in records)
    (updated,) = await events_about(
        profile, PROFILES.qualified(profile.kafka.topic_prefix), user, 1
    )
    assert (
        ProfileUpdated.model_validate_json(updated.value).payload.display_name == "After the poison"
    )


async def test_a_command_made_before_its_persons_erasure_recreates_nobody(
    profile: RunningProfile,
) -> None:
    """A live command carries its event time in the record's timestamp: one an integrator sent
    before the person was erased (still in the topic, or a producer's late retry) is not
    applied after the erasure; one sent after it makes a new person."""
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    auth = await profile.key_for(tenant)
    user = f"u-{uuid.uuid4().hex[:8]}"
    created = await profile.http.put(f"/v1/profiles/{user}", json=mentee_body("Ada"), headers=auth)
    assert created.status_code in (200, 201), created.text
    before_erasure = int(time.time() * 1000) - 1
    erased = await profile.http.delete(f"/v1/profiles/{user}", headers=auth)
    assert erased.status_code == 204, erased.text

    topic = INGRESS.qualified(profile.kafka.topic_prefix)
    stale = ingress_upsert(user, tenant, body=mentee_body("Stale"))
    fresh = ingress_upsert(user, tenant, body=mentee_body("Fresh"))
    async with kafka_producer(profile.kafka, "ingress-test") as producer:
        for command, at in ((stale, before_erasure), (fresh, None)):
            value = json.dumps(command).encode()
            await producer.send_and_wait(topic, value=value, key=user.encode(), timestamp_ms=at)

    async def names_once_fresh_arrived() -> list[str]:
        records = await read_all(profile.kafka, PROFILES.qualified(profile.kafka.topic_prefix))
        names = [
            ProfileUpdated.model_validate_json(r.value).payload.display_name
            for r in records
            if about(r.key, user) and r.value and b'"ProfileUpdated"' in r.value
        ]
        return names if "Fresh" in names else []

    assert await eventually(names_once_fresh_arrived, timeout=60) == ["Ada", "Fresh"]

"""An erased person stays erased in matching: a replayed or late event from before the erasure
(a dead letter replayed, a redelivery whose event id was already forgotten) recreates nothing
and proposes nothing; a profile created again after the erasure is a new person."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from shared.contracts.feedback import MatchDeclined
from shared.contracts.profiles import ProfileDeleted, ProfileDeletedPayload
from tests.unit.builders import TENANT, mentee, mentor
from tests.unit.matching.cluster import Cluster
from tests.unit.matching.test_handlers import CONFIG, feedback, goal_set, profile, proposed, run


def deleted(user_id: str) -> ProfileDeleted:
    return ProfileDeleted(
        tenant_id=TENANT, key=user_id, payload=ProfileDeletedPayload(user_id=user_id)
    )


def forgotten_copy(event: Any) -> Any:
    """The same event with an id processed_events no longer holds."""
    return event.model_copy(update={"event_id": uuid.uuid4()})


async def feed(cluster: Cluster, *events: Any) -> None:
    for event in events:
        cluster.submit(event)
        await cluster.drain()


def test_old_events_about_erased_people_recreate_nothing_and_propose_nothing() -> None:
    old = [profile(mentor("m1")), profile(mentee("x1")), goal_set("x1")]
    late_decline = feedback(MatchDeclined, "x2", "m1")

    async def scenario() -> None:
        cluster = Cluster(CONFIG, instances=1)
        await cluster.assign(dict.fromkeys(range(CONFIG.partitions), 0))
        await feed(cluster, *old, profile(mentee("x2")), goal_set("x2"))
        await feed(cluster, deleted("m1"), deleted("x1"))
        before = len(cluster.proposals)

        await feed(cluster, *old)  # replayed as they were: dropped by event id
        await feed(cluster, *(forgotten_copy(e) for e in old), late_decline)

        state = repr(replace(cluster.uow.state, tombstones=[]))  # the outbox's, not stored
        assert "'m1'" not in state and "'x1'" not in state
        after = [p.payload for p in cluster.proposals[before:]]
        assert all(p.mentee_id != "x1" for p in after)
        assert all(m.mentor_id != "m1" for p in after for m in p.mentors)
        # each replayed profile is buried again under a fresh tombstone on the compacted topic
        buried = [(t.name, user) for t, _, user in cluster.uow.state.tombstones]
        assert buried == [("profiles", "m1"), ("profiles", "x1")] * 2

    asyncio.run(scenario())


def test_declining_an_erased_mentor_from_an_old_email_stores_nothing_about_them() -> None:
    cluster = run(
        profile(mentor("m1")),
        profile(mentee("x1")),
        goal_set("x1"),
        deleted("m1"),
        feedback(MatchDeclined, "x1", "m1"),  # after the erasure, from the email x1 still has
    )
    assert "'m1'" not in repr(replace(cluster.uow.state, tombstones=[]))


def test_a_profile_created_after_the_erasure_is_a_new_person() -> None:
    again = profile(mentor("m1"))
    cluster = run(
        profile(mentor("m1")),
        deleted("m1"),
        again.model_copy(update={"occurred_at": again.occurred_at + timedelta(seconds=1)}),
        profile(mentee("x1")),
        goal_set("x1"),
    )
    assert proposed(cluster, "x1")[-1] == ("m1",)

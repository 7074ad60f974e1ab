"""The matching store's port (UnitOfWork, MatchingTransaction, StateLoader) as one suite.

MatchingStoreContract holds the checks; a subclass per implementation provides the `uow` and
`loader` fixtures: the fake (tests/unit/matching/test_fake_store_port.py) and PostgreSQL
(tests/integration/test_postgres_store_port.py). What the handlers rely on is checked through
the port alone, so the fake the property test runs on is shown to behave like the adapter.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from services.matching.domain.constraints import EngineConfig
from services.matching.domain.people import goal_from_payload, person_from_profile
from services.matching.domain.relationships import Relationship, State
from services.matching.domain.seekers import seeker_key
from services.matching.service_layer.unit_of_work import (
    CurrentProposal,
    MenteeBlocks,
    StateLoader,
    StoredProposal,
    StoredVersion,
    UnitOfWork,
)
from tests.unit.builders import goal, mentee, mentor

TENANT, OTHER = "tenant-a", "tenant-b"
CONFIG = EngineConfig(top_k=2, partitions=2)


def relationship(
    mentee_id: str, mentor_id: str, state: State, version: int, goal_id: str = "g1"
) -> Relationship:
    request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{mentee_id}/{mentor_id}/{goal_id}"))
    return Relationship(request_id, mentee_id, mentor_id, goal_id, state, version)


def proposal(
    mentee_id: str, mentor_ids: tuple[str, ...], version: int = 1, goal_id: str = "g1"
) -> StoredProposal:
    current = CurrentProposal(version, goal_id, mentor_ids)
    return StoredProposal(mentee_id, 0, current, uuid.uuid4())


def sk(mentee_id: str, goal_id: str = "g1") -> str:
    """The seeker key of the mentee's goal (domain/seekers.py)."""
    return seeker_key(mentee_id, goal_id)


async def excluded(tx: Any, tenant_id: str, mentor_id: str, partition: int) -> list[str]:
    """The mentor's excluded seekers of one partition."""
    found: dict[int, list[str]] = await tx.excluded_seekers(tenant_id, mentor_id, [partition])
    assert list(found) == [partition]
    return found[partition]


class RolledBack(Exception):
    pass


class MatchingStoreContract:
    """Subclasses define the fixtures `uow` (UnitOfWork) and `loader` (StateLoader)."""

    @pytest.fixture
    def uow(self) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def loader(self, uow: UnitOfWork) -> Any:
        raise NotImplementedError

    async def test_each_event_id_is_a_first_delivery_once(self, uow: UnitOfWork) -> None:
        first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with uow.transaction() as tx:
            assert await tx.first_deliveries([first, second]) == {first, second}
        async with uow.transaction() as tx:
            assert await tx.first_deliveries([second, third]) == {third}

    async def test_a_person_is_stored_per_tenant(self, uow: UnitOfWork) -> None:
        person = person_from_profile(mentor("m1", version=3, industries=["fintech"]))
        async with uow.transaction() as tx:
            assert await tx.person_version(TENANT, "m1") is None
            await tx.save_person(TENANT, person, 1)
        seeker = person_from_profile(mentee("x1", version=2))
        async with uow.transaction() as tx:
            await tx.save_person(TENANT, seeker, 0)
        async with uow.transaction() as tx:
            assert await tx.person_version(TENANT, "m1") == StoredVersion(3, is_mentor=True)
            assert await tx.person_version(TENANT, "x1") == StoredVersion(2, is_mentor=False)
            assert await tx.stored_person(TENANT, "m1") == person
            assert await tx.person_version(OTHER, "m1") is None
            assert await tx.stored_person(OTHER, "m1") is None

    async def test_locked_people_read_as_stored_and_as_written_since(self, uow: UnitOfWork) -> None:
        """`lock_people` reads a poll's people at once; the updates of the same transaction
        then see what it wrote or erased, as a read per update would."""
        async with uow.transaction() as tx:
            await tx.save_person(TENANT, person_from_profile(mentor("m1", version=3)), 1)
        async with uow.transaction() as tx:
            await tx.lock_people(TENANT, ["x1", "m1", "m1"])
            assert await tx.person_version(TENANT, "m1") == StoredVersion(3, is_mentor=True)
            assert await tx.person_version(TENANT, "x1") is None
            await tx.save_person(TENANT, person_from_profile(mentee("x1", version=2)), 0)
            assert await tx.person_version(TENANT, "x1") == StoredVersion(2, is_mentor=False)
            await tx.forget_person(TENANT, "m1")
            assert await tx.person_version(TENANT, "m1") is None
            await tx.save_person(TENANT, person_from_profile(mentee("m1", version=5)), 1)
            assert await tx.person_version(TENANT, "m1") == StoredVersion(5, is_mentor=False)
        async with uow.transaction() as tx:
            assert await tx.person_version(TENANT, "m1") == StoredVersion(5, is_mentor=False)

    async def test_only_a_newer_goal_is_stored(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 2)), 0)
            assert not await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 2)), 0)
            assert not await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 1)), 0)
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 3)), 0)
            assert await tx.save_goal_if_newer(OTHER, goal_from_payload(goal("x", 1)), 0)
            # another goal of the same mentee is stored beside it, with its own versions
            other = goal_from_payload(goal("x", 4, goal_id="g2"))
            assert await tx.save_goal_if_newer(TENANT, other, 0)
            assert not await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 3)), 0)
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 5)), 0)

    async def test_a_closed_goal_keeps_its_version_and_is_not_restored(
        self, uow: UnitOfWork, loader: StateLoader
    ) -> None:
        async with uow.transaction() as tx:
            await tx.save_person(TENANT, person_from_profile(mentee("x")), 0)
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 2)), 0)
            kept = goal_from_payload(goal("x", 1, goal_id="kept"))
            assert await tx.save_goal_if_newer(TENANT, kept, 0)
            assert not await tx.close_goal_if_newer(TENANT, "x", "other-goal", 3)
            assert not await tx.close_goal_if_newer(TENANT, "x", "g1", 2)  # not newer
            assert await tx.close_goal_if_newer(TENANT, "x", "g1", 3)
            assert not await tx.close_goal_if_newer(TENANT, "x", "g1", 4)  # closed already
            assert not await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 2)), 0)
        assert set((await loader.load({0}, CONFIG))[TENANT].roster.goals) == {sk("x", "kept")}
        async with uow.transaction() as tx:
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x", 4)), 0)
        restored = set((await loader.load({0}, CONFIG))[TENANT].roster.goals)
        assert restored == {sk("x"), sk("x", "kept")}

    async def test_a_mentors_seats_taken_are_its_profiles(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            await tx.save_person(TENANT, person_from_profile(mentor("m1", seats_taken=2)), 0)
        async with uow.transaction() as tx:
            stored = await tx.stored_person(TENANT, "m1")
            assert stored is not None and stored.seats_taken == 2

    async def test_a_mentors_exclusions_are_read_per_partition_for_each_open_goal(
        self, uow: UnitOfWork
    ) -> None:
        async with uow.transaction() as tx:
            for mentee_id in ("x1", "x2", "x3"):
                await tx.save_goal_if_newer(TENANT, goal_from_payload(goal(mentee_id)), 0)
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x2", 2, goal_id="g2")), 0)
            await tx.save_pair(TENANT, "x2", "m1", 0, "declined")
            await tx.save_pair(TENANT, "x3", "m1", 1, "accepted")
            await tx.save_pair(TENANT, "x1", "m2", 0, "declined")
            await tx.save_pair(TENANT, "x1", "m1", 0, "accepted")
            await tx.save_pair(TENANT, "x1", "m1", 0, "declined")  # a later answer replaces it
        async with uow.transaction() as tx:
            # a declined mentor is out of every open goal of the mentee's (per person)
            assert await excluded(tx, TENANT, "m1", 0) == sorted(
                [sk("x1"), sk("x2"), sk("x2", "g2")]
            )
            assert await excluded(tx, TENANT, "m1", 1) == [sk("x3")]
            assert await excluded(tx, OTHER, "m1", 0) == []
            # several partitions in one read, each asked one present
            assert await tx.excluded_seekers(TENANT, "m1", [0, 1, 2]) == {
                0: sorted([sk("x1"), sk("x2"), sk("x2", "g2")]),
                1: [sk("x3")],
                2: [],
            }
            assert (await tx.mentee_blocks(TENANT, "x1")).declined == ["m1", "m2"]
            assert await tx.mentee_blocks(OTHER, "x1") == MenteeBlocks([], [])

    async def test_relationships_keep_their_newest_version_and_exclude_by_the_rule(
        self, uow: UnitOfWork
    ) -> None:
        asked = relationship("x1", "m1", "requested", 1)
        async with uow.transaction() as tx:
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x1")), 0)
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x3")), 0)
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x3", 2, goal_id="g2")), 0)
            assert await tx.save_relationship_if_newer(TENANT, asked, 0)
            await tx.save_pair(TENANT, "x1", "m9", 0, "declined")  # read with the relationships
            assert await tx.save_relationship_if_newer(
                TENANT, replace(asked, state="declined", version=3), 0
            )
            assert not await tx.save_relationship_if_newer(
                TENANT, replace(asked, state="active", version=2), 0
            )
            assert not await tx.save_relationship_if_newer(TENANT, replace(asked, version=3), 0)
            other_goal = relationship("x2", "m1", "ended", 3, goal_id="g0")
            assert await tx.save_relationship_if_newer(TENANT, other_goal, 0)
            assert await tx.save_relationship_if_newer(
                TENANT, relationship("x3", "m1", "active", 2), 1
            )
        async with uow.transaction() as tx:
            assert await tx.mentee_blocks(TENANT, "x1") == MenteeBlocks(
                ["m9"], [replace(asked, state="declined", version=3)]
            )
            assert await tx.mentee_blocks(OTHER, "x1") == MenteeBlocks([], [])
            newer = goal_from_payload(goal("x1", 5, goal_id="g3"))
            assert await tx.save_goal_reading_blocks(TENANT, newer, 0) == await tx.mentee_blocks(
                TENANT, "x1"
            ), "stored, with the blocks read apart"
            assert await tx.save_goal_reading_blocks(TENANT, newer, 0) is None, "not newer"
            fresh = goal_from_payload(goal("x7", 1))
            assert await tx.save_goal_reading_blocks(OTHER, fresh, 0) == MenteeBlocks([], [])
            # x1: declined for its open goal g1; x2: ended for g0, and x2 has no open goal
            assert await excluded(tx, TENANT, "m1", 0) == [sk("x1")]
            # active: out of every open goal of the mentee's
            assert await excluded(tx, TENANT, "m1", 1) == [sk("x3"), sk("x3", "g2")]

    async def test_goals_stored_ahead_answer_their_own_store_once(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            await tx.save_pair(TENANT, "x1", "m9", 0, "declined")
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x2", 3)), 0)
        first = goal_from_payload(goal("x1", 2))
        older = goal_from_payload(goal("x2", 2))
        second = goal_from_payload(goal("x1", 1, goal_id="g2"))
        async with uow.transaction() as tx:
            ahead = [(first, 0, True), (older, 0, True), (second, 1, False)]
            await tx.save_goals_ahead(TENANT, ahead)
            assert await tx.save_goal_reading_blocks(TENANT, first, 0) == MenteeBlocks(["m9"], [])
            assert await tx.save_goal_reading_blocks(TENANT, older, 0) is None, "x2's is newer"
            assert await tx.save_goal_reading_blocks(TENANT, second, 1) == MenteeBlocks(["m9"], [])
            assert not await tx.save_goal_if_newer(TENANT, first, 0), "answered once: stored"
        async with uow.transaction() as tx:
            assert not await tx.save_goal_if_newer(TENANT, second, 1), "committed"
            assert await tx.save_goal_if_newer(TENANT, replace(first, version=3), 0)

    async def test_proposals_are_read_back_for_the_mentees_asked(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            assert await tx.current_proposals(TENANT, ["x1"]) == {}
            await tx.save_proposals(TENANT, [proposal("x1", ("m1", "m2")), proposal("x2", ())])
            await tx.save_proposals(TENANT, [proposal("x1", ("m3",), version=2)])
            await tx.save_proposals(TENANT, [proposal("x1", (), goal_id="g2")])
        async with uow.transaction() as tx:
            assert await tx.current_proposals(TENANT, ["x1", "x3"]) == {
                ("x1", "g1"): CurrentProposal(2, "g1", ("m3",)),
                ("x1", "g2"): CurrentProposal(1, "g2", ()),
            }
            assert await tx.current_proposals(OTHER, ["x1", "x2"]) == {}

    async def test_forgetting_a_person_erases_them_on_every_side(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            await tx.save_person(TENANT, person_from_profile(mentor("p", capacity=2)), 0)
            await tx.save_person(OTHER, person_from_profile(mentor("p", capacity=2)), 0)
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("p")), 0)
            await tx.save_relationship_if_newer(TENANT, relationship("p", "m1", "active", 2), 0)
            await tx.save_relationship_if_newer(TENANT, relationship("x1", "p", "requested", 1), 0)
            await tx.save_relationship_if_newer(TENANT, relationship("x1", "m1", "requested", 1), 0)
            await tx.save_pair(TENANT, "p", "m1", 0, "declined")  # as mentee
            await tx.save_pair(TENANT, "x1", "p", 0, "accepted")  # as mentor
            await tx.save_pair(TENANT, "x1", "m1", 0, "declined")  # not theirs
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x1")), 0)
            await tx.save_proposals(TENANT, [proposal("p", ("m1",))])
        async with uow.transaction() as tx:
            await tx.forget_person(TENANT, "p")
        async with uow.transaction() as tx:
            assert await tx.stored_person(TENANT, "p") is None
            assert await excluded(tx, TENANT, "p", 0) == []
            assert await excluded(tx, TENANT, "m1", 0) == [sk("x1")]
            assert (await tx.mentee_blocks(TENANT, "p")).relationships == []
            blocks = await tx.mentee_blocks(TENANT, "x1")
            assert [r.mentor_id for r in blocks.relationships] == ["m1"]
            assert await tx.current_proposals(TENANT, ["p"]) == {}
            assert await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("p")), 0)
            assert await tx.person_version(OTHER, "p") == StoredVersion(
                1, True
            )  # the other tenant's person stays

    async def test_a_failed_transaction_leaves_nothing(self, uow: UnitOfWork) -> None:
        delivered = uuid.uuid4()
        with pytest.raises(RolledBack):
            async with uow.transaction() as tx:
                await tx.first_deliveries([delivered])
                await tx.save_person(TENANT, person_from_profile(mentor("m1")), 0)
                await tx.save_proposals(TENANT, [proposal("x1", ("m1",))])
                raise RolledBack
        async with uow.transaction() as tx:
            assert await tx.first_deliveries([delivered]) == {delivered}
            assert await tx.stored_person(TENANT, "m1") is None
            assert await tx.current_proposals(TENANT, ["x1"]) == {}

    async def test_a_restore_brings_back_people_goals_and_lists(
        self, uow: UnitOfWork, loader: StateLoader
    ) -> None:
        async with uow.transaction() as tx:
            for index in range(2):
                mentor_profile = mentor(f"m{index}", capacity=1)
                await tx.save_person(TENANT, person_from_profile(mentor_profile), index)
            await tx.save_person(TENANT, person_from_profile(mentee("x0")), 0)
            await tx.save_person(TENANT, person_from_profile(mentee("x1")), 1)
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x0")), 0)
            await tx.save_goal_if_newer(TENANT, goal_from_payload(goal("x1")), 1)
            await tx.save_person(OTHER, person_from_profile(mentee("x0")), 0)
            await tx.save_lists(
                [
                    (TENANT, "m0", 0, [(sk("x0"), 0.75)], False),
                    (TENANT, "m1", 1, [(sk("x1"), 0.5)], False),
                    (TENANT, "m1", 0, [(sk("x0"), 0.25)], False),
                ]
            )
        async with uow.transaction() as tx:
            await tx.save_lists([(TENANT, "m1", 0, [], False)])  # empty and complete: deleted

        engines = await loader.load({0, 1}, CONFIG)
        assert set(engines) == {TENANT, OTHER}
        engine = engines[TENANT]
        assert engine.list_entries("m0", 0) == ([(sk("x0"), 0.75)], False)
        assert engine.list_entries("m1", 1) == ([(sk("x1"), 0.5)], False)
        assert engine.list_entries("m1", 0) == ([], False)
        assert engine.roster.partition_of == {"m0": 0, "m1": 1, "x0": 0, "x1": 1}
        assert set(engine.roster.goals) == {sk("x0"), sk("x1")}
        assert engine.ranking_ids() == {sk("x0"): ("m0",), sk("x1"): ("m1",)}
        only_one = await loader.load({1}, CONFIG, TENANT)
        assert set(only_one) == {TENANT}
        assert set(only_one[TENANT].roster.goals) == {sk("x1")}

    async def test_lists_of_any_length_are_saved_together(self, uow: UnitOfWork) -> None:
        """One call saves, replaces and drops lists of different lengths, each kept whole
        and in order."""
        entries = [(sk(f"x{n}"), 1.0 - n / 10) for n in range(3)]
        async with uow.transaction() as tx:
            await tx.save_lists(
                [
                    (TENANT, "m1", 0, entries, False),
                    (TENANT, "m1", 1, [], True),  # empty but truncated: kept
                    (TENANT, "m1", 2, entries[:1], True),
                    (TENANT, "m2", 0, entries[1:], False),
                ]
            )
        async with uow.transaction() as tx:
            lists = await tx.lists_elsewhere(TENANT, "m1", set())
            assert lists == {0: entries, 1: [], 2: entries[:1]}
            assert await tx.lists_elsewhere(TENANT, "m2", set()) == {0: entries[1:]}
            await tx.save_lists(
                [(TENANT, "m1", 0, entries[2:], False), (TENANT, "m1", 2, [], False)]
            )
            assert await tx.lists_elsewhere(TENANT, "m1", set()) == {0: entries[2:], 1: []}
            assert await tx.lists_elsewhere(OTHER, "m1", set()) == {}

    async def test_lists_owned_elsewhere_count_toward_the_tenant_wide_cap(
        self, uow: UnitOfWork, loader: StateLoader
    ) -> None:
        """A mentor with one free seat and a budget of one mentee: its better mentee in
        partition 0 takes it, so an instance owning only partition 1 shows nobody."""
        one_each = EngineConfig(top_k=2, partitions=2, exposure_per_seat=1.0)
        async with uow.transaction() as tx:
            await tx.save_person(TENANT, person_from_profile(mentor("m1", capacity=1)), 1)
            for index in range(2):
                await tx.save_person(TENANT, person_from_profile(mentee(f"x{index}")), index)
                await tx.save_goal_if_newer(TENANT, goal_from_payload(goal(f"x{index}")), index)
            await tx.save_lists(
                [
                    (TENANT, "m1", 0, [(sk("x0"), 0.75)], False),
                    (TENANT, "m1", 1, [(sk("x1"), 0.5)], False),
                    (OTHER, "m1", 0, [(sk("x0"), 0.75)], False),
                ]
            )
        async with uow.transaction() as tx:
            assert await tx.lists_elsewhere(TENANT, "m1", {1}) == {0: [(sk("x0"), 0.75)]}
            assert await tx.lists_elsewhere(TENANT, "m1", {0, 1}) == {}

        both = (await loader.load({0, 1}, one_each))[TENANT]
        assert both.ranking_ids() == {sk("x0"): ("m1",), sk("x1"): ()}
        second = (await loader.load({1}, one_each, TENANT))[TENANT]
        assert second.list_entries("m1", 1) == ([(sk("x1"), 0.5)], False)
        assert second.ranking_ids() == {sk("x1"): ()}
        first = (await loader.load({0}, one_each, TENANT))[TENANT]
        assert first.ranking_ids() == {sk("x0"): ("m1",)}

    async def test_a_restore_brings_back_seats_exclusions_and_waiting_goals(
        self, uow: UnitOfWork, loader: StateLoader
    ) -> None:
        async with uow.transaction() as tx:
            for name in ("m0", "m1", "m2"):
                await tx.save_person(TENANT, person_from_profile(mentor(name, capacity=2)), 0)
            full = mentor("m3", capacity=1, seats_taken=1)
            await tx.save_person(TENANT, person_from_profile(full), 0)
            for mentee_id, goal_id in (("x0", "g1"), ("x1", "g1")):
                await tx.save_person(TENANT, person_from_profile(mentee(mentee_id)), 0)
                await tx.save_goal_if_newer(
                    TENANT, goal_from_payload(goal(mentee_id, goal_id=goal_id)), 0
                )
            await tx.save_relationship_if_newer(TENANT, relationship("x0", "m0", "requested", 1), 0)
            await tx.save_relationship_if_newer(TENANT, relationship("x0", "m1", "expired", 2), 0)
            await tx.save_relationship_if_newer(
                TENANT, relationship("x0", "m2", "ended", 3, goal_id="g0"), 0
            )
            await tx.save_relationship_if_newer(TENANT, relationship("x1", "m0", "active", 2), 0)
        engine = (await loader.load({0}, CONFIG))[TENANT]
        assert engine.roster.accepted["m3"] == 1
        assert engine.roster.excluded[sk("x0")] == {"m0", "m1"}  # m2 ended for another goal
        assert engine.roster.paused == {sk("x1")}
        assert sk("x1") not in engine.search.ranked_mentee_ids()

    async def test_a_keyed_reference_names_a_person_without_their_id(self, uow: UnitOfWork) -> None:
        async with uow.transaction() as tx:
            ref = tx.person_ref(TENANT, "m1")
            assert "m1" not in ref
            assert tx.person_refs(TENANT, ["m0", "m1"])[ref] == "m1"
            assert ref not in tx.person_refs(OTHER, ["m1"])

"""Wire contracts reject what consumers must never see, and survive a round trip."""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.contracts.goals import GoalSet
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileDeleted, ProfilePayload, ProfileUpdated
from shared.contracts.topics import PROFILE_EVENT
from shared.contracts.types import CONTROL_CHARACTERS
from tests.unit.builders import (
    TENANT,
    goal,
    goal_set,
    match_proposed,
    mentee,
    mentor,
    profile_deleted,
    profile_fields,
    profile_updated,
    proposal,
)


def _profile_json(**overrides: object) -> dict[str, object]:
    return json.loads(profile_updated(mentor("u-1")).model_dump_json()) | overrides


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda: ProfileUpdated(tenant_id=TENANT, key="u-2", payload=mentor("u-1")), "user_id"),
        (
            lambda: ProfileDeleted.model_validate(
                {"tenant_id": TENANT, "key": "u-2", "payload": {"user_id": "u-1"}}
            ),
            "user_id",
        ),
        (lambda: GoalSet(tenant_id=TENANT, key="u-2", payload=goal("u-1")), "mentee_id"),
        (lambda: MatchProposed(tenant_id=TENANT, key="u-2", payload=proposal("u-1")), "mentee_id"),
    ],
    ids=["ProfileUpdated", "ProfileDeleted", "GoalSet", "MatchProposed"],
)
def test_key_must_equal_the_person_in_the_payload(build, kind) -> None:
    with pytest.raises(ValidationError, match=f"key must equal payload.{kind}"):
        build()


@pytest.mark.parametrize("name", ["Eve\r\nBcc: all@example.org", "Eve\nX", "Eve\rX", "Eve\x00X"])
def test_control_characters_in_display_name_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        mentor("u-1", display_name=name)


def test_the_control_character_check_is_unicodes_category_cc() -> None:
    """The check is one regex search; it refuses exactly the characters of category Cc."""
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert bool(CONTROL_CHARACTERS.search(ch)) == (unicodedata.category(ch) == "Cc"), hex(code)


def test_display_name_may_contain_markup_characters() -> None:
    assert mentor("u-1", display_name="<b>Eve</b>").display_name == "<b>Eve</b>"


def test_unknown_schema_version_is_rejected() -> None:
    with pytest.raises(ValidationError, match="schema_version"):
        ProfileUpdated.model_validate(_profile_json(schema_version=3))
    with pytest.raises(ValidationError, match="schema_version"):
        PROFILE_EVENT.validate_python(_profile_json(schema_version=3))


def test_a_version_1_profile_record_still_reads_with_no_seats_taken() -> None:
    record = _profile_json(schema_version=1)
    payload = record["payload"]
    assert isinstance(payload, dict)
    del payload["seats_taken"]
    assert ProfileUpdated.model_validate(record).payload.seats_taken == 0


def test_unknown_event_type_is_rejected_by_the_profile_topic_adapter() -> None:
    with pytest.raises(ValidationError) as caught:
        PROFILE_EVENT.validate_python(_profile_json(event_type="ProfileRenamed"))
    assert [e["type"] for e in caught.value.errors()] == ["union_tag_invalid"]


def test_profile_topic_adapter_selects_the_event_class_by_type() -> None:
    updated = PROFILE_EVENT.validate_json(profile_updated(mentor("u-1")).to_bytes())
    deleted = PROFILE_EVENT.validate_json(profile_deleted("u-1").to_bytes())
    assert isinstance(updated, ProfileUpdated)
    assert isinstance(deleted, ProfileDeleted)


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        ProfileUpdated.model_validate(_profile_json(occurred_at="2026-11-25T18:42:00"))
    with pytest.raises(ValidationError):
        profile_updated(mentor("u-1"), occurred_at=datetime(2026, 11, 25, 18, 42))


def test_aware_occurred_at_is_normalised_to_utc() -> None:
    berlin_winter = timezone(timedelta(hours=1))
    event = profile_updated(
        mentor("u-1"), occurred_at=datetime(2026, 11, 25, 19, 42, tzinfo=berlin_winter)
    )
    assert event.occurred_at == datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)
    parsed = ProfileUpdated.model_validate(_profile_json(occurred_at="2026-11-25T13:42:00-05:00"))
    assert parsed.occurred_at == datetime(2026, 11, 25, 18, 42, tzinfo=UTC)
    assert parsed.occurred_at.utcoffset() == timedelta(0)


def test_duplicate_skills_are_rejected() -> None:
    skills = [{"name": "go", "level": 3}, {"name": "go", "level": 5}]
    with pytest.raises(ValidationError, match="skills must not repeat"):
        mentor("u-1", skills=skills)


def test_duplicate_skills_differing_only_in_padding_are_rejected() -> None:
    skills = [{"name": "go", "level": 3}, {"name": " go ", "level": 5}]  # slugs are stripped
    with pytest.raises(ValidationError, match="skills must not repeat"):
        mentor("u-1", skills=skills)


def test_mixed_case_slugs_and_language_tags_are_normalised() -> None:
    profile = mentor("u-1", skills=[{"name": "Kubernetes", "level": 4}], languages=["pt-BR"])
    assert profile.skills[0].name == "kubernetes"
    assert profile.languages == ["pt-br"]


def test_duplicate_roles_are_rejected() -> None:
    with pytest.raises(ValidationError, match="roles must not repeat"):
        mentor("u-1", roles=["mentor", "mentor"])


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "utc+1", "", "../etc/passwd"])
def test_unknown_timezone_is_rejected(zone: str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        mentor("u-1", timezone=zone)


def test_known_timezone_is_accepted() -> None:
    assert mentor("u-1", timezone="America/Sao_Paulo").timezone == "America/Sao_Paulo"


def test_extra_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ProfilePayload.model_validate({**profile_fields(), "user_id": "u-1", "version": 1, "x": 1})


@pytest.mark.parametrize(
    "event",
    [
        profile_updated(mentor("u-1", headline="Staff engineer"), correlation_id="req-1"),
        profile_updated(mentee("u-2", manager_id="u-9", timezone="Europe/Berlin")),
        profile_deleted("u-1"),
        goal_set(goal("u-2", target_industries=["fintech"])),
        match_proposed(proposal("u-2")),
    ],
    ids=lambda e: e.event_type,
)
def test_to_bytes_round_trips(event) -> None:
    assert type(event).model_validate_json(event.to_bytes()) == event


def test_a_proposal_from_a_producer_without_awaited_reads_as_awaited() -> None:
    """Proposals published before the field existed keep their place in the email queue."""
    event = json.loads(match_proposed(proposal("u-1")).model_dump_json())
    del event["payload"]["awaited"]
    assert MatchProposed.model_validate(event).payload.awaited is True

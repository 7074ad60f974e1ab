"""One valid wire document per parser: the starting points the fuzzers mutate."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from pydantic import BaseModel

from shared.contracts.feedback import MatchAccepted, MatchDeclined, MatchFeedbackPayload
from shared.contracts.goals import GoalSet
from shared.contracts.ingress import (
    INGRESS_COMMAND,
    DeleteProfile,
    IngressCommand,
    SetGoal,
    UpsertProfile,
)
from shared.contracts.matches import MatchProposed
from shared.contracts.topics import FEEDBACK_EVENT, PROFILE_EVENT, FeedbackEvent, ProfileEvent
from tests.unit.builders import (
    TENANT,
    as_goal_fields,
    as_profile_fields,
    goal,
    goal_set,
    match_proposed,
    mentor,
    profile_deleted,
    profile_updated,
    proposal,
)


@dataclass(frozen=True)
class Parser:
    """A wire adapter, the type a subscriber annotates its argument with, valid documents."""

    name: str
    parse: Callable[[bytes], BaseModel]
    annotation: Any
    seeds: tuple[dict[str, Any], ...]


def _doc(model: BaseModel) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(model.model_dump_json())
    return document


def _feedback(kind: type[MatchAccepted] | type[MatchDeclined]) -> BaseModel:
    payload = {"mentee_id": "u-1", "mentor_id": "u-2", "proposal_id": uuid4(), "goal_id": "g1"}
    payload_type = kind.model_fields["payload"].annotation
    assert isinstance(payload_type, type) and issubclass(payload_type, MatchFeedbackPayload)
    return kind(tenant_id=TENANT, key="u-1", payload=payload_type.model_validate(payload))


def _ingress() -> tuple[dict[str, Any], ...]:
    common = {"tenant_id": TENANT, "user_id": "u-1"}
    return (
        _doc(UpsertProfile(**common, profile=as_profile_fields())),
        _doc(SetGoal(**common, goal=as_goal_fields())),
        _doc(DeleteProfile(**common)),
    )


PARSERS: tuple[Parser, ...] = (
    Parser(
        "PROFILE_EVENT",
        PROFILE_EVENT.validate_json,
        ProfileEvent,
        (_doc(profile_updated(mentor("u-1"))), _doc(profile_deleted("u-1"))),
    ),
    Parser("GoalSet", GoalSet.model_validate_json, GoalSet, (_doc(goal_set(goal("u-1"))),)),
    Parser(
        "MatchProposed",
        MatchProposed.model_validate_json,
        MatchProposed,
        (_doc(match_proposed(proposal("u-1"))),),
    ),
    Parser(
        "FEEDBACK_EVENT",
        FEEDBACK_EVENT.validate_json,
        FeedbackEvent,
        (_doc(_feedback(MatchAccepted)), _doc(_feedback(MatchDeclined))),
    ),
    Parser("INGRESS_COMMAND", INGRESS_COMMAND.validate_json, IngressCommand, _ingress()),
)

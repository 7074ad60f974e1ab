"""Topic names, keys and partition counts: defined once, here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeAlias

from pydantic import BaseModel, Field, TypeAdapter

from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalClosed, GoalSet
from shared.contracts.ingress import DeleteProfile, SetGoal, UpsertProfile
from shared.contracts.lifecycle import (
    LIFECYCLE_EVENTS,
    FitCheckRequested,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    RequestReminded,
)
from shared.contracts.matches import MatchProposed
from shared.contracts.preferences import PreferencesAdjusted
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated

DEFAULT_PARTITIONS = 6
DEAD_LETTER_SUFFIX = ".dlq"
TENANT_SEPARATOR = "/"  # never in a tenant or user id (IDENTIFIER_PATTERN)


@dataclass(frozen=True)
class TopicSpec:
    """A topic's logical name (prefixed at run time), what its key is, and what it carries."""

    name: str
    key: str
    events: tuple[type[BaseModel], ...]
    description: str
    compacted: bool = False

    def record_key(self, tenant_id: str, user_id: str) -> bytes:
        """The Kafka key of a record about `user_id`. A compacted topic keeps one record per
        key, so its key names the tenant too (two tenants may use the same user id); the
        producers' partitioner hashes only the user id, so the partition stays the one every
        other topic uses for that person (shared/kafka/partitioner.py)."""
        if self.compacted:
            return f"{tenant_id}{TENANT_SEPARATOR}{user_id}".encode()
        return user_id.encode()

    def qualified(self, prefix: str) -> str:
        return f"{prefix}{self.name}"

    def dead_letter(self, prefix: str) -> str:
        return f"{self.qualified(prefix)}{DEAD_LETTER_SUFFIX}"


PROFILES = TopicSpec(
    name="profiles",
    key="tenant id/user id",
    events=(ProfileUpdated, ProfileDeleted),
    description="Canonical profile changes published by the profile service. Compacted: the "
    "newest record per person is kept; erasure ends with a tombstone (a null value under the "
    "person's key), which compaction turns into the removal of every record of theirs.",
    compacted=True,
)
GOALS = TopicSpec(
    name="goals",
    key="mentee id",
    events=(GoalSet, PreferencesAdjusted, GoalClosed),
    description="Mentee goals published by the profile service: set by the mentee, "
    "adjusted by the learning rule after an ending or a decline, or closed. Keyed by mentee, "
    "so one mentee's goals stay in order; each goal is ordered by its own version.",
)
PROPOSALS = TopicSpec(
    name="proposals",
    key="mentee id",
    events=(MatchProposed,),
    description="Ranked mentor proposals published by the matching service.",
)
FEEDBACK = TopicSpec(
    name="feedback",
    key="mentee id",
    events=(MatchDeclined, *LIFECYCLE_EVENTS, MatchAccepted),
    description="What mentees and mentors did, published by the profile service: answers to "
    "proposals and every step of a relationship, from the request to its end. `MatchAccepted` "
    "is no longer published; older records of it are still read.",
)
INGRESS = TopicSpec(
    name="ingress",
    key="user id",
    events=(UpsertProfile, SetGoal, DeleteProfile),
    description="Commands integrators publish instead of calling the HTTP API. One topic, "
    "keyed by user id, so a person's profile and goal commands stay in order.",
)
TOPICS: tuple[TopicSpec, ...] = (PROFILES, GOALS, PROPOSALS, FEEDBACK, INGRESS)

FeedbackUnion: TypeAlias = (
    MatchAccepted
    | MatchDeclined
    | MatchRequested
    | RequestReminded
    | MatchStarted
    | RequestDeclined
    | RequestExpired
    | FitCheckRequested
    | MatchEnded
)
FeedbackEvent: TypeAlias = Annotated[FeedbackUnion, Field(discriminator="event_type")]
FEEDBACK_EVENT: TypeAdapter[FeedbackUnion] = TypeAdapter(FeedbackEvent)

GoalEvent: TypeAlias = Annotated[
    GoalSet | PreferencesAdjusted | GoalClosed, Field(discriminator="event_type")
]
GOAL_EVENT: TypeAdapter[GoalSet | PreferencesAdjusted | GoalClosed] = TypeAdapter(GoalEvent)

ProfileEvent: TypeAlias = Annotated[
    ProfileUpdated | ProfileDeleted, Field(discriminator="event_type")
]
PROFILE_EVENT: TypeAdapter[ProfileUpdated | ProfileDeleted] = TypeAdapter(ProfileEvent)

"""Topic names, keys and partition counts: defined once, here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypeAlias

from pydantic import Field, TypeAdapter

from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSet
from shared.contracts.matches import MatchProposed
from shared.contracts.profiles import ProfileDeleted, ProfileUpdated

DEFAULT_PARTITIONS = 6
DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    """A topic's logical name (prefixed at run time), what its key is, and what it carries."""

    name: str
    key: str
    events: tuple[type[EventEnvelope], ...]
    description: str
    compacted: bool = False

    def qualified(self, prefix: str) -> str:
        return f"{prefix}{self.name}"

    def dead_letter(self, prefix: str) -> str:
        return f"{self.qualified(prefix)}{DEAD_LETTER_SUFFIX}"


PROFILES = TopicSpec(
    name="profiles",
    key="user id",
    events=(ProfileUpdated, ProfileDeleted),
    description="Canonical profile changes published by the profile service.",
)
GOALS = TopicSpec(
    name="goals",
    key="mentee id",
    events=(GoalSet,),
    description="Mentee goals published by the profile service.",
)
PROPOSALS = TopicSpec(
    name="proposals",
    key="mentee id",
    events=(MatchProposed,),
    description="Ranked mentor proposals published by the matching service.",
)
TOPICS: tuple[TopicSpec, ...] = (PROFILES, GOALS, PROPOSALS)

ProfileEvent: TypeAlias = Annotated[
    ProfileUpdated | ProfileDeleted, Field(discriminator="event_type")
]
PROFILE_EVENT = TypeAdapter[ProfileUpdated | ProfileDeleted](ProfileEvent)

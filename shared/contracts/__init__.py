"""Wire contracts: the events the services exchange, and the topics that carry them.

Everything a producer or consumer needs to agree on lives here and only here.
"""

from shared.contracts.envelope import EventEnvelope
from shared.contracts.goals import GoalSet, GoalSetPayload
from shared.contracts.matches import (
    CriterionReason,
    MatchProposed,
    MatchProposedPayload,
    ProposedMentor,
)
from shared.contracts.profiles import (
    ProfileDeleted,
    ProfileDeletedPayload,
    ProfilePayload,
    ProfileUpdated,
)
from shared.contracts.topics import GOALS, PROFILES, PROPOSALS, TOPICS, TopicSpec

__all__ = [
    "GOALS",
    "PROFILES",
    "PROPOSALS",
    "TOPICS",
    "CriterionReason",
    "EventEnvelope",
    "GoalSet",
    "GoalSetPayload",
    "MatchProposed",
    "MatchProposedPayload",
    "ProfileDeleted",
    "ProfileDeletedPayload",
    "ProfilePayload",
    "ProfileUpdated",
    "ProposedMentor",
    "TopicSpec",
]

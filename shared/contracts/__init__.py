"""Wire contracts: the events the services exchange, and the topics that carry them.

Everything a producer or consumer needs to agree on lives here and only here.
"""

from shared.contracts.envelope import EventEnvelope
from shared.contracts.feedback import MatchAccepted, MatchDeclined
from shared.contracts.goals import GoalClosed, GoalClosedPayload, GoalSet, GoalSetPayload
from shared.contracts.ingress import DeleteProfile, SetGoal, UpsertProfile
from shared.contracts.lifecycle import (
    FitCheckRequested,
    MatchEnded,
    MatchRequested,
    MatchStarted,
    RequestDeclined,
    RequestExpired,
    RequestReminded,
)
from shared.contracts.matches import (
    CriterionReason,
    MatchProposed,
    MatchProposedPayload,
    ProposalCause,
    ProposedMentor,
)
from shared.contracts.preferences import Adjustment, PreferencesAdjusted
from shared.contracts.profiles import (
    ProfileDeleted,
    ProfileDeletedPayload,
    ProfilePayload,
    ProfileUpdated,
)
from shared.contracts.topics import (
    FEEDBACK,
    GOALS,
    INGRESS,
    PROFILES,
    PROPOSALS,
    TOPICS,
    TopicSpec,
)

__all__ = [
    "FEEDBACK",
    "GOALS",
    "INGRESS",
    "PROFILES",
    "PROPOSALS",
    "TOPICS",
    "Adjustment",
    "CriterionReason",
    "DeleteProfile",
    "EventEnvelope",
    "FitCheckRequested",
    "GoalClosed",
    "GoalClosedPayload",
    "GoalSet",
    "GoalSetPayload",
    "MatchAccepted",
    "MatchDeclined",
    "MatchEnded",
    "MatchProposed",
    "MatchProposedPayload",
    "MatchRequested",
    "MatchStarted",
    "PreferencesAdjusted",
    "ProfileDeleted",
    "ProfileDeletedPayload",
    "ProfilePayload",
    "ProfileUpdated",
    "ProposalCause",
    "ProposedMentor",
    "RequestDeclined",
    "RequestExpired",
    "RequestReminded",
    "SetGoal",
    "TopicSpec",
    "UpsertProfile",
]

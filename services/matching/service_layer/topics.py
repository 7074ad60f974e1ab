"""Matching's own topic: the fan-out of mentor changes to every mentee partition.

The event it carries is a domain event (domain/events.py); the topic is how handlers publish
it and consumers receive it, so it lives here with the handlers that publish to it.
"""

from __future__ import annotations

from services.matching.domain.events import MentorChanged
from shared.contracts.topics import TopicSpec

MENTOR_FEED = TopicSpec(
    name="matching.mentors",
    key="mentor id (sent to an explicit partition)",
    events=(MentorChanged,),
    description="Internal to matching: one copy of each mentor change per mentee partition.",
)

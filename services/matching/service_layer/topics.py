"""Matching's own topic: the fan-out of mentor changes to every mentee partition.

The event it carries is a domain event (domain/events.py); the topic is how handlers publish
it and consumers receive it, so it lives here with the handlers that publish to it.
"""

from __future__ import annotations

from services.matching.domain.events import ExposureChanged, MentorChanged
from shared.contracts.topics import TopicSpec

MENTOR_FEED = TopicSpec(
    name="matching.mentors",
    key="mentor id, or for ExposureChanged the mentor's keyed hash (sent to an explicit partition)",
    events=(MentorChanged, ExposureChanged),
    description="Internal to matching: one copy of each mentor change, and of each change of a"
    " mentor's best mentees in a partition, per mentee partition.",
)

"""Constrained scalar types shared by every contract.

They bound every string and list so that a hostile or broken producer cannot push
unbounded data, control characters or markup-looking identifiers through the pipeline.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$"

TenantId = Annotated[
    str,
    StringConstraints(pattern=IDENTIFIER_PATTERN),
    Field(
        description="The integrating organisation or programme.", examples=["acme-mentoring-2026"]
    ),
]
UserId = Annotated[
    str,
    StringConstraints(pattern=IDENTIFIER_PATTERN),
    Field(description="The integrator's stable id of a person.", examples=["u-1042"]),
]


def _lower(value: object) -> object:
    """Normalise case and spacing before the pattern is checked (pydantic checks it first)."""
    return value.strip().lower() if isinstance(value, str) else value


Slug = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9 +#./&-]*$",
    ),
    Field(examples=["kubernetes", "product management", "c++"]),
]


# Unicode's control characters (general category Cc): C0, DEL and C1. The set is closed (the
# stability policy adds no Cc character), and one regex search is far cheaper than a category
# lookup per character, on every name of every proposal.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _no_control_characters(value: str) -> str:
    """Reject CR, LF and other control characters: names end up in email headers and logs."""
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters (CR, LF, tab, ...)")
    return value


# PostgreSQL text and jsonb cannot hold U+0000; free text that may have one is refused here.
NO_NUL_PATTERN = r"^[^\x00]*$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


DisplayText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_no_control_characters),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    AfterValidator(_no_nul),
]
LanguageCode = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$"),
    Field(description="A BCP 47 language tag.", examples=["en", "pt-br"]),
]

_KNOWN_ZONES = frozenset(available_timezones()) | {"UTC"}


def _known_timezone(value: str) -> str:
    if value not in _KNOWN_ZONES:
        raise ValueError(f"unknown IANA time zone {value[:64]!r}")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - guarded by the set above
        raise ValueError("unknown IANA time zone") from exc
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_known_timezone),
    Field(description="IANA time zone name.", examples=["Europe/Berlin", "America/Sao_Paulo"]),
]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


class MentoringStyle(StrEnum):
    """How a mentor works with a mentee (offered by mentors, wanted by mentees)."""

    COACHING = "coaching"
    ADVISING = "advising"
    SPONSORING = "sponsoring"
    SOUNDING_BOARD = "sounding_board"
    TEACHING = "teaching"
    CHALLENGING = "challenging"


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"

"""ProfileUpdated and ProfileDeleted: the authoritative state of a mentor or mentee."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from shared.contracts.envelope import EventEnvelope
from shared.contracts.types import (
    DisplayText,
    LanguageCode,
    MentoringStyle,
    Role,
    Slug,
    TimeZoneName,
    UserId,
)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SkillLevel(_Strict):
    name: Slug = Field(description="Skill or area, lower-case.", examples=["kubernetes"])
    level: int = Field(
        ge=1, le=5, description="1 = beginner, 3 = practitioner, 5 = recognised expert."
    )


class WeeklySlot(_Strict):
    """A weekly window, in the person's own time zone, when they can meet."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday.")
    start: time = Field(examples=["17:00"])
    end: time = Field(examples=["19:00"])

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class NotificationPreferences(_Strict):
    email_opt_in: bool = Field(default=True, description="False: never email this person.")
    quiet_hours_start: time | None = Field(
        default=None, description="Local time quiet hours begin."
    )
    quiet_hours_end: time | None = Field(default=None, description="Local time quiet hours end.")


Background = Annotated[
    dict[Slug, Slug],
    Field(
        max_length=20,
        description="Background attributes the person chose to share, as dimension -> value; "
        "mentees can ask for a similar background or a different perspective on these.",
        examples=[{"education": "first generation graduate", "career path": "career changer"}],
    ),
]


class ProfileFields(_Strict):
    """What an integrator states about a person; the profile service adds id and version."""

    roles: list[Role] = Field(min_length=1, max_length=2, examples=[["mentor"]])
    display_name: DisplayText = Field(examples=["Ada Lovelace"])
    email: EmailStr | None = Field(default=None, description="Contact address for proposal emails.")
    headline: DisplayText | None = Field(default=None, examples=["Staff engineer, payments"])
    skills: list[SkillLevel] = Field(default_factory=list, max_length=50)
    years_experience: int = Field(default=0, ge=0, le=70)
    industries: list[Slug] = Field(default_factory=list, max_length=20, examples=[["fintech"]])
    functions: list[Slug] = Field(default_factory=list, max_length=20, examples=[["engineering"]])
    background: Background = Field(default_factory=dict)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=20)
    timezone: TimeZoneName = "UTC"
    mentoring_styles: list[MentoringStyle] = Field(
        default_factory=list, max_length=6, description="Offered by mentors, wanted by mentees."
    )
    capacity: int = Field(default=0, ge=0, le=50, description="Mentors: mentees at once.")
    availability: list[WeeklySlot] = Field(default_factory=list, max_length=28)
    opted_in: bool = Field(default=True, description="Open to being matched.")
    manager_id: UserId | None = Field(
        default=None, description="Reporting line, for the rule 'never matched with own manager'."
    )
    notification_preferences: NotificationPreferences = Field(
        default_factory=NotificationPreferences
    )

    @model_validator(mode="after")
    def _no_duplicates(self) -> Self:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must not repeat")
        if len({s.name for s in self.skills}) != len(self.skills):
            raise ValueError("skills must not repeat")
        return self


class ProfilePayload(ProfileFields):
    user_id: UserId
    version: int = Field(
        ge=1,
        description="Per-user version, increasing with every change; an older version never "
        "overwrites a newer one.",
        examples=[3],
    )
    seats_taken: int = Field(
        default=0,
        ge=0,
        description="Mentors: held requests plus active relationships, counted by the profile "
        "service, the one place seats are kept (schema version 2; 0 in version 1 records).",
        examples=[1],
    )

    @property
    def is_mentor(self) -> bool:
        return Role.MENTOR in self.roles

    @property
    def is_mentee(self) -> bool:
        return Role.MENTEE in self.roles


class ProfileUpdated(EventEnvelope):
    """A mentor's or mentee's profile as it is now (the full state, not a diff)."""

    event_type: Literal["ProfileUpdated"] = "ProfileUpdated"
    schema_version: Literal[1, 2] = 2
    payload: ProfilePayload

    @model_validator(mode="after")
    def _key_is_user(self) -> Self:
        if self.key != self.payload.user_id:
            raise ValueError("key must equal payload.user_id")
        return self


class ProfileDeletedPayload(_Strict):
    user_id: UserId


class ProfileDeleted(EventEnvelope):
    """The person exercised their right to erasure: every service forgets them."""

    event_type: Literal["ProfileDeleted"] = "ProfileDeleted"
    schema_version: Literal[1] = 1
    payload: ProfileDeletedPayload

    @model_validator(mode="after")
    def _key_is_user(self) -> Self:
        if self.key != self.payload.user_id:
            raise ValueError("key must equal payload.user_id")
        return self

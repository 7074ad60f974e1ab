from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SCHEMA = "matching"
SERVICE_NAME = "matching"


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore")

    top_k: int = Field(default=5, ge=1, le=20, description="Mentors per proposal.")

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SCHEMA = "profile"
SERVICE_NAME = "profile"


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore")

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import LinkSettings, ServiceSettings

SCHEMA = "profile"
SERVICE_NAME = "profile"


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore")

    links: LinkSettings = Field(default_factory=LinkSettings)
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, le=1024 * 1024, description="Largest request body accepted."
    )
    idempotency_window_s: float = Field(
        default=24 * 3600, gt=0, description="How long an Idempotency-Key answer is replayed."
    )

    @model_validator(mode="after")
    def _link_answers_outlive_links(self) -> ProfileSettings:
        if self.retention.link_responses_days < self.links.ttl_days:
            raise ValueError(
                "RETENTION_LINK_RESPONSES_DAYS must be at least LINK_TTL_DAYS: an answer "
                "forgotten while its link still works could be given twice"
            )
        return self

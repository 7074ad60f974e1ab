from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import ServiceSettings

SCHEMA = "notifications"
SERVICE_NAME = "notifications"


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=1025, ge=1, le=65535)
    use_tls: bool = Field(default=False, description="Implicit TLS (SMTPS, usually port 465).")
    start_tls: bool = Field(default=False, description="Upgrade with STARTTLS (usually port 587).")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    mail_from: str = "Mentorlink <matches@mentorlink.local>"
    reply_to: str = "Mentorlink support <support@mentorlink.local>"
    message_id_domain: str = "mentorlink.local"
    max_attempts: int = Field(default=8, ge=1)
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=900.0, gt=0)
    lease_s: float = Field(default=60.0, gt=0, description="A send claimed longer ago is retried.")
    contact_wait_s: float = Field(
        default=300.0, gt=0, description="How long a proposal waits for the mentee's contact."
    )

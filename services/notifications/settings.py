from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import LinkSettings, ServiceSettings

SCHEMA = "notifications"
SERVICE_NAME = "notifications"


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=1025, ge=1, le=65535)
    use_tls: bool = Field(default=False, description="Implicit TLS (SMTPS, usually port 465).")
    start_tls: bool = Field(default=False, description="Upgrade with STARTTLS (usually port 587).")
    validate_certs: bool = Field(default=True, description="Verify the server's certificate.")
    ca_file: str | None = Field(default=None, description="CA bundle that signed the server.")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    keepalive_s: float = Field(
        default=30.0,
        ge=0,
        description="Keep a session open this long after an email, for the next one (0: a new "
        "session per email).",
    )
    max_messages_per_session: int = Field(
        default=100, ge=1, description="Close a session after this many emails."
    )


def _single_line(value: str) -> str:
    if any(ch in value for ch in "\r\n"):
        raise ValueError("must be one line (no CR or LF)")
    return value


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    links: LinkSettings = Field(default_factory=LinkSettings)
    mail_from: str = "Mentorlink <matches@mentorlink.local>"
    reply_to: str = "Mentorlink support <support@mentorlink.local>"
    message_id_domain: str = Field(default="mentorlink.local", pattern=r"^[A-Za-z0-9.-]+$")
    max_attempts: int = Field(
        default=8, ge=1, description="Transient failures before the email is dead-lettered."
    )
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=900.0, gt=0)
    lease_s: float = Field(default=60.0, gt=0, description="A send claimed longer ago is retried.")
    contact_wait_s: float = Field(
        default=300.0, gt=0, description="How long a proposal waits for the mentee's contact."
    )
    statement_wait_s: float = Field(
        default=10.0,
        ge=0,
        description="How long a proposal email waits for its goal's statement (read from the "
        "goals topic, which another consumer follows), so that it names the goal it answers; "
        "then it goes without it.",
    )
    digest_window_s: float = Field(
        default=10.0,
        ge=0,
        description="A proposal waits this long; newer proposals in the window replace it.",
    )
    rate_limit_emails: int = Field(default=3, ge=1, description="Emails per mentee per period.")
    send_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="SMTP sessions in flight at once (one mentee's emails always go in order).",
    )
    rate_limit_period_s: float = Field(default=3600.0, gt=0)
    refresh_hold_s: float = Field(
        default=60.0,
        gt=0,
        description="Emails a mentee waits for are sent before refreshes; a refresh due this "
        "long is sent with them, in due order, so that none waits for good under load.",
    )
    support_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for the delivery log API; unset disables the API.",
    )
    crash_at: str | None = Field(
        default=None,
        description="Tests only: SIGKILL the process at this named point (crash_points.py).",
    )

    @field_validator("mail_from", "reply_to")
    @classmethod
    def _header_safe(cls, value: str) -> str:
        return _single_line(value)

    @model_validator(mode="after")
    def _no_crash_points_in_production(self) -> NotificationsSettings:
        if self.crash_at and self.kafka.profile == "production":
            raise ValueError(
                "NOTIFICATIONS_CRASH_AT is a test hook; refused with KAFKA_PROFILE=production"
            )
        return self

from __future__ import annotations

from datetime import timedelta

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.profile.domain.relationships import LifecycleTerms
from shared.settings import LinkSettings, ServiceSettings

SCHEMA = "profile"
SERVICE_NAME = "profile"


class TenantLimits(BaseModel):
    """One tenant's API limits; a field left out takes the service-wide default."""

    rate_per_s: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore")

    links: LinkSettings = Field(default_factory=LinkSettings)
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, le=1024 * 1024, description="Largest request body accepted."
    )
    idempotency_window_s: float = Field(
        default=24 * 3600, gt=0, description="How long an Idempotency-Key answer is replayed."
    )
    tenant_rate_per_s: float = Field(
        default=20.0, gt=0, description="API requests per second per tenant, sustained."
    )
    tenant_burst: int = Field(
        default=40, ge=1, description="API requests a tenant may send at once after a quiet spell."
    )
    tenant_concurrency: int = Field(
        default=4,
        ge=1,
        description="API requests of one tenant in flight at once; below db_pool_max, so one "
        "tenant never holds every database connection.",
    )
    ingress_per_tenant_per_round: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Staged ingress commands applied per tenant in each round (ADR 0006).",
    )
    request_deadline_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="Days a mentor has to answer a request (a tenant may set its own).",
    )
    fit_check_days: int = Field(
        default=14,
        ge=1,
        le=180,
        description="Days into a relationship when both are asked whether it is going well.",
    )
    open_requests_limit: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Requests a mentee may have waiting for a mentor's answer at once.",
    )
    lifecycle_tick_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often the lifecycle timers look for reminders, expiries, fit checks.",
    )
    matching_url: str | None = Field(
        default=None,
        description="Matching's internal HTTP address (http://host:port), where the read API "
        "(proposals, explain, preview; ADR 0011) is answered; unset: those routes answer 503.",
    )
    matching_read_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MATCHING_READ_TOKEN", "matching_read_token"),
        description="The bearer token matching's internal read routes expect (the same "
        "MATCHING_READ_TOKEN as matching's).",
    )
    matching_timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="How long a forwarded read may take."
    )
    tenant_limits: dict[str, TenantLimits] = Field(
        default_factory=dict,
        description='Per-tenant overrides, JSON: {"acme": {"rate_per_s": 100, "burst": 200}}.',
    )

    def lifecycle_terms(self) -> LifecycleTerms:
        """The service-wide defaults; tenant_settings rows override them per tenant."""
        return LifecycleTerms(
            timedelta(days=self.request_deadline_days),
            timedelta(days=self.fit_check_days),
            self.open_requests_limit,
        )

    @model_validator(mode="after")
    def _no_tenant_holds_the_whole_pool(self) -> ProfileSettings:
        limits = [
            self.tenant_concurrency,
            *(t.concurrency or 0 for t in self.tenant_limits.values()),
        ]
        if max(limits) >= self.db.db_pool_max:
            raise ValueError(
                "tenant concurrency must stay below DB_POOL_MAX: one tenant must not be able "
                "to hold every database connection"
            )
        return self

    @model_validator(mode="after")
    def _link_answers_outlive_links(self) -> ProfileSettings:
        if self.retention.link_responses_days < self.links.ttl_days:
            raise ValueError(
                "RETENTION_LINK_RESPONSES_DAYS must be at least LINK_TTL_DAYS: an answer "
                "forgotten while its link still works could be given twice"
            )
        return self

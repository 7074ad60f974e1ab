"""Settings every service reads from its environment (pydantic-settings).

Secrets (database password, SASL password) come only from the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.topics import DEFAULT_PARTITIONS

# What KAFKA_PROFILE=production sets unless a variable names another value (docs/operations.md).
PRODUCTION_KAFKA: dict[str, object] = {
    "replication_factor": 3,
    "min_insync_replicas": 2,
    "acks": "all",
    "enable_idempotence": True,
}


class KafkaSettings(BaseSettings):
    """Kafka connection and producer policy. See docs/operations.md for the production profile."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    profile: Literal["development", "production"] = Field(
        default="development",
        description="`production`: replication 3, min.insync.replicas 2, acks=all, idempotence; "
        "explicit variables may raise these but never weaken durability.",
    )
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field(
        default="mentorlink.",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prepended to every topic and consumer group name.",
    )
    partitions: int = Field(default=DEFAULT_PARTITIONS, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int = Field(default=1, ge=1)
    enable_idempotence: bool = Field(
        default=True,
        description="Off only for brokers that reject InitProducerId (embedded Tansu).",
    )
    acks: Literal["all", "1", "0"] = "all"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)
    linger_ms: int = Field(
        default=0,
        ge=0,
        description="How long a producer waits to fill a request with more messages.",
    )
    fetch_max_wait_ms: int = Field(
        default=500,
        ge=0,
        description="How long the broker may hold a fetch while fewer than fetch_min_bytes "
        "are ready. It delays no message (a fetch returns as soon as fetch_min_bytes are "
        "there); shorter only makes idle consumers ask more often, which costs the broker CPU.",
    )
    fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="Bytes a fetch waits for (up to fetch_max_wait_ms); larger values mean "
        "fewer, fuller polls under load.",
    )

    @model_validator(mode="after")
    def _apply_profile(self) -> KafkaSettings:
        if self.profile == "production":
            for name, value in PRODUCTION_KAFKA.items():
                if name not in self.model_fields_set:
                    setattr(self, name, value)
            _require_durable(self)
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("min_insync_replicas cannot exceed replication_factor")
        return self

    def group(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


def _require_durable(settings: KafkaSettings) -> None:
    """The production profile refuses settings that can lose acknowledged events."""
    if settings.acks != "all" or not settings.enable_idempotence:
        raise ValueError("KAFKA_PROFILE=production needs KAFKA_ACKS=all and idempotent producers")
    min_isr, replicas = settings.min_insync_replicas, settings.replication_factor
    if min_isr < 2 or replicas <= min_isr:
        raise ValueError(
            "KAFKA_PROFILE=production needs min_insync_replicas >= 2 and "
            "replication_factor > min_insync_replicas (one broker may be down)"
        )


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:5432/postgres"),
        description="asyncpg DSN; each service may point at its own database.",
    )
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    db_connect_timeout_s: float = Field(default=5.0, gt=0)


class HttpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HTTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


DEV_LINK_KEY = "dev-only-link-key-change-me"
MIN_LINK_KEY_CHARS = 32


class LinkSettings(BaseSettings):
    """Signed links in proposal emails (accept, decline, unsubscribe)."""

    model_config = SettingsConfigDict(env_prefix="LINK_", extra="ignore")

    signing_keys: SecretStr = Field(
        default=SecretStr(DEV_LINK_KEY),
        description="Comma-separated secrets; the first signs, all verify (rotation).",
    )
    base_url: str = Field(
        default="http://localhost:8000",
        description="Public URL of the profile service, which serves the links.",
    )
    ttl_days: int = Field(default=14, ge=1, le=90)

    def keys(self) -> list[bytes]:
        return [
            k.strip().encode() for k in self.signing_keys.get_secret_value().split(",") if k.strip()
        ]

    def refuse_weak_keys(self, kafka: KafkaSettings) -> None:
        """Under KAFKA_PROFILE=production, anyone knowing the development key (it is in this
        repository) could accept or decline on a mentee's behalf: refuse it, and short keys."""
        if kafka.profile != "production":
            return
        weak = [k for k in self.keys() if k == DEV_LINK_KEY.encode() or len(k) < MIN_LINK_KEY_CHARS]
        if weak or not self.keys():
            raise ValueError(
                "LINK_SIGNING_KEYS must be set to secrets of at least "
                f"{MIN_LINK_KEY_CHARS} characters (not the development key) "
                "with KAFKA_PROFILE=production"
            )


class TracingSettings(BaseSettings):
    """OpenTelemetry traces (shared/tracing.py); the OTLP endpoint comes from OTEL_* variables."""

    model_config = SettingsConfigDict(env_prefix="TRACING_", extra="ignore")

    enabled: bool = Field(default=False, description="Export OpenTelemetry traces.")
    exporter: Literal["otlp", "console", "memory"] = "otlp"


class ReliabilitySettings(BaseSettings):
    """Retries of consumed messages, supervision of background loops, stall reporting (ADR 0002)."""

    model_config = SettingsConfigDict(env_prefix="RELIABILITY_", extra="ignore")

    poison_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Tries of a message failing for an unclassified reason "
        "before it is dead-lettered (outage retries do not count).",
    )
    retry_base_s: float = Field(default=0.1, gt=0, description="First retry backoff.")
    retry_max_s: float = Field(default=5.0, gt=0, description="Longest retry backoff.")
    loop_restart_base_s: float = Field(default=1.0, gt=0, description="First restart backoff.")
    loop_restart_max_s: float = Field(default=60.0, gt=0, description="Longest restart backoff.")
    loop_stable_after_s: float = Field(
        default=30.0, gt=0, description="A restarted loop up this long counts as recovered."
    )
    loop_unhealthy_after_s: float = Field(
        default=120.0,
        gt=0,
        description="/healthz fails once a loop has been down, or without a heartbeat, this long.",
    )
    partition_stall_after_s: float = Field(
        default=120.0,
        gt=0,
        description="/readyz fails once a partition has stayed on one message this long.",
    )


class ServiceSettings(BaseSettings):
    """Base for a service's settings: infrastructure plus its own knobs."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    reliability: ReliabilitySettings = Field(default_factory=ReliabilitySettings)
    log_level: str = "INFO"

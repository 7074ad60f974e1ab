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
    # A frozen leader (a machine that vanished) answers nothing: every request to it waits this
    # long, once for the request in flight and once more when a retry picks the same node;
    # docs/operations.md, "A machine that vanishes".
    "connect_timeout_s": 5.0,
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
    connect_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="aiokafka's request_timeout_ms (every request, the wait for acks=all, a "
        "batch's delivery) and the start-up check's wait; 5 s with the production profile.",
    )
    linger_ms: int = Field(
        default=5,
        ge=0,
        description="How long a producer waits to fill a request with more messages: one "
        "request carries a relay batch's messages for several partitions instead of one each.",
    )
    fetch_max_wait_ms: int = Field(
        default=500,
        ge=0,
        description="How long the broker may hold a fetch while fewer than fetch_min_bytes "
        "are ready. It delays no message (a fetch returns as soon as fetch_min_bytes are "
        "there); shorter only makes idle consumers ask more often, which costs the broker CPU.",
    )
    batch_poll_ms: int = Field(
        default=1000,
        ge=1,
        description="A batch subscriber's longest wait for records in one poll; it returns as "
        "soon as a fetch brings some (shared/kafka/batch_poll.py: without FastStream 0.7.8's "
        "sleep after an empty poll), so this delays no record: it is how often an idle "
        "subscriber wakes. It sends no request: the fetches run in the background either way.",
    )
    fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="Bytes a fetch waits for (up to fetch_max_wait_ms); larger values mean "
        "fewer, fuller polls under load.",
    )
    session_timeout_ms: int = Field(
        default=10_000,
        ge=1000,
        description="Consumer group session timeout: a member silent this long is dropped and "
        "its partitions go to the others. Apache Kafka accepts 6000 to 1800000 by default "
        "(group.min/max.session.timeout.ms). The embedded Tansu broker holds every group join "
        "for half of it (at least a second), so devenv lowers it there.",
    )
    heartbeat_interval_ms: int = Field(
        default=3000,
        ge=100,
        description="How often a consumer tells its group it is alive; below "
        "session_timeout_ms (a third of it is usual).",
    )
    retention_days: float = Field(
        default=7,
        gt=0,
        description="retention.ms of every topic but the compacted profiles topic and the "
        "dead-letter topics (docs/operations.md, Topic retention).",
    )
    dead_letter_retention_days: float = Field(
        default=14,
        gt=0,
        description="retention.ms of the `<topic>.dlq` topics: how long a dead letter can be "
        "replayed.",
    )
    compaction_max_lag_hours: float = Field(
        default=24,
        gt=0,
        description="max.compaction.lag.ms of the profiles topic: about this long after a "
        "tombstone (plus the hour a segment stays open), the erased person's older records are "
        "compacted away. At least KAFKA_ERASURE_GRACE_HOURS.",
    )
    erasure_grace_hours: float = Field(
        default=24,
        gt=0,
        description="min.compaction.lag.ms and delete.retention.ms of the profiles topic: a "
        "consumer this far behind still reads every ProfileDeleted and tombstone.",
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
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be below session_timeout_ms")
        if self.compaction_max_lag_hours < self.erasure_grace_hours:
            raise ValueError("compaction_max_lag_hours cannot be below erasure_grace_hours")
        return self

    def group(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def servers(self) -> list[str]:
        """The bootstrap list as a list: FastStream wraps a string in a list, and aiokafka then
        reads the whole comma-separated string as one host."""
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]


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


def secret_list(secret: SecretStr) -> list[bytes]:
    """A comma-separated list of secrets (rotation: the first is current, all are accepted)."""
    return [k.strip().encode() for k in secret.get_secret_value().split(",") if k.strip()]


MIN_LINK_KEY_CHARS = 32
# Keys that were ever published in this repository: whoever read them can forge links.
PUBLISHED_KEYS = frozenset({b"dev-only-link-key-change-me", b"dev-only-erasure-key-change-me"})
NEW_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class LinkSettings(BaseSettings):
    """Signed links in proposal emails (accept, decline, unsubscribe).

    There is no default key: a default would be public, and anyone could forge links with it.
    `make dev`, the tests and the benchmarks generate a random key per run.
    """

    model_config = SettingsConfigDict(env_prefix="LINK_", extra="ignore")

    signing_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated secrets of at least 32 characters; the first signs, all "
        "verify (rotation). Required: the services refuse to start without it.",
    )
    base_url: str = Field(
        default="http://localhost:8000",
        description="Public URL of the profile service, which serves the links.",
    )
    ttl_days: int = Field(default=14, ge=1, le=90)

    def keys(self) -> list[bytes]:
        return secret_list(self.signing_keys)

    @model_validator(mode="after")
    def _refuse_missing_or_weak_keys(self) -> LinkSettings:
        """Whatever the Kafka profile: a single-broker deployment is a real deployment too."""
        refuse_missing_or_weak_keys("LINK_SIGNING_KEYS", self.keys())
        return self


def refuse_missing_or_weak_keys(variable: str, keys: list[bytes]) -> None:
    """A secret the services need: set, long enough, and never one this repository published."""
    if not keys:
        raise ValueError(f"{variable} is not set; generate a key with {NEW_KEY_HINT}")
    if any(k in PUBLISHED_KEYS or len(k) < MIN_LINK_KEY_CHARS for k in keys):
        raise ValueError(
            f"{variable}: every key must be a secret of at least {MIN_LINK_KEY_CHARS} "
            f"characters, not a published one; generate one with {NEW_KEY_HINT}"
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


DAY_S = 86400.0


class ErasureSettings(BaseSettings):
    """The secret that turns an erased person's ids into keyed hashes (shared/erasure.py).

    No default, for the reason links have none: with a published key anyone holding the table
    could test which ids were erased. `make dev`, the tests and the benchmarks generate one per
    run (their databases live only as long as the run)."""

    model_config = SettingsConfigDict(env_prefix="ERASURE_", extra="ignore")

    hash_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated HMAC secrets of at least 32 characters; the first records "
        "new erasures, all are checked (rotation). Required. Losing every key forgets who was "
        "erased.",
    )

    def keys(self) -> list[bytes]:
        return secret_list(self.hash_keys)

    @model_validator(mode="after")
    def _refuse_missing_or_weak_keys(self) -> ErasureSettings:
        refuse_missing_or_weak_keys("ERASURE_HASH_KEYS", self.keys())
        return self


class RetentionSettings(BaseSettings):
    """How long the growing tables keep rows (docs/operations.md, Table retention)."""

    model_config = SettingsConfigDict(env_prefix="RETENTION_", extra="ignore")

    processed_events_days: float = Field(
        default=15,
        gt=0,
        description="Handled event ids: at least as long as any copy of an event can come "
        "back (topic retention, dead-letter retention: a replay), or a redelivery would be "
        "handled twice.",
    )
    emails_days: float = Field(
        default=30, gt=0, description="Finished emails (sent, failed, suppressed, superseded)."
    )
    link_responses_days: float = Field(
        default=90,
        gt=0,
        description="Answered links: at least LINK_TTL_DAYS, while the link can still be clicked.",
    )
    interval_s: float = Field(default=3600, gt=0, description="Pause between two runs.")
    batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Rows deleted per short transaction."
    )

    def require_outlives(self, kafka: KafkaSettings) -> None:
        longest = max(kafka.retention_days, kafka.dead_letter_retention_days)
        if self.processed_events_days < longest:
            raise ValueError(
                f"RETENTION_PROCESSED_EVENTS_DAYS ({self.processed_events_days}) must be at "
                f"least the longest topic retention ({longest} days): a redelivered or replayed "
                "event would otherwise be handled twice"
            )


class ServiceSettings(BaseSettings):
    """Base for a service's settings: infrastructure plus its own knobs."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    reliability: ReliabilitySettings = Field(default_factory=ReliabilitySettings)
    erasure: ErasureSettings = Field(default_factory=ErasureSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _idempotency_outlives_redelivery(self) -> ServiceSettings:
        self.retention.require_outlives(self.kafka)
        return self

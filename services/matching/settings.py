from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.matching.domain.constraints import EngineConfig
from shared.settings import ServiceSettings

SCHEMA = "matching"
SERVICE_NAME = "matching"


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore")

    top_k: int = Field(default=5, ge=1, le=20, description="Mentors per proposal.")
    exposure_per_seat: float = Field(
        default=3.0,
        gt=0,
        le=100,
        description="A mentor is shown to at most this many mentees per free seat at once, across"
        " the whole tenant.",
    )
    diversity: float = Field(
        default=0.3, ge=0, le=1, description="0 = pure relevance; higher = more varied mentors."
    )
    search_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads a mentor's search over many mentees is split across (cores).",
    )
    numba_cache_dir: Path | None = Field(
        default=None,
        validation_alias="NUMBA_CACHE_DIR",
        description="numba's own variable: where it caches compiled code (must be writable).",
    )
    numba_seed_dir: Path | None = Field(
        default=None,
        description="Kernels compiled when the image was built, copied into an empty "
        "NUMBA_CACHE_DIR at start (adapters/compiled_cache.py).",
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for /admin endpoints; unset disables them."
    )
    read_token: SecretStr | None = Field(
        default=None,
        description="Bearer token the profile service sends to the internal read routes "
        "(/internal/v1, ADR 0011); unset disables them.",
    )

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            top_k=self.top_k,
            exposure_per_seat=self.exposure_per_seat,
            partitions=self.kafka.partitions,
            diversity=self.diversity,
            search_threads=self.search_threads,
        )

"""Delivery policy: what to do after an attempt. No I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"  # 4xx, connection refused or reset, timeout: try again later
    PERMANENT = "permanent"  # 5xx, invalid address: record, never retry


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""


def retry_delay(
    attempt: int, base_s: float, max_s: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with equal jitter: uniform in [c/2, c], c = min(max, base * 2^(n-1))."""
    ceiling = min(max_s, base_s * 2 ** min(max(0, attempt - 1), 40))
    return (rng or random).uniform(ceiling / 2, ceiling)

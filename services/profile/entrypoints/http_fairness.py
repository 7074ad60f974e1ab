"""Per-tenant limits on the integrator API: a token bucket for the request rate and a cap on
requests in flight, so one tenant can neither flood the API nor hold the connection pool.

Both are kept in this process: with several instances behind a load balancer, each enforces
them on its own (docs/integrators.md, "Rate limits").
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.profile.settings import ProfileSettings, TenantLimits


class TooManyRequests(Exception):  # noqa: N818 - reads as the HTTP status it becomes
    def __init__(self, detail: str, retry_after_s: float) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = max(1, math.ceil(retry_after_s))


@dataclass(frozen=True)
class Limits:
    rate_per_s: float
    burst: int
    concurrency: int

    def overridden(self, by: TenantLimits) -> Limits:
        return Limits(
            by.rate_per_s or self.rate_per_s,
            by.burst or self.burst,
            by.concurrency or self.concurrency,
        )


@dataclass
class TokenBucket:
    """`burst` tokens, refilled at `rate_per_s`; a request takes one."""

    rate_per_s: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one will be there."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate_per_s


class TenantGate:
    """Admits a tenant's request if its bucket has a token and it has a free slot."""

    def __init__(
        self,
        default: Limits,
        overrides: dict[str, TenantLimits],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = default
        self._overrides = overrides
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._in_flight: dict[str, int] = {}

    def limits(self, tenant: str) -> Limits:
        override = self._overrides.get(tenant)
        return self._default.overridden(override) if override else self._default

    @asynccontextmanager
    async def admitted(self, tenant: str) -> AsyncIterator[None]:
        """Hold one of the tenant's slots for the body; 429 with Retry-After when refused."""
        limits = self.limits(tenant)
        in_flight = self._in_flight.get(tenant, 0)
        if in_flight >= limits.concurrency:
            raise TooManyRequests(f"more than {limits.concurrency} requests in flight", 1.0)
        wait_s = self._bucket(tenant, limits).take(self._clock())
        if wait_s > 0:
            raise TooManyRequests(
                f"more than {limits.rate_per_s:g} requests per second (bursts of {limits.burst})",
                wait_s,
            )
        self._in_flight[tenant] = in_flight + 1
        try:
            yield
        finally:
            self._in_flight[tenant] -= 1
            if not self._in_flight[tenant]:
                del self._in_flight[tenant]

    def _bucket(self, tenant: str, limits: Limits) -> TokenBucket:
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = TokenBucket(limits.rate_per_s, limits.burst, limits.burst, self._clock())
            self._buckets[tenant] = bucket
        return bucket


def tenant_gate(settings: ProfileSettings) -> TenantGate:
    default = Limits(settings.tenant_rate_per_s, settings.tenant_burst, settings.tenant_concurrency)
    return TenantGate(default, settings.tenant_limits)

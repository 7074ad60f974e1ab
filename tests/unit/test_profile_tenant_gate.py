"""Per-tenant API limits: a token bucket per tenant and a cap on requests in flight."""

from __future__ import annotations

import pytest

from services.profile.entrypoints.http_fairness import Limits, TenantGate, TooManyRequests
from services.profile.settings import TenantLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def admit(gate: TenantGate, tenant: str) -> None:
    async with gate.admitted(tenant):
        pass


async def test_a_burst_then_the_sustained_rate_with_the_wait_in_retry_after() -> None:
    clock = Clock()
    gate = TenantGate(Limits(rate_per_s=2.0, burst=3, concurrency=10), {}, clock)
    for _ in range(3):
        await admit(gate, "acme")
    with pytest.raises(TooManyRequests) as refused:
        await admit(gate, "acme")
    assert refused.value.retry_after_s == 1  # half a second to the next token, rounded up
    clock.now += 0.5
    await admit(gate, "acme")
    with pytest.raises(TooManyRequests):
        await admit(gate, "acme")
    clock.now += 60  # a quiet spell refills to the burst, not beyond
    for _ in range(3):
        await admit(gate, "acme")
    with pytest.raises(TooManyRequests):
        await admit(gate, "acme")


async def test_one_tenant_over_its_rate_leaves_the_others_alone() -> None:
    gate = TenantGate(Limits(rate_per_s=1.0, burst=1, concurrency=10), {}, Clock())
    await admit(gate, "flood")
    with pytest.raises(TooManyRequests):
        await admit(gate, "flood")
    await admit(gate, "quiet")


async def test_overrides_change_only_the_fields_they_name() -> None:
    gate = TenantGate(
        Limits(rate_per_s=1.0, burst=1, concurrency=4),
        {"big": TenantLimits(rate_per_s=100, burst=50)},
        Clock(),
    )
    assert gate.limits("big") == Limits(rate_per_s=100, burst=50, concurrency=4)
    assert gate.limits("small") == Limits(rate_per_s=1.0, burst=1, concurrency=4)
    for _ in range(50):
        await admit(gate, "big")


async def test_requests_in_flight_are_capped_per_tenant_and_freed_when_answered() -> None:
    gate = TenantGate(Limits(rate_per_s=1000.0, burst=1000, concurrency=2), {}, Clock())
    async with gate.admitted("acme"), gate.admitted("acme"):
        with pytest.raises(TooManyRequests) as refused:
            await admit(gate, "acme")
        assert "in flight" in refused.value.detail and refused.value.retry_after_s == 1
        await admit(gate, "other")
    await admit(gate, "acme")

"""The tenant-wide exposure cap across instances (ADR 0010): telling every partition that a
mentor's best mentees changed somewhere, and reading the mentor's lists other instances own.

A notice names the mentor by a keyed hash (the erasure keys' HMAC), never by id: notices
follow other people's events, so one may be written after the mentor's erasure was asked for
and before matching handled it. The owner of a partition finds the mentor again among the
mentors its engine knows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from services.matching.domain.engine import TenantEngine
from services.matching.domain.events import ExposureChanged, ExposureChangedPayload
from services.matching.service_layer.topics import MENTOR_FEED
from services.matching.service_layer.unit_of_work import MatchingTransaction
from shared.contracts.envelope import EventEnvelope


@dataclass
class MentorRefs:
    """Per tenant: keyed hash -> mentor id, for the mentors hashed so far."""

    by_ref: dict[str, dict[str, str]] = field(default_factory=dict)
    hashed: dict[str, set[str]] = field(default_factory=dict)

    def find(
        self, tx: MatchingTransaction, engine: TenantEngine, tenant_id: str, ref: str
    ) -> str | None:
        """The mentor of the engine the reference stands for (None: not one it knows)."""
        known = self.by_ref.setdefault(tenant_id, {})
        if ref not in known:
            done = self.hashed.setdefault(tenant_id, set())
            new = [p.user_id for p in engine.search.mentor_people() if p.user_id not in done]
            known.update(tx.person_refs(tenant_id, new))
            done.update(new)
        return known.get(ref)


async def tell_other_owners(
    tx: MatchingTransaction,
    partitions: int,
    held: Collection[int],
    cause: EventEnvelope,
    mentor_id: str,
) -> None:
    """One notice to each partition but those this transaction holds (ADR 0013): this
    instance's engine already counts its own partitions' lists, and a new owner of one of them
    restores after the commit, under that partition's lock, so it reads the changed list."""
    others = [p for p in range(partitions) if p not in held]
    if not others:
        return
    ref = tx.person_ref(cause.tenant_id, mentor_id)
    for partition in others:
        notice = ExposureChanged(
            tenant_id=cause.tenant_id,
            key=ref,
            correlation_id=cause.correlation_id,
            payload=ExposureChangedPayload(mentor_ref=ref, partition=partition),
        )
        await tx.publish(MENTOR_FEED, notice, partition)


async def read_lists_elsewhere(
    tx: MatchingTransaction,
    engine: TenantEngine,
    owned: Collection[int],
    partitions: int,
    tenant_id: str,
    mentor_id: str,
) -> None:
    """The mentor's stored lists in the partitions this instance does not own, into the
    engine: with its own lists they decide how much of the cap it shows. (An instance that
    owns every partition has none elsewhere: nothing to read.)"""
    if all(p in owned for p in range(partitions)):
        elsewhere: dict[int, list[tuple[str, float]]] = {}
    else:
        elsewhere = await tx.lists_elsewhere(tenant_id, mentor_id, owned)
    engine.set_lists_elsewhere(mentor_id, elsewhere)

"""The lifecycle's timers: the reminder half-way to a request's deadline, the expiry at the
deadline, the fit check some days into a relationship. A loop asks the store what is due at
the clock's time and moves each relationship in its own transaction; a relationship another
instance or an answer is moving is looked at again on the next turn."""

from __future__ import annotations

import logging
from datetime import datetime

from services.profile.domain import relationships as rel
from services.profile.service_layer.lifecycle import (
    Lifecycle,
    UnknownRelationship,
    announce_seats,
    locked_relationship,
    store_move,
)
from services.profile.service_layer.relationship_port import Due
from services.profile.service_layer.unit_of_work import ProfileTransaction
from shared.clock import Clock
from shared.errors import TRANSIENT_ERRORS
from shared.supervision import Heartbeat, Loop

log = logging.getLogger(__name__)
BATCH = 100


async def _move_due(tx: ProfileTransaction, due: Due, now: datetime) -> bool:
    r = await locked_relationship(tx, due.tenant_id, due.request_id)
    correlation = f"timer-{r.request_id.hex[:16]}"
    if (expired := rel.expire(r, now)) is not None:
        await store_move(tx, expired, correlation)
        await announce_seats(tx, r.tenant_id, r.mentor_id, correlation)
    elif (reminded := rel.remind(r, now)) is not None:
        await store_move(tx, reminded, correlation, reminded=True)
    elif (checked := rel.check_fit(r, now)) is not None:
        await store_move(tx, checked, correlation)
    else:
        return False
    return True


async def run_due(life: Lifecycle, now: datetime, limit: int = BATCH) -> int:
    """Move every relationship whose timer has come by `now`; returns how many moved."""
    async with life.uow.transaction() as tx:
        due = await tx.relationships.due(now, limit)
    moved = 0
    for item in due:
        try:
            async with life.uow.transaction() as tx:
                moved += await _move_due(tx, item, now)
        except UnknownRelationship:
            continue  # erased meanwhile
        except TRANSIENT_ERRORS:
            raise  # the whole turn waits for the dependency
        except Exception:  # one relationship that cannot move must not stop the others
            log.exception("relationship %s could not move; the others go on", item.request_id)
    return moved


def lifecycle_timers(life: Lifecycle, clock: Clock, interval_s: float) -> Loop:
    """The supervised loop: every `interval_s`, what is due at the clock's time."""

    async def loop(beat: Heartbeat) -> None:
        while True:
            try:
                while await run_due(life, clock.now()) >= BATCH:
                    beat.beat()
            except TRANSIENT_ERRORS as exc:
                log.warning("lifecycle timers skipped a turn: %s", type(exc).__name__)
            await beat.sleep(interval_s)

    return loop


async def reconcile_seats(life: Lifecycle) -> int:
    """Publish every mentor whose stored seat count differs from their relationships (the
    relationships the migration made from earlier accepted requests); returns how many."""
    async with life.uow.transaction() as tx:
        mentors = await tx.relationships.miscounted_mentors()
    for tenant_id, mentor_id in mentors:
        async with life.uow.transaction() as tx:
            await announce_seats(tx, tenant_id, mentor_id, "seats-reconciled")
    return len(mentors)

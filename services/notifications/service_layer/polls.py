"""What the handlers of a poll of events share: runs of events applied together, and which
events of a run are new."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar
from uuid import UUID

from services.notifications.service_layer.ports import NotificationsTransaction


class _Event(Protocol):
    @property
    def event_id(self) -> UUID: ...


E = TypeVar("E", bound=_Event)


def runs_apart(events: Sequence[E], apart: type | tuple[type, ...]) -> list[Sequence[E]]:
    """The events in order, as runs: each event of the `apart` kinds alone, the events between
    them together. A run of the other kinds is applied at once; the order of the runs keeps
    the effects of an event of an `apart` kind where it was in the poll."""
    runs: list[Sequence[E]] = []
    run: list[E] = []
    for event in events:
        if isinstance(event, apart):
            if run:
                runs.append(run)
                run = []
            runs.append([event])
        else:
            run.append(event)
    if run:
        runs.append(run)
    return runs


async def first_seen(events: Sequence[E], tx: NotificationsTransaction) -> list[E]:
    """The events handled for the first time (recorded as handled now, in one statement), in
    order; an event id twice in the run counts once, as its first copy."""
    new = await tx.first_deliveries(list(dict.fromkeys(e.event_id for e in events)))
    fresh = []
    for event in events:
        if event.event_id in new:
            new.discard(event.event_id)
            fresh.append(event)
    return fresh

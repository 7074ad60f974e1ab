"""Test-only crash points for the kill test (tests/integration/test_notifications_crash.py).

`NOTIFICATIONS_CRASH_AT=<point>` makes the process SIGKILL itself the first time it reaches that
point, as an operator's `kill -9` or a lost machine would. Unset (production), the checkpoint is
`no_checkpoint`, a function that does nothing. The points, in the order a proposal meets them:

- `proposal_consumed`: a MatchProposed was read; nothing recorded, offset not committed;
- `proposal_recorded`: its email row committed; offset not committed;
- `claimed`: the dispatcher committed `sending` and a lease; no SMTP conversation yet;
- `before_data`: the server accepted MAIL and RCPT; DATA not sent;
- `before_release`: the message is written but for its end; nothing recorded;
- `released`: the `released` UPDATE and the end of the message are both written, no reply read;
- `sent_recorded`: the server answered 250 and `sent` is committed.
"""

from __future__ import annotations

import os
import signal

from services.notifications.service_layer.ports import Checkpoint, no_checkpoint

POINTS = (
    "proposal_consumed",
    "proposal_recorded",
    "claimed",
    "before_data",
    "before_release",
    "released",
    "sent_recorded",
)


def crash_at(point: str | None) -> Checkpoint:
    if not point:
        return no_checkpoint
    if point not in POINTS:
        raise ValueError(f"unknown crash point {point!r}; known: {', '.join(POINTS)}")

    def checkpoint(reached: str) -> None:
        if reached == point:
            os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint

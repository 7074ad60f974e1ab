"""Where a `make bench-system` window's time went, read from the services' own tables."""

from __future__ import annotations

from benchmarks import wire
from benchmarks.system_window import TENANT, Run, percentile

STAGE_TIMES = """
SELECT g.mentee_id,
       extract(epoch FROM p.processed_at),
       extract(epoch FROM min(e.created_at)),
       extract(epoch FROM min(e.sent_at))
FROM unnest($1::text[], $2::uuid[]) AS g (mentee_id, event_id)
JOIN matching.processed_events p ON p.consumer = 'matching' AND p.event_id = g.event_id
JOIN notifications.emails e ON e.tenant_id = $3 AND e.mentee_id = g.mentee_id
GROUP BY g.mentee_id, p.processed_at
"""

QUEUED_TO_SENT = """
SELECT awaited, extract(epoch FROM sent_at - created_at) * 1000
FROM notifications.emails
WHERE tenant_id = $1 AND sent_at IS NOT NULL AND mentee_id = any($2::text[])
"""


async def queue_waits(run: Run, mentees: list[str]) -> dict[str, float]:
    """Queued → sent for the mentees' emails, awaited ones and refreshes apart: what answering
    the waiting mentees first costs the others (the digest window included)."""
    rows = await run.fetch(QUEUED_TO_SENT, TENANT, mentees)
    waits: dict[str, float] = {}
    for kind, awaited in (("awaited", True), ("refresh", False)):
        values = [float(ms) for is_awaited, ms in rows if is_awaited is awaited]
        waits[f"emails_{kind}_sent"] = len(values)
        if values:
            waits[f"emails_{kind}_queued_to_sent_p50_ms"] = percentile(values, 0.5)
            waits[f"emails_{kind}_queued_to_sent_p99_ms"] = percentile(values, 0.99)
    return waits


async def stage_latencies(run: Run, mentees: list[str]) -> dict[str, float]:
    """Where each emailed goal's time went, from both services' tables (one clock).

    Matching and notifications stamp rows with their transaction's start: a poll's
    transaction for matching, a poll of proposals for notifications."""
    events = [run.goal_event_ids[m] for m in mentees]
    rows = await run.fetch(STAGE_TIMES, mentees, events, TENANT)
    arrived = dict(run.arrivals.first)
    spans: dict[str, list[float]] = {"picked": [], "queued": [], "sent": [], "accepted": []}
    for mentee_id, picked, queued, sent in rows:
        email = wire.email_address(mentee_id)
        if sent is None or email not in arrived:
            continue
        marks = (run.published_at[email], float(picked), float(queued), float(sent), arrived[email])
        for name, start, end in zip(spans, marks, marks[1:], strict=False):
            spans[name].append((end - start) * 1000)
    return {
        f"stage_{name}_{label}_ms": percentile(values, q)
        for name, values in spans.items()
        if values
        for label, q in (("p50", 0.5), ("p99", 0.99))
    }

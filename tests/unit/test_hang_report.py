"""The hang report names where pending tasks wait, in the project's own code."""

from __future__ import annotations

import asyncio

from tests.support.hang_report import report


async def _waits_for_ever(event: asyncio.Event) -> None:
    await event.wait()


async def test_the_report_names_the_line_a_pending_task_waits_on() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_waits_for_ever(event))
    await asyncio.sleep(0)  # the task reaches its await
    try:
        text = report()
        assert "tests/unit/test_hang_report.py:11 _waits_for_ever" in text, text
    finally:
        event.set()
        await task
    assert "_waits_for_ever" not in report()

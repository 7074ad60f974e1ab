"""When a test is about to reach pytest-timeout, print where every pending asyncio task waits.

pytest-timeout's own dump shows threads, and a hung end-to-end test shows only the idle event
loop there: the test and the in-process services wait in tasks. Shortly before the timeout this
prints, for each pending task, the innermost frames of the project's own code (the rest is
library plumbing), so a hang in CI says what it waited for.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
EARLY_S = 20.0  # before the timeout: time to print while the test still runs
FRAMES = 3  # of the project's own code, innermost last


def _own_frames(task: asyncio.Task[object]) -> list[str]:
    lines = []
    for frame in task.get_stack(limit=40):
        path = frame.f_code.co_filename
        if path.startswith(ROOT) and "/.venv/" not in path:
            lines.append(f"{path[len(ROOT) + 1 :]}:{frame.f_lineno} {frame.f_code.co_name}")
    return lines[-FRAMES:]


def report() -> str:
    """Every pending task that waits in the project's code, grouped by where it waits."""
    for _ in range(5):  # the loop may add a task while this thread reads the set
        try:
            tasks = list(asyncio.tasks._all_tasks)  # type: ignore[attr-defined]  # every loop's
            break
        except RuntimeError:
            continue
    else:
        return "hang report: the task set kept changing\n"
    where: dict[tuple[str, ...], int] = {}
    for task in tasks:
        if task.done():
            continue
        frames = tuple(_own_frames(task))
        if frames:
            where[frames] = where.get(frames, 0) + 1
    lines = [f"hang report: {len(where)} places where tasks wait"]
    for frames, count in sorted(where.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {count} task(s): " + " <- ".join(reversed(frames)))
    return "\n".join(lines) + "\n"


def _timeout_of(item: pytest.Item) -> float | None:
    """The test's pytest-timeout: its marker, else `--timeout`, else the ini setting."""
    marker = item.get_closest_marker("timeout")
    value = marker.args[0] if marker and marker.args else item.config.getoption("timeout", None)
    if value is None:
        value = item.config.getini("timeout")
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    timeout = _timeout_of(item)
    done = threading.Event()
    if timeout and timeout > EARLY_S:

        def watch() -> None:
            if not done.wait(timeout - EARLY_S):
                stderr = sys.__stderr__  # fd 2: pytest shows it with the test's output
                if stderr is not None:
                    stderr.write(f"\n{item.nodeid}: near its timeout\n{report()}")
                    stderr.flush()

        threading.Thread(target=watch, name="hang-report", daemon=True).start()
    try:
        yield
    finally:
        done.set()

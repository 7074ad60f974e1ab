"""Threads for the engine's searches: a search split in parts runs them at once.

The domain's search only describes the parts (pruning.PartRunner); this runner is what the
service gives the engines it builds. The kernels release the GIL, so parts run in parallel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class HelperThreads:
    """The first part in the caller's thread, the others at once on helper threads, results
    in the parts' order. A part that no helper has started by the time the first is done runs
    in the caller's thread too, so a search never waits for a thread to be scheduled."""

    def __init__(self, pool: ThreadPoolExecutor | None = None) -> None:
        self._pool = pool

    def _helpers(self) -> ThreadPoolExecutor:
        if self._pool is None:  # made on first use, idle between searches
            self._pool = ThreadPoolExecutor(thread_name_prefix="mentor-search")
        return self._pool

    def __call__(
        self, kernel: Callable[..., Any], arguments: tuple[Any, ...], parts: list[Any]
    ) -> list[Any]:
        helpers = [self._helpers().submit(kernel, *arguments, part) for part in parts[1:]]
        first = kernel(*arguments, parts[0])
        rest = [
            kernel(*arguments, part) if helper.cancel() else helper.result()
            for helper, part in zip(helpers, parts[1:], strict=True)
        ]
        return [first, *rest]


@functools.cache
def helper_threads() -> HelperThreads:
    """The process's one set of helper threads, shared by every engine."""
    return HelperThreads()

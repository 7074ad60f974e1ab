"""Where the machine's CPU went during a benchmark window, per process of the run.

Each named process counts with its descendants (a PostgreSQL backend counts for PostgreSQL),
and a process is charged to its nearest named ancestor, so the benchmark's own process does
not absorb the services it started. A process that ends inside the window counts through its
parent's `children_*` times. `busy` is the whole machine's: all processes, all cores (user,
nice and system time, without the guest time they already include).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import psutil

Snapshot = dict[int, tuple[str, float]]  # pid -> (charged to, CPU seconds so far)


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def charged_to(pid: int, parents: Mapping[int, int], named: Mapping[int, str]) -> str | None:
    """The name of `pid`'s nearest named ancestor (itself included), if it has one."""
    seen: set[int] = set()
    while pid not in named:
        if pid in seen or pid not in parents:
            return None
        seen.add(pid)
        pid = parents[pid]
    return named[pid]


def charged(named: Mapping[int, str]) -> Iterator[tuple[str, psutil.Process]]:
    """Every running process charged to one of the names, with its name."""
    processes = list(psutil.process_iter(["ppid"]))
    parents = {p.pid: p.info["ppid"] for p in processes}
    for process in processes:
        name = charged_to(process.pid, parents, named)
        if name is not None:
            yield name, process


def snapshot(named: Mapping[int, str]) -> Snapshot:
    taken: Snapshot = {}
    for name, process in charged(named):
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            taken[process.pid] = (name, _cpu_seconds(process))
    return taken


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(
        times.user
        + times.nice
        + times.system
        + getattr(times, "irq", 0.0)
        + getattr(times, "softirq", 0.0)
    )


@dataclass
class CpuWindow:
    """`start()` then `stop()`: percent of one core used per name, and `busy`: the machine's
    (up to 100 per core), over the window."""

    named: dict[int, str]
    _began: tuple[float, float, Snapshot] | None = None

    def start(self) -> None:
        self._began = (time.monotonic(), _busy_seconds(), snapshot(self.named))

    def stop(self) -> dict[str, float]:
        seconds, used = self.stop_seconds()
        busy = used.pop("busy")
        shares = {name: 100 * cpu / seconds for name, cpu in sorted(used.items())}
        return {"busy": 100 * busy / seconds, **shares}

    def stop_seconds(self) -> tuple[float, dict[str, float]]:
        """The window's length and the CPU seconds used per name, `busy` the machine's."""
        assert self._began is not None, "start() first"
        began_at, busy_before, before = self._began
        after, busy_after = snapshot(self.named), _busy_seconds()
        used = used_per_name(before, after)
        return time.monotonic() - began_at, {"busy": busy_after - busy_before, **used}


def used_per_name(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per name between two snapshots: each name's total after minus its total
    before. A process that ended meanwhile leaves its time in its parent's `children_*`, so
    the name's total keeps it (when the parent has the same name, as PostgreSQL's does)."""
    totals: dict[str, float] = {}
    for name, seconds in after.values():
        totals[name] = totals.get(name, 0.0) + seconds
    for name, seconds in before.values():
        totals[name] = totals.get(name, 0.0) - seconds
    return {name: max(total, 0.0) for name, total in totals.items()}

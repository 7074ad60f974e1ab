"""Peak resident memory per process of a benchmark run, sampled on a thread of its own.

Each named process counts with its descendants (a PostgreSQL backend counts for PostgreSQL),
as in `benchmarks/cpu.py`; the peak is the largest sum seen at one sample.
"""

from __future__ import annotations

import contextlib
import resource
import threading
from collections.abc import Mapping

import psutil

from benchmarks.cpu import charged


def rss_per_name(named: Mapping[int, str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for name, process in charged(named):
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            totals[name] = totals.get(name, 0) + process.memory_info().rss
    return totals


class PeakRss:
    """`with PeakRss(named, every_s) as peak:` then `peak.mb()`: the largest RSS per name."""

    def __init__(self, named: Mapping[int, str], every_s: float = 0.5) -> None:
        self._named, self._every_s = named, every_s
        self._peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            for name, rss in rss_per_name(self._named).items():
                self._peak[name] = max(self._peak.get(name, 0), rss)
            if self._stop.wait(self._every_s):
                return

    def mb(self) -> dict[str, float]:
        return {name: rss / 2**20 for name, rss in sorted(self._peak.items())}


def own_peak_mb() -> float:
    """This process's own peak resident memory. Linux's `ru_maxrss` of a process started with
    fork and exec also counts the parent's resident memory at the fork, so a child of a large
    benchmark would report the benchmark's size; `VmHWM` is the process's own."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Start this process's peak again from its current resident memory (Linux 4.0 and later:
    /proc/self/clear_refs), after work that is the benchmark's own and not the system's."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True

"""A benchmark's child process reports its own peak memory, not its parent's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.memory import own_peak_mb

ROOT = Path(__file__).resolve().parents[2]
PARENT_MB = 300


def test_a_child_of_a_large_process_reports_its_own_peak() -> None:
    held = bytearray(PARENT_MB * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # resident, not only reserved
    assert own_peak_mb() > PARENT_MB
    code = (
        "import resource; from benchmarks.memory import own_peak_mb;"
        " print(own_peak_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    own, inherited = float(out[0]), float(out[1])
    assert own < PARENT_MB / 2
    assert inherited > PARENT_MB  # what the benchmark read before: the parent's size
    del held

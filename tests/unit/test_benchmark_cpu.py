"""The benchmark's CPU lines charge each process to the right name."""

from __future__ import annotations

import os

from benchmarks.cpu import CpuWindow, charged_to, used_per_name

PARENTS = {10: 1, 11: 10, 12: 11, 20: 10, 30: 1, 31: 30}
NAMED = {10: "generator", 20: "matching", 30: "postgres"}


def test_a_process_is_charged_to_its_nearest_named_ancestor() -> None:
    assert charged_to(12, PARENTS, NAMED) == "generator"
    assert charged_to(20, PARENTS, NAMED) == "matching"  # not to the generator that started it
    assert charged_to(31, PARENTS, NAMED) == "postgres"
    assert charged_to(1, PARENTS, NAMED) is None


def test_a_loop_in_the_parents_ends_unnamed() -> None:
    assert charged_to(5, {5: 6, 6: 5}, NAMED) is None


def test_use_per_name_is_the_growth_of_its_total() -> None:
    # 99 ended: its 3.0 s moved into its parent 20's children times (5.0 -> 8.5 with 0.5 new)
    before = {10: ("generator", 1.0), 20: ("matching", 5.0), 99: ("matching", 3.0)}
    after = {10: ("generator", 1.5), 20: ("matching", 8.5), 21: ("matching", 0.25)}
    assert used_per_name(before, after) == {"generator": 0.5, "matching": 0.75}


def test_the_window_measures_this_process_burning_cpu() -> None:
    window = CpuWindow({os.getpid(): "me"})
    window.start()
    spin_until = os.times().user + 0.2
    while os.times().user < spin_until:
        pass
    shares = window.stop()
    assert shares["me"] > 10
    assert shares["busy"] >= shares["me"] * 0.5

"""Which offered rates `make bench-system` tries, and what the tries say (no I/O here).

Each probe offers GoalSets at one rate for a short window and waits for the drain. The rate
doubles from `start` until a probe breaks the latency bound and `confirm` probes in a row
stop delivering what was offered (the saturation), or `ceiling` is reached; then the gap
between the highest rate that kept the bound and the lowest that broke it is halved `refine`
times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Probe:
    rate: float  # the rate asked for (the search's grid)
    offered: float  # GoalSets per second the generator achieved
    delivered: float  # mentees emailed per second, first email to last
    p99_ms: float  # goal -> email beyond the digest window, over the window's mentees
    without_email: int  # the window's mentees who got no email

    def follows(self, share: float) -> bool:
        """Delivered kept up with offered."""
        return self.delivered >= share * self.offered

    def within(self, bound_ms: float) -> bool:
        return not math.isnan(self.p99_ms) and self.p99_ms <= bound_ms


@dataclass
class RateSearch:
    bound_ms: float = 250.0
    follow_share: float = 0.9  # delivered below this share of offered: saturated
    start: float = 5.0
    ceiling: float = 640.0
    refine: int = 2
    confirm: int = 2  # probes in a row behind the offered rate before the ramp stops
    probes: list[Probe] = field(default_factory=list)

    def sustains(self, probe: Probe) -> bool:
        """Within the bound, delivering what was offered, and every mentee emailed."""
        within = probe.within(self.bound_ms) and probe.without_email == 0
        return within and probe.follows(self.follow_share)

    def saturated(self) -> Probe | None:
        """The lowest rate from which on no probe followed the offered rate."""
        behind = None
        for probe in sorted(self.probes, key=lambda p: p.rate, reverse=True):
            if probe.follows(self.follow_share):
                break
            behind = probe
        return behind

    def _saturation_confirmed(self) -> bool:
        """`confirm` probes in a row, the highest ones, fell behind (one may be noise)."""
        top = sorted(self.probes, key=lambda p: p.rate, reverse=True)[: self.confirm]
        return len(top) == self.confirm and not any(p.follows(self.follow_share) for p in top)

    def sustainable(self) -> Probe | None:
        """The highest-rate probe that kept the bound, below every rate that broke it."""
        broke = [p.rate for p in self.probes if not self.sustains(p)]
        lowest_broken = min(broke, default=math.inf)
        kept = [p for p in self.probes if self.sustains(p) and p.rate < lowest_broken]
        return max(kept, key=lambda p: p.rate, default=None)

    def saturation_rate(self) -> float:
        """The most the pipeline delivered in any probe: once a probe saturated, its capacity."""
        return max((p.delivered for p in self.probes), default=0.0)

    def next_rate(self) -> float | None:
        """The next rate to probe, or None when the search is over."""
        if not self.probes:
            return self.start
        highest = max(p.rate for p in self.probes)
        broke_bound = any(not self.sustains(p) for p in self.probes)
        if not (broke_bound and self._saturation_confirmed()) and highest * 2 <= self.ceiling:
            return highest * 2
        kept = self.sustainable()
        above = [p.rate for p in self.probes if not self.sustains(p)]
        if kept is None or not above:
            return None
        refined = sum(1 for p in self.probes if p.rate not in self._grid())
        low, high = kept.rate, min(r for r in above if r > kept.rate)
        if refined >= self.refine or high / low < 1.1:
            return None
        return round((low + high) / 2, 2)

    def _grid(self) -> set[float]:
        rate, grid = self.start, set()
        while rate <= self.ceiling:
            grid.add(rate)
            rate *= 2
        return grid

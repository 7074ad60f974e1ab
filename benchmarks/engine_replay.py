"""The system benchmark's events replayed into one matching engine in this process: the CPU the
engine alone spends on the work the matching service did, for `matching_service_vs_engine`.

The replay drives the engine as `benchmarks/measure.py` does for each event (the service's
order, each event drained on its own); everything before the measured window rebuilds the state
untimed, the window's events are timed in process CPU time (all threads, as psutil counts the
service's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from benchmarks.measure import partition_of, set_goal, update_mentor
from services.matching.adapters.warm_up import compile_kernels
from services.matching.domain.constraints import EngineConfig
from services.matching.domain.engine import TenantEngine
from services.matching.domain.people import Goal, Person
from services.matching.service_layer.search_threads import helper_threads

Event = Goal | Person


@dataclass
class EventLog:
    """What the benchmark published, in order, as the engine's inputs."""

    events: list[Event] = field(default_factory=list)
    window_from: int = 0  # the measured window's first event

    def add(self, event: Event) -> None:
        self.events.append(event)

    def mark_window(self) -> None:
        self.window_from = len(self.events)

    def window_events(self) -> int:
        return len(self.events) - self.window_from


def apply(engine: TenantEngine, event: Event) -> None:
    if isinstance(event, Goal):
        set_goal(engine, event)
    elif event.is_mentor:
        update_mentor(engine, event)
    else:
        engine.put_mentee(event, partition_of(event.user_id, engine.config.partitions))
        engine.drain()


def engine_cpu_s(log: EventLog, until: int | None = None) -> float:
    """CPU seconds the engine alone spends on the window's events (up to `until`)."""
    compile_kernels()
    engine = TenantEngine(EngineConfig(), helper_threads())
    for event in log.events[: log.window_from]:
        apply(engine, event)
    start = time.process_time()
    for event in log.events[log.window_from : until]:
        apply(engine, event)
    return time.process_time() - start

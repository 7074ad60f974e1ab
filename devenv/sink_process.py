"""An SMTP sink in a process of its own, for benchmarks.

A sink on a thread of the benchmark process shares one GIL with the load generator, and then
measures the harness more than the platform. This one runs `SmtpSink` in a child process and
reports each accepted email (when, to whom) through a queue, read by a thread here.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing.queues import Queue
from typing import Any

from devenv.infra import free_port, wait_for_port
from devenv.smtp_sink import ReceivedMail, SmtpSink

Arrival = tuple[float, list[str]]  # accepted at (wall clock, in the sink), recipients


def _serve(port: int, arrivals: Queue[Arrival | None], stop: Any) -> None:
    def report(mail: ReceivedMail) -> None:
        arrivals.put((time.time(), mail.recipients))

    with SmtpSink(port=port) as sink:
        sink.on_message(report)
        stop.wait()


class SinkProcess:
    host = "127.0.0.1"

    def __init__(self, on_arrival: Callable[[float, list[str]], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self._arrivals: Queue[Arrival | None] = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve, args=(self.port, self._arrivals, self._stop), daemon=True
        )
        self._reader = threading.Thread(target=self._read, args=(on_arrival,), daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def _read(self, on_arrival: Callable[[float, list[str]], None]) -> None:
        while (arrival := self._arrivals.get()) is not None:
            on_arrival(*arrival)

    def __enter__(self) -> SinkProcess:
        self._process.start()
        wait_for_port(self.host, self.port, 30)
        self._reader.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
        self._arrivals.put(None)
        self._reader.join(timeout=5)

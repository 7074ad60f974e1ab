"""Network faults for the chaos run: toxiproxy between each service and Kafka / PostgreSQL.

Every service gets two proxies: `<service>-kafka` in front of a broker listener of its own
(the broker advertises the proxy's port on that listener, so the addresses in Kafka's metadata
lead back through the proxy, scripts/kafka/start.sh --listener) and `<service>-postgres` in front
of PostgreSQL. A fault is a toxic on one proxy for a few seconds:
- latency: every reply waits `latency` ms more (with jitter);
- reset: connections are closed with a TCP RST as data arrives (and new ones too);
- blackhole: replies are dropped and each connection is closed only after the toxic's timeout,
  so a request can have reached the server while its answer never comes back.
toxiproxy is built from its Go module by scripts/install-toxiproxy.sh into .cache/.
"""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devenv.infra import free_port, wait_for_port
from devenv.processes import ROOT

KINDS = ("latency", "reset", "blackhole")
UPSTREAMS = ("kafka", "postgres")


def toxiproxy_binary() -> str:
    """Build toxiproxy once (the script prints the binary's path on its last line)."""
    script = ROOT / "scripts" / "install-toxiproxy.sh"
    command = ["bash", str(script)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - our script
    return result.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class NetFault:
    proxy: str  # "<service>-<upstream>"
    kind: str  # one of KINDS
    seconds: float

    def toxic(self) -> dict[str, object]:
        attributes: dict[str, int]
        if self.kind == "latency":
            kind, attributes = "latency", {"latency": 1500, "jitter": 500}
        elif self.kind == "reset":
            kind, attributes = "reset_peer", {"timeout": 0}
        else:
            kind, attributes = "timeout", {"timeout": int(self.seconds * 1000)}
        return {"name": "chaos", "type": kind, "stream": "downstream", "attributes": attributes}

    def __str__(self) -> str:
        return f"net {self.kind} {self.proxy} {self.seconds:.0f}s"


def random_net_fault(rng: random.Random, services: list[str]) -> NetFault:
    proxy = f"{rng.choice(services)}-{rng.choice(UPSTREAMS)}"
    return NetFault(proxy, rng.choice(KINDS), rng.uniform(2.0, 8.0))


@dataclass
class Toxiproxy:
    """One toxiproxy server; `proxy()` opens a listening port in front of an upstream."""

    log_path: Path
    api_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Toxiproxy:
        binary = toxiproxy_binary()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the binary we just built
                [binary, "-host", "127.0.0.1", "-port", str(self.api_port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port("127.0.0.1", self.api_port, 30, self.process)
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _api(self, method: str, path: str, body: object = None) -> httpx.Response:
        url = f"http://127.0.0.1:{self.api_port}{path}"
        response = httpx.request(method, url, json=body, timeout=10)
        response.raise_for_status()
        return response

    def proxy(self, name: str, upstream_port: int, listen_port: int | None = None) -> int:
        """A proxy from a new local port (or `listen_port`) to 127.0.0.1:upstream_port."""
        port = listen_port or free_port()
        body = {
            "name": name,
            "listen": f"127.0.0.1:{port}",
            "upstream": f"127.0.0.1:{upstream_port}",
            "enabled": True,
        }
        self._api("POST", "/proxies", body)
        return port

    def apply(self, fault: NetFault) -> None:
        """The toxic for `fault.seconds`, then removed (blocking)."""
        self._api("POST", f"/proxies/{fault.proxy}/toxics", fault.toxic())
        try:
            time.sleep(fault.seconds)
        finally:
            self._api("DELETE", f"/proxies/{fault.proxy}/toxics/chaos")

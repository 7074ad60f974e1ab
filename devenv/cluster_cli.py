"""`make cluster` / `make cluster-down`: the production shape, left running in the background.

`up` starts three Kafka nodes, a PostgreSQL primary with a synchronous standby (devenv/cluster.py),
an SMTP sink that saves each email as an .eml file, and the three services with
KAFKA_PROFILE=production; it prints the addresses and exits. Everything it started is written to
.cache/cluster/state.json; `down` stops exactly that (services, sink, PostgreSQL, Kafka).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from devenv.cluster import KafkaCluster, PostgresPair
from devenv.infra import free_port, wait_for_port
from devenv.processes import (
    ROOT,
    ApacheKafka,
    PostgresCluster,
    _pid_in,
    create_api_key,
    service_env,
    service_processes,
    start_all,
)

STATE_DIR = ROOT / ".cache" / "cluster"
STATE = STATE_DIR / "state.json"


def production_env(
    kafka_servers: str, database_url: str, smtp_port: int, prefix: str
) -> dict[str, str]:
    """What a service gets in the production shape; tokens and keys are fresh secrets."""
    token = secrets.token_urlsafe(16)
    return service_env(
        kafka_servers,
        database_url,
        smtp_port,
        prefix,
        KAFKA_PROFILE="production",
        LINK_SIGNING_KEYS=secrets.token_urlsafe(48),
        ERASURE_HASH_KEYS=secrets.token_urlsafe(48),
        MATCHING_ADMIN_TOKEN=token,
        NOTIFICATIONS_SUPPORT_TOKEN=token,
    )


def up() -> None:
    if STATE.exists():
        raise SystemExit(f"a cluster is already recorded in {STATE}: run `make cluster-down` first")
    for old in [*STATE_DIR.glob("kafka-*"), *STATE_DIR.glob("pg-*")]:
        shutil.rmtree(old)  # a fresh cluster each time: ports and the quorum change
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_DIR.chmod(0o777)  # run as root, PostgreSQL runs as an unprivileged user inside it
    kafka, postgres = KafkaCluster(STATE_DIR), PostgresPair(STATE_DIR)
    state: dict[str, object] = {
        "kafka": [str(node.data_dir) for node in kafka.nodes],
        "postgres": [str(postgres.primary.data_dir), str(postgres.standby.data_dir)],
    }
    _save(state)  # from here on, `down` can stop what started even if a later step fails
    print("starting 3 Kafka nodes and PostgreSQL primary + standby ...", flush=True)
    postgres.start()
    kafka.start()
    sink_port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "devenv.cluster_cli", "sink", str(sink_port)],
        stdout=(STATE_DIR / "sink.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state["sink"] = sink.pid
    _save(state)
    wait_for_port("127.0.0.1", sink_port, 30, sink)
    env = production_env(kafka.bootstrap_servers, postgres.url, sink_port, "mentorlink.")
    services = service_processes(env, STATE_DIR / "logs")
    try:
        start_all(services)
    finally:
        state["services"] = {s.name: s.process.pid for s in services.values() if s.process}
        _save(state)
    key = create_api_key(env, "demo", "make cluster")
    print(
        f"""
Kafka (3 KRaft nodes)   KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap_servers}
PostgreSQL              DATABASE_URL={postgres.url}
                        primary :{postgres.primary.port}, standby :{postgres.standby.port}
SMTP sink               127.0.0.1:{sink_port} (emails saved in {STATE_DIR / "mail"})
""".rstrip()
    )
    for service in services.values():
        print(f"{service.name:<23} {service.url('')}  (log {service.log_path})")
    print(f"API key (tenant demo)   {key}")
    print(f"Admin/support token     {env['MATCHING_ADMIN_TOKEN']}")
    print("Stop everything:        make cluster-down")


def down() -> None:
    if not STATE.exists():
        print(f"no cluster recorded in {STATE}")
        return
    state = json.loads(STATE.read_text())
    pids = [*state.get("services", {}).values(), state.get("sink")]
    for pid in pids:
        if pid and _is_ours(pid):
            os.kill(pid, signal.SIGTERM)
    for pid in pids:
        if pid:
            _wait_exit(pid)
    for data_dir in state.get("postgres", []):
        if _pid_in(Path(data_dir) / "postmaster.pid") is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                PostgresCluster(Path(data_dir)).stop()
    for data_dir in state.get("kafka", []):
        ApacheKafka(Path(data_dir), 0).stop()
    STATE.unlink()
    print(f"stopped; data and logs stay in {STATE_DIR} until the next `make cluster`")


def _is_ours(pid: int) -> bool:
    """Only signal a pid that still runs one of our modules (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"services." in cmdline or b"devenv.cluster_cli" in cmdline


def _wait_exit(pid: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _is_ours(pid):
        time.sleep(0.1)
    if _is_ours(pid):
        os.kill(pid, signal.SIGKILL)


def _save(state: dict[str, object]) -> None:
    STATE.write_text(json.dumps(state, indent=2))


def sink(port: int) -> None:
    """The SMTP sink as a process of its own; SIGTERM ends it."""
    from devenv.smtp_sink import SmtpSink

    mail_dir = STATE_DIR / "mail"
    mail_dir.mkdir(parents=True, exist_ok=True)
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    with SmtpSink(port=port) as server:
        server.on_message(lambda mail: (mail_dir / f"{time.time_ns()}.eml").write_bytes(mail.raw))
        while not stop:
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("up", "down", "sink"))
    parser.add_argument("port", nargs="?", type=int)
    args = parser.parse_args()
    if args.command == "up":
        try:
            up()
        except BaseException:
            print("start failed: stopping what started (logs stay in .cache/cluster)", flush=True)
            down()
            raise
    elif args.command == "down":
        down()
    else:
        sink(args.port)


if __name__ == "__main__":
    main()

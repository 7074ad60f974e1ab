"""`make dev`: the whole platform on this machine, each service its own OS process.

Infrastructure comes from devenv.infra (embedded broker and PostgreSQL unless the environment
names real ones) and an SMTP sink that saves every email as an .eml file. Ctrl-C stops it all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from devenv import infra
from devenv.smtp_sink import ReceivedMail, SmtpSink

ROOT = Path(__file__).resolve().parent.parent
MAIL_DIR = ROOT / ".cache" / "dev" / "mail"
PORTS = {"profile": 8000, "matching": 8001, "notifications": 8002}
TENANT = "demo"
DEV_TOKEN = secrets.token_urlsafe(16)  # this run's support-log, matching-admin and read token
# This run's link signing key: never a published one, so links of a dev run cannot be forged.
DEV_LINK_KEYS = os.environ.get("LINK_SIGNING_KEYS") or secrets.token_urlsafe(32)
# make dev's PostgreSQL lives as long as the run, so a per-run erasure key loses nothing.
DEV_ERASURE_KEYS = os.environ.get("ERASURE_HASH_KEYS") or secrets.token_urlsafe(32)


def _save_mail(mail: ReceivedMail) -> None:
    MAIL_DIR.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{abs(hash(mail.message_id)) % 10**8:08d}.eml"
    (MAIL_DIR / name).write_bytes(mail.raw)  # the bytes received, not a re-serialised copy
    print(f"  [mail] {mail.message['Subject']} -> saved {MAIL_DIR / name}", flush=True)


def _wait_ready(service: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    url = f"http://127.0.0.1:{PORTS[service]}/readyz"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{service} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{service} not ready within {timeout_s}s")


def _create_api_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.profile",
            "keys",
            "create",
            "--tenant",
            TENANT,
            "--label",
            "make dev",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with ExitStack() as stack:
        print("Starting infrastructure ...", flush=True)
        kafka = stack.enter_context(infra.kafka())
        print(f"Kafka: {_broker_name(kafka)}, chosen because {kafka.reason}", flush=True)
        postgres = stack.enter_context(infra.postgres())
        sink = stack.enter_context(SmtpSink(port=int(os.environ.get("DEV_SMTP_PORT", "1025"))))
        sink.on_message(_save_mail)
        base_env = {
            **os.environ,
            **kafka.env(),
            "DATABASE_URL": postgres.url,
            "SMTP_HOST": sink.host,
            "SMTP_PORT": str(sink.port),
            # Local conveniences (production keeps the defaults or sets real secrets):
            "NOTIFICATIONS_DIGEST_WINDOW_S": os.environ.get("NOTIFICATIONS_DIGEST_WINDOW_S", "2"),
            "NOTIFICATIONS_SUPPORT_TOKEN": os.environ.get("NOTIFICATIONS_SUPPORT_TOKEN", DEV_TOKEN),
            "MATCHING_ADMIN_TOKEN": os.environ.get("MATCHING_ADMIN_TOKEN", DEV_TOKEN),
            # the read API: profile forwards to matching's internal routes (ADR 0011)
            "MATCHING_READ_TOKEN": os.environ.get("MATCHING_READ_TOKEN", DEV_TOKEN),
            "PROFILE_MATCHING_URL": f"http://127.0.0.1:{PORTS['matching']}",
            "LINK_SIGNING_KEYS": DEV_LINK_KEYS,
            "ERASURE_HASH_KEYS": DEV_ERASURE_KEYS,
        }
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for service, port in PORTS.items():
                env = {**base_env, "HTTP_PORT": str(port)}
                processes[service] = subprocess.Popen(
                    [sys.executable, "-m", f"services.{service}"], env=env
                )
                _wait_ready(service, processes[service])
            api_key = _create_api_key(base_env)
            _print_banner(kafka, postgres, sink, api_key)
            while not stop.is_set():
                for service, process in processes.items():
                    if process.poll() is not None:
                        print(f"{service} exited with {process.returncode}; stopping", flush=True)
                        stop.set()
                stop.wait(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
            print("\nStopping ...", flush=True)
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
    print("Stopped.", flush=True)


def _broker_name(kafka: infra.KafkaEndpoint) -> str:
    return {
        "apache": "Apache Kafka (KRaft, on the JVM)",
        "embedded": "the embedded Tansu broker (memory only, no idempotent producers)",
        "testcontainers": "Apache Kafka in a container",
        "external": "the brokers you named",
    }.get(kafka.kind, kafka.kind)


def _print_banner(
    kafka: infra.KafkaEndpoint, postgres: infra.PostgresEndpoint, sink: SmtpSink, api_key: str
) -> None:
    print(
        f"""
Mentorlink is running (Ctrl-C stops everything).

  Profile API        http://127.0.0.1:{PORTS["profile"]}/docs   (OpenAPI)
  AsyncAPI docs      http://127.0.0.1:{PORTS["profile"]}/asyncapi  (profile)
                     http://127.0.0.1:{PORTS["matching"]}/asyncapi  (matching)
                     http://127.0.0.1:{PORTS["notifications"]}/asyncapi  (notifications)
  Health, metrics    http://127.0.0.1:<port>/healthz  /readyz  /metrics
  Delivery log       http://127.0.0.1:{PORTS["notifications"]}/v1/support/deliveries?tenant_id={TENANT}
                     (Authorization: Bearer {DEV_TOKEN})
  Matching check     http://127.0.0.1:{PORTS["matching"]}/admin/verify  (same token)
  Received emails    {MAIL_DIR}/  (SMTP sink on {sink.host}:{sink.port})
  Kafka              {kafka.bootstrap_servers}  ({_broker_name(kafka)}; {kafka.reason})
  PostgreSQL ({postgres.kind})
  API key (tenant "{TENANT}")  {api_key}

Try it:
  export KEY={api_key}
  curl -X PUT http://127.0.0.1:{PORTS["profile"]}/v1/profiles/mentor-1 \\
       -H "Authorization: Bearer $KEY" \\
       -H 'Content-Type: application/json' -d @docs/examples/mentor.json
""",
        flush=True,
    )


if __name__ == "__main__":
    main()

"""What a newcomer does, checked: a fresh clone, `make dev`, the README's curl calls word for word,
the proposal email within 30 s, Ctrl-C, and no process left behind.

Run as `make newcomer-check` (CI runs it). It clones the committed HEAD of this repository into a
temporary folder, so it checks what a newcomer would get, not the working tree. It fails on any
drift between the README and the code: a renamed example file, a changed route, a banner that no
longer prints the key, an email that no longer arrives.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 600  # includes the first install and fetching Kafka's jars
EMAIL_TIMEOUT_S = 30
STOP_TIMEOUT_S = 60
# Variables a newcomer would not have set; the check must not inherit them from CI or a shell.
NOT_A_NEWCOMERS = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_ENABLE_IDEMPOTENCE",
    "DATABASE_URL",
    "VIRTUAL_ENV",
)


def readme_curl_calls(readme: str) -> list[str]:
    """The curl commands of the README's first bash block that uses $KEY, joined across `\\`."""
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        if "$KEY" not in block:
            continue
        joined = re.sub(r"\\\n\s*", " ", block)
        calls = [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]
        if calls:
            return calls
    raise SystemExit("newcomer-check: no curl calls with $KEY found in README.md")


def processes_under(folder: Path) -> list[str]:
    """Processes whose command line or working directory lies in the folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if str(folder) in cmdline or cwd.startswith(str(folder)):
            found.append(f"{entry.name}: {cmdline[:160]}")
    return found


class DevRun:
    def __init__(self, clone: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k not in NOT_A_NEWCOMERS}
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["make", "dev"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            print(f"  | {line}", end="", flush=True)

    def wait_for_key(self) -> str:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in self.lines:
                if match := re.match(r"\s*export KEY=(\S+)", line):
                    return match.group(1)
            if self.process.poll() is not None:
                raise SystemExit(f"newcomer-check: make dev exited with {self.process.returncode}")
            time.sleep(0.2)
        raise SystemExit(f"newcomer-check: make dev printed no key within {READY_TIMEOUT_S}s")

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise SystemExit(
                f"newcomer-check: make dev still running {STOP_TIMEOUT_S}s after Ctrl-C"
            ) from error


def run_curls(calls: list[str], clone: Path, key: str) -> None:
    for call in calls:
        print(f"$ {call}", flush=True)
        result = subprocess.run(
            ["bash", "-c", call],
            cwd=clone,
            env={**os.environ, "KEY": key},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        print(f"  {result.stdout.strip()[:300]}", flush=True)
        if result.returncode != 0 or re.search(r'"status"\s*:\s*[45]\d\d', result.stdout):
            raise SystemExit(f"newcomer-check: the README's call failed:\n{call}\n{result.stderr}")


def wait_for_email(mail_dir: Path) -> bytes:
    deadline = time.monotonic() + EMAIL_TIMEOUT_S
    while time.monotonic() < deadline:
        emails = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
        if emails:
            return emails[0].read_bytes()
        time.sleep(0.2)
    raise SystemExit(f"newcomer-check: no email in {mail_dir} within {EMAIL_TIMEOUT_S}s")


def main() -> int:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    calls = readme_curl_calls(readme)
    folder = Path(tempfile.mkdtemp(prefix="mentorlink-newcomer-"))
    clone = folder / "mentorlink"
    dev: DevRun | None = None
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        started = time.monotonic()
        dev = DevRun(clone)
        key = dev.wait_for_key()
        ready_s = time.monotonic() - started
        run_curls(calls, clone, key)
        sent = time.monotonic()
        raw = wait_for_email(clone / ".cache" / "dev" / "mail")
        email_s = time.monotonic() - sent
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if "Grace Hopper" not in text:
            raise SystemExit(
                "newcomer-check: the email does not name Grace Hopper, as the README says"
            )
        code = dev.ctrl_c()
        deadline = time.monotonic() + 10
        while (left := processes_under(clone)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if left:
            raise SystemExit("newcomer-check: processes left after Ctrl-C:\n" + "\n".join(left))
        print(
            f"newcomer_check=ok ready_s={ready_s:.1f} email_s={email_s:.1f} "
            f"curl_calls={len(calls)} make_dev_exit={code} processes_left=0",
            flush=True,
        )
        return 0
    finally:
        if dev is not None and dev.process.poll() is None:
            os.killpg(dev.process.pid, signal.SIGKILL)
        for line in processes_under(clone):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""SIGTERM while a handler outlives the graceful timeout must not commit that message's offset.

FastStream issue #2999: some 0.7 releases acked a handler cancelled at graceful shutdown, so
its offset was committed and the unfinished message was lost. 0.7.8 (pinned) neither acks nor
nacks a cancelled handler. This test runs a real subprocess (this module, run as a script) that
consumes with the project's broker, dead-letter middleware and `subscriber_options`, sends it
SIGTERM while its handler blocks, and checks against the real broker that:
- the group's committed offset is the blocked message's own offset (not the one after it), and
- a new consumer in the same group receives the blocked message first.

Why this fails if the offset were committed: message 1 is handled and committed (offset 1),
message 2 blocks. A commit at shutdown would move the group to offset 2, so the new consumer
would start at the marker (message 3) and the committed offset would read 2. The
`simulated-issue-2999` case proves it: a middleware that acks on cancellation (what the buggy
releases did) makes exactly those two observations flip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings
from tests.support.polling import eventually

GRACEFUL_TIMEOUT_S = 1.0
CHILD_MODULE = "tests.integration.test_graceful_shutdown"


# --- the child process -------------------------------------------------------------------


def _ack_on_cancel_middleware() -> Any:
    """Reproduces issue #2999: commit the offset of a handler cancelled at shutdown."""
    from faststream import BaseMiddleware

    class AckOnCancel(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            try:
                return await call_next(msg)
            except asyncio.CancelledError:
                await msg.ack()
                raise

    return AckOnCancel


async def _serve(topic: str, group: str, simulate_issue_2999: bool) -> None:
    from faststream import FastStream

    from shared.kafka.broker import build_broker
    from shared.kafka.consumer import install_dead_letter, subscriber_options

    broker = build_broker(KafkaSettings(), "shutdown-probe", graceful_timeout=GRACEFUL_TIMEOUT_S)
    install_dead_letter(broker, "shutdown-probe")
    if simulate_issue_2999:
        broker.add_middleware(_ack_on_cancel_middleware())

    @broker.subscriber(topic, **subscriber_options(group))
    async def on_message(body: dict[str, Any]) -> None:
        print(f"handling {body['n']}", flush=True)
        if body.get("block"):
            await asyncio.sleep(3600)  # far longer than the graceful timeout
        print(f"handled {body['n']}", flush=True)

    await FastStream(broker).run()
    print("stopped", flush=True)


# --- the test ----------------------------------------------------------------------------


@dataclass
class Child:
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode().strip())

    async def printed(self, line: str) -> None:
        await eventually(lambda: line in self.lines, timeout=60, what=f"child printed {line!r}")


@asynccontextmanager
async def child_process(
    env: dict[str, str], topic: str, group: str, simulate_issue_2999: bool
) -> AsyncIterator[Child]:
    args = ["-m", CHILD_MODULE, "--topic", topic, "--group", group]
    if simulate_issue_2999:
        args.append("--simulate-issue-2999")
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE
    )
    child = Child(process)
    reader = asyncio.create_task(child.read())
    try:
        yield child
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await reader


async def _create_topic(settings: KafkaSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()


async def _send(settings: KafkaSettings, topic: str, body: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(**client_kwargs(settings))
    await producer.start()
    try:
        await producer.send_and_wait(topic, json.dumps(body).encode(), key=b"k")
    finally:
        await producer.stop()


async def _committed(settings: KafkaSettings, group: str, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    position = offsets.get(TopicPartition(topic, 0))
    return None if position is None else position.offset


async def _first_message_for_group(settings: KafkaSettings, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(
        topic,
        **client_kwargs(settings),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=60)
    finally:
        await consumer.stop()
    n: int = json.loads(record.value)["n"]
    return n


@pytest.mark.broker_feature("offsets_api")
@pytest.mark.parametrize(
    ("simulate_issue_2999", "expected_first", "expected_committed"),
    [
        pytest.param(False, 2, 1, id="pinned-faststream"),
        pytest.param(True, 3, 2, id="simulated-issue-2999"),
    ],
)
async def test_sigterm_during_a_long_handler_leaves_its_offset_uncommitted(
    kafka_endpoint, unique: str, simulate_issue_2999: bool, expected_first: int, expected_committed
) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka_endpoint.bootstrap_servers)
    topic, group = f"shutdown-{unique}", f"shutdown-{unique}.group"
    await _create_topic(settings, topic)

    async with child_process(kafka_endpoint.env(), topic, group, simulate_issue_2999) as child:
        await _send(settings, topic, {"n": 1})
        await child.printed("handled 1")
        await _send(settings, topic, {"n": 2, "block": True})
        await child.printed("handling 2")  # message 1 was acked before handler 2 started

        child.process.send_signal(signal.SIGTERM)
        await eventually(lambda: child.process.returncode is not None, timeout=60, what="exit")
        assert "handled 2" not in child.lines
        assert "stopped" in child.lines, child.lines  # a graceful stop, not a crash

    await _send(settings, topic, {"n": 3})  # a marker after the unfinished message
    assert await _committed(settings, group, topic) == expected_committed
    assert await _first_message_for_group(settings, group, topic) == expected_first


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--simulate-issue-2999", action="store_true")
    options = parser.parse_args()
    asyncio.run(_serve(options.topic, options.group, options.simulate_issue_2999))

"""A frozen node: lookups avoid a node that just timed out (shared/kafka/node_choice.py), and
a connection to another node does not wait for an attempt to it (node_connect.py); issue 27.

The "frozen" node is a real local socket that accepts connections and never answers, as a
SIGSTOPped broker does: aiokafka's own connection to it times out. The other nodes are only
addresses in the client's metadata; choosing a node does not contact them.
"""

from __future__ import annotations

import asyncio
import struct
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.conn import create_conn
from aiokafka.protocol.admin import ApiVersionResponse_v0
from aiokafka.protocol.metadata import MetadataRequest, MetadataResponse_v0
from aiokafka.protocol.produce import ProduceRequest

import shared.kafka.connection  # noqa: F401  (installs the node choice, as every client gets it)
from shared.kafka import node_choice

PICKS = 60


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
async def half_silent_port() -> AsyncIterator[int]:
    """A node that answers the connection's ApiVersions request, then nothing more."""
    held: list[asyncio.StreamWriter] = []

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (size,) = struct.unpack(">i", await reader.readexactly(4))
        correlation_id = (await reader.readexactly(size))[4:8]
        body = ApiVersionResponse_v0(0, [(0, 0, 3), (3, 0, 1)]).encode()
        writer.write(struct.pack(">i", 4 + len(body)) + correlation_id + body)
        held.append(writer)

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


def client_knowing(frozen_port: int) -> AIOKafkaClient:
    """A client whose metadata lists node 2 at the silent socket and two other nodes."""
    client = AIOKafkaClient(bootstrap_servers="127.0.0.1:9")
    brokers = [(1, "127.0.0.1", 1), (2, "127.0.0.1", frozen_port), (3, "127.0.0.1", 3)]
    client.cluster.update_metadata(MetadataResponse_v0(brokers, []))
    return client


async def time_out_against(port: int) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await create_conn("127.0.0.1", port, request_timeout_ms=100)


async def test_a_node_whose_connection_timed_out_is_not_asked_for_lookups(
    silent_port: int,
) -> None:
    client = client_knowing(silent_port)
    await time_out_against(silent_port)

    picks = Counter(client.get_random_node() for _ in range(PICKS))

    assert picks[2] == 0
    assert picks[1] > 0 and picks[3] > 0  # the others still share the lookups


async def test_metadata_is_asked_of_the_suspect_node_last(silent_port: int) -> None:
    client = client_knowing(silent_port)
    await time_out_against(silent_port)

    orders = [node_choice.suspects_last(client, [1, 2, 3]) for _ in range(PICKS)]

    assert all(order[-1] == 2 for order in orders)
    assert {order[0] for order in orders} == {1, 3}


async def test_any_node_is_asked_when_all_of_them_timed_out(silent_port: int) -> None:
    client = AIOKafkaClient(bootstrap_servers="127.0.0.1:9")
    client.cluster.update_metadata(MetadataResponse_v0([(2, "127.0.0.1", silent_port)], []))
    await time_out_against(silent_port)

    assert client.get_random_node() == 2


async def test_a_request_a_live_broker_may_hold_does_not_make_its_node_suspect(
    half_silent_port: int,
) -> None:
    conn = await create_conn("127.0.0.1", half_silent_port, request_timeout_ms=100)
    try:
        with pytest.raises(asyncio.TimeoutError):  # acks=all waits for the ISR on a live node too
            await conn.send(ProduceRequest(None, -1, 1000, []))
        assert not node_choice.is_suspect("127.0.0.1", half_silent_port)

        with pytest.raises(asyncio.TimeoutError):
            await conn.send(MetadataRequest([]))
        assert node_choice.is_suspect("127.0.0.1", half_silent_port)
    finally:
        conn.close()


def test_suspicion_lapses() -> None:
    node_choice.note_timeout("10.0.0.7", 9092, now=100.0)

    assert node_choice.is_suspect("10.0.0.7", 9092, now=100.0 + node_choice.SUSPECT_S - 1)
    assert not node_choice.is_suspect("10.0.0.7", 9092, now=100.0 + node_choice.SUSPECT_S)
    assert not node_choice.is_suspect("10.0.0.8", 9092, now=100.0)


async def test_a_connection_to_a_live_node_does_not_wait_for_an_attempt_to_a_silent_one(
    silent_port: int, half_silent_port: int
) -> None:
    """aiokafka alone opened every connection of a client under one lock: a group's connection
    to its new coordinator waited while the fetcher kept trying the frozen old leader."""
    client = AIOKafkaClient(bootstrap_servers="127.0.0.1:9", request_timeout_ms=3000)
    brokers = [(1, "127.0.0.1", half_silent_port), (2, "127.0.0.1", silent_port)]
    client.cluster.update_metadata(MetadataResponse_v0(brokers, []))
    to_the_silent_node = asyncio.create_task(client._get_conn(2))
    await asyncio.sleep(0)  # the attempt to node 2 starts first, as the fetcher's did
    try:
        conn = await asyncio.wait_for(client._get_conn(1), timeout=1.5)
        assert conn is not None and conn.connected()
        assert not to_the_silent_node.done()  # node 2's attempt is still waiting meanwhile
    finally:
        assert await to_the_silent_node is None  # it times out, as before
        await client.close()

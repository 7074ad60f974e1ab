"""Ask a node that answers, not one that just timed out, for metadata and coordinators.

aiokafka (0.14) sends its metadata requests and FindCoordinator lookups to a node picked at
random (`AIOKafkaClient.get_random_node`; `_metadata_update` shuffles the brokers), the node
whose requests have just timed out included. A machine that vanishes (power, network; SIGSTOP
locally) stays in the metadata until the controllers fence it, and every new connection to it
waits a whole request timeout before the client tries another node: one more request timeout
per unlucky pick, after the leaders have already moved (docs/operations.md, "A machine that
vanishes"). The Java client avoids this by sending such requests to the least loaded node it
can reach, not to one it is still connecting to.

`install` makes every aiokafka client of the process remember, for `SUSPECT_S`, the address of
a node whose connection attempt or a request that a live broker answers at once timed out, and
ask the other nodes first; when every node is suspect it asks any of them, as before. Requests
that a live broker may hold (a produce or an offset commit waiting for `acks=all` while the
vanished node is still in the ISR, a JoinGroup or SyncGroup waiting for the other members) do
not count: they time out on the live nodes too, and counting them made every node suspect in
`make bench-failover`. Requests addressed to a given node (a partition leader, the known
coordinator) are not affected.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiokafka
from aiokafka.client import AIOKafkaClient, ConnectionGroup, log
from aiokafka.cluster import ClusterMetadata
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import ApiVersionRequest
from aiokafka.protocol.commit import OffsetFetchRequest
from aiokafka.protocol.coordination import FindCoordinatorRequest
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.group import HeartbeatRequest
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.protocol.offset import OffsetRequest

CHECKED_AGAINST = "0.14.0"  # `_metadata_update` below is aiokafka 0.14.0's, with one line changed

# Longer than the fencing of a vanished node (6-9 s with the production broker session) plus a
# request timeout, so that by the time a node stops being suspect the metadata no longer lists
# it if it is still gone. A live node wrongly suspected only loses its turn for lookups.
SUSPECT_S = 30.0

# A live broker answers these within the request timeout whatever the other nodes do (a fetch is
# held at most fetch_max_wait_ms, 500 ms), so their timing out says the node itself is silent.
ANSWERED_AT_ONCE = (
    ApiVersionRequest,
    MetadataRequest,
    FindCoordinatorRequest,
    HeartbeatRequest,
    FetchRequest,
    OffsetRequest,
    OffsetFetchRequest,
)

_timed_out_at: dict[tuple[str, int], float] = {}

T = TypeVar("T")


def note_timeout(host: str, port: int, now: float | None = None) -> None:
    _timed_out_at[(host, port)] = time.monotonic() if now is None else now


def is_suspect(host: str, port: int, now: float | None = None) -> bool:
    at = _timed_out_at.get((host, port))
    return at is not None and (time.monotonic() if now is None else now) - at < SUSPECT_S


def forget_all() -> None:
    _timed_out_at.clear()


def suspects_last(client: AIOKafkaClient, node_ids: Sequence[Any]) -> list[Any]:
    """The nodes in random order, those that timed out recently after the others."""
    shuffled = list(node_ids)
    random.shuffle(shuffled)
    return sorted(shuffled, key=lambda node_id: _suspect_node(client, node_id))


def _suspect_node(client: AIOKafkaClient, node_id: Any) -> bool:
    broker = client.cluster.broker_metadata(node_id) if node_id != "bootstrap" else None
    return broker is not None and is_suspect(broker.host, broker.port)


def _get_random_node(self: AIOKafkaClient) -> Any:
    nodes = suspects_last(self, [b.nodeId for b in self.cluster.brokers()])
    return nodes[0] if nodes else None


async def _metadata_update(
    self: AIOKafkaClient, cluster_metadata: ClusterMetadata, topics: Any
) -> bool:
    assert isinstance(cluster_metadata, ClusterMetadata)
    metadata_request = MetadataRequest(list(topics) if topics else None)
    nodeids: list[Any] = [b.nodeId for b in self.cluster.brokers()]
    bootstrap_id = ("bootstrap", ConnectionGroup.DEFAULT)
    if bootstrap_id in self._conns:
        nodeids.append("bootstrap")
    nodeids = suspects_last(self, nodeids)  # aiokafka: random.shuffle(nodeids)
    for node_id in nodeids:
        conn = await self._get_conn(node_id)
        if conn is None:
            continue
        log.debug("Sending metadata request %s to node %s", metadata_request, node_id)
        try:
            metadata = await conn.send(metadata_request)
        except (TimeoutError, KafkaError) as err:
            log.warning("Unable to request metadata from node with id %s: %r", node_id, err)
            continue
        if not metadata.brokers:
            return False
        cluster_metadata.update_metadata(metadata)
        if bootstrap_id in self._conns and len(self.cluster.brokers()):
            self._conns.pop(bootstrap_id).close()
        break
    else:
        log.error("Unable to update metadata from %s", nodeids)
        cluster_metadata.failed_update(None)
        return False
    return True


async def _noting_timeout(conn: AIOKafkaConnection, pending: Awaitable[T]) -> T:
    try:
        return await pending
    except TimeoutError:
        note_timeout(conn.host, conn.port)
        raise


def _watched_send(plain_send: Callable[..., Any]) -> Callable[..., Any]:
    def send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
        pending = plain_send(self, request, expect_response)
        if not isinstance(request, ANSWERED_AT_ONCE):
            return pending
        return _noting_timeout(self, pending)

    send.node_choice_watch = True  # type: ignore[attr-defined]
    return send


def _watched_connect(plain_connect: Callable[..., Any]) -> Callable[..., Any]:
    async def connect(self: AIOKafkaConnection) -> Any:
        return await _noting_timeout(self, plain_connect(self))

    connect.node_choice_watch = True  # type: ignore[attr-defined]
    return connect


def install() -> None:
    """Every aiokafka client of this process, FastStream's included; idempotent."""
    if aiokafka.__version__ != CHECKED_AGAINST:
        raise RuntimeError(
            f"shared/kafka/node_choice.py replaces aiokafka {CHECKED_AGAINST}'s metadata update; "
            f"check it against aiokafka {aiokafka.__version__} before using that version"
        )
    if not getattr(AIOKafkaConnection.send, "node_choice_watch", False):
        AIOKafkaConnection.send = _watched_send(AIOKafkaConnection.send)
    if not getattr(AIOKafkaConnection.connect, "node_choice_watch", False):
        AIOKafkaConnection.connect = _watched_connect(AIOKafkaConnection.connect)
    AIOKafkaClient.get_random_node = _get_random_node
    AIOKafkaClient._metadata_update = _metadata_update

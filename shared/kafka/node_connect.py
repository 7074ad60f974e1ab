"""Connecting to one Kafka node does not wait for a connection attempt to another.

aiokafka (0.14) opens every new connection of a client under one lock
(`AIOKafkaClient._get_conn_lock`), and an attempt to a node that vanished (power, network;
SIGSTOP locally) holds it for a whole request timeout before it fails. Until the metadata stops
naming that node as a partition leader, the fetcher and the producer try it again and again, so
the lock is almost always held by an attempt to the silent node: a consumer group's connection
to its new coordinator, or to a partition's new leader, waited behind them until the node came
back. In `make bench-failover` every group whose coordinator had frozen reached the new one only
when the frozen node was thawed, 20 s later, and had to rejoin (`member_id was not recognized`
in matching and notifications within the same 20 ms). The Java client connects to every node on
its own, without blocking the others (`NetworkClient`); kafkajs made the same change
(tulios/kafkajs#81).

`install` gives each (node, connection group) its own lock: attempts to the same node still
wait for each other, as before, and no longer hold up the other nodes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiokafka
from aiokafka.client import AIOKafkaClient, ConnectionGroup, log
from aiokafka.conn import AIOKafkaConnection, create_conn
from aiokafka.errors import KafkaError, StaleMetadata

CHECKED_AGAINST = "0.14.0"  # `_get_conn` below is aiokafka 0.14.0's, with its lock changed


def _lock_for(client: AIOKafkaClient, conn_id: tuple[Any, ConnectionGroup]) -> asyncio.Lock:
    locks: dict[tuple[Any, ConnectionGroup], asyncio.Lock] = client.__dict__.setdefault(
        "_node_connect_locks", {}
    )
    return locks.setdefault(conn_id, asyncio.Lock())


async def _get_conn(
    self: AIOKafkaClient,
    node_id: Any,
    *,
    group: ConnectionGroup = ConnectionGroup.DEFAULT,
    no_hint: bool = False,
) -> AIOKafkaConnection | None:
    "Get or create a connection to a broker using host and port"
    conn_id = (node_id, group)
    if conn_id in self._conns:
        conn = self._conns[conn_id]
        if not conn.connected():
            del self._conns[conn_id]
        else:
            return conn

    try:
        broker = self.cluster.broker_metadata(node_id)
        if broker is None:
            raise StaleMetadata(f"Broker id {node_id} not in current metadata")

        log.debug("Initiating connection to node %s at %s:%s", node_id, broker.host, broker.port)

        async with _lock_for(self, conn_id):  # aiokafka: async with self._get_conn_lock
            if conn_id in self._conns:
                return self._conns[conn_id]

            self._conns[conn_id] = await create_conn(
                broker.host,
                broker.port,
                client_id=self._client_id,
                request_timeout_ms=self._request_timeout_ms,
                ssl_context=self._ssl_context,
                security_protocol=self._security_protocol,
                on_close=self._on_connection_closed,
                max_idle_ms=self._connections_max_idle_ms,
                sasl_mechanism=self._sasl_mechanism,
                sasl_plain_username=self._sasl_plain_username,
                sasl_plain_password=self._sasl_plain_password,
                sasl_kerberos_service_name=self._sasl_kerberos_service_name,
                sasl_kerberos_domain_name=self._sasl_kerberos_domain_name,
                sasl_oauth_token_provider=self._sasl_oauth_token_provider,
            )
    except (OSError, TimeoutError, KafkaError) as err:
        log.error("Unable connect to node with id %s: %s", node_id, err)
        # Connection failures imply that our metadata is stale, so let's refresh
        self.force_metadata_update()
        return None
    else:
        return self._conns[conn_id]


def install() -> None:
    """Every aiokafka client of this process, FastStream's included; idempotent."""
    if aiokafka.__version__ != CHECKED_AGAINST:
        raise RuntimeError(
            f"shared/kafka/node_connect.py replaces aiokafka {CHECKED_AGAINST}'s _get_conn; "
            f"check it against aiokafka {aiokafka.__version__} before using that version"
        )
    AIOKafkaClient._get_conn = _get_conn

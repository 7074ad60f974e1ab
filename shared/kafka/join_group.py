"""JoinGroup gets its own request timeout, as in Apache Kafka's Java consumer.

aiokafka (0.14) bounds every request of a connection by the one `request_timeout_ms`, JoinGroup
included. But the group coordinator legitimately holds a JoinGroup until the other members have
rejoined, for up to the rebalance timeout the request carries (aiokafka: the group session, 10 s,
unless set). A request timeout below that abandons a join that is on its way: the client closes
the coordinator connection, marks the coordinator dead and joins again, and a slow rebalance can
repeat this over and over (zendesk/ruby-kafka#941 describes the loop). The Java consumer waits
max(request timeout, rebalance timeout + 5 s) for a JoinGroup (KAFKA-5570, apache/kafka#8702);
`install` makes aiokafka do the same, so the request timeout can be short enough for a frozen
leader (docs/operations.md, "A machine that vanishes") without cutting rebalances short.
"""

from __future__ import annotations

from typing import Any

from aiokafka.conn import AIOKafkaConnection
from aiokafka.protocol.group import JoinGroupRequest

JOIN_GROUP_LAPSE_S = 5.0  # the Java consumer's JOIN_GROUP_TIMEOUT_LAPSE

_plain_send = AIOKafkaConnection.send


def join_group_timeout_s(request_timeout_s: float, rebalance_timeout_ms: int) -> float:
    """How long a JoinGroup may wait for its answer."""
    return max(request_timeout_s, rebalance_timeout_ms / 1000 + JOIN_GROUP_LAPSE_S)


def _send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
    if not isinstance(request, JoinGroupRequest):
        return _plain_send(self, request, expect_response)
    # `send` reads the timeout once, when it builds the awaitable it returns.
    default = self._request_timeout
    self._request_timeout = join_group_timeout_s(default, request._rebalance_timeout)
    try:
        return _plain_send(self, request, expect_response)
    finally:
        self._request_timeout = default


def install() -> None:
    """Every aiokafka connection of this process, FastStream's included; idempotent."""
    AIOKafkaConnection.send = _send

"""One place that turns KafkaSettings into client arguments."""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from shared.kafka import join_group, node_choice, node_connect
from shared.kafka.partitioner import person_partitioner
from shared.settings import KafkaSettings

# Every client is built with these arguments (FastStream's through shared/kafka/broker.py, which
# imports this module), so the JoinGroup timeout and the choice of node for lookups are in place
# before any of them connects. node_choice wraps the connection's send that join_group installs;
# node_connect lets a connection to one node go ahead while an attempt to a silent one waits.
join_group.install()
node_choice.install()
node_connect.install()


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    if settings.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
    )
    return context


def client_kwargs(settings: KafkaSettings) -> dict[str, Any]:
    """Connection arguments common to aiokafka producers, consumers and admin clients."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.servers(),
        "security_protocol": settings.security_protocol,
        "request_timeout_ms": int(settings.connect_timeout_s * 1000),
    }
    if context := ssl_context(settings):
        kwargs["ssl_context"] = context
    if settings.sasl_mechanism:
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        kwargs["sasl_plain_username"] = settings.sasl_username
        kwargs["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    return kwargs


def producer_kwargs(settings: KafkaSettings) -> dict[str, Any]:
    acks: int | str = "all" if settings.acks == "all" else int(settings.acks)
    return {
        **client_kwargs(settings),
        "acks": acks,
        "enable_idempotence": settings.enable_idempotence,
        "linger_ms": settings.linger_ms,
        "partitioner": person_partitioner,
    }

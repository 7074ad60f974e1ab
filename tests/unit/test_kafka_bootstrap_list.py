"""A production bootstrap list names several brokers: every client must get each of them.

Regression: the FastStream broker wrapped the string in a list, and aiokafka reads each list
item as one host, so "a:1,b:2" became the host "a:1,b" and every service of `make cluster`
failed to start.
"""

from __future__ import annotations

from aiokafka.client import AIOKafkaClient

from shared.kafka.broker import build_broker
from shared.kafka.connection import client_kwargs
from shared.settings import KafkaSettings

SERVERS = "10.0.0.1:9092, 10.0.0.2:9092,10.0.0.3:9092"
HOSTS = [("10.0.0.1", 9092), ("10.0.0.2", 9092), ("10.0.0.3", 9092)]


async def hosts_of(bootstrap_servers: object) -> list[tuple[str, int]]:
    """The hosts aiokafka will try (in a random order), as its own client parses them."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers)
    return sorted((host, port) for host, port, _ in client.hosts)


async def test_clients_get_every_broker_of_the_list() -> None:
    settings = KafkaSettings(bootstrap_servers=SERVERS)
    assert await hosts_of(client_kwargs(settings)["bootstrap_servers"]) == HOSTS


async def test_the_faststream_broker_gets_every_broker_of_the_list() -> None:
    broker = build_broker(KafkaSettings(bootstrap_servers=SERVERS), "test")
    consumer_options = broker.config.broker_config.builder.keywords
    assert await hosts_of(consumer_options["bootstrap_servers"]) == HOSTS

"""The one-line start-up failure names where PostgreSQL was looked for, never the password.

Regression: a failover URL with two hosts ("h1:5432,h2:5432") made the message itself fail
(urllib cannot read a port from it), so the service died with a traceback instead of the line.
"""

from __future__ import annotations

from shared.startup import _postgres_location


def test_a_failover_url_names_both_hosts() -> None:
    dsn = "postgresql://app:secret@10.0.0.1:5432,10.0.0.2:5433/db?target_session_attrs=read-write"
    assert _postgres_location(dsn) == "10.0.0.1:5432,10.0.0.2:5433/db"


def test_a_single_host_url_keeps_its_port_and_hides_the_password() -> None:
    assert _postgres_location("postgresql://app:secret@db:6543/app") == "db:6543/app"


def test_a_socket_url_names_the_socket_folder() -> None:
    location = _postgres_location("postgresql://postgres:@/postgres?host=/tmp/x")
    assert location == "host=/tmp/x/postgres"

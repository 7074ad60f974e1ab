"""SASL/SCRAM and TLS come from the environment and reach every Kafka client the same way.

Three clients are built from `KafkaSettings`: aiokafka producers/consumers/admin clients
(`client_kwargs`, `producer_kwargs`) and FastStream brokers (`build_broker`). Each must get
the same security arguments, and the password must never show in the settings' repr.
"""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.kafka.broker import build_broker
from shared.kafka.connection import client_kwargs, producer_kwargs
from shared.settings import KafkaSettings

PASSWORD = "s3cr3t-scram-password"
ENVIRONMENT = [
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_SSL_CAFILE",
    "KAFKA_SSL_CERTFILE",
    "KAFKA_SSL_KEYFILE",
    "KAFKA_PROFILE",
]
OPENSSL_SELF_SIGNED = ("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1")
SECURITY_KEYS = (
    "security_protocol",
    "sasl_mechanism",
    "sasl_plain_username",
    "sasl_plain_password",
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and its key (serves as CA file and client certificate)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "ca.pem", folder / "ca.key"
    subject = "/CN=mentorlink-test-ca"
    subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-subj", subject, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _from_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> KafkaSettings:
    for name in ENVIRONMENT:  # only what this test sets
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return KafkaSettings()


def _broker_kwargs(settings: KafkaSettings) -> dict[str, Any]:
    # FastStream keeps the aiokafka arguments it will connect with here.
    kwargs: dict[str, Any] = build_broker(settings, "test")._connection_kwargs
    return kwargs


def _security(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: kwargs.get(key) for key in SECURITY_KEYS}


def test_default_is_plaintext_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _from_env(monkeypatch)
    for kwargs in (client_kwargs(settings), producer_kwargs(settings), _broker_kwargs(settings)):
        assert kwargs.get("security_protocol", "PLAINTEXT") == "PLAINTEXT"  # aiokafka's default
        assert kwargs.get("ssl_context") is None
        assert kwargs.get("sasl_mechanism") is None


def test_sasl_scram_over_tls_reaches_every_client(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    settings = _from_env(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="matching",
        KAFKA_SASL_PASSWORD=PASSWORD,
        KAFKA_SSL_CAFILE=str(certificate[0]),
    )
    expected = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "matching",
        "sasl_plain_password": PASSWORD,
    }
    for kwargs in (client_kwargs(settings), producer_kwargs(settings), _broker_kwargs(settings)):
        assert _security(kwargs) == expected
        context: ssl.SSLContext = kwargs["ssl_context"]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
        assert [c["subject"] for c in context.get_ca_certs()] == [
            ((("commonName", "mentorlink-test-ca"),),)
        ]


def test_sasl_scram_256_without_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _from_env(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
        KAFKA_SASL_USERNAME="profile",
        KAFKA_SASL_PASSWORD=PASSWORD,
    )
    for kwargs in (client_kwargs(settings), _broker_kwargs(settings)):
        assert _security(kwargs) == {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_plain_username": "profile",
            "sasl_plain_password": PASSWORD,
        }
        assert kwargs.get("ssl_context") is None


def test_mutual_tls_loads_the_client_certificate(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    settings = _from_env(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CAFILE=str(cert),
        KAFKA_SSL_CERTFILE=str(cert),
        KAFKA_SSL_KEYFILE=str(key),
    )
    for kwargs in (client_kwargs(settings), _broker_kwargs(settings)):
        assert kwargs["security_protocol"] == "SSL"
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
        assert kwargs.get("sasl_mechanism") is None


def test_a_missing_certificate_file_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _from_env(
        monkeypatch, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE="/nonexistent/ca.pem"
    )
    with pytest.raises(FileNotFoundError):
        client_kwargs(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [("KAFKA_SECURITY_PROTOCOL", "TLS"), ("KAFKA_SASL_MECHANISM", "GSSAPI")],
)
def test_unknown_security_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ValidationError):
        _from_env(monkeypatch, **{name: value})


def test_the_password_never_shows_in_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _from_env(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="notifications",
        KAFKA_SASL_PASSWORD=PASSWORD,
    )
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert PASSWORD not in shown

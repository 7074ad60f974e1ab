"""The SMTP client speaks STARTTLS, implicit TLS and AUTH as configured, against aiosmtpd."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from devenv.smtp_sink import SinkSecurity, SmtpSink
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.domain.delivery import Outcome
from services.notifications.settings import SmtpSettings
from tests.support.mail import plain_message

CREDENTIALS = ("mentorlink", "s3cret")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def message(to: str) -> EmailMessage:
    return plain_message(to, "secure", "<secure.1@mentorlink.test>")


async def nothing_to_record() -> None:
    """These tests look at the SMTP conversation only."""


@pytest.fixture(params=["starttls", "implicit"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def secure_sink(mode: str, certificate: tuple[Path, Path]) -> Iterator[SmtpSink]:
    security = SinkSecurity(
        tls=server_context(certificate), implicit_tls=mode == "implicit", credentials=CREDENTIALS
    )
    with SmtpSink(security=security) as sink:
        yield sink


def mailer(sink: SmtpSink, mode: str, ca_file: Path, **overrides: object) -> SmtpMailer:
    settings = {
        "host": sink.host,
        "port": sink.port,
        "use_tls": mode == "implicit",
        "start_tls": mode == "starttls",
        "ca_file": str(ca_file),
        "username": CREDENTIALS[0],
        "password": CREDENTIALS[1],
        "timeout_s": 5.0,
        **overrides,
    }
    return SmtpMailer(SmtpSettings.model_validate(settings))


async def test_tls_and_auth_from_settings_deliver(
    secure_sink: SmtpSink, mode: str, certificate: tuple[Path, Path], unique: str
) -> None:
    to = f"tls-{unique}@example.org"
    result = await mailer(secure_sink, mode, certificate[0]).send(message(to), nothing_to_record)
    assert result.outcome is Outcome.SENT, result.detail
    (mail,) = secure_sink.messages(to=to)
    assert mail.message_id == "<secure.1@mentorlink.test>"


async def test_an_untrusted_certificate_is_refused_and_retried_later(
    secure_sink: SmtpSink, mode: str, tmp_path: Path, unique: str
) -> None:
    to = f"untrusted-{unique}@example.org"
    system_cas = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
    result = await mailer(secure_sink, mode, system_cas).send(message(to), nothing_to_record)
    assert result.outcome is Outcome.TRANSIENT
    assert secure_sink.messages(to=to) == []


async def test_wrong_credentials_are_transient_not_a_verdict_on_the_recipient(
    secure_sink: SmtpSink, mode: str, certificate: tuple[Path, Path], unique: str
) -> None:
    to = f"badauth-{unique}@example.org"
    result = await mailer(secure_sink, mode, certificate[0], password="wrong").send(
        message(to), nothing_to_record
    )
    assert result.outcome is Outcome.TRANSIENT
    assert result.detail.startswith("authentication failed: 535")
    assert secure_sink.messages(to=to) == []


async def test_without_tls_the_server_refuses_auth_and_mail(
    certificate: tuple[Path, Path], unique: str
) -> None:
    security = SinkSecurity(tls=server_context(certificate), credentials=CREDENTIALS)
    to = f"plain-{unique}@example.org"
    with SmtpSink(security=security) as sink:
        result = await mailer(sink, "plain", certificate[0], username=None, password=None).send(
            message(to), nothing_to_record
        )
        assert result.outcome is not Outcome.SENT
        assert sink.messages(to=to) == []

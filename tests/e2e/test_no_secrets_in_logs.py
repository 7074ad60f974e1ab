"""The logs of a whole run hold no email address, API key or link token.

Every logger is captured at INFO and above (loggers the services quiet down included),
formatted by the production JSON formatter with tracebacks, while the platform runs the happy
path and the failure paths most likely to echo input: a proposal email with its signed links
followed, a rejected API key, an invalid HTTP body and an invalid event carrying an address.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from devenv.smtp_sink import SmtpSink
from shared.contracts.topics import PROFILES
from shared.logs import JsonFormatter
from tests.support.kafka import read_all
from tests.support.people import goal_body, mentee_body, mentor_body
from tests.support.platform import Platform, running_platform
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
API_KEY = re.compile(r"ml_[A-Za-z0-9_-]{6,}")
LINK = re.compile(r"/v1/links/([A-Za-z0-9_.-]+)")


# Not the platform: the test's HTTP client (logs the URLs it calls, links included) and the
# SMTP sink standing in for the mail server (aiosmtpd's "mail.log" logs every recipient).
NOT_THE_PLATFORM = ("httpx", "httpcore", "mail")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter("e2e"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] not in NOT_THE_PLATFORM:
            self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[Capture]:
    """Every logger, INFO and above, including those that do not propagate to the root."""
    capture = Capture()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        if logger.level > logging.INFO or logger is logging.root:
            logger.setLevel(logging.INFO)
    logging.getLogger().addHandler(capture)
    for logger in loggers:
        if not logger.propagate:
            logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, level, _ in saved:
            logger.setLevel(level)
            if capture in logger.handlers:
                logger.removeHandler(capture)


async def _exercise(platform: Platform, unique: str, smtp: SmtpSink) -> dict[str, list[str]]:
    """Run the flows; returns the secrets and addresses that went through the system."""
    http, auth = platform.http, platform.auth
    mentee_email = f"private-{unique}@example.org"
    mentor_email = f"mentor-{unique}@example.org"
    for user, body in (
        (f"mentor-{unique}", mentor_body("Grace Hopper", email=mentor_email)),
        (f"mentee-{unique}", mentee_body("Ada Lovelace", mentee_email)),
    ):
        assert (await http.put(f"/v1/profiles/{user}", json=body, headers=auth)).is_success
    goal = await http.put(f"/v1/profiles/mentee-{unique}/goal", json=goal_body(), headers=auth)
    assert goal.is_success, goal.text

    mails = await eventually(lambda: smtp.messages(to=mentee_email), timeout=60, what="email")
    text = mails[0].message.get_body(preferencelist=("plain",)).get_content()
    tokens = LINK.findall(text)
    assert tokens, text
    for token in tokens:  # show each confirmation page; act on the first (accept) only
        assert (await http.get(f"/v1/links/{token}")).status_code < 500
    assert (await http.post(f"/v1/links/{tokens[0]}")).status_code < 500

    wrong_key = f"{platform.api_key}x"
    rejected = await http.get(f"/v1/profiles/mentee-{unique}", headers={"Authorization": wrong_key})
    assert rejected.status_code == 401
    invalid = mentee_body("Bad\r\nName", f"invalid-{unique}@example.org")
    assert (
        await http.put(f"/v1/profiles/x-{unique}", json=invalid, headers=auth)
    ).status_code == 422

    leaked_email = f"dead-letter-{unique}@example.org"
    await _publish_invalid_profile_event(platform, leaked_email)
    return {
        "emails": [mentee_email, mentor_email, f"invalid-{unique}@example.org", leaked_email],
        "secrets": [platform.api_key, wrong_key, *tokens],
    }


async def _publish_invalid_profile_event(platform: Platform, email: str) -> None:
    """An event that fails validation while carrying an address; wait for its dead letter."""
    topic = PROFILES.qualified(platform.kafka.topic_prefix)
    body = json.dumps({"event_type": "ProfileUpdated", "payload": {"email": email}}).encode()
    await platform.matching.broker.publish(body, topic=topic, key=b"someone")
    dead_letter_topic = PROFILES.dead_letter(platform.kafka.topic_prefix)

    async def dead_lettered() -> bool:
        records = await read_all(platform.kafka, dead_letter_topic)
        return sum(record.value == body for record in records) >= 2  # matching, notifications

    await eventually(dead_lettered, timeout=60, what="the invalid event's dead letters")


async def test_logs_of_a_whole_run_hold_no_address_key_or_token(
    kafka_endpoint, database_url, topic_prefix, smtp_sink: SmtpSink, unique, captured_logs
) -> None:
    async with running_platform(kafka_endpoint, database_url, topic_prefix, smtp_sink) as platform:
        seen = await _exercise(platform, unique, smtp_sink)

    logs = "\n".join(captured_logs.lines)
    assert len(captured_logs.lines) > 10, "the capture saw (almost) nothing: it is broken"
    assert "dead-lettered" in logs  # the failure paths did log
    for secret in seen["secrets"] + seen["emails"]:
        assert secret not in logs, f"{secret[:12]}... appears in the logs"
    assert not EMAIL.search(logs), EMAIL.search(logs)
    assert not API_KEY.search(logs), API_KEY.search(logs)
    assert not LINK.search(logs), LINK.search(logs)

"""Each relationship lifecycle email's HTML part, rendered by headless Chromium (as the proposal
email is: test_notifications_screenshot.py) and saved as docs/images/lifecycle-<kind>.png, so
anyone can see what a mentor and a mentee get (docs/lifecycle.md shows them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from services.notifications.domain.email import Contact, Sender, message_id
from services.notifications.domain.lifecycle import Facts, plan_emails
from services.notifications.domain.lifecycle_email import compose_lifecycle
from services.notifications.domain.lifecycle_links import lifecycle_links
from services.notifications.domain.links import LinkSigner
from tests.integration.test_notifications_screenshot import (
    BRAND_GREEN,
    HEIGHT,
    WIDTH,
    rgb_pixels,
    screenshot,
)
from tests.unit.notifications.lifecycle_builders import NOW, Relationship

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
ADA = Contact("acme", "u-ada", "ada@example.org", "Ada Lovelace", True, "Europe/London")
GRACE = Contact("acme", "u-grace", "grace@example.org", "Grace Hopper", True, "Europe/Berlin")
FACTS = Facts(
    {"u-ada": ADA, "u-grace": GRACE},
    "Lead the migration of our payments platform to Kubernetes within 6 months",
    [
        "expert in kubernetes, one of their goal skills",
        "12 years further along than them",
        "mentors the way they prefer: coaching",
    ],
)
R = Relationship()
# (image, event, recipient, solid green buttons in it, whether the relationship had started)
EMAILS = [
    ("lifecycle-mentor-request", R.requested(), "u-grace", 1, False),
    ("lifecycle-reminder", R.reminded(), "u-grace", 1, False),
    ("lifecycle-withdrawn", R.ended(by="mentee"), "u-grace", 0, False),
    ("lifecycle-introduction", R.started(), "u-ada", 0, True),
    ("lifecycle-fit-check", R.fit_check(), "u-grace", 1, True),
    ("lifecycle-ended", R.ended(by="mentee"), "u-grace", 0, True),
]


def html_of(event, recipient: str, facts: Facts = FACTS) -> str:
    (email,) = [e for e in plan_emails(event, facts) if e.recipient_id == recipient]
    contact = FACTS.contacts[recipient]
    assert contact is not None
    signer = LinkSigner("https://mentorlink.example", b"screenshot-key", timedelta(days=14))
    sender = Sender("Mentorlink <matches@mentorlink.example>", "Support <s@x.org>", "x.org")
    msg_id = message_id("acme", recipient, "x", "x.org", email.kind)
    links = lifecycle_links("acme", email, signer, NOW)
    message = compose_lifecycle(email, contact, sender, msg_id, links, NOW)
    return str(message.get_body(preferencelist=("html",)).get_content())


@pytest.mark.needs_tool("chromium")
@pytest.mark.parametrize(
    ("image", "event", "recipient", "buttons", "started"), EMAILS, ids=[e[0] for e in EMAILS]
)
def test_each_lifecycle_email_renders_in_chromium_and_is_saved_under_docs(
    tmp_path: Path, image: str, event, recipient: str, buttons: int, started: bool
) -> None:
    html = tmp_path / f"{image}.html"
    html.write_text(html_of(event, recipient, replace(FACTS, started=started)), encoding="utf-8")
    out = IMAGES / f"{image}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    screenshot(html, out, tmp_path / "chromium-profile")

    width, height, rows = rgb_pixels(out.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    green = bytes(BRAND_GREEN)
    button_rows = [y for y, row in enumerate(rows) if green * 12 in row]
    bands = [y for i, y in enumerate(button_rows) if i == 0 or y - button_rows[i - 1] > 1]
    assert len(bands) == buttons, f"green button bands at rows {bands}"
    assert all(len(set(row)) > 1 for row in rows[100:200]), "the page is blank"

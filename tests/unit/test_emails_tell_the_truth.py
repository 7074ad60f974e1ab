"""Emails tell the truth (issue 28): every sentence of a lifecycle email that says what happens
next is one of the promises in services/notifications/domain/promises.py, and each promise is
backed: the event (or link) it names exists in shared/, and the service it names publishes,
handles or signs it in its code.

Every email variant is rendered: each kind, to each side, for every way a relationship ends,
with the other person reachable or not, erased or not.
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import replace
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest

import shared.contracts as contracts_package
from services.notifications.domain.email import Contact, Sender, message_id
from services.notifications.domain.lifecycle import Facts, plan_emails
from services.notifications.domain.lifecycle_email import compose_lifecycle
from services.notifications.domain.lifecycle_links import lifecycle_links
from services.notifications.domain.links import LinkSigner
from services.notifications.domain.promises import PROMISES, promise
from shared.links import LinkAction
from tests.unit.notifications.lifecycle_builders import NOW, Relationship

ROOT = Path(__file__).resolve().parents[2]
SIGNER = LinkSigner("https://mentorlink.example", b"k" * 32, timedelta(days=14))
SENDER = Sender("Mentorlink <m@x.org>", "Support <s@x.org>", "x.org")
ADA = Contact("acme", "u-ada", "ada@example.org", "Ada Lovelace", True, "Europe/London")
GRACE = Contact("acme", "u-grace", "grace@example.org", "Grace Hopper", True, "UTC")
# Words that say what the system does next, or what it did for the reader.
PROMISING = re.compile(
    r"\b(we|we'll|we will|will|you can|only then|free again|takes you|take it into account"
    r"|remind|suggest)\b",
    re.IGNORECASE,
)
# Sentences that describe the email itself or give advice: they promise nothing the system does.
NOT_PROMISES = (
    "These links are personal and expire; please do not forward this email.",
    "Please write first",
    "You can now write to each other.",
    "we sent ",  # the introduction: both emails are queued by the same event (plan_emails)
    "Why we suggested you to them",
    "You receive this because",
)


def variants():
    r = Relationship()
    events = [
        r.requested(),
        r.reminded(),
        r.started(),
        r.fit_check(),
        *(r.ended(by=who) for who in ("mentee", "mentor", "integrator", "system")),
    ]
    for event, reachable, erased, started in itertools.product(
        events,
        (True, False),
        (frozenset(), frozenset({"u-ada"}), frozenset({"u-grace"})),
        (True, False),
    ):
        contacts = {"u-ada": replace(ADA, email_opt_in=reachable), "u-grace": GRACE}
        facts = Facts(dict(contacts), "Lead our migration", ["senior in go"], erased, started)
        for email in plan_emails(event, facts):
            contact = {"u-ada": ADA, "u-grace": GRACE}[email.recipient_id]
            links = lifecycle_links("acme", email, SIGNER, NOW)
            msg_id = message_id("acme", email.recipient_id, "x", "x.org", email.kind)
            message = compose_lifecycle(email, contact, SENDER, msg_id, links, NOW)
            yield email, message


def sentences(text: str) -> list[str]:
    """Templates write one paragraph, heading or bullet per line (in HTML, per element)."""
    text = re.sub(r"https?://\S+", "", text)
    lines = [line.strip(" -:") for line in text.splitlines()]
    return [s.strip() for line in lines for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]


def html_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "\n", html).replace("&#34;", '"').replace("&#39;", "'")


ALL = list(variants())
PROMISE_TEXTS = [
    re.compile(re.escape(p.text).replace(r"\{name\}", ".+").replace(r"\{date\}", ".+"))
    for p in PROMISES.values()
]


def test_every_kind_and_side_is_rendered() -> None:
    seen = {(e.kind, e.recipient_role) for e, _ in ALL}
    assert seen == {
        ("mentor_request", "mentor"),
        ("request_reminder", "mentor"),
        ("request_withdrawn", "mentor"),
        ("introduction", "mentee"),
        ("introduction", "mentor"),
        ("fit_check", "mentee"),
        ("fit_check", "mentor"),
        ("relationship_ended", "mentee"),
        ("relationship_ended", "mentor"),
    }


def test_every_sentence_that_promises_is_a_registered_promise() -> None:
    unbacked = set()
    for _, message in ALL:
        for subtype in ("plain", "html"):
            body = message.get_body(preferencelist=(subtype,)).get_content()
            text = html_text(body) if subtype == "html" else body
            for sentence in sentences(text):
                if not PROMISING.search(sentence):
                    continue
                if any(marker in sentence for marker in NOT_PROMISES):
                    continue
                if not any(p.search(sentence) for p in PROMISE_TEXTS):
                    unbacked.add(sentence)
    assert unbacked == set()


def test_the_check_finds_an_unregistered_promise() -> None:
    """The walk above would catch a template that promised on its own."""
    invented = "If you accept, we will also send you a gift."
    assert PROMISING.search(invented)
    assert not any(p.search(invented) for p in PROMISE_TEXTS)


def test_every_promise_is_used_by_some_email() -> None:
    rendered = " ".join(
        html_text(m.get_body(preferencelist=("html",)).get_content()) for _, m in ALL
    )
    rendered = " ".join(rendered.split())
    unused = [key for key, p in PROMISES.items() if not p_matches(p.text, rendered)]
    assert unused == []


def p_matches(text: str, rendered: str) -> bool:
    pattern = re.escape(text).replace(r"\{name\}", ".+?").replace(r"\{date\}", ".+?")
    return re.search(pattern, rendered) is not None


@cache
def names_used(service: str) -> frozenset[str]:
    """Every name, attribute and one-word string the service's code uses (not comments, not
    docstrings): an event class, a link action, a cause kind such as "request_declined"."""
    used: set[str] = set()
    for path in (ROOT / "services" / service).rglob("*.py"):
        if path.name == "promises.py":
            continue  # the promises name what backs them: they are not the backing
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.add(node.value)
    return frozenset(used)


def defined_in_shared(symbol: str) -> bool:
    """An event class or a literal value (a cause kind) of shared/contracts, or a LinkAction."""
    if symbol in LinkAction.__members__:
        return True
    return any(
        re.search(rf'^class {symbol}\(|"{symbol}"', path.read_text(), re.MULTILINE)
        for path in Path(contracts_package.__file__).parent.glob("*.py")
    )


@pytest.mark.parametrize("key", sorted(PROMISES))
def test_each_promise_is_backed_by_the_services_it_names(key: str) -> None:
    missing = [
        f"{symbol} in services/{service}"
        for symbol, service in PROMISES[key].backed_by
        if not defined_in_shared(symbol) or symbol not in names_used(service)
    ]
    assert missing == [], f"{promise(key, name='X', date='D')!r} is not backed"

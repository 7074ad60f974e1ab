"""Address redaction of SMTP replies: the same result as the old pattern, in linear time.

The old pattern, `[^\\s<>"']+@[^\\s<>"']+`, tried every start in a long run of characters
without a usable `@` and scanned to the run's end from each: quadratic, and a 32 KiB reply
held the event loop for seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.adapters.smtp import redact

OLD = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")  # the reference, on inputs small enough for it


@given(st.text(alphabet="ab@ <>\"'\t.-", max_size=60))
def test_redaction_replaces_exactly_what_the_old_pattern_did(reply: str) -> None:
    assert redact(reply) == OLD.sub("<address>", reply)[:500]


RUN = 2**20
ADVERSARIAL = {  # reply -> its redaction
    "a" * RUN: "a" * 500,  # no @ at all
    "@" * RUN: "<address>",
    "a" * RUN + "@": "a" * 500,  # nothing after the @: not an address
    "@" + "a" * RUN: "@" + "a" * 499,  # nothing before it
    "x" * RUN + " ada@example.org": "x" * 500,
    "a" * RUN + "@" + "a" * RUN: "<address>",
}


@pytest.mark.parametrize("reply", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_a_megabyte_adversarial_reply_is_redacted_at_once(reply: str) -> None:
    """1 MiB in one run: the quadratic pattern needs about 2**39 steps here (hours), a linear
    one milliseconds. A child process, so that a regression fails by its timeout instead of
    holding this process (the regex engine keeps the GIL)."""
    script = (
        "import sys; from services.notifications.adapters.smtp import redact; "
        "sys.stdout.write(redact(sys.stdin.read()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=reply, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ADVERSARIAL[reply]

"""The proposal email's HTML part rendered by headless Chromium (Debian's package).

The screenshot is saved as docs/images/proposal-email.png so anyone can see what a mentee sees.
Chromium missing skips it with the install command (`bash scripts/install-chromium.sh`), except
under CI, which installs Chromium first and fails without it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from services.notifications.domain.email import Contact, Sender, compose, message_id
from services.notifications.domain.links import LinkSigner, proposal_links
from shared.contracts.matches import CriterionReason, MatchProposedPayload, ProposedMentor

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "proposal-email.png"
WIDTH, HEIGHT = 680, 1040
BRAND_GREEN = (0x3E, 0x7C, 0x6F)  # the "Request an intro" buttons


def mentor(rank: int, mentor_id: str, name: str, headline: str, *reasons: str) -> ProposedMentor:
    return ProposedMentor(
        mentor_id=mentor_id,
        display_name=name,
        headline=headline,
        rank=rank,
        score=1.0 - rank / 10,
        reasons=[
            CriterionReason(criterion="skills", contribution=0.3, explanation=r) for r in reasons
        ],
    )


def sample_html() -> str:
    proposal = MatchProposedPayload(
        mentee_id="u-ada",
        goal_id="g1",
        proposal_id=uuid.uuid4(),
        ranking_version=3,
        mentors=[
            mentor(
                1,
                "u-grace",
                "Grace Hopper",
                "Principal engineer, platform",
                "expert in kubernetes, one of your goal skills",
                "12 years ahead of you: close enough to remember the path",
                "mentors by coaching, as you asked",
            ),
            mentor(
                2,
                "u-margaret",
                "Margaret Hamilton",
                "Engineering director, fintech",
                "both worked in fintech",
                "also a career changer: the similar background you asked for",
            ),
            mentor(
                3,
                "u-katherine",
                "Katherine Johnson",
                "Staff data scientist",
                "a different perspective: research before industry",
                "free on Tuesday evenings in your time zone",
            ),
        ],
    )
    now = datetime.now(UTC)
    signer = LinkSigner("https://mentorlink.example", b"screenshot-key", timedelta(days=14))
    contact = Contact("acme", "u-ada", "ada@example.org", "Ada Lovelace", True, "Europe/London")
    sender = Sender("Mentorlink <matches@mentorlink.example>", "Support <s@x.org>", "x.org")
    msg_id = message_id("acme", "u-ada", str(proposal.proposal_id), "x.org")
    message = compose(
        proposal, contact, sender, msg_id, proposal_links("acme", proposal, signer, now), now
    )
    return str(message.get_body(preferencelist=("html",)).get_content())


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "headless Chromium is required: run scripts/install-chromium.sh"
    return path


def screenshot(
    html: Path | str,
    out: Path,
    profile: Path,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    wait_ms: int = 0,
    dump_dom: bool = False,
) -> str:
    """Render a file or a URL; `wait_ms` of virtual time lets a page's own requests finish.
    Returns the rendered DOM when `dump_dom` (Chromium writes it instead of a screenshot)."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--dump-dom" if dump_dom else f"--screenshot={out}",
        f"--window-size={size[0]},{size[1]}",
        *([f"--virtual-time-budget={wait_ms}"] if wait_ms else []),
    ]
    target = html.as_uri() if isinstance(html, Path) else html
    done = subprocess.run(
        [chromium(), *flags, target], check=True, capture_output=True, timeout=120
    )
    return done.stdout.decode()


def rgb_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes) into rows of RGB triples."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    header, idat, offset = b"", b"", 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        header = data if kind == b"IHDR" else header
        idat += data if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows, previous = [], np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).copy()
        _unfilter(raw[start], line, previous, channels)
        rows.append(line.reshape(width, channels)[:, :3].tobytes())
        previous = line
    return width, height, rows


def _unfilter(kind: int, line: np.ndarray, previous: np.ndarray, channels: int) -> None:
    if kind == 0:
        return
    if kind == 2:  # "up": the common case, done in one step
        line += previous
        return
    for x in range(len(line)):
        left = int(line[x - channels]) if x >= channels else 0
        corner = int(previous[x - channels]) if x >= channels else 0
        line[x] = (int(line[x]) + _predict(kind, left, int(previous[x]), corner)) & 0xFF


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    estimate = left + up - corner
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
    return (left, up, corner)[distances.index(min(distances))]


@pytest.mark.needs_tool("chromium")
def test_the_html_email_renders_in_chromium_and_is_saved_under_docs(tmp_path: Path) -> None:
    html = tmp_path / "proposal.html"
    html.write_text(sample_html(), encoding="utf-8")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    screenshot(html, SCREENSHOT, tmp_path / "chromium-profile")

    width, height, rows = rgb_pixels(SCREENSHOT.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    green = bytes(BRAND_GREEN)
    button_rows = [y for y, row in enumerate(rows) if green * 12 in row]
    # three mentor cards, each with a solid green "Request an intro" button
    bands = [y for i, y in enumerate(button_rows) if i == 0 or y - button_rows[i - 1] > 1]
    assert len(bands) == 3, f"green button bands at rows {bands}"
    assert all(len(set(row)) > 1 for row in rows[100:200]), "the page is blank"

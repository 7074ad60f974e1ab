"""SMTP sessions kept open between emails.

A session that delivered a message takes the next one, which saves each email the TCP (and
TLS) handshake, the greeting, EHLO, AUTH and QUIT. A kept session is used by one email at a
time; one idle longer than `keep_s`, or that delivered `max_messages`, is closed with QUIT.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiosmtplib

MOST_KEPT = 32


@dataclass
class _Kept:
    client: aiosmtplib.SMTP
    delivered: int
    idle_since: float


class SmtpSessions:
    def __init__(self, keep_s: float, max_messages: int) -> None:
        self._keep_s = keep_s
        self._max_messages = max_messages
        self._kept: list[_Kept] = []
        self._quitting: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def kept(self) -> int:
        return len(self._kept)

    def take(self) -> tuple[aiosmtplib.SMTP, int] | None:
        """The most recently used session that is still fresh, and how many it delivered."""
        while self._kept:
            kept = self._kept.pop()
            if time.monotonic() - kept.idle_since <= self._keep_s and kept.client.is_connected:
                return kept.client, kept.delivered
            self.quit_later(kept.client)
        return None

    def give_back(self, client: aiosmtplib.SMTP, delivered: int) -> None:
        full = len(self._kept) >= MOST_KEPT
        if self._closed or full or delivered >= self._max_messages or self._keep_s <= 0:
            self.quit_later(client)
        else:
            self._kept.append(_Kept(client, delivered, time.monotonic()))

    def quit_later(self, client: aiosmtplib.SMTP) -> None:
        """QUIT in the background: the outcome is known, nothing waits for the goodbye."""
        task = asyncio.create_task(_quit(client))
        self._quitting.add(task)
        task.add_done_callback(self._quitting.discard)

    async def close(self) -> None:
        self._closed = True
        while self._kept:
            self.quit_later(self._kept.pop().client)
        if self._quitting:
            await asyncio.wait(set(self._quitting), timeout=5)


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass  # the message was accepted; a lost goodbye changes nothing
    finally:
        client.close()

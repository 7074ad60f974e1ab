"""Ask a matching instance to rebuild its state from its store, or to verify it.

POST /admin/rebuild restores the engines from PostgreSQL; GET /admin/verify compares them with a
from-scratch batch recompute. Both need MATCHING_ADMIN_TOKEN.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

REBUILD_PATH = "/admin/rebuild"
VERIFY_PATH = "/admin/verify"


class RebuildError(Exception):
    pass


@dataclass(frozen=True)
class RebuildResult:
    status: int
    body: Any


def rebuild_matching(base_url: str, timeout_s: float, token: str | None = None) -> RebuildResult:
    return _call(base_url, REBUILD_PATH, "POST", timeout_s, token)


def verify_matching(base_url: str, timeout_s: float, token: str | None = None) -> RebuildResult:
    return _call(base_url, VERIFY_PATH, "GET", timeout_s, token)


def _call(
    base_url: str, path: str, method: str, timeout_s: float, token: str | None
) -> RebuildResult:
    url = base_url.rstrip("/") + path
    if urlsplit(url).scheme not in ("http", "https"):
        raise RebuildError(f"{base_url!r} is not an http(s) URL")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return RebuildResult(response.status, _decode(response.read()))
    except urllib.error.HTTPError as error:
        raise RebuildError(f"{url} answered {error.code}: {_decode(error.read())}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise RebuildError(f"{url} unreachable: {error}") from None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")[:500]

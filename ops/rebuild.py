"""Ask a matching instance to rebuild its state from its store (POST /admin/rebuild)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

REBUILD_PATH = "/admin/rebuild"


class RebuildError(Exception):
    pass


@dataclass(frozen=True)
class RebuildResult:
    status: int
    body: Any


def rebuild_matching(base_url: str, timeout_s: float) -> RebuildResult:
    url = base_url.rstrip("/") + REBUILD_PATH
    if urlsplit(url).scheme not in ("http", "https"):
        raise RebuildError(f"{base_url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - scheme checked
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

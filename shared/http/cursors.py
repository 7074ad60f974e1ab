"""Opaque cursors for cursor pages: a small JSON object, URL-safe base64 without padding.
A cursor that does not decode is the caller's error: 422 naming the `cursor` query field."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi.exceptions import RequestValidationError


def encode_cursor(after: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(after).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(after, dict):
            return after
    except (binascii.Error, ValueError, TypeError):
        pass
    raise not_a_cursor(cursor)


def not_a_cursor(cursor: str) -> RequestValidationError:
    message = "not a cursor returned by this API; start again without one"
    error = {"type": "value_error", "loc": ("query", "cursor"), "msg": message, "input": cursor}
    return RequestValidationError([error])

"""A route dependency that admits only the bearer of one configured token (operator and
service-to-service endpoints); without a token configured, nobody is admitted."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Header, HTTPException


def bearer_only(token: str | None, what: str) -> Callable[[str | None], None]:
    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        expected = f"Bearer {token}" if token else None
        if expected is None or not hmac.compare_digest(
            (authorization or "").encode(), expected.encode()
        ):
            raise HTTPException(status_code=401, detail=f"{what} required")

    return authorised
